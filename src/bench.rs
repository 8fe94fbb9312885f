//! Cold-start measurements shared by `coldstart bench` and the criterion benches.
//!
//! Every figure is measured in one process run, so ratios between them are meaningful on a noisy
//! machine even when absolute numbers drift.

use std::time::Instant;

use serde::Serialize;

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::isolate::PlainIsolate;
use crate::measure::{time_ms, Stats};
use crate::snapshot::{MapOptions, Snapshot};
use crate::ssr::{SsrConfig, SsrIsolate};
use crate::worker::{AppKind, WorkerRequest};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchPlan {
    /// Route rendered by the first/steady render measurements.
    pub route: String,
    /// Props JSON for that route.
    pub props: String,
    /// Samples per measurement.
    pub runs: usize,
    /// How long the steady-state render loop runs.
    pub steady_seconds: f64,
    /// How many live isolates the memory measurement creates.
    pub rss_isolates: usize,
}

impl Default for BenchPlan {
    fn default() -> Self {
        BenchPlan {
            route: "/".to_string(),
            props: "{}".to_string(),
            runs: 30,
            steady_seconds: 1.0,
            rss_isolates: 10,
        }
    }
}

/// All measurements of one run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// New isolate + context from V8's built-in snapshot: the floor.
    pub empty_isolate: Stats,
    /// New isolate, polyfills + bundle evaluated (the `rex_v8` way).
    pub fresh: Stats,
    /// New isolate + context from the mapped snapshot, entry points resolved: ready to call.
    pub snapshot: Stats,
    /// `Snapshot::open` (map + header + blake3 of the payload) followed by an isolate.
    pub load_verify_isolate: Stats,
    /// First call (Rex render, worker `GET`, or `render(url)`) after `fresh`.
    pub first_render_fresh: Stats,
    /// First call after `snapshot`.
    pub first_render_snapshot: Stats,
    /// Fresh context from the snapshot inside a warm isolate (per-request isolation).
    pub context_per_request: Stats,
    /// Renders per second on one warm isolate.
    pub steady_renders_per_s: f64,
    /// fresh / snapshot (medians).
    pub speedup: f64,
    /// snapshot / empty_isolate (medians).
    pub snapshot_over_floor: f64,
    /// (fresh + first render) / (snapshot + first render), medians.
    pub ready_to_html_speedup: f64,
    /// Payload size of the snapshot file (the V8 blob, then the bundle's source section).
    pub snapshot_bytes: u64,
    /// The V8 blob: what a restore deserialises.
    pub v8_blob_bytes: u64,
    /// Bundle size.
    pub bundle_bytes: u64,
    /// Resident memory added per live isolate restored from the snapshot.
    pub rss_per_isolate_bytes: f64,
    /// `rss_per_isolate_bytes / v8_blob_bytes`.
    pub rss_per_isolate_over_blob: f64,
    /// Resident V8 heap + V8 malloc per live isolate (what deserialisation materialises).
    pub heap_per_isolate_bytes: f64,
    /// RSS growth per isolate not explained by its heap: a copied blob would show up here as
    /// roughly `v8_blob_bytes`; the mapped blob is shared by every isolate and adds nothing.
    pub rss_beyond_heap_per_isolate_bytes: f64,
    /// Raw samples (ms) per measurement, for plots.
    #[serde(skip)]
    pub samples: Vec<(&'static str, Vec<f64>)>,
}

/// Resident set size of this process, in bytes (Linux `/proc/self/statm`).
pub fn rss_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// One call of what the bundle serves on the plan's route: a Rex page render, a module worker's
/// `GET route`, or a render module's `render(route)`.
pub fn serve_route(iso: &mut SsrIsolate, plan: &BenchPlan) -> Result<()> {
    match iso.app_kind() {
        AppKind::Rex => iso.render_page(&plan.route, &plan.props).map(drop),
        AppKind::Render => iso.render_url(&plan.route).map(drop),
        AppKind::Fetch => {
            let request = WorkerRequest {
                method: "GET".to_string(),
                url: format!("http://localhost{}", plan.route),
                headers: vec![("host".to_string(), "localhost".to_string())],
                body: None,
            };
            let response = iso.fetch_collect(&request)?;
            if response.status >= 500 {
                return Err(Error::Invalid(format!(
                    "GET {} answered {}",
                    plan.route, response.status
                )));
            }
            Ok(())
        }
    }
}

/// Times `create` (isolate ready) and then the first render of the plan's route on the isolate.
fn ready_then_render(
    create: impl FnOnce() -> Result<SsrIsolate>,
    plan: &BenchPlan,
) -> Result<(SsrIsolate, f64, f64)> {
    let (iso, ready_ms) = time_ms(create);
    let mut iso = iso?;
    let (page, first_ms) = time_ms(|| serve_route(&mut iso, plan));
    page?;
    Ok((iso, ready_ms, first_ms))
}

