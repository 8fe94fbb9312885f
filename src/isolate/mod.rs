//! One V8 isolate with its context, created fresh or from a snapshot, plus the machinery every
//! call needs: exception conversion, the heap-limit guard, and per-isolate runtime state.
//!
//! [`Runtime`] is single-threaded (V8 isolates are `!Send`); [`crate::ssr::SsrIsolate`] builds the
//! contract surface on top of it.

use std::mem::ManuallyDrop;
use std::time::{Duration, Instant};

use crate::bundle::Bundle;
use crate::engine::Engine;
use crate::error::{Error, JsError, Result};
use crate::event_loop;
use crate::polyfills::POLYFILLS;
use crate::runtime::{self, state, IsolateState, RuntimeOptions};
use crate::snapshot::Snapshot;

pub mod setup;

pub(crate) use setup::{lifecycle_exclusive, lifecycle_shared, Guard};
pub use setup::{Limits, DEFAULT_BUILD_HEAP_MB, DEFAULT_BUILD_TIMEOUT};

/// Creates an isolate under the lifecycle lock.
fn new_isolate(params: v8::CreateParams) -> v8::OwnedIsolate {
    let _shared = lifecycle_shared();
    v8::Isolate::new(params)
}

/// How long microtasks left queued by a call may run after it returned, before they are
/// terminated (and the isolate replaced).
pub const LEFTOVER_BUDGET: Duration = Duration::from_millis(50);

/// Index of the `internals` object in the snapshot's context data.
pub(crate) const INTERNALS_CONTEXT_DATA_INDEX: usize = 0;

/// V8 heap statistics of one isolate, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapUsage {
    /// Live objects.
    pub used: usize,
    /// Committed heap.
    pub total: usize,
    /// Committed heap that is resident in memory.
    pub physical: usize,
    /// Memory V8 allocated with malloc.
    pub malloced: usize,
}

/// JS functions the polyfills put on `internals`, called by the Rust side.
pub(crate) struct Internals {
    pub fire_timer: v8::Global<v8::Function>,
    pub clear_timers: v8::Global<v8::Function>,
    pub op_complete: v8::Global<v8::Function>,
    pub set_env: v8::Global<v8::Function>,
}

impl Internals {
    pub(crate) fn from_object(
        scope: &mut v8::HandleScope,
        internals: v8::Local<v8::Object>,
    ) -> Result<Self> {
        let mut get = |name: &str| -> Result<v8::Global<v8::Function>> {
            let key = v8::String::new(scope, name)
                .ok_or_else(|| Error::Invalid("string alloc".into()))?;
            let value = internals.get(scope, key.into());
            let function = value
                .and_then(|v| v8::Local::<v8::Function>::try_from(v).ok())
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "the built-in polyfills do not define internals.{name}"
                    ))
                })?;
            Ok(v8::Global::new(scope, function))
        };
        Ok(Internals {
            fire_timer: get("fire_timer")?,
            clear_timers: get("clear_timers")?,
            op_complete: get("op_complete")?,
            set_env: get("set_env")?,
        })
    }
}

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

/// How a [`Runtime`] was made (for reports and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Polyfills and bundle evaluated at creation (the `rex_v8` way).
    Fresh,
    /// Deserialised from a snapshot.
    Snapshot,
}

/// An isolate + context ready to call into, with its runtime state.
///
/// Field order is drop order: handles first, then the isolate, then what the isolate borrows
/// (the guard registered as heap-callback data, and the mapped snapshot its startup data points
/// into).
pub struct Runtime {
    context: v8::Global<v8::Context>,
    pub(crate) internals: Internals,
    pub(crate) state: state::StateRef,
    options: RuntimeOptions,
    isolate: ManuallyDrop<v8::OwnedIsolate>,
    guard: Guard,
    limits: Limits,
    origin: Origin,
    snapshot: Option<Snapshot>,
}

