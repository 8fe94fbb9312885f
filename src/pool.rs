//! A pool of SSR isolates on worker threads, created from the current snapshot, with reload,
//! fallback and containment.
//!
//! * Each worker thread owns one [`SsrIsolate`] restored from the **current** generation's
//!   snapshot and re-creates it (between requests) when the generation changes, when a call
//!   poisoned it (timeout, heap limit) or when a job panicked.
//! * [`IsolatePool::reload`] builds the new snapshot (in a child `coldstart build` process by
//!   default, so a V8 abort while building cannot take the server down), verifies it by restoring
//!   an isolate and checking the contract, then swaps the current generation. Any failure leaves
//!   the previous snapshot serving. `current`/`previous` are persisted in the store.
//! * Queues are bounded; a full pool answers [`Error::Overloaded`] instead of blocking.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::bundle::{Bundle, BundleFormat};
use crate::engine::Engine;
use crate::error::{Error, Result, SnapshotError};
use crate::isolate::Limits;
use crate::snapshot::builder::default_build_limits;
use crate::snapshot::format::hex;
use crate::snapshot::{snapshot_key, BuildOptions, Snapshot, SnapshotStore};
use crate::ssr::{RenderResult, SsrConfig, SsrIsolate};

/// How requests are isolated from each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// One isolate per worker, reused across requests (globals persist between requests).
    #[default]
    PerWorker,
    /// A pristine context from the snapshot for every request: nothing leaks between requests.
    PerRequest,
}

impl std::str::FromStr for Isolation {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "per-worker" => Ok(Isolation::PerWorker),
            "per-request" => Ok(Isolation::PerRequest),
            other => Err(format!("expected per-worker or per-request, got `{other}`")),
        }
    }
}

/// Where reload builds run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildMode {
    /// A child process running `<exe> build` (default: a V8 abort cannot kill the server).
    ChildProcess {
        /// The `coldstart` executable.
        exe: PathBuf,
    },
    /// A thread of this process.
    InProcess,
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Worker threads (one isolate each).
    pub workers: usize,
    /// Jobs waiting per worker before the pool reports overload.
    pub queue_per_worker: usize,
    /// Request isolation mode.
    pub isolation: Isolation,
    /// Isolate settings (env, fs root, fetch policy, heap limit, call deadline).
    pub ssr: SsrConfig,
    /// Snapshot build options.
    pub build: BuildOptions,
    /// Deadline and heap limit of a build (a child build is killed shortly after its deadline).
    pub build_limits: Limits,
    /// Where reload builds run.
    pub build_mode: BuildMode,
    /// The snapshot store directory (required: there is no default location).
    pub store_dir: PathBuf,
    /// How bundle files given by path are read (script, module, or decided from the file).
    pub bundle_format: BundleFormat,
    /// The module root of a module bundle given by path (default: found from the entry).
    pub module_root: Option<PathBuf>,
    /// A writable directory for a read-only store (`store_dir`): builds and pointers go there,
    /// `store_dir` is only read ([`SnapshotStore::with_state_dir`]).
    pub state_dir: Option<PathBuf>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            workers: 2,
            queue_per_worker: 64,
            isolation: Isolation::PerWorker,
            ssr: SsrConfig::default(),
            build: BuildOptions::default(),
            build_limits: default_build_limits(),
            build_mode: BuildMode::InProcess,
            store_dir: PathBuf::new(),
            bundle_format: BundleFormat::Auto,
            module_root: None,
            state_dir: None,
        }
    }
}

/// One snapshot generation the workers run.
#[derive(Debug)]
pub struct Generation {
    /// Increases with every successful reload.
    pub number: u64,
    /// The verified snapshot.
    pub snapshot: Snapshot,
}

/// Counters exported as metrics.
#[derive(Debug, Default)]
pub struct PoolStats {
    /// Isolates created.
    pub isolates_created: AtomicU64,
    /// Total microseconds spent creating isolates.
    pub isolate_create_micros: AtomicU64,
    /// Fresh contexts created for per-request isolation.
    pub contexts_reset: AtomicU64,
    /// Total microseconds spent creating them.
    pub context_reset_micros: AtomicU64,
    /// Isolates discarded after a timeout, heap limit or panic.
    pub isolates_discarded: AtomicU64,
    /// Jobs that panicked.
    pub panics: AtomicU64,
    /// Successful reloads.
    pub reloads_ok: AtomicU64,
    /// Failed reloads.
    pub reloads_failed: AtomicU64,
    /// Jobs refused because the queues were full.
    pub overloaded: AtomicU64,
}

/// What a successful reload did.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    /// The new snapshot key (hex).
    pub key: String,
    /// The new generation number.
    pub generation: u64,
    /// Whether the store already had the snapshot.
    pub cached: bool,
    /// Build + verification time.
    pub reload_ms: f64,
}

