//! The `coldstart` command line: thin clap layers over the library.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use coldstart::snapshot::{
    BuildOptions, Compile, FunctionCode, MapOptions, Snapshot, SnapshotStore, VerifyPolicy,
    WarmupCall, DEFAULT_STORE_DIR,
};
use coldstart::{
    Bundle, BundleFormat, Engine, EngineConfig, Error, FetchPolicy, Limits, RuntimeOptions, Seeds,
    SsrConfig, SsrIsolate,
};

mod bench;
mod build;
mod call;
mod demo;
mod inspect;
mod lambda;
mod serve;

/// coldstart: V8 server-side rendering from memory-mapped startup snapshots.
#[derive(Debug, Parser)]
#[command(name = "coldstart", version, about)]
pub struct Cli {
    /// V8 flags (part of every snapshot key), e.g. "--max-lazy".
    #[arg(long, global = true, value_name = "FLAGS", allow_hyphen_values = true)]
    pub v8_flags: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build (or find in the store) the snapshot of a bundle.
    Build(build::BuildArgs),
    /// Print a snapshot file's header.
    Inspect(inspect::InspectArgs),
    /// Call a contract entry point and print its result.
    Call(call::CallArgs),
    /// Render a page and print its body HTML.
    Render(call::RenderArgs),
    /// Build the embedded React sample, render it, and compare fresh vs snapshot start-up.
    Demo(demo::DemoArgs),
    /// Serve a bundle over HTTP from a pool of snapshot-restored isolates.
    Serve(serve::ServeArgs),
    /// Measure cold start: empty isolate, fresh eval, snapshot, renders, optionally vs Node.
    Bench(bench::BenchArgs),
    /// Run as an AWS Lambda custom runtime (Runtime API from AWS_LAMBDA_RUNTIME_API).
    Lambda(lambda::LambdaArgs),
    /// Write a deployable AWS Lambda folder: bootstrap, binary, snapshot built ahead, bundle.
    Package(lambda::PackageArgs),
}

/// Options shared by commands that build snapshots.
#[derive(Debug, Clone, Args)]
pub struct BuildFlags {
    /// Snapshot store directory.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STORE_DIR)]
    pub store: PathBuf,
    /// Keep or clear compiled function code in the snapshot.
    #[arg(long, value_name = "keep|clear", default_value = "keep", value_parser = parse_function_code)]
    pub function_code: FunctionCode,
    /// A call made before the snapshot is taken, so the code it runs is compiled into it and
    /// the state it leaves is kept (runs bundle code at build; repeatable): for Rex bundles
    /// ROUTE or ROUTE=PROPS_JSON renders a page; for a module worker `GET ROUTE` goes through
    /// its fetch handler; for a render module, `render(ROUTE)`.
    #[arg(long, value_name = "ROUTE[=PROPS]")]
    pub warmup: Vec<String>,
    /// Accept (and drop) timers still pending when the snapshot is taken.
    #[arg(long)]
    pub allow_pending_timers: bool,
    /// Deadline for evaluating the bundle (top level, its microtasks, warm-up calls) when a
    /// snapshot is built or a fresh isolate is created, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = coldstart::isolate::DEFAULT_BUILD_TIMEOUT.as_millis() as u64)]
    pub build_timeout_ms: u64,
    /// How the bundle is evaluated: `script` (Rex globals), `module` (an ES module worker,
    /// Vite `render` module, or chunked dist folder), or `auto` (`.mjs`, or import/export
    /// statements, make a module).
    #[arg(long, value_name = "auto|script|module", default_value = "auto")]
    pub format: BundleFormat,
    /// A writable directory for when the store is read-only (a baked container image or Lambda
    /// package): snapshots are looked up there and in --store, and anything built or recorded
    /// goes there; --store is never written.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Hash a stored snapshot's payload at every open, instead of trusting the store's record
    /// that the same, untouched file (device, inode, size, modification and change times) was
    /// hashed before.
    #[arg(long)]
    pub verify_always: bool,
    /// How the bundle's code is compiled into the snapshot: `eager` (every function at build,
    /// none of it run; bigger blob, fast first render or request) or `lazy` (when first called).
    #[arg(long, alias = "module-compile", value_name = "eager|lazy", default_value = "eager",
          value_parser = parse_compile)]
    pub compile: Compile,
    /// The folder a module bundle's chunks live in (default: the entry's folder, widened while
    /// relative imports reach above it). Every .js/.mjs file under it is in the snapshot.
    #[arg(long, value_name = "DIR")]
    pub module_root: Option<PathBuf>,
    /// Heap limit while a snapshot is built or a fresh isolate evaluates the bundle, in MiB.
    #[arg(long, value_name = "MB", default_value_t = coldstart::isolate::DEFAULT_BUILD_HEAP_MB)]
    pub build_max_heap_mb: usize,
}

