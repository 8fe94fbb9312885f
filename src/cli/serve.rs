//! `coldstart serve BUNDLE [--store DIR] [--state-dir DIR] [--port N] [--workers N]
//! [--timeout-ms N] [--max-heap-mb N] [--isolation per-worker|per-request] [--env NAME...]
//! [--static [PREFIX=]DIR...] [--template FILE] [--reload-token TOKEN]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use coldstart::pool::{BuildMode, IsolatePool, Isolation, PoolConfig};
use coldstart::server::{self, AppState, ReloadAccess, ServeOptions, StaticMount};
use coldstart::Error;

use super::{BuildFlags, SandboxFlags};

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The server bundle (re-read on reload).
    pub bundle: PathBuf,
    #[command(flatten)]
    pub build: BuildFlags,
    /// Address to listen on [default: $HOST when it is an IP address, else 127.0.0.1].
    #[arg(long)]
    pub host: Option<std::net::IpAddr>,
    /// Port; 0 picks a free one (the chosen address is printed) [default: $PORT, else 3000].
    #[arg(long)]
    pub port: Option<u16>,
    /// Worker threads, one isolate each.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Jobs queued per worker before answering 503.
    #[arg(long, default_value_t = 256)]
    pub queue: usize,
    /// Per-request deadline in milliseconds (504 past it).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Request isolation.
    #[arg(long, default_value = "per-worker")]
    pub isolation: Isolation,
    #[command(flatten)]
    pub sandbox: SandboxFlags,
    /// Build reload snapshots in this process instead of a child process.
    #[arg(long)]
    pub build_in_process: bool,
    /// Close a connection that has not sent a whole request head this long after opening, or
    /// after its previous response (idle keep-alive), in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 15_000)]
    pub header_timeout_ms: u64,
    /// On SIGTERM, how long in-flight requests may take to finish, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub drain_timeout_ms: u64,
    /// Serve client assets: DIR at `/`, or PREFIX=DIR (repeatable; the first mount that has the
    /// file answers, else the app does). Content types, Last-Modified/304, Range, precompressed
    /// .br/.gz siblings, a year of immutable caching for content-hashed names.
    #[arg(long = "static", value_name = "[PREFIX=]DIR")]
    pub statics: Vec<StaticMount>,
    /// Do not compress responses (by default whole HTML/JSON/text responses of 256 bytes or more
    /// are sent br- or gzip-encoded when the client accepts it).
    #[arg(long)]
    pub no_compression: bool,
    /// Accept `POST /_coldstart/reload` from any address when it carries `Authorization: Bearer
    /// TOKEN` (and only then). Without it, only clients connected from a loopback address may
    /// reload. Better given in the environment than on the command line, where `ps` shows it.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "COLDSTART_RELOAD_TOKEN",
        hide_env_values = true
    )]
    pub reload_token: Option<String>,
    /// For a `render(url)` module: the HTML template (Vite's `index.html`) whose
    /// `<!--app-html-->` and `<!--app-head-->` take each rendered page.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
}

/// Heap limit per isolate when `serve` is given none.
const DEFAULT_SERVE_HEAP_MB: usize = 512;

/// The listening address: the flags, else `$HOST` (when an IP address) and `$PORT` (Cloud Run,
/// Knative and Heroku-style platforms set `PORT`), else 127.0.0.1:3000.
fn listen_address(args: &ServeArgs) -> Result<SocketAddr, Error> {
    let host = match args.host {
        Some(host) => host,
        None => match std::env::var("HOST") {
            Ok(text) => text.parse().unwrap_or_else(|_| {
                tracing::warn!(host = %text, "HOST is not an IP address; listening on 127.0.0.1");
                std::net::IpAddr::from([127, 0, 0, 1])
            }),
            Err(_) => std::net::IpAddr::from([127, 0, 0, 1]),
        },
    };
    let port = match args.port {
        Some(port) => port,
        None => match std::env::var("PORT") {
            Ok(text) => text
                .trim()
                .parse()
                .map_err(|_| Error::Invalid(format!("PORT=`{text}` is not a port number")))?,
            Err(_) => 3000,
        },
    };
    Ok(SocketAddr::new(host, port))
}

pub fn run(engine: &coldstart::Engine, args: ServeArgs) -> Result<(), Error> {
    // Everything that can be checked without V8 fails before the pool starts.
    let listen = listen_address(&args)?;
    server::statics::check(&args.statics)?;
    let template = match &args.template {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Error::io("cannot read the template", path, e))?,
        ),
        None => None,
    };
    let config = PoolConfig {
        workers: args.workers.max(1),
        queue_per_worker: args.queue.max(1),
        isolation: args.isolation,
        ssr: {
            let mut ssr = args.sandbox.config(Duration::from_millis(args.timeout_ms));
            ssr.limits.max_heap_mb.get_or_insert(DEFAULT_SERVE_HEAP_MB);
            ssr
        },
        build: args.build.options()?,
        build_limits: args.build.limits(),
        build_mode: if args.build_in_process {
            BuildMode::InProcess
        } else {
            BuildMode::ChildProcess {
                exe: std::env::current_exe().map_err(|e| {
                    Error::Invalid(format!("cannot locate the coldstart executable: {e}"))
                })?,
            }
        },
        store_dir: args.build.store.clone(),
        bundle_format: args.build.format,
        module_root: args.build.module_root.clone(),
        state_dir: args.build.state_dir.clone(),
    };
    let pool = IsolatePool::start(engine, &args.bundle, config)?;
    let http = server::HttpOptions {
        header_read_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        drain_timeout: Duration::from_millis(args.drain_timeout_ms),
    };
    let state = AppState::with_options(
        pool,
        args.bundle.clone(),
        ServeOptions {
            http,
            template,
            statics: args.statics.clone(),
            compression: !args.no_compression,
            reload_access: match args.reload_token.as_deref() {
                Some(token) => ReloadAccess::token(token),
                None => ReloadAccess::Loopback,
            },
        },
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let (listener, addr) = server::bind(listen)
            .await
            .map_err(|e| Error::Invalid(format!("cannot listen on {listen}: {e}")))?;
        out!(
            "coldstart serving {} on http://{addr}",
            args.bundle.display()
        );
        tracing::info!(%addr, "listening");
        let hup_state = state.clone();
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                let reply = server::reload(&hup_state).await;
                tracing::info!(status = reply.status, body = %reply.body, "SIGHUP reload");
            }
        });
        let stop_state = state.clone();
        let shutdown = async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            tracing::info!("shutting down: draining in-flight requests");
            // A reload's child build is killed now rather than left to finish.
            stop_state.pool.shutdown();
        };
        server::serve(listener, state, shutdown)
            .await
            .map_err(|e| Error::Invalid(format!("server failed: {e}")))
    })
}