type Job = Box<dyn FnOnce(&mut SsrIsolate) + Send>;

enum Message {
    Run(Job),
    /// Swap to the current generation now, between requests.
    Refresh,
}

struct Worker {
    tx: SyncSender<Message>,
    load: Arc<AtomicUsize>,
    /// Set once the worker's first isolate exists.
    ready: Arc<AtomicBool>,
}

struct Shared {
    current: RwLock<Arc<Generation>>,
    previous: Mutex<Option<Arc<Generation>>>,
    stats: PoolStats,
    config: PoolConfig,
    store: SnapshotStore,
    reload_lock: Mutex<()>,
    /// Workers whose first restore is over (made or failed): worker `i` starts its own once `i`
    /// are, see [`FirstRestores`].
    first_restores: FirstRestores,
    /// The bundle the current generation was built from, to rebuild a snapshot damaged on disk.
    source: Mutex<Option<BundleSource>>,
    /// One worker at a time replaces a damaged snapshot; the others wait for its result.
    repair_lock: Mutex<()>,
    /// Set by [`IsolatePool::shutdown`]: running child builds are killed.
    shutting_down: AtomicBool,
}

/// A `Send + Sync` pool of SSR isolates.
#[derive(Clone)]
pub struct IsolatePool {
    shared: Arc<Shared>,
    workers: Arc<Vec<Worker>>,
}

assert_send_sync!(IsolatePool);

impl std::fmt::Debug for IsolatePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsolatePool")
            .field("workers", &self.workers.len())
            .field("generation", &self.generation())
            .finish()
    }
}

impl IsolatePool {
    /// A pool for a bundle, configured step by step:
    ///
    /// ```
    /// # fn main() -> coldstart::Result<()> {
    /// use coldstart::{Bundle, Engine, EngineConfig, IsolatePool};
    ///
    /// let engine = Engine::init(EngineConfig::default())?;
    /// let store = tempfile::tempdir().unwrap();
    /// let pool = IsolatePool::builder(&engine)
    ///     .bundle(Bundle::new("app.js", r#"
    ///         globalThis.__rex_render_page = (route) => JSON.stringify({ body: "<p>" + route + "</p>", head: "" });
    ///         globalThis.__rex_get_server_side_props = () => "{}";
    ///         globalThis.__rex_get_static_props = () => "{}";
    ///     "#))
    ///     .store(store.path())
    ///     .workers(2)
    ///     .build()?;
    /// let page = pool.render_blocking("/hello", "{}")?;
    /// assert_eq!(page.body, "<p>/hello</p>");
    /// # Ok(()) }
    /// ```
    pub fn builder(engine: &Engine) -> PoolBuilder {
        PoolBuilder {
            engine: *engine,
            bundle: None,
            config: PoolConfig::default(),
        }
    }

    /// Starts a pool serving the bundle file `bundle_path` (see [`IsolatePool::builder`] for a
    /// bundle in memory).
    ///
    /// The bundle's snapshot is taken from the store when present, else built. If the bundle
    /// cannot be built, the store's `CURRENT` snapshot (the last good one) serves instead and the
    /// build error is logged; with no `CURRENT` either, start fails with that error.
    ///
    /// # Errors
    /// No usable snapshot; no store directory configured; worker threads cannot be spawned.
    pub fn start(engine: &Engine, bundle_path: &Path, config: PoolConfig) -> Result<Self> {
        let source = BundleSource::file(bundle_path, &config);
        Self::start_from(engine, source, config)
    }

    fn start_from(engine: &Engine, source: BundleSource, config: PoolConfig) -> Result<Self> {
        if config.store_dir.as_os_str().is_empty() {
            return Err(Error::Invalid(
                "the pool has no snapshot store: set PoolConfig::store_dir (or the builder's .store())"
                    .to_string(),
            ));
        }
        let store = match &config.state_dir {
            Some(state) => SnapshotStore::with_state_dir(engine, &config.store_dir, state)?,
            None => SnapshotStore::open(engine, &config.store_dir)?,
        };
        let snapshot = match build_and_verify(
            &source,
            &config,
            &store,
            &AtomicBool::new(false),
            true,
        ) {
            Ok((snapshot, _)) => {
                // The pointer only serves as a fallback for a later start: a store that cannot
                // be written (a read-only deploy without a state directory) still serves.
                if let Err(error) = store.set_current(&snapshot.key()) {
                    tracing::warn!(%error, "cannot record the current snapshot; serving anyway");
                }
                snapshot
            }
            Err(error) => {
                let Some(snapshot) = store.current().and_then(|key| store.get(&key)) else {
                    return Err(error);
                };
                tracing::error!(%error, key = %snapshot.key_hex(), "bundle failed to build; serving the last good snapshot");
                snapshot
            }
        };
        Self::spawn(snapshot, store, config, Some(source))
    }

