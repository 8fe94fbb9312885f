//! Request counters, the latency histogram, and their Prometheus text exposition together with
//! the pool's counters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::pool::IsolatePool;

const LATENCY_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Request counters and the latency histogram.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    by_status: std::sync::Mutex<BTreeMap<u16, u64>>,
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl HttpMetrics {
    /// Counts one answered request.
    pub fn observe(&self, status: u16, elapsed: Duration) {
        *self
            .by_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

/// Prometheus text exposition of the server's and pool's metrics.
pub fn render_metrics(metrics: &HttpMetrics, pool: &IsolatePool) -> String {
    let mut out = String::new();
    let stats = pool.stats();
    out.push_str("# HELP coldstart_http_requests_total HTTP requests by status code.\n# TYPE coldstart_http_requests_total counter\n");
    for (status, count) in metrics
        .by_status
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "coldstart_http_requests_total{{status=\"{status}\"}} {count}"
        );
    }
    out.push_str("# HELP coldstart_http_request_duration_seconds Request latency.\n# TYPE coldstart_http_request_duration_seconds histogram\n");
    for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "coldstart_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
            metrics.buckets[i].load(Ordering::Relaxed)
        );
    }
    let count = metrics.latency_count.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "coldstart_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
    );
    let _ = writeln!(
        out,
        "coldstart_http_request_duration_seconds_sum {}",
        metrics.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(out, "coldstart_http_request_duration_seconds_count {count}");
    let counters = [
        (
            "coldstart_isolates_created_total",
            "Isolates created from a snapshot.",
            &stats.isolates_created,
        ),
        (
            "coldstart_isolates_discarded_total",
            "Isolates discarded after a timeout, heap limit or panic.",
            &stats.isolates_discarded,
        ),
        (
            "coldstart_contexts_reset_total",
            "Fresh contexts created for per-request isolation.",
            &stats.contexts_reset,
        ),
        (
            "coldstart_worker_panics_total",
            "Jobs that panicked.",
            &stats.panics,
        ),
        (
            "coldstart_reloads_succeeded_total",
            "Successful reloads.",
            &stats.reloads_ok,
        ),
        (
            "coldstart_reloads_failed_total",
            "Failed reloads.",
            &stats.reloads_failed,
        ),
        (
            "coldstart_overloaded_total",
            "Requests refused because every queue was full.",
            &stats.overloaded,
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            value.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP coldstart_isolate_create_seconds_total Time spent creating isolates.\n# TYPE coldstart_isolate_create_seconds_total counter\ncoldstart_isolate_create_seconds_total {}",
        stats.isolate_create_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "# HELP coldstart_snapshot_generation Snapshot generation being served.\n# TYPE coldstart_snapshot_generation gauge\ncoldstart_snapshot_generation {}",
        pool.generation()
    );
    let _ = writeln!(
        out,
        "# HELP coldstart_workers_ready Workers with an isolate ready.\n# TYPE coldstart_workers_ready gauge\ncoldstart_workers_ready {}",
        pool.ready_workers()
    );
    out
}
