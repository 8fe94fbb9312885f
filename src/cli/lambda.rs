//! `coldstart lambda BUNDLE|--snapshot FILE` (an AWS Lambda custom runtime) and
//! `coldstart package BUNDLE --out DIR` (a deployable Lambda folder: `bootstrap`, the binary,
//! the snapshot built ahead, the bundle).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use coldstart::pool::{BuildMode, IsolatePool, PoolConfig};
use coldstart::server::{AppState, HttpOptions, ServeOptions};
use coldstart::snapshot::{MapOptions, Snapshot};
use coldstart::{Engine, Error};

use super::{BuildFlags, SandboxFlags};

/// Where a Lambda function may write.
const LAMBDA_STATE_DIR: &str = "/tmp/coldstart";
/// The bootstrap's state directory: `$COLDSTART_STATE_DIR`, else [`LAMBDA_STATE_DIR`] (left
/// unquoted in the script so the shell expands it).
const STATE_DIR_WORD: &str = "\"${COLDSTART_STATE_DIR:-/tmp/coldstart}\"";

/// Arguments of `lambda`.
#[derive(Debug, Args)]
pub struct LambdaArgs {
    /// The server bundle (a snapshot that does not match this binary is rebuilt from it).
    #[arg(required_unless_present = "snapshot")]
    pub bundle: Option<PathBuf>,
    /// Serve this snapshot file (no bundle: a mismatch is an init error).
    #[arg(long, value_name = "FILE", conflicts_with = "bundle")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub build: BuildFlags,
    #[command(flatten)]
    pub function: FunctionFlags,
    /// Isolates (one invocation runs at a time per Lambda execution environment).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
}

/// What a Lambda function runs with (given to `lambda`, and to `package` for its bootstrap).
#[derive(Debug, Args)]
pub struct FunctionFlags {
    #[command(flatten)]
    pub sandbox: SandboxFlags,
    /// Per-invocation deadline in milliseconds (keep it below the function's timeout).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Answer in response-streaming mode (Function URLs with `InvokeMode: RESPONSE_STREAM`).
    #[arg(long)]
    pub stream: bool,
    /// For a `render(url)` module: the HTML template (`package` copies it in).
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
}

/// Arguments of `package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The server bundle (a script, or a module entry with its chunks).
    pub bundle: PathBuf,
    /// The folder to write (created; must be empty or absent).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub build: BuildFlags,
    #[command(flatten)]
    pub function: FunctionFlags,
}

/// The init phase: the pool, with its isolate restored.
fn init(engine: &Engine, args: &LambdaArgs) -> Result<Arc<AppState>, Error> {
    let template = match &args.function.template {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Error::io("cannot read the template", path, e))?,
        ),
        None => None,
    };
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let state_dir = args
        .build
        .state_dir
        .clone()
        .or_else(|| on_lambda.then(|| PathBuf::from(LAMBDA_STATE_DIR)));
    let config = PoolConfig {
        workers: args.workers.max(1),
        queue_per_worker: 16,
        ssr: args
            .function
            .sandbox
            .config(Duration::from_millis(args.function.timeout_ms)),
        build: args.build.options()?,
        build_limits: args.build.limits(),
        build_mode: BuildMode::InProcess,
        store_dir: args.build.store.clone(),
        bundle_format: args.build.format,
        module_root: args.build.module_root.clone(),
        state_dir: state_dir.clone(),
        ..PoolConfig::default()
    };
    let (pool, bundle_path) = match (&args.bundle, &args.snapshot) {
        (Some(bundle), _) => (IsolatePool::start(engine, bundle, config)?, bundle.clone()),
        (None, Some(path)) => {
            let snapshot = Snapshot::open_with(engine, path, MapOptions::default())?;
            snapshot.check_restorable(config.ssr.limits)?;
            let store = match &state_dir {
                Some(state) => coldstart::SnapshotStore::with_state_dir(
                    engine,
                    path.parent().unwrap_or(Path::new(".")),
                    state,
                )?,
                None => {
                    coldstart::SnapshotStore::open(engine, path.parent().unwrap_or(Path::new(".")))?
                }
            };
            (
                IsolatePool::with_snapshot(snapshot, store, config)?,
                path.clone(),
            )
        }
        (None, None) => unreachable!("clap requires a bundle or --snapshot"),
    };
    let state = AppState::with_options(
        pool,
        bundle_path,
        ServeOptions {
            http: HttpOptions::default(),
            template,
            statics: Vec::new(),
            compression: false,
            // Lambda answers invocations, not admin endpoints over a socket: no reload there.
            ..ServeOptions::default()
        },
    );
    coldstart::lambda::wait_ready(&state)?;
    Ok(state)
}

pub fn run(engine: &Engine, args: LambdaArgs) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    let state = match init(engine, &args) {
        Ok(state) => state,
        Err(error) => {
            tracing::error!(%error, "init failed");
            if let Err(report) = runtime.block_on(coldstart::lambda::report_init_error(&error)) {
                tracing::error!(error = %report, "and the init error could not be reported");
            }
            return Err(error);
        }
    };
    runtime.block_on(coldstart::lambda::run(state, args.function.stream))
}