    /// Starts a pool on an already verified snapshot.
    ///
    /// # Errors
    /// Worker threads cannot be spawned.
    pub fn with_snapshot(
        snapshot: Snapshot,
        store: SnapshotStore,
        config: PoolConfig,
    ) -> Result<Self> {
        Self::spawn(snapshot, store, config, None)
    }

    fn spawn(
        snapshot: Snapshot,
        store: SnapshotStore,
        config: PoolConfig,
        source: Option<BundleSource>,
    ) -> Result<Self> {
        let shared = Arc::new(Shared {
            current: RwLock::new(Arc::new(Generation {
                number: 1,
                snapshot,
            })),
            previous: Mutex::new(None),
            stats: PoolStats::default(),
            store,
            reload_lock: Mutex::new(()),
            first_restores: FirstRestores::default(),
            config: config.clone(),
            source: Mutex::new(source),
            repair_lock: Mutex::new(()),
            shutting_down: AtomicBool::new(false),
        });
        let mut workers = Vec::new();
        for index in 0..config.workers.max(1) {
            let (tx, rx) = mpsc::sync_channel::<Message>(config.queue_per_worker.max(1));
            let load = Arc::new(AtomicUsize::new(0));
            let ready = Arc::new(AtomicBool::new(false));
            let (shared_w, load_w, ready_w) = (shared.clone(), load.clone(), ready.clone());
            std::thread::Builder::new()
                .name(format!("coldstart-worker-{index}"))
                .stack_size(8 * 1024 * 1024)
                .spawn(move || worker_loop(shared_w, index, rx, load_w, ready_w))
                .map_err(|e| Error::Spawn {
                    what: "worker thread",
                    source: e,
                })?;
            workers.push(Worker { tx, load, ready });
        }
        Ok(IsolatePool {
            shared,
            workers: Arc::new(workers),
        })
    }

    /// Number of workers whose first isolate is ready.
    pub fn ready_workers(&self) -> usize {
        self.workers
            .iter()
            .filter(|worker| worker.ready.load(Ordering::SeqCst))
            .count()
    }

    /// The generation being served.
    pub fn generation(&self) -> u64 {
        self.current().number
    }

    /// The snapshot being served.
    pub fn current(&self) -> Arc<Generation> {
        self.shared
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Counters.
    pub fn stats(&self) -> &PoolStats {
        &self.shared.stats
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    fn dispatch(&self, job: Job) -> Result<()> {
        // Workers with an isolate first (at start-up the others are still restoring theirs, one
        // after another), least loaded first among them; fall through to the others if a queue
        // is full.
        let mut order: Vec<usize> = (0..self.workers.len()).collect();
        order.sort_by_key(|&i| {
            let worker = &self.workers[i];
            (
                !worker.ready.load(Ordering::SeqCst),
                worker.load.load(Ordering::SeqCst),
            )
        });
        let mut job = Some(job);
        for i in order {
            let worker = &self.workers[i];
            worker.load.fetch_add(1, Ordering::SeqCst);
            match worker.tx.try_send(Message::Run(job.take().expect("job"))) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(Message::Run(back)))
                | Err(TrySendError::Disconnected(Message::Run(back))) => {
                    worker.load.fetch_sub(1, Ordering::SeqCst);
                    job = Some(back);
                }
                Err(_) => unreachable!("only Run messages are dispatched"),
            }
        }
        self.shared.stats.overloaded.fetch_add(1, Ordering::Relaxed);
        Err(Error::Overloaded(format!(
            "all {} worker queues are full ({} jobs each)",
            self.workers.len(),
            self.shared.config.queue_per_worker
        )))
    }

    /// Queues `f` to run on a worker's isolate and returns at once; `f` reports its outcome itself
    /// (through a channel it owns, say). If the job is lost (it panicked, or no isolate could be
    /// created), `f` is dropped unrun or mid-way, and with it whatever sender it holds: a receiver
    /// sees its channel close.
    ///
    /// # Errors
    /// [`Error::Overloaded`] when every queue is full (`f` is dropped).
    pub fn submit<F>(&self, f: F) -> Result<()>
    where
        F: FnOnce(&mut SsrIsolate) + Send + 'static,
    {
        self.dispatch(Box::new(f))
    }