impl BuildFlags {
    /// The library's build options.
    pub fn options(&self) -> Result<BuildOptions, Error> {
        let mut warmup = Vec::new();
        for spec in &self.warmup {
            let (route, props) = spec.split_once('=').unwrap_or((spec.as_str(), "{}"));
            serde_json::from_str::<serde_json::Value>(props).map_err(|e| {
                Error::Invalid(format!("--warmup {route}: props are not valid JSON: {e}"))
            })?;
            warmup.push(WarmupCall {
                route: route.to_string(),
                props_json: props.to_string(),
            });
        }
        Ok(BuildOptions {
            function_code: self.function_code,
            warmup,
            allow_pending_timers: self.allow_pending_timers,
            compile: self.compile,
        })
    }
}

impl BuildFlags {
    /// The snapshot store the flags name (layered over --state-dir when given).
    pub fn open_store(&self, engine: &Engine) -> Result<SnapshotStore, Error> {
        let store = match &self.state_dir {
            Some(state) => SnapshotStore::with_state_dir(engine, &self.store, state)?,
            None => SnapshotStore::open(engine, &self.store)?,
        };
        Ok(store.with_map_options(MapOptions {
            verify: if self.verify_always {
                VerifyPolicy::Always
            } else {
                VerifyPolicy::Recorded
            },
            ..MapOptions::default()
        }))
    }

    /// Reads the bundle at `path` in the format the flags ask for.
    pub fn bundle(&self, path: &Path) -> Result<Bundle, Error> {
        Bundle::from_file_as(path, self.format, self.module_root.as_deref())
    }

    /// [`BuildFlags::bundle`] through `store`'s record of the file's content hash.
    pub fn bundle_in(&self, store: &SnapshotStore, path: &Path) -> Result<Bundle, Error> {
        store.bundle(path, self.format, self.module_root.as_deref())
    }

