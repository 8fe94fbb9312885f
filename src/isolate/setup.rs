//! The one isolate set-up every place that runs bundle code goes through: the snapshot builder's
//! creator, fresh and restored runtimes, the pool's verification restore — and the only place
//! (with the snapshot mapping) where V8 forces `unsafe` on us.
//!
//! `Guard::install` registers the isolate with the CPU watchdog and adds the near-heap-limit
//! callback, so that a deadline or a heap limit terminates the running JS instead of hanging the
//! thread or aborting the process. [`Limits`] turns into V8 create parameters in one place.
//! `IsolateCell` owns an isolate for its whole life: created (or restored from a mapped
//! snapshot) under the lifecycle lock with its guard, kept exited at rest, entered around each
//! use, disposed under the lock before the guard and the mapping it borrows go away.

use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use super::exception::{describe_exception, exception_stack};
use crate::error::Error;
use crate::runtime::{self, state};
use crate::snapshot::Snapshot;
use crate::watchdog::{Armed, Watch};

/// Default deadline for evaluating a bundle at build time (and for a fresh, snapshot-less
/// isolate): top-level code, its microtasks and warm-up renders together.
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(30);

/// Default heap limit of a snapshot build, in MiB.
pub const DEFAULT_BUILD_HEAP_MB: usize = 1024;

/// V8 refuses heaps smaller than this; smaller limits are raised to it.
const MIN_HEAP_MB: usize = 8;

/// V8 cannot serialise a snapshot while another thread of the process sets up or tears down an
/// isolate: both touch process-wide tables (observed as a crash in
/// `JSDispatchTable::TryAllocateAndInitializeEntry` during `Isolate::New` racing a concurrent
/// `CreateBlob`). Creation, context deserialisation and disposal share this lock; serialisation
/// takes it exclusively. Uncontended except while a blob is being written.
static LIFECYCLE: RwLock<()> = RwLock::new(());

/// Held while an isolate is created, a context is deserialised, or an isolate is disposed.
pub(crate) fn lifecycle_shared() -> RwLockReadGuard<'static, ()> {
    LIFECYCLE.read().unwrap_or_else(|p| p.into_inner())
}

/// Held while a snapshot blob is serialised.
pub(crate) fn lifecycle_exclusive() -> RwLockWriteGuard<'static, ()> {
    LIFECYCLE.write().unwrap_or_else(|p| p.into_inner())
}

/// Resource limits for one isolate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Maximum V8 heap in MiB (`None` = V8's default). Reaching it terminates the running call and
    /// poisons the isolate instead of aborting the process.
    pub max_heap_mb: Option<usize>,
    /// Deadline for evaluating a bundle when an isolate is created without a snapshot, or when a
    /// snapshot is built (`None` = [`DEFAULT_BUILD_TIMEOUT`]). Restoring a snapshot runs no bundle
    /// code but is bounded by it too.
    pub load_timeout: Option<Duration>,
}

impl Limits {
    /// The load deadline in force.
    pub fn load_timeout(self) -> Duration {
        self.load_timeout.unwrap_or(DEFAULT_BUILD_TIMEOUT)
    }

    /// The heap limit in MiB as V8 will enforce it (V8 has a minimum).
    pub fn effective_heap_mb(self) -> Option<usize> {
        self.max_heap_mb.map(|mb| mb.max(MIN_HEAP_MB))
    }

    /// Applies the limits to V8 create parameters.
    pub(crate) fn apply(self, params: v8::CreateParams) -> v8::CreateParams {
        match self.effective_heap_mb() {
            Some(mb) => params.heap_limits(0, mb * 1024 * 1024),
            None => params,
        }
    }
}

/// Shared with the near-heap-limit callback.
struct HeapGuard {
    handle: v8::IsolateHandle,
    hit: AtomicBool,
    /// The heap limit V8 reported when it first approached it, in bytes.
    initial_limit: AtomicUsize,
}

