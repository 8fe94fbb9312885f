//! Per-isolate runtime state, kept in an isolate slot (never in the snapshot).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use super::clock::Clock;
use super::net_policy::FetchPolicy;
use super::ops::Ops;
use super::timer_queue::Timers;

/// What the embedder grants one isolate. Applied after the isolate is created or restored.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// The exact contents of `process.env` (only variables the embedder allows).
    pub env: BTreeMap<String, String>,
    /// Root of the `fs` sandbox; `None` makes every fs call fail with `EACCES`.
    pub fs_root: Option<PathBuf>,
    /// Network policy for `fetch`.
    pub fetch: FetchPolicy,
    /// Variables of a module worker's `env` (besides `process.env`'s, which it also holds).
    pub vars: BTreeMap<String, String>,
    /// Folder `env.ASSETS` serves; `None`: no `ASSETS` binding.
    pub assets_dir: Option<PathBuf>,
}

impl RuntimeOptions {
    /// Builds `env` from the current process environment, keeping only `allowed` names.
    pub fn env_from_allowlist<I, S>(mut self, allowed: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for name in allowed {
            let name = name.as_ref();
            if let Ok(value) = std::env::var(name) {
                self.env.insert(name.to_string(), value);
            }
        }
        self
    }
}

/// Mutable state native callbacks share within one isolate.
pub struct IsolateState {
    /// What `performance` reads: the process's clocks from when this isolate was created or
    /// restored, or a build's counted clock.
    pub(crate) clock: Clock,
    /// Armed timers.
    pub(crate) timers: Timers,
    /// Host I/O in flight (fetch).
    pub(crate) ops: Ops,
    /// The fs sandbox, opened once.
    pub(crate) fs_root: Option<cap_std::fs::Dir>,
    /// Where `fs_root` points, canonicalised (absolute JS paths must lie under it).
    pub(crate) fs_root_path: Option<PathBuf>,
    /// Network policy.
    pub(crate) fetch_policy: FetchPolicy,
    /// Promise rejections that had no handler when the microtask queue drained.
    pub(crate) unhandled_rejections: Vec<String>,
    /// Rejected promises still waiting to see whether a handler gets attached.
    pub(crate) pending_rejections: Vec<(v8::Global<v8::Promise>, String)>,
    /// The ES modules of a module bundle (and the built-ins), for `import()`.
    pub(crate) modules: crate::isolate::modules::ModuleTable,
    /// Where the fetch call being answered sends its response.
    pub(crate) response_sink: Option<super::worker::ResponseSink>,
    /// The `ASSETS` folder, opened once.
    pub(crate) assets_root: Option<cap_std::fs::Dir>,
}

impl IsolateState {
    /// Fresh state for `options`.
    pub(crate) fn new(options: &RuntimeOptions) -> Self {
        let fs_root = options.fs_root.as_ref().and_then(|root| {
            cap_std::fs::Dir::open_ambient_dir(root, cap_std::ambient_authority())
                .map_err(|e| {
                    tracing::warn!(root = %root.display(), error = %e, "cannot open fs sandbox root; fs is disabled")
                })
                .ok()
        });
        IsolateState {
            clock: Clock::real(),
            timers: Timers::default(),
            ops: Ops::new(),
            fs_root,
            fs_root_path: options
                .fs_root
                .as_ref()
                .map(|root| root.canonicalize().unwrap_or_else(|_| root.clone())),
            fetch_policy: options.fetch.clone(),
            unhandled_rejections: Vec::new(),
            pending_rejections: Vec::new(),
            modules: Default::default(),
            response_sink: None,
            assets_root: options.assets_dir.as_ref().and_then(|root| {
                cap_std::fs::Dir::open_ambient_dir(root, cap_std::ambient_authority())
                    .map_err(|e| {
                        tracing::warn!(root = %root.display(), error = %e, "cannot open the assets folder; ASSETS answers 404")
                    })
                    .ok()
            }),
        }
    }
}

/// Shared handle to an isolate's state.
pub(crate) type StateRef = Rc<RefCell<IsolateState>>;

/// Installs `state` in the isolate's slot (replacing any previous one).
pub(crate) fn install(isolate: &mut v8::Isolate, state: IsolateState) -> StateRef {
    let state = Rc::new(RefCell::new(state));
    isolate.set_slot(state.clone());
    state
}

/// The isolate's state. Panics only if an isolate was created without going through
/// [`install`], which every constructor in this crate does.
pub(crate) fn get(isolate: &v8::Isolate) -> StateRef {
    isolate
        .get_slot::<StateRef>()
        .expect("coldstart isolate state is installed at creation")
        .clone()
}