    /// The deadline and heap limit of a build (not part of the snapshot key).
    pub fn limits(&self) -> Limits {
        Limits {
            max_heap_mb: Some(self.build_max_heap_mb),
            load_timeout: Some(Duration::from_millis(self.build_timeout_ms)),
        }
    }
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

fn parse_compile(text: &str) -> Result<Compile, String> {
    match text {
        "eager" => Ok(Compile::Eager),
        "lazy" => Ok(Compile::Lazy),
        other => Err(format!("expected eager or lazy, got `{other}`")),
    }
}

fn parse_function_code(text: &str) -> Result<FunctionCode, String> {
    match text {
        "keep" => Ok(FunctionCode::Keep),
        "clear" => Ok(FunctionCode::Clear),
        other => Err(format!("expected keep or clear, got `{other}`")),
    }
}

/// What the isolates may see and reach, and their heap limit (shared by `call`, `render`,
/// `serve`).
#[derive(Debug, Clone, Args)]
pub struct SandboxFlags {
    /// Environment variable exposed in process.env (repeatable).
    #[arg(long, value_name = "NAME")]
    pub env: Vec<String>,
    /// Root of the fs sandbox.
    #[arg(long, value_name = "DIR")]
    pub fs_root: Option<PathBuf>,
    /// Origin fetch may reach even on a private address (repeatable).
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// A module worker's `env` variable: NAME=VALUE (repeatable). `--env` names are in `env`
    /// too.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Folder a module worker's `env.ASSETS.fetch()` serves files from (404 when absent).
    #[arg(long, value_name = "DIR")]
    pub assets: Option<PathBuf>,
    /// Heap limit per isolate in MiB (`serve` defaults to 512; otherwise V8's own limit).
    /// Reaching it fails the call and replaces the isolate; it never aborts the process.
    #[arg(long, value_name = "MB")]
    pub max_heap_mb: Option<usize>,
}

impl SandboxFlags {
    /// Isolate configuration with `call_timeout` per call.
    pub fn config(&self, call_timeout: Duration) -> SsrConfig {
        let mut fetch = FetchPolicy::default();
        for origin in &self.allow_origin {
            fetch = fetch.allow_origin(origin);
        }
        SsrConfig {
            runtime: RuntimeOptions {
                fs_root: self.fs_root.clone(),
                fetch,
                vars: self.vars.iter().cloned().collect(),
                assets_dir: self.assets.clone(),
                ..RuntimeOptions::default()
            }
            .env_from_allowlist(&self.env),
            limits: Limits {
                max_heap_mb: self.max_heap_mb,
                load_timeout: None,
            },
            call_timeout,
        }
    }
}

/// Options for commands that run a bundle.
#[derive(Debug, Clone, Args)]
pub struct RunFlags {
    #[command(flatten)]
    pub build: BuildFlags,
    /// Use this snapshot file instead of the store.
    #[arg(long, value_name = "FILE", conflicts_with = "no_snapshot")]
    pub snapshot: Option<PathBuf>,
    /// Evaluate the bundle in a fresh isolate instead of using a snapshot.
    #[arg(long)]
    pub no_snapshot: bool,
    #[command(flatten)]
    pub sandbox: SandboxFlags,
    /// Per-call deadline in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Print how long each start-up phase took, on stderr.
    #[arg(long)]
    pub timings: bool,
}

/// Start-up phase timings for `--timings`.
#[derive(Debug, Default)]
pub struct Phases {
    started: Option<std::time::Instant>,
    last: Option<std::time::Instant>,
    phases: Vec<(&'static str, f64)>,
}

impl Phases {
    /// Starts timing.
    pub fn start() -> Self {
        let now = std::time::Instant::now();
        Phases {
            started: Some(now),
            last: Some(now),
            phases: Vec::new(),
        }
    }

    /// Records the phase that just ended.
    pub fn mark(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        if let Some(last) = self.last {
            self.phases
                .push((name, (now - last).as_secs_f64() * 1000.0));
        }
        self.last = Some(now);
    }

    /// Prints the phases to stderr.
    pub fn print(&self) {
        let total = self
            .started
            .map(|s| s.elapsed().as_secs_f64() * 1000.0)
            .unwrap_or(0.0);
        let parts: Vec<String> = self
            .phases
            .iter()
            .map(|(n, ms)| format!("{n} {ms:.2}"))
            .collect();
        eprintln!(
            "timings (ms): {} | total in main {total:.2}",
            parts.join(", ")
        );
    }
}

impl RunFlags {
    /// Isolate configuration from the flags.
    pub fn config(&self) -> SsrConfig {
        self.sandbox.config(Duration::from_millis(self.timeout_ms))
    }