extern "C" fn near_heap_limit(
    data: *mut c_void,
    current_heap_limit: usize,
    initial_heap_limit: usize,
) -> usize {
    // SAFETY: `data` is the address of the `Box<HeapGuard>` registered in `Guard::install`; the
    // box is owned by the `Guard`, which its owner drops only after disposing of the isolate.
    let guard = unsafe { &*(data as *const HeapGuard) };
    guard.hit.store(true, Ordering::SeqCst);
    let _ = guard.initial_limit.compare_exchange(
        0,
        initial_heap_limit,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    guard.handle.terminate_execution();
    // Give the terminating script room to unwind instead of letting V8 abort the process.
    current_heap_limit + 64 * 1024 * 1024
}

/// The CPU deadline and heap guard of one isolate.
///
/// Must be dropped after the isolate is disposed (it owns the heap callback's data).
pub(crate) struct Guard {
    heap: Box<HeapGuard>,
    watch: Watch,
}

impl Guard {
    /// Registers `isolate` with the watchdog and installs the near-heap-limit callback: even
    /// without an explicit limit, running out of heap terminates the running JS.
    pub fn install(isolate: &mut v8::Isolate) -> Guard {
        let heap = Box::new(HeapGuard {
            handle: isolate.thread_safe_handle(),
            hit: AtomicBool::new(false),
            initial_limit: AtomicUsize::new(0),
        });
        let data = &*heap as *const HeapGuard as *mut c_void;
        isolate.add_near_heap_limit_callback(near_heap_limit, data);
        Guard {
            watch: Watch::new(isolate.thread_safe_handle()),
            heap,
        }
    }

    /// Terminates the isolate's running JS at `deadline` unless the returned guard is dropped
    /// first.
    pub fn arm(&self, deadline: Instant) -> Armed {
        self.watch.arm(deadline)
    }

    /// True once the heap limit was reached: the isolate must be discarded.
    pub fn heap_limit_hit(&self) -> bool {
        self.heap.hit.load(Ordering::SeqCst)
    }

    /// The heap limit in MiB: the configured one, else the one V8 enforced.
    pub fn heap_limit_mb(&self, limits: Limits) -> usize {
        limits
            .effective_heap_mb()
            .unwrap_or_else(|| self.heap.initial_limit.load(Ordering::SeqCst) / (1024 * 1024))
    }

    /// The error that replaces whatever `what` returned when the guard terminated it: the heap
    /// limit first (it also terminates), then the deadline (`fired` from the armed guard).
    pub fn termination_error(
        &self,
        fired: bool,
        limits: Limits,
        what: &str,
        budget: Duration,
    ) -> Option<Error> {
        if self.heap_limit_hit() {
            Some(Error::HeapLimit {
                entry: what.to_string(),
                limit_mb: self.heap_limit_mb(limits),
            })
        } else if fired {
            Some(Error::Timeout {
                entry: what.to_string(),
                ms: budget.as_millis() as u64,
            })
        } else {
            None
        }
    }
}

/// An isolate owned for its whole life (see the module documentation). Field order is drop
/// order after [`IsolateCell::dispose`]: the guard holding the heap-callback data, then the
/// mapped snapshot the isolate was restored from.
pub(crate) struct IsolateCell {
    isolate: ManuallyDrop<v8::OwnedIsolate>,
    disposed: bool,
    guard: Guard,
    snapshot: Option<Snapshot>,
}

impl IsolateCell {
    /// A new isolate from V8's built-in snapshot, or from the blob `params` own.
    pub fn new(params: v8::CreateParams) -> Self {
        Self::create(params, None)
    }

    /// An isolate restored from `snapshot`'s mapped blob, without copying it. The cell keeps a
    /// clone of `snapshot` until the isolate is disposed.
    pub fn restore(snapshot: &Snapshot, params: v8::CreateParams) -> Self {
        // SAFETY: the startup data borrows the mapping owned by `snapshot`; the clone stored in
        // the cell keeps the mapping alive until after the isolate is disposed (`dispose` runs
        // before the fields drop), and V8 reads the blob only while the isolate lives.
        let startup = unsafe { snapshot.startup_data() };
        Self::create(params.snapshot_blob(startup), Some(snapshot.clone()))
    }

    fn create(params: v8::CreateParams, snapshot: Option<Snapshot>) -> Self {
        // A restored isolate also reads the bundle sources through the snapshot's references
        // (at the indices the builder gave them, after the host functions).
        let sources = snapshot.as_ref().map(Snapshot::external_sources);
        let params = params.external_references(runtime::external_references_with(
            sources.into_iter().flat_map(|sources| sources.references()),
        ));
        let mut isolate = {
            let _shared = lifecycle_shared();
            v8::Isolate::new(params)
        };
        let guard = Guard::install(&mut isolate);
        // `v8::Isolate::new` entered the isolate on this thread. Leave it, so that several
        // isolates can live on one thread and be dropped in any order.
        // SAFETY: balances the enter done by `v8::Isolate::new`; no scope is open.
        unsafe { isolate.exit() };
        IsolateCell {
            isolate: ManuallyDrop::new(isolate),
            disposed: false,
            guard,
            snapshot,
        }
    }

    /// Enters the isolate until the returned guard is dropped.
    pub fn enter(&mut self) -> Entered<'_> {
        // SAFETY: V8 needs Enter/Exit balanced and LIFO per thread; `Entered::drop` exits exactly
        // this isolate when the guard goes away, after every scope opened on it was closed.
        unsafe { self.isolate.enter() };
        Entered(&mut self.isolate)
    }

    /// The isolate's CPU deadline and heap guard.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The snapshot it was restored from.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// Disposes the isolate under the lifecycle lock (once; later calls do nothing). Handles
    /// still held elsewhere are released by V8 with it; their own drops then do nothing.
    pub fn dispose(&mut self) {
        if std::mem::replace(&mut self.disposed, true) {
            return;
        }
        let _shared = lifecycle_shared();
        // SAFETY: `OwnedIsolate::drop` exits the isolate and requires it to be the current one;
        // the cell keeps it exited at rest, so this enter is balanced by that exit. The isolate
        // is dropped exactly once (the `disposed` flag) and never touched afterwards.
        unsafe {
            self.isolate.enter();
            ManuallyDrop::drop(&mut self.isolate);
        }
    }
}

