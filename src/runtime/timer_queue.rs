//! The timers of one isolate as Rust sees them: `(due, arming order, id)`, nothing else (JS keeps
//! the callbacks).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

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