/// What [`Runtime::assemble`] makes the context with.
type MakeContext<'f> = Box<
    dyn for<'s> FnOnce(
            &mut v8::HandleScope<'s, ()>,
        ) -> Result<(v8::Local<'s, v8::Context>, v8::Local<'s, v8::Object>)>
        + 'f,
>;

impl Runtime {
    /// Creates an isolate without a snapshot: evaluates the polyfills and `bundle` in a new
    /// context (the baseline coldstart replaces), under the load deadline and heap limit of
    /// `limits`.
    ///
    /// # Errors
    /// A polyfill or the bundle throws or fails to compile; [`Error::Timeout`] or
    /// [`Error::HeapLimit`] when evaluating the bundle exceeds `limits`.
    pub fn fresh(bundle: &Bundle, options: &RuntimeOptions, limits: Limits) -> Result<Self> {
        Engine::get();
        let source = bundle.source()?;
        let params = limits
            .apply(v8::CreateParams::default().external_references(runtime::external_references()));
        let isolate = new_isolate(params);
        let name = bundle.name();
        Self::assemble(
            isolate,
            options,
            limits,
            Origin::Fresh,
            None,
            &format!("evaluating {name}"),
            Box::new(move |scope| {
                let context = v8::Context::new(scope, Default::default());
                let scope = &mut v8::ContextScope::new(scope, context);
                let internals = bootstrap(scope, context)?;
                evaluate_script(scope, source, name)
                    .map_err(|e| e.during(format!("evaluating {name}")))?;
                scope.perform_microtask_checkpoint();
                Ok((context, internals))
            }),
        )
    }

    /// Creates an isolate by deserialising `snapshot` (zero copy: V8 reads the mapped file).
    ///
    /// # Errors
    /// [`Error::Snapshot`] when the file changed on disk since it was verified or its heap does
    /// not fit `limits` (both checked before V8 reads a byte); the snapshot lacks the internals
    /// handle (not a coldstart snapshot of this engine).
    pub fn from_snapshot(
        snapshot: &Snapshot,
        options: &RuntimeOptions,
        limits: Limits,
    ) -> Result<Self> {
        snapshot.check_restorable(limits)?;
        Engine::get();
        // SAFETY: the startup data borrows the mapping held by `snapshot`; a clone of it is stored
        // in the returned `Runtime`, whose field order drops the isolate before the snapshot.
        let startup = unsafe { snapshot.startup_data() };
        let params = limits.apply(
            v8::CreateParams::default()
                .snapshot_blob(startup)
                .external_references(runtime::external_references()),
        );
        let isolate = new_isolate(params);
        Self::assemble(
            isolate,
            options,
            limits,
            Origin::Snapshot,
            Some(snapshot.clone()),
            "restoring the snapshot",
            Box::new(restore_context),
        )
    }

    fn assemble(
        mut isolate: v8::OwnedIsolate,
        options: &RuntimeOptions,
        limits: Limits,
        origin: Origin,
        snapshot: Option<Snapshot>,
        what: &str,
        make_context: MakeContext<'_>,
    ) -> Result<Self> {
        isolate.set_microtasks_policy(v8::MicrotasksPolicy::Explicit);
        isolate.set_promise_reject_callback(promise_reject_callback);
        let state = state::install(&mut isolate, IsolateState::new(options));
        let guard = Guard::install(&mut isolate);
        let budget = limits.load_timeout();
        let made = {
            let armed = guard.arm(Instant::now() + budget);
            let scope = &mut v8::HandleScope::new(&mut isolate);
            let made = make_context(scope).and_then(|(context, internals)| {
                let scope = &mut v8::ContextScope::new(scope, context);
                let internals = Internals::from_object(scope, internals)?;
                apply_env(scope, &internals, options)?;
                Ok((v8::Global::new(scope, context), internals))
            });
            let fired = armed.fired();
            drop(armed);
            match guard.termination_error(fired, limits, what, budget) {
                Some(error) => Err(error),
                None => made,
            }
        };
        let (context, internals) = match made {
            Ok(made) => made,
            Err(error) => {
                // The isolate goes before the guard that holds its heap-callback data.
                drop(state);
                drop(isolate);
                drop(guard);
                return Err(error);
            }
        };
        // `v8::Isolate::new` entered the isolate on this thread. Leave it, so that several
        // runtimes can live on one thread and be dropped in any order; `Entered` re-enters it
        // around each use and `Drop` before disposal.
        // SAFETY: balanced with the `enter` done by `v8::Isolate::new`; no scope is open.
        unsafe { isolate.exit() };
        Ok(Runtime {
            context,
            internals,
            state,
            options: options.clone(),
            isolate: ManuallyDrop::new(isolate),
            guard,
            limits,
            origin,
            snapshot,
        })
    }