    /// Runs `f` on a worker's isolate and awaits its result without blocking the async runtime:
    /// one `Result`, whether the pool or `f` failed.
    ///
    /// # Errors
    /// [`Error::Overloaded`] when every queue is full; [`Error::WorkerLost`] if the job panicked
    /// (or no isolate could be created); whatever `f` returns.
    pub async fn execute<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut SsrIsolate) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.dispatch(Box::new(move |iso| {
            let _ = tx.send(f(iso));
        }))?;
        rx.await.map_err(|_| Error::WorkerLost)?
    }

    /// Renders `route` with `props_json` on a worker (`__rex_render_page`).
    ///
    /// # Errors
    /// As [`IsolatePool::execute`] and [`SsrIsolate::render_page`].
    pub async fn render(&self, route: &str, props_json: &str) -> Result<RenderResult> {
        let (route, props) = (route.to_string(), props_json.to_string());
        self.execute(move |iso| iso.render_page(&route, &props))
            .await
    }

    /// Blocking variant of [`IsolatePool::render`].
    ///
    /// # Errors
    /// As [`IsolatePool::render`].
    pub fn render_blocking(&self, route: &str, props_json: &str) -> Result<RenderResult> {
        let (route, props) = (route.to_string(), props_json.to_string());
        self.execute_blocking(move |iso| iso.render_page(&route, &props))
    }

    /// Blocking variant of [`IsolatePool::execute`] (not for use on an async runtime thread).
    ///
    /// # Errors
    /// As [`IsolatePool::execute`].
    pub fn execute_blocking<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut SsrIsolate) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        self.dispatch(Box::new(move |iso| {
            let _ = tx.send(f(iso));
        }))?;
        rx.recv().map_err(|_| Error::WorkerLost)?
    }

    /// Builds `bundle_path` into a new snapshot, verifies it, and makes it current. On any error
    /// the current snapshot keeps serving and the error (with the JS stack) is returned.
    ///
    /// Blocking: call it from a blocking context (e.g. `tokio::task::spawn_blocking`).
    ///
    /// # Errors
    /// Build or verification failures.
    pub fn reload(&self, bundle_path: &Path) -> Result<ReloadReport> {
        self.reload_from(BundleSource::file(bundle_path, &self.shared.config))
    }

    /// Like [`IsolatePool::reload`], from a bundle in memory (a file-backed [`Bundle`] is re-read
    /// from its file).
    ///
    /// # Errors
    /// As [`IsolatePool::reload`].
    pub fn reload_bundle(&self, bundle: Bundle) -> Result<ReloadReport> {
        self.reload_from(BundleSource::of(bundle))
    }

    fn reload_from(&self, source: BundleSource) -> Result<ReloadReport> {
        // Reloads never queue: one that arrives while another runs is refused at once (the
        // running one is bounded by the build deadline).
        let _one_at_a_time = match self.shared.reload_lock.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(Error::ReloadInProgress),
        };
        let started = Instant::now();
        let result = build_and_verify(
            &source,
            &self.shared.config,
            &self.shared.store,
            &self.shared.shutting_down,
            false,
        );
        let (snapshot, cached) = match result {
            Ok(ok) => ok,
            Err(error) => {
                self.shared
                    .stats
                    .reloads_failed
                    .fetch_add(1, Ordering::Relaxed);
                tracing::error!(%error, "reload failed; the previous snapshot keeps serving");
                return Err(error);
            }
        };
        self.shared.store.set_current(&snapshot.key())?;
        *self.shared.source.lock().unwrap_or_else(|p| p.into_inner()) = Some(source);
        let generation = self.install(snapshot);
        self.shared.stats.reloads_ok.fetch_add(1, Ordering::Relaxed);
        let report = ReloadReport {
            key: hex(&generation.snapshot.key()),
            generation: generation.number,
            cached,
            reload_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        tracing::info!(key = %report.key, generation = report.generation, ms = report.reload_ms, "reloaded");
        Ok(report)
    }

    /// Stops the pool's background work: a running child build is killed (and reaped) at once,
    /// so that a server can exit without leaving it behind. Requests already queued still run.
    pub fn shutdown(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Returns to the previous snapshot.
    ///
    /// # Errors
    /// There is no previous snapshot.
    pub fn rollback(&self) -> Result<u64> {
        let _one_at_a_time = self
            .shared
            .reload_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let previous = self
            .shared
            .previous
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::NoPreviousSnapshot)?;
        self.shared.store.set_current(&previous.snapshot.key())?;
        Ok(self.install(previous.snapshot.clone()).number)
    }

    fn install(&self, snapshot: Snapshot) -> Arc<Generation> {
        let mut current = self
            .shared
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let next = Arc::new(Generation {
            number: current.number + 1,
            snapshot,
        });
        let old = std::mem::replace(&mut *current, next.clone());
        drop(current);
        *self
            .shared
            .previous
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(old);
        // Ask idle workers to move now; busy ones move after their current job.
        for worker in self.workers.iter() {
            let _ = worker.tx.try_send(Message::Refresh);
        }
        next
    }
}

