//! The per-call event loop.
//!
//! Microtasks run only at explicit checkpoints (`MicrotasksPolicy::Explicit`). One turn: a
//! microtask checkpoint; unhandled rejections reported; host I/O completions delivered; due timers
//! fired in (due time, arming order), each followed by a checkpoint — the order Node uses. When
//! nothing is ready the loop blocks on the I/O channel (or sleeps) until the next timer, the next
//! completion or the deadline. The loop ends when the caller's condition holds, when nothing is
//! pending any more ("idle"), or at the deadline.

use std::time::{Duration, Instant};

use super::bootstrap::Internals;
use super::exception::{describe_exception, js_error_from, js_error_from_value};
use crate::error::{Error, Result};
use crate::runtime::fetch::completion_to_js;
use crate::runtime::state::StateRef;

/// When a call must be finished, and the budget that implies (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    /// The instant after which the call fails.
    pub at: Instant,
    /// The budget it was computed from.
    pub budget: Duration,
}

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Deadline {
            at: Instant::now() + budget,
            budget,
        }
    }

    /// The timeout error for `entry`.
    pub fn error(&self, entry: &str) -> Error {
        Error::Timeout {
            entry: entry.to_string(),
            ms: self.budget.as_millis() as u64,
        }
    }
}

/// Why the loop stopped without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The caller's condition holds.
    Done,
    /// No timer or I/O is pending: nothing can change any more.
    Idle,
}

/// Runs the loop until `done` returns true, nothing is pending, or `deadline` passes.
pub(crate) fn run<'s>(
    scope: &mut v8::HandleScope<'s>,
    internals: &Internals,
    state: &StateRef,
    entry: &str,
    deadline: Deadline,
    mut done: impl FnMut(&mut v8::HandleScope<'s>) -> Result<bool>,
) -> Result<Exit> {
    loop {
        checkpoint(scope, state, entry, deadline)?;
        if done(scope)? {
            return Ok(Exit::Done);
        }
        let mut progressed = false;
        // I/O completions that are already there.
        loop {
            let completion = state.borrow_mut().ops.next_completion(None);
            let Some(completion) = completion else { break };
            deliver(scope, internals, completion, entry, deadline)?;
            checkpoint(scope, state, entry, deadline)?;
            progressed = true;
        }
        // Due timers, one callback at a time, with a checkpoint after each.
        let now = Instant::now();
        loop {
            let due = state.borrow_mut().timers.pop_due(now);
            let Some(id) = due else { break };
            fire_timer(scope, internals, id, entry, deadline)?;
            checkpoint(scope, state, entry, deadline)?;
            progressed = true;
            if done(scope)? {
                return Ok(Exit::Done);
            }
        }
        if progressed {
            continue;
        }
        let (next_due, pending_ops) = {
            let mut state = state.borrow_mut();
            (state.timers.next_due(), state.ops.pending())
        };
        if next_due.is_none() && pending_ops == 0 {
            return Ok(Exit::Idle);
        }
        let now = Instant::now();
        if now >= deadline.at {
            return Err(deadline.error(entry));
        }
        let wake = next_due.map_or(deadline.at, |due| due.min(deadline.at));
        let wait = wake.saturating_duration_since(now);
        if pending_ops > 0 {
            let completion = state.borrow_mut().ops.next_completion(Some(wait));
            if let Some(completion) = completion {
                deliver(scope, internals, completion, entry, deadline)?;
            }
        } else {
            std::thread::sleep(wait);
        }
    }
}

/// Awaits `value` if it is a promise (running the loop), returning the fulfilled value.
pub(crate) fn settle<'s>(
    scope: &mut v8::HandleScope<'s>,
    internals: &Internals,
    state: &StateRef,
    value: v8::Local<'s, v8::Value>,
    entry: &str,
    deadline: Deadline,
) -> Result<v8::Local<'s, v8::Value>> {
    let Ok(promise) = v8::Local::<v8::Promise>::try_from(value) else {
        return Ok(value);
    };
    let exit = run(scope, internals, state, entry, deadline, |_| {
        Ok(promise.state() != v8::PromiseState::Pending)
    })?;
    match promise.state() {
        v8::PromiseState::Fulfilled => Ok(promise.result(scope)),
        v8::PromiseState::Rejected => {
            // This rejection is ours to report as the call's error, not as unhandled.
            let global = v8::Global::new(scope, promise);
            state
                .borrow_mut()
                .pending_rejections
                .retain(|(p, _)| *p != global);
            let reason = promise.result(scope);
            Err(js_error_from_value(scope, reason, entry).into())
        }
        v8::PromiseState::Pending => {
            debug_assert_eq!(exit, Exit::Idle);
            Err(Error::Stalled {
                entry: entry.to_string(),
            })
        }
    }
}

/// Runs the microtask queue. (Rejections still without a handler are reported when the call
/// ends — a handler may be attached later in the same call.)
fn checkpoint(
    scope: &mut v8::HandleScope,
    _state: &StateRef,
    entry: &str,
    deadline: Deadline,
) -> Result<()> {
    scope.perform_microtask_checkpoint();
    if scope.is_execution_terminating() {
        return Err(deadline.error(entry));
    }
    Ok(())
}

fn fire_timer(
    scope: &mut v8::HandleScope,
    internals: &Internals,
    id: u32,
    entry: &str,
    deadline: Deadline,
) -> Result<()> {
    let tc = &mut v8::TryCatch::new(scope);
    let fire = v8::Local::new(tc, &internals.fire_timer);
    let undefined = v8::undefined(tc).into();
    let id_value = v8::Integer::new_from_unsigned(tc, id).into();
    if fire.call(tc, undefined, &[id_value]).is_none() {
        if tc.has_terminated() || tc.is_execution_terminating() {
            return Err(deadline.error(entry));
        }
        // Like an uncaught exception in a Node timer, but it must not take the worker down.
        let error = js_error_from(tc, "timer callback");
        tracing::error!(target: "coldstart::js", entry, "uncaught exception in a timer: {error}");
    }
    Ok(())
}

fn deliver(
    scope: &mut v8::HandleScope,
    internals: &Internals,
    completion: crate::runtime::ops::OpCompletion,
    entry: &str,
    deadline: Deadline,
) -> Result<()> {
    let tc = &mut v8::TryCatch::new(scope);
    let complete = internals.function(tc, "op_complete")?;
    let undefined = v8::undefined(tc).into();
    let id = v8::Integer::new_from_unsigned(tc, completion.id).into();
    let (error, value) = completion_to_js(tc, completion.result);
    if complete.call(tc, undefined, &[id, error, value]).is_none() {
        if tc.has_terminated() || tc.is_execution_terminating() {
            return Err(deadline.error(entry));
        }
        let exception = tc.exception();
        let text = exception
            .map(|e| describe_exception(tc, e))
            .unwrap_or_default();
        tracing::error!(target: "coldstart::js", entry, "exception while completing host I/O: {text}");
    }
    Ok(())
}