    /// Replaces the context with a fresh one deserialised from the snapshot (per-request
    /// isolation inside a warm isolate). Runtime state (timers, I/O) is reset too.
    ///
    /// # Errors
    /// The isolate was not created from a snapshot.
    pub fn reset_context(&mut self) -> Result<()> {
        if self.snapshot.is_none() {
            return Err(Error::Invalid(
                "a fresh context needs an isolate created from a snapshot".to_string(),
            ));
        }
        // Leftover work is terminated here if need be; the context it ran in is replaced anyway.
        let _ = self.end_call();
        if let Some(snapshot) = &self.snapshot {
            snapshot.check_unchanged()?;
        }
        *self.state.borrow_mut() = IsolateState::new(&self.options);
        let (context, internals) = {
            let mut entered = Entered::new(&mut self.isolate);
            let scope = &mut v8::HandleScope::new(&mut *entered);
            let restored = {
                let _shared = lifecycle_shared();
                restore_context(scope)
            };
            let (context, internals) = restored?;
            let scope = &mut v8::ContextScope::new(scope, context);
            let internals = Internals::from_object(scope, internals)?;
            apply_env(scope, &internals, &self.options)?;
            (v8::Global::new(scope, context), internals)
        };
        self.context = context;
        self.internals = internals;
        Ok(())
    }

    /// How this runtime was created.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The snapshot this runtime was restored from, if any.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// The resource limits it runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A handle other threads can use to terminate running JS.
    pub fn thread_safe_handle(&self) -> v8::IsolateHandle {
        self.isolate.thread_safe_handle()
    }

    /// True once the heap limit was reached: the isolate must be discarded.
    pub fn heap_limit_hit(&self) -> bool {
        self.guard.heap_limit_hit()
    }

    /// The heap limit in MiB: the configured one, else the one V8 enforced.
    pub fn heap_limit_mb(&self) -> usize {
        self.guard.heap_limit_mb(self.limits)
    }

    /// The isolate's CPU deadline and heap guard.
    pub(crate) fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Unhandled promise rejections recorded since the last call of this method.
    pub fn take_unhandled_rejections(&mut self) -> Vec<String> {
        std::mem::take(&mut self.state.borrow_mut().unhandled_rejections)
    }

    /// Heap statistics in bytes: used, committed, physically resident, and malloc'ed by V8.
    pub fn heap_usage(&mut self) -> HeapUsage {
        let stats = self.isolate.get_heap_statistics();
        HeapUsage {
            used: stats.used_heap_size(),
            total: stats.total_heap_size(),
            physical: stats.total_physical_size(),
            malloced: stats.malloced_memory(),
        }
    }