    /// Creates the isolate the flags ask for.
    pub fn isolate(
        &self,
        engine: &Engine,
        bundle_path: &Path,
        phases: &mut Phases,
    ) -> Result<SsrIsolate, Error> {
        let store = match (self.no_snapshot, &self.snapshot) {
            (false, None) => Some(self.build.open_store(engine)?),
            _ => None,
        };
        let bundle = match &store {
            Some(store) => self.build.bundle_in(store, bundle_path)?,
            None => self.build.bundle(bundle_path)?,
        };
        let config = self.config();
        phases.mark("read bundle");
        if self.no_snapshot {
            engine.ready();
            phases.mark("wait for V8 init");
            // Evaluating the bundle is a build in all but name: the build's deadline, and the
            // isolate's heap limit when one is given, else the build's.
            let build = self.build.limits();
            let config = SsrConfig {
                limits: Limits {
                    max_heap_mb: config.limits.max_heap_mb.or(build.max_heap_mb),
                    load_timeout: build.load_timeout,
                },
                ..config
            };
            let iso = SsrIsolate::fresh(engine, &bundle, config);
            phases.mark("fresh isolate");
            return iso;
        }
        let options = self.build.options()?;
        let snapshot = match &self.snapshot {
            Some(path) => {
                let snapshot = Snapshot::open_with(engine, path, MapOptions::default())?;
                let expected = coldstart::snapshot::snapshot_key(engine, &bundle, &options);
                if snapshot.key() != expected {
                    return Err(coldstart::SnapshotError::KeyMismatch {
                        path: path.display().to_string(),
                        found: snapshot.key_hex(),
                        expected: coldstart::snapshot::format::hex(&expected),
                    }
                    .into());
                }
                snapshot
            }
            None => {
                store
                    .as_ref()
                    .expect("opened above when there is no --snapshot")
                    .get_or_build_within(&bundle, &options, self.build.limits())?
                    .snapshot
            }
        };
        phases.mark("key + map + verify");
        engine.ready();
        phases.mark("wait for V8 init");
        let iso = SsrIsolate::from_snapshot(&snapshot, config);
        phases.mark("isolate");
        iso
    }
}

/// The environment variable that gives V8 flags when `--v8-flags` does not.
const V8_FLAGS_ENV: &str = "COLDSTART_V8_FLAGS";

/// The subcommands' names, as clap knows them (a unit test compares the two): read before clap
/// has built its description of the command line.
const SUBCOMMANDS: [&str; 9] = [
    "build", "inspect", "call", "render", "demo", "serve", "bench", "lambda", "package",
];

/// The seeds of a process running `subcommand`: processes that only build snapshots seed V8 with
/// fixed values, so the same inputs give byte-identical blobs; every process that runs requests
/// keeps random seeds.
fn seeds_for(subcommand: &str) -> Seeds {
    match subcommand {
        "build" | "package" => Seeds::Fixed,
        _ => Seeds::Random,
    }
}

/// The engine settings a command line asks for, read off its raw arguments before clap parses
/// them — only when that leaves no doubt: the first argument is a subcommand's name, and no
/// argument starts with `--v8-flags` and `COLDSTART_V8_FLAGS` is not set (so V8's flags are the
/// default ones). Otherwise `None`, and [`run`] starts V8 once clap has parsed the line.
fn early_engine_config(args: &[OsString], flags_from_env: bool) -> Option<EngineConfig> {
    let subcommand = args.first()?.to_str()?;
    if flags_from_env
        || !SUBCOMMANDS.contains(&subcommand)
        || args
            .iter()
            .any(|arg| arg.as_encoded_bytes().starts_with(b"--v8-flags"))
    {
        return None;
    }
    Some(EngineConfig::default().seeds(seeds_for(subcommand)))
}

/// Starts V8 on a background thread first thing in `main`, when the command line's engine
/// settings can be read without clap ([`early_engine_config`]): V8's initialisation (1–2 ms)
/// then overlaps setting up logging and parsing the command line (0.7–0.9 ms of a cold start;
/// clap builds every subcommand's arguments) instead of following them. The caller must wait
/// for the engine ([`Engine::ready`]) before the process exits, whatever happens.
pub fn start_engine_early() -> Option<Engine> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let config = early_engine_config(&args, std::env::var_os(V8_FLAGS_ENV).is_some())?;
    Engine::init_in_background(config).ok()
}

/// A parsed command line: the arguments, and the name of the subcommand clap matched.
pub struct Parsed {
    cli: Cli,
    subcommand: String,
}

/// Parses the process's command line.
///
/// # Errors
/// What `Cli::parse` would print and exit with (usage errors, `--help`, `--version`).
pub fn parse() -> Result<Parsed, clap::Error> {
    let mut matches = Cli::command().try_get_matches()?;
    let subcommand = matches.subcommand_name().unwrap_or_default().to_string();
    let cli = Cli::from_arg_matches_mut(&mut matches)?;
    Ok(Parsed { cli, subcommand })
}

/// Runs the parsed command.
pub fn run(parsed: Parsed) -> Result<(), Error> {
    let Parsed { cli, subcommand } = parsed;
    // V8 starts on a background thread (here, unless `start_engine_early` already started it
    // with these settings) while the command reads and verifies its inputs; the first isolate
    // waits for it (`Engine::ready`).
    // The only place that reads the environment for the engine's settings.
    let flags = cli
        .v8_flags
        .clone()
        .or_else(|| std::env::var(V8_FLAGS_ENV).ok())
        .unwrap_or_default();
    let engine = Engine::init_in_background(
        EngineConfig::with_v8_flags(flags).seeds(seeds_for(&subcommand)),
    )?;
    // Never exit (or unwind out of here) while V8 is still initialising on the other thread.
    let _wait_for_v8 = WaitForV8(engine);
    dispatch(engine, cli.command)
}

/// Waits for V8's initialisation when dropped.
struct WaitForV8(Engine);

impl Drop for WaitForV8 {
    fn drop(&mut self) {
        self.0.ready();
    }
}

fn dispatch(engine: Engine, command: Command) -> Result<(), Error> {
    match command {
        Command::Build(args) => build::run(&engine, args),
        Command::Inspect(args) => inspect::run(&engine, args),
        Command::Call(args) => call::run_call(&engine, args),
        Command::Render(args) => call::run_render(&engine, args),
        Command::Demo(args) => demo::run(&engine, args),
        Command::Serve(args) => serve::run(&engine, args),
        Command::Bench(args) => bench::run(&engine, args),
        Command::Lambda(args) => lambda::run(&engine, args),
        Command::Package(args) => lambda::package(&engine, args, Some(engine.v8_flags())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_early_subcommand_list_is_clap_s() {
        let mut clap_names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|command| command.get_name().to_string())
            .collect();
        clap_names.sort();
        let mut ours: Vec<String> = SUBCOMMANDS.iter().map(|name| name.to_string()).collect();
        ours.sort();
        assert_eq!(ours, clap_names);
        // An alias or an inferred prefix would make clap match a subcommand the early reading
        // does not see (and give it other seeds).
        for command in Cli::command().get_subcommands() {
            assert_eq!(
                command.get_all_aliases().count(),
                0,
                "{}",
                command.get_name()
            );
        }
        assert!(Cli::command()
            .try_get_matches_from(["coldstart", "cal", "app.js"])
            .is_err());
    }

    #[test]
    fn v8_starts_before_parsing_only_when_its_settings_are_certain() {
        let early = |list: &[&str]| early_engine_config(&args(list), false);
        // The subcommand first, no flags: V8's default flags, the subcommand's seeds.
        for (line, seeds) in [
            (
                &["call", "app.js", "__rex_render_page", "/"][..],
                Seeds::Random,
            ),
            (&["serve", "worker.js", "--port", "0"][..], Seeds::Random),
            (&["lambda", "app.js"][..], Seeds::Random),
            (&["build", "app.js"][..], Seeds::Fixed),
            (&["package", "app.js", "--out", "dir"][..], Seeds::Fixed),
        ] {
            assert_eq!(
                early(line),
                Some(EngineConfig::default().seeds(seeds)),
                "{line:?}"
            );
            assert_eq!(seeds_for(line[0]), seeds);
        }
        // Anything that could set V8's flags, or a line that does not start with a subcommand.
        for line in [
            &["--v8-flags", "--max-lazy", "call", "app.js"][..],
            &["call", "app.js", "--v8-flags", "--jitless"][..],
            &["serve", "worker.js", "--v8-flags=--jitless"][..],
            &["--help"][..],
            &["-V"][..],
            &["help", "call"][..],
            &["cal", "app.js"][..],
            &[][..],
        ] {
            assert_eq!(early(line), None, "{line:?}");
        }
        assert_eq!(early_engine_config(&args(&["call", "app.js"]), true), None);
    }
}