/// Where a pool's bundle comes from.
#[derive(Debug, Clone)]
enum BundleSource {
    /// A file, read again at every build (a reload picks up its new content).
    File {
        path: PathBuf,
        format: BundleFormat,
        module_root: Option<PathBuf>,
    },
    /// A bundle in memory.
    Memory(Bundle),
}

impl BundleSource {
    fn file(path: &Path, config: &PoolConfig) -> Self {
        BundleSource::File {
            path: path.to_path_buf(),
            format: config.bundle_format,
            module_root: config.module_root.clone(),
        }
    }

    fn of(bundle: Bundle) -> Self {
        match bundle.path() {
            Some(path) => BundleSource::File {
                path: path.to_path_buf(),
                format: bundle.format(),
                module_root: bundle.module_root().map(Path::to_path_buf),
            },
            None => BundleSource::Memory(bundle),
        }
    }

    /// The bundle as it is now; a file through `store`'s record of its content hash.
    fn load(&self, store: &SnapshotStore) -> Result<Bundle> {
        match self {
            BundleSource::File {
                path,
                format,
                module_root,
            } => store.bundle(path, *format, module_root.as_deref()),
            BundleSource::Memory(bundle) => Ok(bundle.clone()),
        }
    }
}

/// Configures an [`IsolatePool`] step by step; see [`IsolatePool::builder`].
#[derive(Debug)]
#[must_use]
pub struct PoolBuilder {
    engine: Engine,
    bundle: Option<Bundle>,
    config: PoolConfig,
}

impl PoolBuilder {
    /// The bundle to serve (required).
    pub fn bundle(mut self, bundle: Bundle) -> Self {
        self.bundle = Some(bundle);
        self
    }

    /// The snapshot store directory (required; created if missing).
    pub fn store(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.store_dir = dir.into();
        self
    }

    /// Worker threads, one isolate each (default 2).
    pub fn workers(mut self, workers: usize) -> Self {
        self.config.workers = workers;
        self
    }

    /// Jobs waiting per worker before [`Error::Overloaded`] (default 64).
    pub fn queue_per_worker(mut self, jobs: usize) -> Self {
        self.config.queue_per_worker = jobs;
        self
    }

    /// Request isolation (default [`Isolation::PerWorker`]).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.config.isolation = isolation;
        self
    }

    /// Isolate settings: what bundle code may see and reach, heap limit, call deadline.
    pub fn ssr(mut self, ssr: SsrConfig) -> Self {
        self.config.ssr = ssr;
        self
    }

    /// Snapshot build options (part of the key).
    pub fn build_options(mut self, options: BuildOptions) -> Self {
        self.config.build = options;
        self
    }

    /// Deadline and heap limit of builds.
    pub fn build_limits(mut self, limits: Limits) -> Self {
        self.config.build_limits = limits;
        self
    }

    /// Where reload builds run (default: in this process).
    pub fn build_mode(mut self, mode: BuildMode) -> Self {
        self.config.build_mode = mode;
        self
    }

    /// Builds (or finds) the snapshot and starts the workers.
    ///
    /// # Errors
    /// No bundle or store given; as [`IsolatePool::start`].
    pub fn build(self) -> Result<IsolatePool> {
        let bundle = self.bundle.ok_or_else(|| {
            Error::Invalid("the pool has no bundle: call .bundle(...)".to_string())
        })?;
        IsolatePool::start_from(&self.engine, BundleSource::of(bundle), self.config)
    }
}

/// Builds (or finds) the snapshot of `bundle_path` and proves it can serve: restore an isolate
/// and resolve the contract's required entries. `cancel` kills a child build when set.
///
/// With `trust_current` (pool start), a snapshot found in the store that is already the store's
/// `CURRENT` — verified when it was made current — only gets the header checks against this
/// pool's limits, not a second restore: the workers' own restores follow at once.
fn build_and_verify(
    source: &BundleSource,
    config: &PoolConfig,
    store: &SnapshotStore,
    cancel: &AtomicBool,
    trust_current: bool,
) -> Result<(Snapshot, bool)> {
    let (snapshot, cached) = match &config.build_mode {
        BuildMode::InProcess => {
            let bundle = source.load(store)?;
            let (store, options, limits) =
                (store.clone(), config.build.clone(), config.build_limits);
            // A dedicated thread: the caller may be a worker or a runtime thread.
            let loaded = std::thread::Builder::new()
                .name("coldstart-build".to_string())
                .stack_size(8 * 1024 * 1024)
                .spawn(move || store.get_or_build_within(&bundle, &options, limits))
                .map_err(|e| Error::Spawn {
                    what: "build thread",
                    source: e,
                })?
                .join()
                .map_err(|_| Error::WorkerLost)??;
            (loaded.snapshot, loaded.cached)
        }
        BuildMode::ChildProcess { exe } => build_in_child(exe, source, config, store, cancel)?,
    };
    if cached && trust_current && store.current() == Some(snapshot.key()) {
        snapshot.check_restorable(config.ssr.limits)?;
    } else {
        verify(&snapshot, &config.ssr)?;
    }
    Ok((snapshot, cached))
}