    /// Runs `f` inside a handle scope with the context entered.
    pub(crate) fn with_scope<R>(
        &mut self,
        f: impl for<'s> FnOnce(
            &mut v8::ContextScope<'_, v8::HandleScope<'s>>,
            &Internals,
            &state::StateRef,
        ) -> R,
    ) -> R {
        let mut entered = Entered::new(&mut self.isolate);
        let scope = &mut v8::HandleScope::new(&mut *entered);
        let context = v8::Local::new(scope, &self.context);
        let scope = &mut v8::ContextScope::new(scope, context);
        f(scope, &self.internals, &self.state)
    }

    /// Evaluates `source` as a classic script named `name` and returns its completion value
    /// as a string (promises are awaited through the event loop).
    ///
    /// # Errors
    /// Compile errors, exceptions, rejections; [`Error::Timeout`] past `timeout` (CPU-bound code
    /// included), [`Error::HeapLimit`].
    pub fn eval(&mut self, source: &str, name: &str, timeout: Duration) -> Result<String> {
        let deadline = event_loop::Deadline::after(timeout);
        let armed = self.guard.arm(deadline.at);
        let result = self.with_scope(|scope, internals, state| {
            let value = evaluate_script(scope, source, name)
                .map_err(|e| e.during(format!("evaluating {name}")))?;
            let value = event_loop::settle(scope, internals, state, value, name, deadline)?;
            string_result(scope, value, name)
        });
        let fired = armed.fired();
        drop(armed);
        let result = match self
            .guard
            .termination_error(fired, self.limits, name, timeout)
        {
            Some(error) => {
                self.cancel_termination();
                Err(error)
            }
            None => result,
        };
        if let Some(reason) = self.end_call() {
            tracing::warn!("after evaluating {name}: {reason}");
        }
        result
    }

    /// Cleans up after a call: microtasks the call left queued run now, within
    /// [`LEFTOVER_BUDGET`] (an endless chain is terminated, never charged to the next call); no
    /// timer or I/O of this call can reach the next one; promise rejections that never got a
    /// handler are reported (tracing, and [`Runtime::take_unhandled_rejections`]).
    ///
    /// Returns why the isolate must be discarded, when the leftover work had to be terminated.
    #[must_use]
    pub(crate) fn end_call(&mut self) -> Option<String> {
        let poisoned = self.drain_leftover_microtasks();
        let had_work = {
            let mut state = self.state.borrow_mut();
            let had_work = !state.timers.is_empty() || state.ops.pending() > 0;
            state.timers.clear_all();
            state.ops.cancel_all();
            let unhandled: Vec<String> = state
                .pending_rejections
                .drain(..)
                .map(|(_, reason)| reason)
                .collect();
            for reason in &unhandled {
                tracing::error!(target: "coldstart::js", "unhandled promise rejection: {reason}");
            }
            state.unhandled_rejections.extend(unhandled);
            had_work
        };
        if had_work {
            self.with_scope(|scope, internals, _| {
                let tc = &mut v8::TryCatch::new(scope);
                let clear = v8::Local::new(tc, &internals.clear_timers);
                let undefined = v8::undefined(tc).into();
                clear.call(tc, undefined, &[]);
            });
        }
        poisoned
    }

    /// Runs the microtasks a call left queued, terminating them past [`LEFTOVER_BUDGET`].
    fn drain_leftover_microtasks(&mut self) -> Option<String> {
        let armed = self.guard.arm(Instant::now() + LEFTOVER_BUDGET);
        self.with_scope(|scope, _, _| scope.perform_microtask_checkpoint());
        let fired = armed.fired();
        drop(armed);
        let error = self.guard.termination_error(
            fired,
            self.limits,
            "microtasks left behind by the call",
            LEFTOVER_BUDGET,
        )?;
        self.cancel_termination();
        tracing::warn!(target: "coldstart::js", "{error}; the isolate is replaced");
        Some(format!("{error}"))
    }

    /// Forgets that execution was terminated so the isolate can run again.
    pub(crate) fn cancel_termination(&mut self) {
        self.isolate.cancel_terminate_execution();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Handles still held (context, internals) are released by V8 with the isolate; their own
        // drops see a disposed isolate and do nothing. The heap guard and the snapshot mapping are
        // fields dropped after this, once the isolate is gone.
        dispose(&mut self.isolate);
    }
}

