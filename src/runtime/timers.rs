//! Clocks, timers and microtasks: `host.now`, `host.time_origin`, `host.timer_start`,
//! `host.timer_clear`, `host.queue_microtask`.
//!
//! JS keeps the callbacks (`src/js/` timers polyfill); Rust keeps only `(due, seq, id)` and the
//! event loop (`isolate::event_loop`) calls `internals.fire_timer(id)` when a timer is due.

use std::time::Duration;

use super::{declare_host_fns, state, HostFn};

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns![
        "now" => now,
        "time_origin" => time_origin,
        "queue_microtask" => queue_microtask,
        "timer_start" => timer_start,
        "timer_clear" => timer_clear,
    ]
}

fn now(scope: &mut v8::HandleScope, _args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let ms = state::get(scope).borrow_mut().clock.now_ms();
    rv.set(v8::Number::new(scope, ms).into());
}

fn time_origin(
    scope: &mut v8::HandleScope,
    _args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let origin = state::get(scope).borrow().clock.time_origin_ms();
    rv.set(v8::Number::new(scope, origin).into());
}

fn queue_microtask(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    match v8::Local::<v8::Function>::try_from(args.get(0)) {
        Ok(callback) => scope.enqueue_microtask(callback),
        Err(_) => super::throw_type_error(scope, "queueMicrotask: callback must be a function"),
    }
}

fn timer_id(scope: &mut v8::HandleScope, value: v8::Local<v8::Value>) -> Option<u32> {
    let id = value.uint32_value(scope)?;
    (id != 0).then_some(id)
}

fn timer_start(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let Some(id) = timer_id(scope, args.get(0)) else {
        return super::throw_type_error(scope, "timer_start: id must be a positive integer");
    };
    let delay_ms = args.get(1).number_value(scope).unwrap_or(0.0);
    let delay_ms = if delay_ms.is_finite() && delay_ms > 0.0 {
        delay_ms.min(i32::MAX as f64)
    } else {
        0.0
    };
    let delay = Duration::from_secs_f64(delay_ms / 1000.0);
    state::get(scope).borrow_mut().timers.start(id, delay);
}

fn timer_clear(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    if let Some(id) = timer_id(scope, args.get(0)) {
        state::get(scope).borrow_mut().timers.clear(id);
    }
}