impl std::ops::Deref for IsolateCell {
    type Target = v8::OwnedIsolate;
    fn deref(&self) -> &Self::Target {
        assert!(!self.disposed, "isolate used after disposal");
        &self.isolate
    }
}

impl std::ops::DerefMut for IsolateCell {
    fn deref_mut(&mut self) -> &mut Self::Target {
        assert!(!self.disposed, "isolate used after disposal");
        &mut self.isolate
    }
}

impl Drop for IsolateCell {
    fn drop(&mut self) {
        self.dispose();
    }
}

/// An entered isolate; exits it on drop, also when unwinding.
pub(crate) struct Entered<'a>(&'a mut v8::OwnedIsolate);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        // SAFETY: balances the `enter` in `IsolateCell::enter`.
        unsafe { self.0.exit() };
    }
}

impl std::ops::Deref for Entered<'_> {
    type Target = v8::OwnedIsolate;
    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl std::ops::DerefMut for Entered<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0
    }
}

/// Records promise rejections without a handler in the isolate state; they are reported when
/// the call ends unless a handler is attached meanwhile.
pub(crate) extern "C" fn promise_reject_callback(message: v8::PromiseRejectMessage) {
    // SAFETY: V8 calls this with a live isolate and an entered context; `CallbackScope` is the
    // sanctioned way to open a scope on it from a raw callback.
    let scope = &mut unsafe { v8::CallbackScope::new(&message) };
    let promise = message.get_promise();
    let state = state::get(scope);
    match message.get_event() {
        v8::PromiseRejectEvent::PromiseRejectWithNoHandler => {
            let reason = message
                .get_value()
                .map(|v| exception_stack(scope, v).unwrap_or_else(|| describe_exception(scope, v)))
                .unwrap_or_else(|| "undefined".to_string());
            let promise = v8::Global::new(scope, promise);
            state
                .borrow_mut()
                .pending_rejections
                .push((promise, reason));
        }
        v8::PromiseRejectEvent::PromiseHandlerAddedAfterReject => {
            let promise = v8::Global::new(scope, promise);
            state
                .borrow_mut()
                .pending_rejections
                .retain(|(p, _)| *p != promise);
        }
        _ => {}
    }
}

/// Runs `f` in a scope over `context`, for V8's module-resolution callback — the one callback
/// that receives a context and no scope.
pub(crate) fn in_resolve_callback<'s, R>(
    context: v8::Local<'s, v8::Context>,
    f: impl FnOnce(&mut v8::HandleScope<'s>) -> R,
) -> R {
    // SAFETY: only called from the resolve callback handed to `Module::instantiate_module`,
    // which V8 calls synchronously on the thread that owns the isolate, with `context` the live
    // context being linked; the scope does not outlive that call.
    let scope = &mut unsafe { v8::CallbackScope::new(context) };
    f(scope)
}