/// A bare isolate from V8's built-in snapshot: no polyfills, no bundle. The floor of isolate
/// creation cost, and the read-only-heap anchor the snapshot builder keeps alive.
pub struct PlainIsolate {
    isolate: ManuallyDrop<v8::OwnedIsolate>,
}

impl PlainIsolate {
    /// Creates the isolate (V8's built-in snapshot, default parameters).
    pub fn new() -> Self {
        Engine::get();
        let mut isolate = new_isolate(v8::CreateParams::default());
        // SAFETY: balances the enter done by `v8::Isolate::new`; no scope is open (see `Runtime`).
        unsafe { isolate.exit() };
        PlainIsolate {
            isolate: ManuallyDrop::new(isolate),
        }
    }

    /// Creates a context in it (from the built-in snapshot) and evaluates `source`, returning the
    /// result as a string — the whole "empty isolate, ready to run" path.
    pub fn eval(&mut self, source: &str) -> Option<String> {
        let mut entered = Entered::new(&mut self.isolate);
        let scope = &mut v8::HandleScope::new(&mut *entered);
        let context = v8::Context::new(scope, Default::default());
        let scope = &mut v8::ContextScope::new(scope, context);
        let value = evaluate_script(scope, source, "plain.js").ok()?;
        Some(value.to_rust_string_lossy(scope))
    }
}

impl Default for PlainIsolate {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PlainIsolate {
    fn drop(&mut self) {
        dispose(&mut self.isolate);
    }
}

/// Disposes an isolate kept exited at rest, under the lifecycle lock.
fn dispose(isolate: &mut ManuallyDrop<v8::OwnedIsolate>) {
    let _shared = lifecycle_shared();
    // SAFETY: `OwnedIsolate::drop` exits the isolate and requires it to be the current one; the
    // owner keeps it exited at rest, so this enter is balanced by that exit. The isolate is
    // dropped exactly once, here, from its owner's `Drop`, and never touched afterwards.
    unsafe {
        isolate.enter();
        ManuallyDrop::drop(isolate);
    }
}

/// Enters an isolate for a scope and exits it on drop, also when unwinding.
struct Entered<'a>(&'a mut v8::OwnedIsolate);

impl<'a> Entered<'a> {
    fn new(isolate: &'a mut v8::OwnedIsolate) -> Self {
        // SAFETY: V8 needs Enter/Exit balanced and LIFO per thread; `Drop` exits exactly this
        // isolate when the guard goes away, after every scope opened on it was closed.
        unsafe { isolate.enter() };
        Entered(isolate)
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        // SAFETY: balances the `enter` in `Entered::new`.
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

/// Deserialises the default context and fetches the `internals` handle stored in it.
fn restore_context<'s>(
    scope: &mut v8::HandleScope<'s, ()>,
) -> Result<(v8::Local<'s, v8::Context>, v8::Local<'s, v8::Object>)> {
    let context = v8::Context::new(scope, Default::default());
    let scope = &mut v8::ContextScope::new(scope, context);
    let internals = scope
        .get_context_data_from_snapshot_once::<v8::Object>(INTERNALS_CONTEXT_DATA_INDEX)
        .map_err(|e| Error::Invalid(format!("snapshot has no internals handle: {e:?}")))?;
    Ok((context, internals))
}

/// Sets `process.env` to exactly the embedder-allowed variables.
fn apply_env(
    scope: &mut v8::HandleScope,
    internals: &Internals,
    options: &RuntimeOptions,
) -> Result<()> {
    let env = v8::Object::new(scope);
    for (key, value) in &options.env {
        let (Some(k), Some(v)) = (v8::String::new(scope, key), v8::String::new(scope, value))
        else {
            continue;
        };
        env.set(scope, k.into(), v.into());
    }
    let tc = &mut v8::TryCatch::new(scope);
    let set_env = v8::Local::new(tc, &internals.set_env);
    let undefined = v8::undefined(tc).into();
    if set_env.call(tc, undefined, &[env.into()]).is_none() {
        return Err(js_error_from(tc, "setting process.env").into());
    }
    Ok(())
}

/// Installs the host functions and evaluates every polyfill in `context`, returning `internals`.
pub(crate) fn bootstrap<'s>(
    scope: &mut v8::ContextScope<'_, v8::HandleScope<'s>>,
    _context: v8::Local<'s, v8::Context>,
) -> Result<v8::Local<'s, v8::Object>> {
    let host = runtime::create_host_object(scope)
        .ok_or_else(|| Error::Invalid("cannot create the host object".to_string()))?;
    let internals = v8::Object::new(scope);
    for polyfill in POLYFILLS {
        // Same line as the file's first line, so positions in stack traces are the file's own.
        let wrapped = format!("(function (host, internals) {{{}\n}})", polyfill.source);
        let function = evaluate_script(scope, &wrapped, polyfill.name)
            .map_err(|e| e.during(format!("loading polyfill {}", polyfill.name)))?;
        let function = v8::Local::<v8::Function>::try_from(function).map_err(|_| {
            Error::Invalid(format!(
                "polyfill {} did not compile to a function",
                polyfill.name
            ))
        })?;
        let tc = &mut v8::TryCatch::new(scope);
        let undefined = v8::undefined(tc).into();
        if function
            .call(tc, undefined, &[host.into(), internals.into()])
            .is_none()
        {
            return Err(js_error_from(tc, &format!("running polyfill {}", polyfill.name)).into());
        }
    }
    Ok(internals)
}

