//! The clock `performance.now()` and `performance.timeOrigin` read in one isolate.
//!
//! An isolate that serves reads the process's clocks. The snapshot creator of a process that
//! only builds ([`Seeds::Fixed`](crate::Seeds::Fixed)) reads a counted clock instead, so that a
//! `performance.now()` value bundle code keeps at load is the same in every build and the blob
//! stays byte-identical (the TypeScript compiler reads it once at load). Such a value never meant
//! anything after a restore anyway: a restored isolate's `performance.now()` counts from its own
//! origin, not the build's. Counted readings are small (a microsecond per read), where the real
//! clock would have kept however long the build process had run.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How far a [`Clock::Counted`] advances per read, in milliseconds: a loop waiting for the clock
/// to move still ends (within the build's deadline). Timers are not affected: they run on the
/// process's monotonic clock in every isolate.
pub(crate) const COUNTED_STEP_MS: f64 = 0.001;

/// What `performance` reads (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clock {
    /// The process's clocks, from when the isolate was created or restored.
    Real {
        /// The origin of `performance.now()`.
        started: Instant,
        /// `started` in milliseconds since the Unix epoch (`performance.timeOrigin`).
        time_origin_ms: f64,
    },
    /// A build's clock: `now()` is [`COUNTED_STEP_MS`] times the number of reads so far,
    /// `timeOrigin` is 0.
    Counted {
        /// Reads of `now()` so far.
        reads: u32,
    },
}

impl Clock {
    /// The process's clocks, starting now.
    pub(crate) fn real() -> Self {
        let time_origin_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0);
        Clock::Real {
            started: Instant::now(),
            time_origin_ms,
        }
    }

    /// A build's counted clock, at 0.
    pub(crate) fn counted() -> Self {
        Clock::Counted { reads: 0 }
    }

    /// `performance.now()`: milliseconds since the origin.
    pub(crate) fn now_ms(&mut self) -> f64 {
        match self {
            Clock::Real { started, .. } => started.elapsed().as_secs_f64() * 1000.0,
            Clock::Counted { reads } => {
                *reads = reads.saturating_add(1);
                f64::from(*reads) * COUNTED_STEP_MS
            }
        }
    }

    /// `performance.timeOrigin`.
    pub(crate) fn time_origin_ms(&self) -> f64 {
        match self {
            Clock::Real { time_origin_ms, .. } => *time_origin_ms,
            Clock::Counted { .. } => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_clock_advances_one_step_per_read_from_zero() {
        let mut clock = Clock::counted();
        let readings: Vec<f64> = (0..3).map(|_| clock.now_ms()).collect();
        assert_eq!(readings, [0.001, 0.002, 0.003]);
        assert_eq!(clock.time_origin_ms(), 0.0);
    }

    #[test]
    fn a_real_clock_starts_at_its_creation() {
        let mut clock = Clock::real();
        let first = clock.now_ms();
        assert!((0.0..1000.0).contains(&first), "{first}");
        assert!(clock.now_ms() >= first);
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            * 1000.0;
        assert!((epoch_ms - clock.time_origin_ms()).abs() < 60_000.0);
    }
}
