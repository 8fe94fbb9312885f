//! The hygiene report: what a snapshot froze that behaves differently after restore (clock and
//! RNG reads at load, `process.env` reads, pending timers and I/O, unsettled promises). The probe
//! that counts them is `hygiene.js`, installed by the builder around the bundle's evaluation.

use serde::{Deserialize, Serialize};

/// What the snapshot froze that will behave differently after restore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HygieneReport {
    /// `Date.now()` calls while the bundle was evaluated.
    pub date_now_reads: u64,
    /// `new Date()` / `Date()` without arguments while the bundle was evaluated.
    pub new_date_reads: u64,
    /// `Math.random()` calls while the bundle was evaluated.
    pub math_random_calls: u64,
    /// `performance.now()`, `performance.mark()` and `performance.measure()` calls while the
    /// bundle was evaluated (each reads the clock).
    #[serde(default)]
    pub performance_reads: u64,
    /// `process.env` names read while the bundle was evaluated (values are empty at build time).
    pub env_reads: Vec<String>,
    /// Timers still armed when the snapshot was taken (dropped).
    pub pending_timers: usize,
    /// Host I/O still in flight when the snapshot was taken (dropped).
    pub pending_io: usize,
    /// Promises created during the build that had not settled.
    pub unsettled_promises: usize,
}

impl HygieneReport {
    /// One line per finding; empty when the snapshot froze nothing time- or host-dependent.
    pub fn findings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let clock_reads = self.date_now_reads + self.new_date_reads + self.performance_reads;
        if clock_reads > 0 {
            out.push(format!(
                "the bundle read the clock {clock_reads} time(s) at load (Date.now: {}, new Date(): {}, performance: {}); those values are frozen into the snapshot",
                self.date_now_reads,
                self.new_date_reads,
                self.performance_reads
            ));
        }
        if self.math_random_calls > 0 {
            out.push(format!(
                "the bundle called Math.random() {} time(s) at load; values derived from them are identical in every restored isolate",
                self.math_random_calls
            ));
        }
        if !self.env_reads.is_empty() {
            out.push(format!(
                "the bundle read process.env at load ({}); process.env is empty at build time and only set after restore",
                self.env_reads.join(", ")
            ));
        }
        if self.pending_timers > 0 {
            out.push(format!(
                "{} timer(s) were pending at snapshot time; they were dropped and will never fire",
                self.pending_timers
            ));
        }
        if self.pending_io > 0 {
            out.push(format!(
                "{} host I/O operation(s) were in flight at snapshot time; they were dropped",
                self.pending_io
            ));
        }
        if self.unsettled_promises > 0 {
            out.push(format!(
                "{} promise(s) were unsettled at snapshot time; anything awaiting them waits forever",
                self.unsettled_promises
            ));
        }
        out
    }
}