/// The string a call returns: a string as is; any other value through `String(value)`, refused
/// when that is impossible (a `Symbol`) or throws (a throwing `toString`).
pub(crate) fn string_result(
    scope: &mut v8::HandleScope,
    value: v8::Local<v8::Value>,
    entry: &str,
) -> Result<String> {
    if value.is_string() {
        return Ok(value.to_rust_string_lossy(scope));
    }
    if value.is_symbol() {
        return Err(Error::BadResult {
            entry: entry.to_string(),
            detail: "returned a Symbol, which has no string form".to_string(),
        });
    }
    let tc = &mut v8::TryCatch::new(scope);
    match value.to_string(tc) {
        Some(text) => Ok(text.to_rust_string_lossy(tc)),
        None if tc.is_execution_terminating() => Err(Error::Timeout {
            entry: entry.to_string(),
            ms: 0,
        }),
        None => {
            let error = js_error_from(tc, &format!("converting the result of {entry} to a string"));
            Err(error.into())
        }
    }
}

/// Compiles and runs a classic script named `name`.
// A cold path: the error is converted into the boxed `Error::Js` by every caller.
#[allow(clippy::result_large_err)]
pub(crate) fn evaluate_script<'s>(
    scope: &mut v8::HandleScope<'s>,
    source: &str,
    name: &str,
) -> std::result::Result<v8::Local<'s, v8::Value>, JsError> {
    let tc = &mut v8::TryCatch::new(scope);
    let (Some(code), Some(resource)) = (v8::String::new(tc, source), v8::String::new(tc, name))
    else {
        return Err(JsError {
            message: format!("script `{name}` is too large for a V8 string"),
            ..JsError::default()
        });
    };
    let origin = v8::ScriptOrigin::new(
        tc,
        resource.into(),
        0,
        0,
        false,
        0,
        None,
        false,
        false,
        false,
        None,
    );
    let Some(script) = v8::Script::compile(tc, code, Some(&origin)) else {
        return Err(js_error_from(tc, ""));
    };
    match script.run(tc) {
        Some(value) => Ok(tc.escape_or(value)),
        None => Err(js_error_from(tc, "")),
    }
}

trait EscapeOr<'s> {
    fn escape_or(&mut self, value: v8::Local<'_, v8::Value>) -> v8::Local<'s, v8::Value>;
}