/// Restores an isolate from `snapshot` with the workers' settings, on a thread of its own.
/// Runs no bundle code beyond what a worker's restore runs, under the same limits; a snapshot
/// whose heap does not fit them is refused before V8 reads it.
fn verify(snapshot: &Snapshot, ssr: &SsrConfig) -> Result<()> {
    let (check, ssr) = (snapshot.clone(), ssr.clone());
    std::thread::Builder::new()
        .name("coldstart-verify".to_string())
        .stack_size(8 * 1024 * 1024)
        .spawn(move || SsrIsolate::from_snapshot(&check, ssr).map(drop))
        .map_err(|e| Error::Spawn {
            what: "verification thread",
            source: e,
        })?
        .join()
        .map_err(|_| Error::WorkerLost)?
}

/// How long a child build may outlive its own deadline before it is killed: its start-up and
/// the write of the snapshot file.
const CHILD_BUILD_GRACE: Duration = Duration::from_secs(5);

fn build_in_child(
    exe: &Path,
    source: &BundleSource,
    config: &PoolConfig,
    store: &SnapshotStore,
    cancel: &AtomicBool,
) -> Result<(Snapshot, bool)> {
    let bundle = source.load(store)?;
    let key = snapshot_key(store.engine(), &bundle, &config.build);
    if let Some(snapshot) = store.get(&key) {
        return Ok((snapshot, true));
    }
    // The child reads the bundle from a file: a bundle in memory is written to a scratch folder
    // in the store first, under its own name (the name is part of the key).
    let (bundle_path, format, module_root, _scratch) = match source {
        BundleSource::File {
            path,
            format,
            module_root,
        } => (path.clone(), *format, module_root.clone(), None),
        BundleSource::Memory(bundle) => {
            let scratch = tempfile::Builder::new()
                .prefix(".tmp-bundle-")
                .tempdir_in(store.dir())
                .map_err(|e| Error::io("cannot create a scratch folder", store.dir(), e))?;
            let write = |path: &Path, text: &str| -> Result<()> {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        Error::io("cannot write the bundle for the builder", parent, e)
                    })?;
                }
                std::fs::write(path, text)
                    .map_err(|e| Error::io("cannot write the bundle for the builder", path, e))
            };
            match bundle.modules() {
                None => {
                    let path = scratch.path().join(bundle.name());
                    write(&path, bundle.source()?)?;
                    (path, BundleFormat::Script, None, Some(scratch))
                }
                Some(files) => {
                    for file in &files.files {
                        write(&scratch.path().join(&file.path), &file.source)?;
                    }
                    let root = scratch.path().to_path_buf();
                    (
                        root.join(&files.entry),
                        BundleFormat::Module,
                        Some(root),
                        Some(scratch),
                    )
                }
            }
        }
    };
    let bundle_path = bundle_path.as_path();
    let options = serde_json::to_string(&config.build)
        .map_err(|e| Error::Engine(format!("build options do not serialise: {e}")))?;
    let limits = config.build_limits;
    let mut command = std::process::Command::new(exe);
    command
        .arg("build")
        .arg(bundle_path)
        .arg("--store")
        .arg(store.dir())
        .arg("--json")
        .arg("--exit-with-parent")
        .arg("--parent-pid")
        .arg(std::process::id().to_string())
        .arg("--options-json")
        .arg(options)
        .arg("--build-timeout-ms")
        .arg(limits.load_timeout().as_millis().to_string())
        .arg("--format")
        .arg(format.as_str());
    if let Some(root) = &module_root {
        command.arg("--module-root").arg(root);
    }
    if let Some(mb) = limits.max_heap_mb {
        command.arg("--build-max-heap-mb").arg(mb.to_string());
    }
    let flags = store.engine().v8_flags();
    if !flags.is_empty() {
        command.arg(format!("--v8-flags={flags}"));
    }
    command.env("COLDSTART_LOG", "error");
    let deadline = Instant::now() + limits.load_timeout() + CHILD_BUILD_GRACE;
    let output = run_child(command, deadline, cancel).map_err(|e| match e {
        ChildFailure::Spawn(source) => Error::io("cannot run the snapshot builder", exe, source),
        ChildFailure::Killed(why) => Error::BuildFailed {
            bundle: bundle_path.display().to_string(),
            detail: format!("the snapshot builder was killed: {why}"),
        },
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr
            .trim()
            .strip_prefix("error: ")
            .unwrap_or(stderr.trim())
            .to_string();
        let detail = if message.is_empty() {
            format!("the snapshot builder died ({})", output.status)
        } else {
            message
        };
        return Err(Error::BuildFailed {
            bundle: bundle_path.display().to_string(),
            detail,
        });
    }
    let snapshot = store.get(&key).ok_or_else(|| Error::BuildFailed {
        bundle: bundle_path.display().to_string(),
        detail: format!(
            "the builder exited cleanly but {} is missing or invalid",
            store.path_for(&key).display()
        ),
    })?;
    Ok((snapshot, false))
}

