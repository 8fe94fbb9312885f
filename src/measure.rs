//! Timing helpers shared by `coldstart demo`, `coldstart bench` and the criterion benches.

use std::time::Instant;

use serde::Serialize;

/// Summary of a set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Fastest sample.
    pub min_ms: f64,
    /// Median sample.
    pub median_ms: f64,
    /// 95th percentile (nearest rank).
    pub p95_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Number of samples.
    pub runs: usize,
}

impl Stats {
    /// Summarises `samples` (milliseconds). Empty input gives zeros.
    pub fn from_samples(samples: &[f64]) -> Stats {
        if samples.is_empty() {
            return Stats {
                min_ms: 0.0,
                median_ms: 0.0,
                p95_ms: 0.0,
                mean_ms: 0.0,
                runs: 0,
            };
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n) - 1;
        Stats {
            min_ms: sorted[0],
            median_ms: median,
            p95_ms: sorted[rank],
            mean_ms: sorted.iter().sum::<f64>() / n as f64,
            runs: n,
        }
    }
}

/// Runs `f` and returns its result with the elapsed milliseconds.
pub fn time_ms<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed().as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_known_samples() {
        let s = Stats::from_samples(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(s.min_ms, 1.0);
        assert_eq!(s.median_ms, 3.0);
        assert_eq!(s.p95_ms, 5.0);
        assert_eq!(s.mean_ms, 3.0);
        let even = Stats::from_samples(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(even.median_ms, 2.5);
        assert_eq!(Stats::from_samples(&[]).runs, 0);
    }
}
