//! CPU deadlines for running JS: one process-wide thread that calls `terminate_execution` on an
//! isolate whose call outlived its deadline.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

struct Entry {
    handle: v8::IsolateHandle,
    fired: Arc<AtomicBool>,
}

#[derive(Default)]
struct Queue {
    /// (deadline, ticket) → isolate to terminate.
    armed: BTreeMap<(Instant, u64), Entry>,
}

struct Watchdog {
    queue: Mutex<Queue>,
    wake: Condvar,
    next_ticket: AtomicU64,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        std::thread::Builder::new()
            .name("coldstart-watchdog".to_string())
            .spawn(run)
            .expect("spawn watchdog thread");
        Watchdog {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            next_ticket: AtomicU64::new(0),
        }
    })
}

fn run() {
    let dog = watchdog();
    let mut queue = dog.queue.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let now = Instant::now();
        while let Some((&(deadline, ticket), _)) = queue.armed.iter().next() {
            if deadline > now {
                break;
            }
            if let Some(entry) = queue.armed.remove(&(deadline, ticket)) {
                entry.fired.store(true, Ordering::SeqCst);
                entry.handle.terminate_execution();
            }
        }
        queue = match queue.armed.keys().next() {
            Some(&(deadline, _)) => {
                let wait = deadline.saturating_duration_since(Instant::now());
                dog.wake
                    .wait_timeout(queue, wait)
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
            None => dog.wake.wait(queue).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

/// An armed deadline; dropping it disarms.
pub(crate) struct Armed {
    key: (Instant, u64),
    fired: Arc<AtomicBool>,
}

impl Armed {
    /// True if the watchdog terminated the isolate.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        let dog = watchdog();
        dog.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .armed
            .remove(&self.key);
    }
}

/// Terminates `handle`'s running JS at `deadline` unless the returned guard is dropped first.
pub(crate) fn arm(handle: v8::IsolateHandle, deadline: Instant) -> Armed {
    let dog = watchdog();
    let ticket = dog.next_ticket.fetch_add(1, Ordering::Relaxed);
    let fired = Arc::new(AtomicBool::new(false));
    let key = (deadline, ticket);
    {
        let mut queue = dog.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.armed.insert(
            key,
            Entry {
                handle,
                fired: fired.clone(),
            },
        );
    }
    dog.wake.notify_one();
    Armed { key, fired }
}