impl<'s, 'p> EscapeOr<'s> for v8::TryCatch<'p, v8::HandleScope<'s>> {
    fn escape_or(&mut self, value: v8::Local<'_, v8::Value>) -> v8::Local<'s, v8::Value> {
        // A TryCatch opens no handle scope of its own, so locals created inside it already
        // belong to the enclosing `HandleScope<'s>`; re-anchor the handle there.
        v8::Local::new(self, value)
    }
}

/// Builds a [`JsError`] from the exception caught by `tc`.
pub(crate) fn js_error_from(tc: &mut v8::TryCatch<v8::HandleScope>, during: &str) -> JsError {
    let mut error = JsError {
        during: during.to_string(),
        ..JsError::default()
    };
    if tc.has_terminated() || tc.is_execution_terminating() {
        error.message = "execution terminated".to_string();
        return error;
    }
    if let Some(message) = tc.message() {
        error.file = Some(
            message
                .get_script_resource_name(tc)
                .map(|n| n.to_rust_string_lossy(tc))
                .unwrap_or_default(),
        )
        .filter(|f| !f.is_empty() && f != "undefined");
        error.line = message.get_line_number(tc);
        error.column = Some(message.get_start_column() + 1);
        error.message = message.get(tc).to_rust_string_lossy(tc);
    }
    if let Some(exception) = tc.exception() {
        error.message = describe_exception(tc, exception);
        error.stack = exception_stack(tc, exception);
        // The top stack frame is where the error was thrown; the message's position can be a
        // later re-throw (e.g. esbuild's lazy module wrappers).
        if let Some((file, line, column)) = error.stack.as_deref().and_then(top_frame) {
            error.file = Some(file);
            error.line = Some(line);
            error.column = Some(column);
        }
    }
    if error.message.is_empty() {
        error.message = "unknown JavaScript error".to_string();
    }
    error
}

/// `String(exception)` without letting a throwing `toString` escape.
pub(crate) fn describe_exception(
    scope: &mut v8::HandleScope,
    exception: v8::Local<v8::Value>,
) -> String {
    let tc = &mut v8::TryCatch::new(scope);
    exception
        .to_string(tc)
        .map(|s| s.to_rust_string_lossy(tc))
        .unwrap_or_else(|| "<exception whose toString throws>".to_string())
}

/// `exception.stack`, when it is a string.
pub(crate) fn exception_stack(
    scope: &mut v8::HandleScope,
    exception: v8::Local<v8::Value>,
) -> Option<String> {
    let object = v8::Local::<v8::Object>::try_from(exception).ok()?;
    let tc = &mut v8::TryCatch::new(scope);
    let key = v8::String::new(tc, "stack")?;
    let stack = object.get(tc, key.into())?;
    stack.is_string().then(|| stack.to_rust_string_lossy(tc))
}

/// Converts a rejection reason (or thrown value) into a [`JsError`].
pub(crate) fn js_error_from_value(
    scope: &mut v8::HandleScope,
    value: v8::Local<v8::Value>,
    during: &str,
) -> JsError {
    let mut error = JsError {
        during: during.to_string(),
        message: describe_exception(scope, value),
        stack: exception_stack(scope, value),
        ..JsError::default()
    };
    if let Some((file, line, column)) = error.stack.as_deref().and_then(top_frame) {
        error.file = Some(file);
        error.line = Some(line);
        error.column = Some(column);
    }
    error
}

/// `(file, line, column)` of the first frame of a V8 stack (`    at fn (file:line:col)`).
fn top_frame(stack: &str) -> Option<(String, usize, usize)> {
    let frame = stack.lines().find(|l| l.trim_start().starts_with("at "))?;
    let location = frame
        .rsplit_once('(')
        .map(|(_, rest)| rest.trim_end_matches(')'))
        .unwrap_or_else(|| frame.trim_start().trim_start_matches("at "));
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    Some((file.to_string(), line, column))
}

impl JsError {
    /// Sets what was running when the error happened.
    pub fn during(mut self, during: impl Into<String>) -> Self {
        self.during = during.into();
        self
    }
}
