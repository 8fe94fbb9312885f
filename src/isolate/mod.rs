//! One V8 isolate with its context, created fresh or from a snapshot, plus the machinery every
//! call needs: exception conversion, the heap-limit guard, and per-isolate runtime state.
//!
//! [`Runtime`] is single-threaded (V8 isolates are `!Send`); [`crate::ssr::SsrIsolate`] builds the
//! contract surface on top of it.

use std::time::{Duration, Instant};

use crate::bundle::Bundle;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::external_source::SourceStrings;
use crate::runtime::{state, IsolateState, RuntimeOptions};
use crate::snapshot::Snapshot;

pub(crate) mod bootstrap;
pub(crate) mod event_loop;
pub(crate) mod exception;
pub(crate) mod modules;
mod plain;
pub mod setup;

use bootstrap::{apply_env, bootstrap, evaluate_script, restore_context, Internals};
use exception::string_result;
use setup::IsolateCell;

pub use plain::PlainIsolate;
pub(crate) use setup::{lifecycle_exclusive, lifecycle_shared, promise_reject_callback, Guard};
pub use setup::{Limits, DEFAULT_BUILD_HEAP_MB, DEFAULT_BUILD_TIMEOUT};

/// How long microtasks left queued by a call may run after it returned, before they are
/// terminated (and the isolate replaced).
pub const LEFTOVER_BUDGET: Duration = Duration::from_millis(50);

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
/// Field order is drop order: handles first, then the isolate cell (which disposes the isolate
/// before the guard and the mapped snapshot it borrows).
pub struct Runtime {
    context: v8::Global<v8::Context>,
    pub(crate) internals: Internals,
    pub(crate) state: state::StateRef,
    options: RuntimeOptions,
    isolate: IsolateCell,
    limits: Limits,
    origin: Origin,
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
    pub fn fresh(
        engine: &Engine,
        bundle: &Bundle,
        options: &RuntimeOptions,
        limits: Limits,
    ) -> Result<Self> {
        engine.ready();
        let source = bundle.source()?;
        let isolate = IsolateCell::new(limits.apply(v8::CreateParams::default()));
        let name = bundle.name();
        let modules = bundle.modules();
        Self::assemble(
            isolate,
            options,
            limits,
            Origin::Fresh,
            &format!("evaluating {name}"),
            Box::new(move |scope| {
                let context = v8::Context::new(scope, Default::default());
                let scope = &mut v8::ContextScope::new(scope, context);
                let internals = bootstrap(scope)?;
                match modules {
                    None => {
                        evaluate_script(scope, source, name)
                            .map_err(|e| e.during(format!("evaluating {name}")))?;
                    }
                    Some(files) => {
                        let handles = Internals::from_object(scope, internals)?;
                        let state = state::get(scope);
                        let deadline = event_loop::Deadline::after(limits.load_timeout());
                        // Lazy: a fresh isolate compiles only what it runs.
                        modules::evaluate_module_bundle(
                            scope,
                            internals,
                            &handles,
                            &state,
                            files,
                            deadline,
                            false,
                            &SourceStrings::default(),
                        )?;
                    }
                }
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
        snapshot.engine().ready();
        let isolate = IsolateCell::restore(snapshot, limits.apply(v8::CreateParams::default()));
        Self::assemble(
            isolate,
            options,
            limits,
            Origin::Snapshot,
            "restoring the snapshot",
            Box::new(restore_context),
        )
    }

    fn assemble(
        mut isolate: IsolateCell,
        options: &RuntimeOptions,
        limits: Limits,
        origin: Origin,
        what: &str,
        make_context: MakeContext<'_>,
    ) -> Result<Self> {
        isolate.set_microtasks_policy(v8::MicrotasksPolicy::Explicit);
        isolate.set_promise_reject_callback(promise_reject_callback);
        isolate.set_host_import_module_dynamically_callback(modules::import_dynamically);
        let state = state::install(&mut isolate, IsolateState::new(options));
        let budget = limits.load_timeout();
        let armed = isolate.guard().arm(Instant::now() + budget);
        let made = {
            let mut entered = isolate.enter();
            let scope = &mut v8::HandleScope::new(&mut *entered);
            make_context(scope).and_then(|(context, internals)| {
                let scope = &mut v8::ContextScope::new(scope, context);
                let internals = Internals::from_object(scope, internals)?;
                apply_env(scope, &internals, options)?;
                Ok((v8::Global::new(scope, context), internals))
            })
        };
        let fired = armed.fired();
        drop(armed);
        let made = match isolate
            .guard()
            .termination_error(fired, limits, what, budget)
        {
            Some(error) => Err(error),
            None => made,
        };
        let (context, internals) = match made {
            Ok(made) => made,
            Err(error) => {
                // Handles go with the isolate.
                isolate.dispose();
                return Err(error);
            }
        };
        Ok(Runtime {
            context,
            internals,
            state,
            options: options.clone(),
            isolate,
            limits,
            origin,
        })
    }

    /// Replaces the context with a fresh one deserialised from the snapshot (per-request
    /// isolation inside a warm isolate). Runtime state (timers, I/O) is reset too.
    ///
    /// # Errors
    /// The isolate was not created from a snapshot.
    pub fn reset_context(&mut self) -> Result<()> {
        let Some(snapshot) = self.isolate.snapshot() else {
            return Err(Error::Invalid(
                "a fresh context needs an isolate created from a snapshot".to_string(),
            ));
        };
        snapshot.check_unchanged()?;
        // Leftover work is terminated here if need be; the context it ran in is replaced anyway.
        let _ = self.end_call();
        *self.state.borrow_mut() = IsolateState::new(&self.options);
        let (context, internals) = {
            let mut entered = self.isolate.enter();
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
        self.isolate.snapshot()
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
        self.isolate.guard().heap_limit_hit()
    }

    /// The heap limit in MiB: the configured one, else the one V8 enforced.
    pub fn heap_limit_mb(&self) -> usize {
        self.isolate.guard().heap_limit_mb(self.limits)
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
        let mut entered = self.isolate.enter();
        let scope = &mut v8::HandleScope::new(&mut *entered);
        let context = v8::Local::new(scope, &self.context);
        let scope = &mut v8::ContextScope::new(scope, context);
        f(scope, &self.internals, &self.state)
    }

    /// Runs `f` like [`Runtime::with_scope`] with the CPU deadline armed for `budget`, and
    /// returns its result together with the error that replaces it when the guard terminated
    /// the JS (heap limit or deadline; the termination is then cancelled so the isolate can run
    /// again). `what` names the work in that error.
    pub(crate) fn with_guarded_scope<R>(
        &mut self,
        budget: Duration,
        what: &str,
        f: impl for<'s> FnOnce(
            &mut v8::ContextScope<'_, v8::HandleScope<'s>>,
            &Internals,
            &state::StateRef,
        ) -> R,
    ) -> (R, Option<Error>) {
        let armed = self.isolate.guard().arm(Instant::now() + budget);
        let result = self.with_scope(f);
        let fired = armed.fired();
        drop(armed);
        let terminated = self
            .isolate
            .guard()
            .termination_error(fired, self.limits, what, budget);
        if terminated.is_some() {
            self.cancel_termination();
        }
        (result, terminated)
    }

    /// Evaluates `source` as a classic script named `name` and returns its completion value
    /// as a string (promises are awaited through the event loop).
    ///
    /// # Errors
    /// Compile errors, exceptions, rejections; [`Error::Timeout`] past `timeout` (CPU-bound code
    /// included), [`Error::HeapLimit`].
    pub fn eval(&mut self, source: &str, name: &str, timeout: Duration) -> Result<String> {
        let deadline = event_loop::Deadline::after(timeout);
        let (result, terminated) =
            self.with_guarded_scope(timeout, name, |scope, internals, state| {
                let value = evaluate_script(scope, source, name)
                    .map_err(|e| e.during(format!("evaluating {name}")))?;
                let value = event_loop::settle(scope, internals, state, value, name, deadline)?;
                string_result(scope, value, name)
            });
        let result = match terminated {
            Some(error) => Err(error),
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
        let ((), terminated) = self.with_guarded_scope(
            LEFTOVER_BUDGET,
            "microtasks left behind by the call",
            |scope, _, _| scope.perform_microtask_checkpoint(),
        );
        let error = terminated?;
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
        // drops see a disposed isolate and do nothing.
        self.isolate.dispose();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineConfig;
    use crate::snapshot::{BuildOptions, SnapshotStore};

    /// Bytes V8 keeps in its trusted space, where bytecode lives: compiling a function adds to
    /// them, running compiled code does not.
    fn trusted_space_used(isolate: &mut v8::Isolate) -> usize {
        (0..isolate.number_of_heap_spaces())
            .filter_map(|index| isolate.get_heap_space_statistics(index))
            .find(|space| space.space_name().to_bytes() == b"trusted_space")
            .map(|space| space.space_used_size())
            .expect("V8 has a trusted space")
    }

    /// Every restore sets `process.env` and the worker `env` through two JS setters
    /// (`apply_env`). The build calls them once, so their bytecode is in the snapshot and a
    /// restore compiles nothing for them (V8's first compile in a new isolate cost ~0.2 ms of
    /// each restore). Checked in a context just restored, before anything else ran in it.
    #[test]
    fn a_restore_compiles_nothing_to_set_the_environment() {
        let engine = Engine::init(EngineConfig::default()).expect("engine");
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SnapshotStore::open(&engine, dir.path()).expect("store");
        let bundle = Bundle::new(
            "app.js",
            r#"globalThis.__rex_render_page = () => JSON.stringify({ body: "", head: "" });
               globalThis.__rex_get_server_side_props = () => "{}";
               globalThis.__rex_get_static_props = () => "{}";"#,
        );
        let snapshot = store
            .get_or_build(&bundle, &BuildOptions::default())
            .expect("build")
            .snapshot;
        let limits = Limits::default();
        let mut isolate =
            IsolateCell::restore(&snapshot, limits.apply(v8::CreateParams::default()));
        let _state = state::install(&mut isolate, IsolateState::new(&RuntimeOptions::default()));
        let (before, after) = {
            let mut entered = isolate.enter();
            let scope = &mut v8::HandleScope::new(&mut *entered);
            let (context, internals) = restore_context(scope).expect("context");
            let scope = &mut v8::ContextScope::new(scope, context);
            let internals = Internals::from_object(scope, internals).expect("internals");
            let before = trusted_space_used(scope);
            let options = RuntimeOptions {
                env: [("REGION".to_string(), "eu".to_string())].into(),
                ..RuntimeOptions::default()
            };
            apply_env(scope, &internals, &options).expect("env set");
            (before, trusted_space_used(scope))
        };
        isolate.dispose();
        assert_eq!(
            before,
            after,
            "setting the environment after a restore compiled {} bytes of code",
            after.saturating_sub(before)
        );
    }
}
