//! Clocks, timers and microtasks: `host.now`, `host.time_origin`, `host.timer_start`,
//! `host.timer_clear`, `host.queue_microtask`.
//!
//! JS keeps the callbacks (`src/js/` timers polyfill); Rust keeps only `(due, seq, id)` and the
//! event loop ([`crate::isolate::event_loop`]) calls `internals.fire_timer(id)` when a timer is due.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

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

/// Armed timers, ordered by due time then arming order.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    /// id → sequence number of its live arming (stale heap entries are skipped).
    active: HashMap<u32, u64>,
    next_seq: u64,
}

impl Timers {
    /// Arms timer `id` to fire after `delay`. Re-arming an id replaces its previous arming.
    pub fn start(&mut self, id: u32, delay: Duration) {
        self.next_seq += 1;
        let due = Instant::now() + delay;
        self.active.insert(id, self.next_seq);
        self.heap.push(Reverse((due, self.next_seq, id)));
    }

    /// Disarms timer `id` (no-op if unknown).
    pub fn clear(&mut self, id: u32) {
        self.active.remove(&id);
    }

    /// Disarms every timer.
    pub fn clear_all(&mut self) {
        self.active.clear();
        self.heap.clear();
    }

    /// Number of armed timers.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// True when no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    fn drop_stale(&mut self) {
        while let Some(Reverse((_, seq, id))) = self.heap.peek() {
            if self.active.get(id) == Some(seq) {
                break;
            }
            self.heap.pop();
        }
    }

    /// When the next armed timer is due.
    pub fn next_due(&mut self) -> Option<Instant> {
        self.drop_stale();
        self.heap.peek().map(|Reverse((due, _, _))| *due)
    }

    /// Takes the next timer due at or before `now`, disarming it.
    pub fn pop_due(&mut self, now: Instant) -> Option<u32> {
        self.drop_stale();
        match self.heap.peek() {
            Some(Reverse((due, _, _))) if *due <= now => {
                let Reverse((_, _, id)) = self.heap.pop()?;
                self.active.remove(&id);
                Some(id)
            }
            _ => None,
        }
    }
}

fn now(scope: &mut v8::HandleScope, _args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let started = state::get(scope).borrow().started;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    rv.set(v8::Number::new(scope, ms).into());
}

fn time_origin(
    scope: &mut v8::HandleScope,
    _args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let origin = state::get(scope).borrow().time_origin_ms;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_in_due_then_arming_order() {
        let mut timers = Timers::default();
        timers.start(1, Duration::from_millis(20));
        timers.start(2, Duration::ZERO);
        timers.start(3, Duration::ZERO);
        timers.start(4, Duration::from_millis(5));
        timers.clear(4);
        let later = Instant::now() + Duration::from_millis(50);
        let mut fired = vec![];
        while let Some(id) = timers.pop_due(later) {
            fired.push(id);
        }
        assert_eq!(fired, vec![2, 3, 1]);
        assert!(timers.is_empty());
        assert_eq!(timers.next_due(), None);
    }

    #[test]
    fn rearming_replaces_previous_arming() {
        let mut timers = Timers::default();
        timers.start(7, Duration::from_secs(100));
        timers.start(7, Duration::ZERO);
        assert_eq!(timers.len(), 1);
        assert_eq!(
            timers.pop_due(Instant::now() + Duration::from_millis(1)),
            Some(7)
        );
        assert_eq!(
            timers.pop_due(Instant::now() + Duration::from_secs(200)),
            None
        );
    }
}