/// Quotes `word` for a POSIX shell.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The flags `bootstrap` passes on: everything that is part of the snapshot key or of what the
/// isolates may see.
fn forwarded_flags(
    args: &PackageArgs,
    template: Option<&str>,
    assets: Option<&str>,
) -> Vec<String> {
    let mut flags = vec![
        "--store".to_string(),
        "snapshots".to_string(),
        "--state-dir".to_string(),
        STATE_DIR_WORD.to_string(),
        "--format".to_string(),
        args.build.format.as_str().to_string(),
        "--function-code".to_string(),
        args.build.function_code.as_str().to_string(),
        "--compile".to_string(),
        match args.build.compile {
            coldstart::snapshot::Compile::Eager => "eager".to_string(),
            coldstart::snapshot::Compile::Lazy => "lazy".to_string(),
        },
        "--build-timeout-ms".to_string(),
        args.build.build_timeout_ms.to_string(),
        "--build-max-heap-mb".to_string(),
        args.build.build_max_heap_mb.to_string(),
        "--timeout-ms".to_string(),
        args.function.timeout_ms.to_string(),
    ];
    let mut pair = |flag: &str, value: &str| {
        flags.push(flag.to_string());
        flags.push(value.to_string());
    };
    for warmup in &args.build.warmup {
        pair("--warmup", warmup);
    }
    for name in &args.function.sandbox.env {
        pair("--env", name);
    }
    for (name, value) in &args.function.sandbox.vars {
        pair("--var", &format!("{name}={value}"));
    }
    for origin in &args.function.sandbox.allow_origin {
        pair("--allow-origin", origin);
    }
    if let Some(mb) = args.function.sandbox.max_heap_mb {
        pair("--max-heap-mb", &mb.to_string());
    }
    if let Some(template) = template {
        pair("--template", template);
    }
    if let Some(assets) = assets {
        pair("--assets", assets);
    }
    if args.build.allow_pending_timers {
        flags.push("--allow-pending-timers".to_string());
    }
    if args.function.stream {
        flags.push("--stream".to_string());
    }
    flags
}

fn copy_file(from: &Path, to: &Path) -> Result<(), Error> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    }
    std::fs::copy(from, to).map_err(|e| Error::io("cannot copy", from, e))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("cannot create", to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io("cannot read", from, e))? {
        let entry = entry.map_err(|e| Error::io("cannot read", from, e))?;
        let kind = entry
            .file_type()
            .map_err(|e| Error::io("cannot read", entry.path(), e))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            copy_file(&entry.path(), &target)?;
        }
    }
    Ok(())
}

pub fn package(engine: &Engine, args: PackageArgs, v8_flags: Option<&str>) -> Result<(), Error> {
    let out = &args.out;
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| Error::io("cannot read", out, e))?
            .next()
            .is_some()
    {
        return Err(Error::Invalid(format!(
            "--out {} is not empty",
            out.display()
        )));
    }
    let bundle = args.build.bundle(&args.bundle)?;
    // The bundle, laid out as it will be found in the package.
    let entry = match bundle.modules() {
        Some(files) => {
            for file in &files.files {
                let target = out.join("bundle").join(&file.path);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| Error::io("cannot create", parent, e))?;
                }
                std::fs::write(&target, file.source.as_bytes())
                    .map_err(|e| Error::io("cannot write", &target, e))?;
            }
            format!("bundle/{}", files.entry)
        }
        None => {
            let target = out.join("bundle").join(bundle.name());
            copy_file(&args.bundle, &target)?;
            format!("bundle/{}", bundle.name())
        }
    };
    let template = match &args.function.template {
        Some(path) => {
            copy_file(path, &out.join("template.html"))?;
            Some("template.html")
        }
        None => None,
    };
    let assets = match &args.function.sandbox.assets {
        Some(dir) => {
            copy_tree(dir, &out.join("assets"))?;
            Some("assets")
        }
        None => None,
    };
    // The snapshot, built from the packaged bundle (its key is what `lambda` will compute).
    let packaged = match bundle.modules() {
        Some(files) => coldstart::Bundle::from_file_as(
            out.join(&entry),
            coldstart::BundleFormat::Module,
            Some(&out.join("bundle")),
        )
        .map(|b| (b, files.files.len()))?,
        None => (coldstart::Bundle::from_file(out.join(&entry))?, 1),
    };
    let store = coldstart::SnapshotStore::open(engine, out.join("snapshots"))?;
    let loaded =
        store.get_or_build_within(&packaged.0, &args.build.options()?, args.build.limits())?;
    store.set_current(&loaded.snapshot.key())?;
    // The binary and the bootstrap Lambda runs.
    let exe = std::env::current_exe()
        .map_err(|e| Error::Invalid(format!("cannot locate the coldstart executable: {e}")))?;
    copy_file(&exe, &out.join("coldstart"))?;
    let mut command = vec!["./coldstart".to_string()];
    if let Some(flags) = v8_flags.filter(|f| !f.is_empty()) {
        command.push(format!("--v8-flags={flags}"));
    }
    command.push("lambda".to_string());
    command.push(entry.clone());
    command.extend(forwarded_flags(&args, template, assets));
    let script = format!(
        "#!/bin/sh\n# AWS Lambda bootstrap, written by `coldstart package`: restores the snapshot in \
         snapshots/ (or rebuilds it\n# into /tmp from bundle/ when this binary's V8 or flags do not \
         match it) and serves invocations.\nset -eu\ncd \"${{LAMBDA_TASK_ROOT:-$(dirname \"$0\")}}\"\nexec {}\n",
        command
            .iter()
            .map(|w| if w == STATE_DIR_WORD { w.clone() } else { quoted(w) })
            .collect::<Vec<_>>()
            .join(" ")
    );
    let bootstrap = out.join("bootstrap");
    std::fs::write(&bootstrap, script).map_err(|e| Error::io("cannot write", &bootstrap, e))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("cannot make executable", &bootstrap, e))?;
    out!(
        "packaged {} ({} module file(s)) into {}: bootstrap, coldstart, {}, snapshots/{}.snap ({} bytes)",
        args.bundle.display(),
        packaged.1,
        out.display(),
        entry,
        loaded.snapshot.key_hex(),
        loaded.snapshot.header().payload_len
    );
    Ok(())
}
