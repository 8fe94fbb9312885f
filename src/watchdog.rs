//! CPU deadlines for running JS: one process-wide thread calls `terminate_execution` on an isolate
//! whose call outlived its deadline.
//!
//! Arming and disarming are single atomic stores on a per-isolate slot, so the hot path of a call
//! takes no lock and wakes no thread. The watchdog thread scans the slots every [`TICK`] while
//! calls are running (and for a short grace period after), then parks until the next arming.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Scan period while calls are armed: the precision of deadlines.
const TICK: Duration = Duration::from_millis(2);
/// How long the thread keeps scanning after the last armed call before it parks.
const GRACE: Duration = Duration::from_millis(200);

struct Slot {
    /// Deadline in microseconds since [`Watchdog::epoch`]; 0 = disarmed.
    deadline_us: AtomicU64,
    fired: AtomicBool,
    handle: v8::IsolateHandle,
}

struct Watchdog {
    epoch: Instant,
    slots: Mutex<Vec<Weak<Slot>>>,
    parked: AtomicBool,
    park_lock: Mutex<()>,
    wake: Condvar,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        std::thread::Builder::new()
            .name("coldstart-watchdog".to_string())
            .spawn(run)
            .expect("spawn watchdog thread");
        Watchdog {
            epoch: Instant::now(),
            slots: Mutex::new(Vec::new()),
            parked: AtomicBool::new(false),
            park_lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    })
}

impl Watchdog {
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Fires due slots; returns whether any slot is armed.
    fn scan(&self) -> bool {
        let now = self.now_us();
        let mut armed = false;
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|weak| {
            let Some(slot) = weak.upgrade() else {
                return false;
            };
            let deadline = slot.deadline_us.load(Ordering::SeqCst);
            if deadline != 0 {
                if now >= deadline {
                    if slot
                        .deadline_us
                        .compare_exchange(deadline, 0, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                    {
                        slot.fired.store(true, Ordering::SeqCst);
                        slot.handle.terminate_execution();
                    }
                } else {
                    armed = true;
                }
            }
            true
        });
        armed
    }
}

fn run() {
    let dog = watchdog();
    let mut last_armed = Instant::now();
    loop {
        if dog.scan() {
            last_armed = Instant::now();
        }
        if last_armed.elapsed() < GRACE {
            std::thread::sleep(TICK);
            continue;
        }
        // Park: announce it, re-check (an arming may have raced the announcement), then wait.
        let guard = dog.park_lock.lock().unwrap_or_else(|p| p.into_inner());
        dog.parked.store(true, Ordering::SeqCst);
        if dog.scan() {
            dog.parked.store(false, Ordering::SeqCst);
            last_armed = Instant::now();
            continue;
        }
        let _guard = dog.wake.wait(guard).unwrap_or_else(|p| p.into_inner());
        dog.parked.store(false, Ordering::SeqCst);
        last_armed = Instant::now();
    }
}

/// One isolate's registration with the watchdog.
pub(crate) struct Watch {
    slot: Arc<Slot>,
}

impl Watch {
    /// Registers the isolate behind `handle`.
    pub fn new(handle: v8::IsolateHandle) -> Self {
        let dog = watchdog();
        let slot = Arc::new(Slot {
            deadline_us: AtomicU64::new(0),
            fired: AtomicBool::new(false),
            handle,
        });
        dog.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::downgrade(&slot));
        Watch { slot }
    }

    /// Terminates the isolate's running JS at `deadline` unless the guard is dropped first.
    pub fn arm(&self, deadline: Instant) -> Armed {
        let dog = watchdog();
        let at = deadline.saturating_duration_since(dog.epoch).as_micros() as u64;
        self.slot.fired.store(false, Ordering::SeqCst);
        self.slot.deadline_us.store(at.max(1), Ordering::SeqCst);
        if dog.parked.load(Ordering::SeqCst) {
            let _lock = dog.park_lock.lock().unwrap_or_else(|p| p.into_inner());
            dog.wake.notify_one();
        }
        Armed {
            slot: self.slot.clone(),
        }
    }
}

/// An armed deadline; dropping it disarms. Holds its slot, so it borrows nothing.
pub(crate) struct Armed {
    slot: Arc<Slot>,
}

impl Armed {
    /// True if the watchdog terminated the isolate.
    pub fn fired(&self) -> bool {
        self.slot.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        self.slot.deadline_us.store(0, Ordering::SeqCst);
    }
}