enum ChildFailure {
    Spawn(std::io::Error),
    Killed(&'static str),
}

/// Runs `command` to completion, collecting its output; kills and reaps it past `deadline` or
/// when `cancel` is set. (The child also exits by itself if this process dies first:
/// `--exit-with-parent`.)
fn run_child(
    mut command: std::process::Command,
    deadline: Instant,
    cancel: &AtomicBool,
) -> std::result::Result<std::process::Output, ChildFailure> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(ChildFailure::Spawn)?;
    // Drain both pipes on threads so that a chatty child never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(_) => break Err("its status could not be read"),
        }
        if cancel.load(Ordering::SeqCst) {
            break Err("the server is shutting down");
        }
        if Instant::now() >= deadline {
            break Err("it outlived the build deadline");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let status = match status {
        Ok(status) => status,
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ChildFailure::Killed(why));
        }
    };
    Ok(std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Replaces the generation whose snapshot file changed on disk under the workers: the store's
/// file is verified again (it may have been replaced by a good copy), else the snapshot is
/// rebuilt from the bundle the pool was started from. One worker repairs; others wait for it.
fn repair(shared: &Shared, damaged: &Generation) -> Result<()> {
    let _one_repair = shared.repair_lock.lock().unwrap_or_else(|p| p.into_inner());
    let current = shared
        .current
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if current.number != damaged.number {
        return Ok(()); // Another worker repaired it (or a reload replaced it) meanwhile.
    }
    let key = damaged.snapshot.key();
    let snapshot = match shared.store.get(&key) {
        Some(snapshot) => {
            verify(&snapshot, &shared.config.ssr)?;
            snapshot
        }
        None => {
            let source = shared
                .source
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .ok_or_else(|| Error::BuildFailed {
                    bundle: damaged.snapshot.header().bundle_name.clone(),
                    detail:
                        "the snapshot changed on disk and the pool has no bundle to rebuild it from"
                            .to_string(),
                })?;
            build_and_verify(
                &source,
                &shared.config,
                &shared.store,
                &shared.shutting_down,
                false,
            )?
            .0
        }
    };
    tracing::warn!(key = %snapshot.key_hex(), "snapshot file changed on disk; re-verified and re-mapped");
    let mut current = shared.current.write().unwrap_or_else(|p| p.into_inner());
    *current = Arc::new(Generation {
        number: current.number + 1,
        snapshot,
    });
    Ok(())
}

/// How many workers' first restores are over. A pool's workers restore their first isolates one
/// after another rather than all at once: on a machine with as many cores as workers, restores
/// running side by side also compete with the thread accepting the first request, and the first
/// isolate — the one that answers it — comes up later (`serve` on 2 cores, exec → first byte,
/// 2 workers: Hono 22.4 → 19.4 ms restoring one at a time; README, "Module workers against
/// workerd and Node"). Requests go to workers with an isolate first meanwhile.
#[derive(Default)]
struct FirstRestores {
    over: Mutex<usize>,
    changed: Condvar,
}

/// The longest a worker waits for the previous one's first restore before starting its own
/// anyway (a restore takes milliseconds; this only bounds a stuck one).
const FIRST_RESTORE_WAIT: Duration = Duration::from_secs(2);

impl FirstRestores {
    /// Waits until `count` first restores are over, or [`FIRST_RESTORE_WAIT`] has passed.
    fn wait_for(&self, count: usize) {
        let over = self.over.lock().unwrap_or_else(|p| p.into_inner());
        let _over = self
            .changed
            .wait_timeout_while(over, FIRST_RESTORE_WAIT, |over| *over < count)
            .unwrap_or_else(|p| p.into_inner());
    }

    /// Counts one first restore as over (made, failed, or its thread unwinding).
    fn finish_one(&self) {
        *self.over.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.changed.notify_all();
    }
}

/// Calls [`FirstRestores::finish_one`] when dropped, so a worker that panics while restoring does
/// not leave the next one waiting.
struct FirstRestoreTurn<'a>(Option<&'a FirstRestores>);