/// Runs every measurement. `tick` is called once per sample (progress bars).
///
/// # Errors
/// The bundle fails to evaluate or render.
pub fn run(
    bundle: &Bundle,
    snapshot: &Snapshot,
    plan: &BenchPlan,
    mut tick: impl FnMut(),
) -> Result<BenchReport> {
    let config = SsrConfig::default();
    let engine = *snapshot.engine();
    let runs = plan.runs.max(1);
    let mut empty = Vec::with_capacity(runs);
    let mut fresh = Vec::with_capacity(runs);
    let mut snap = Vec::with_capacity(runs);
    let mut load = Vec::with_capacity(runs);
    let mut first_fresh = Vec::with_capacity(runs);
    let mut first_snap = Vec::with_capacity(runs);
    let mut context = Vec::with_capacity(runs);

    // One untimed round of each, so lazy process-wide initialisation is not billed to the first
    // sample of whichever measurement happens to run first.
    drop(PlainIsolate::new(&engine));
    drop(SsrIsolate::from_snapshot(snapshot, config.clone())?);

    for _ in 0..runs {
        let (mut plain, ms) = time_ms(|| {
            let mut plain = PlainIsolate::new(&engine);
            plain.eval("0");
            plain
        });
        empty.push(ms);
        plain.eval("1");
        drop(plain);

        let (iso, ready_ms, first_ms) =
            ready_then_render(|| SsrIsolate::fresh(&engine, bundle, config.clone()), plan)?;
        fresh.push(ready_ms);
        first_fresh.push(first_ms);
        drop(iso);

        let (mut iso, ready_ms, first_ms) =
            ready_then_render(|| SsrIsolate::from_snapshot(snapshot, config.clone()), plan)?;
        snap.push(ready_ms);
        first_snap.push(first_ms);
        let (reset, ms) = time_ms(|| iso.reset_context());
        reset?;
        context.push(ms);
        drop(iso);

        let (iso, ms) = time_ms(|| -> Result<SsrIsolate> {
            let opened = Snapshot::open_with(&engine, snapshot.path(), MapOptions::default())?;
            SsrIsolate::from_snapshot(&opened, config.clone())
        });
        iso?;
        load.push(ms);
        tick();
    }

    // Steady state: one warm isolate, renders for `steady_seconds`.
    let mut iso = SsrIsolate::from_snapshot(snapshot, config.clone())?;
    for _ in 0..20 {
        serve_route(&mut iso, plan)?;
    }
    let started = Instant::now();
    let mut renders = 0u64;
    while started.elapsed().as_secs_f64() < plan.steady_seconds {
        serve_route(&mut iso, plan)?;
        renders += 1;
    }
    let steady = renders as f64 / started.elapsed().as_secs_f64();
    drop(iso);

    // Memory: RSS growth per live isolate vs the blob size.
    let before =
        rss_bytes().ok_or_else(|| Error::Invalid("cannot read /proc/self/statm".into()))?;
    let mut live = Vec::new();
    for _ in 0..plan.rss_isolates.max(1) {
        let mut iso = SsrIsolate::from_snapshot(snapshot, config.clone())?;
        serve_route(&mut iso, plan)?;
        live.push(iso);
    }
    let after = rss_bytes().unwrap_or(before);
    let per_isolate = after.saturating_sub(before) as f64 / live.len() as f64;
    let heap: usize = live
        .iter_mut()
        .map(|iso| {
            let usage = iso.runtime().heap_usage();
            usage.physical + usage.malloced
        })
        .sum();
    let heap_per_isolate = heap as f64 / live.len() as f64;
    drop(live);

    let (empty_s, fresh_s, snap_s) = (
        Stats::from_samples(&empty),
        Stats::from_samples(&fresh),
        Stats::from_samples(&snap),
    );
    let (ff, fs) = (
        Stats::from_samples(&first_fresh),
        Stats::from_samples(&first_snap),
    );
    let snapshot_bytes = snapshot.header().payload_len;
    let v8_blob_bytes = match snapshot.header().metadata.startup_len {
        0 => snapshot_bytes,
        startup_len => startup_len,
    };
    Ok(BenchReport {
        speedup: fresh_s.median_ms / snap_s.median_ms.max(1e-9),
        snapshot_over_floor: snap_s.median_ms / empty_s.median_ms.max(1e-9),
        ready_to_html_speedup: (fresh_s.median_ms + ff.median_ms)
            / (snap_s.median_ms + fs.median_ms).max(1e-9),
        empty_isolate: empty_s,
        fresh: fresh_s,
        snapshot: snap_s,
        load_verify_isolate: Stats::from_samples(&load),
        first_render_fresh: ff,
        first_render_snapshot: fs,
        context_per_request: Stats::from_samples(&context),
        steady_renders_per_s: steady,
        snapshot_bytes,
        v8_blob_bytes,
        bundle_bytes: bundle.len() as u64,
        rss_per_isolate_bytes: per_isolate,
        rss_per_isolate_over_blob: per_isolate / v8_blob_bytes.max(1) as f64,
        heap_per_isolate_bytes: heap_per_isolate,
        rss_beyond_heap_per_isolate_bytes: per_isolate - heap_per_isolate,
        samples: vec![
            ("empty_isolate", empty),
            ("snapshot", snap),
            ("load_verify_isolate", load),
            ("context_per_request", context),
            ("first_render_snapshot", first_snap),
            ("first_render_fresh", first_fresh),
            ("fresh", fresh),
        ],
    })
}