impl FirstRestoreTurn<'_> {
    fn end(&mut self) {
        if let Some(restores) = self.0.take() {
            restores.finish_one();
        }
    }
}

impl Drop for FirstRestoreTurn<'_> {
    fn drop(&mut self) {
        self.end();
    }
}

fn worker_loop(
    shared: Arc<Shared>,
    index: usize,
    rx: mpsc::Receiver<Message>,
    load: Arc<AtomicUsize>,
    ready: Arc<AtomicBool>,
) {
    let mut isolate: Option<(u64, SsrIsolate)> = None;
    let mut dirty = false;
    shared.first_restores.wait_for(index);
    let mut first_turn = FirstRestoreTurn(Some(&shared.first_restores));
    loop {
        // Keep an isolate of the current generation ready between requests.
        let generation = shared
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let stale = match &isolate {
            Some((number, iso)) => *number != generation.number || iso.poisoned().is_some(),
            None => true,
        };
        if stale {
            if let Some((_, old)) = isolate.take() {
                if old.poisoned().is_some() {
                    shared
                        .stats
                        .isolates_discarded
                        .fetch_add(1, Ordering::Relaxed);
                }
                drop(old);
            }
            let started = Instant::now();
            match SsrIsolate::from_snapshot(&generation.snapshot, shared.config.ssr.clone()) {
                Ok(iso) => {
                    shared
                        .stats
                        .isolates_created
                        .fetch_add(1, Ordering::Relaxed);
                    shared
                        .stats
                        .isolate_create_micros
                        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                    isolate = Some((generation.number, iso));
                    dirty = false;
                    ready.store(true, Ordering::SeqCst);
                }
                Err(Error::Snapshot(refusal))
                    if matches!(*refusal, SnapshotError::ChangedOnDisk { .. }) =>
                {
                    tracing::error!(error = %refusal, "the current snapshot cannot be restored");
                    match repair(&shared, &generation) {
                        Ok(()) => continue,
                        // Not retried in a loop: the next request (or a reload) tries again.
                        Err(error) => tracing::error!(
                            %error,
                            "cannot repair the snapshot; requests fail until it is repaired or reloaded"
                        ),
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "cannot create an isolate from the current snapshot")
                }
            }
        } else if dirty && shared.config.isolation == Isolation::PerRequest {
            // A pristine context for the next request, prepared before it arrives.
            if let Some((_, iso)) = isolate.as_mut() {
                let started = Instant::now();
                if let Err(error) = iso.reset_context() {
                    tracing::error!(%error, "cannot create a fresh context; replacing the isolate");
                    isolate = None;
                    continue;
                }
                shared.stats.contexts_reset.fetch_add(1, Ordering::Relaxed);
                shared
                    .stats
                    .context_reset_micros
                    .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
            dirty = false;
        }

        // The first restore is over, made or not: the next worker may start its own.
        first_turn.end();
        let Ok(message) = rx.recv() else { return };
        let job = match message {
            Message::Refresh => continue,
            Message::Run(job) => job,
        };
        let Some((_, iso)) = isolate.as_mut() else {
            // No isolate could be created; dropping the job makes its caller see an error.
            load.fetch_sub(1, Ordering::SeqCst);
            drop(job);
            std::thread::sleep(std::time::Duration::from_millis(50));
            continue;
        };
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job(iso)));
        dirty = true;
        load.fetch_sub(1, Ordering::SeqCst);
        if outcome.is_err() {
            shared.stats.panics.fetch_add(1, Ordering::Relaxed);
            tracing::error!("a job panicked; its isolate is discarded and replaced");
            isolate = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_first_restore_waits_for_the_ones_before_it() {
        let restores = Arc::new(FirstRestores::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..4)
            .rev()
            .map(|index| {
                let (restores, order) = (restores.clone(), order.clone());
                std::thread::spawn(move || {
                    restores.wait_for(index);
                    let mut turn = FirstRestoreTurn(Some(&restores));
                    std::thread::sleep(Duration::from_millis(5));
                    order.lock().unwrap().push(index);
                    turn.end();
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
    }

    #[test]
    fn a_turn_that_unwinds_still_lets_the_next_worker_start() {
        let restores = Arc::new(FirstRestores::default());
        let panicking = restores.clone();
        let died = std::thread::spawn(move || {
            let _turn = FirstRestoreTurn(Some(&panicking));
            panic!("restore panicked");
        })
        .join();
        assert!(died.is_err());
        let started = Instant::now();
        restores.wait_for(1);
        assert!(started.elapsed() < FIRST_RESTORE_WAIT);
    }
}
