//! `coldstart bench BUNDLE [--route R --props JSON] [--runs N] [--store DIR] [--json]
//! [--plot FILE.svg] [--compare-node]`

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use coldstart::bench::{self, BenchPlan, BenchReport};
use coldstart::measure::{time_ms, Stats};
use coldstart::snapshot::WarmupCall;
use coldstart::BundleFormat;
use coldstart::Error;

use super::BuildFlags;

const NODE_RUNNER: &str = include_str!("node_runner.mjs");
/// The contract's async markers `node_runner.mjs` imports (written beside it).
const REX_MARKERS: &str = include_str!("rex_markers.mjs");

/// Arguments of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The server bundle.
    pub bundle: PathBuf,
    /// Route rendered.
    #[arg(long, default_value = "/")]
    pub route: String,
    /// Props JSON.
    #[arg(long, default_value = "{}")]
    pub props: String,
    /// Samples per measurement.
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    #[command(flatten)]
    pub build: BuildFlags,
    /// Do not warm the measured route up before taking the snapshot.
    #[arg(long)]
    pub no_warmup: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG of the distributions.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Also time whole processes: `node` vs `coldstart call` (exec → output), and Node's steady
    /// renders per second.
    #[arg(long)]
    pub compare_node: bool,
}

fn progress(total: u64) -> impl FnMut() {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("measuring");
    let started = Instant::now();
    let mut shown = false;
    move || {
        bar.inc(1);
        // Only runs longer than a second get a bar, and only on a terminal.
        if !shown && started.elapsed().as_secs_f64() > 1.0 && std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
        if bar.position() >= total {
            bar.finish_and_clear();
        }
    }
}

/// Whole-process timings: `node runner` vs `coldstart call`.
struct ProcessComparison {
    node: Stats,
    coldstart: Stats,
    node_steady_renders_per_s: f64,
    outputs_match: bool,
}

fn time_process(command: &mut Command) -> Result<(f64, String), Error> {
    let (output, ms) = time_ms(|| command.output());
    let output = output
        .map_err(|e| Error::Invalid(format!("cannot run {:?}: {e}", command.get_program())))?;
    if !output.status.success() {
        return Err(Error::Invalid(format!(
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok((ms, String::from_utf8_lossy(&output.stdout).into_owned()))
}

fn compare_node(
    args: &BenchArgs,
    runs: usize,
    tick: &mut impl FnMut(),
) -> Result<ProcessComparison, Error> {
    let dir = tempfile::tempdir()
        .map_err(|e| Error::io("cannot create temp dir", std::env::temp_dir(), e))?;
    let runner = dir.path().join("node_runner.mjs");
    for (name, text) in [
        ("node_runner.mjs", NODE_RUNNER),
        ("rex_markers.mjs", REX_MARKERS),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).map_err(|e| Error::io("cannot write node runner", &path, e))?;
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::Invalid(format!("cannot locate coldstart: {e}")))?;
    let bundle = args
        .bundle
        .canonicalize()
        .map_err(|e| Error::io("cannot resolve bundle", &args.bundle, e))?;
    let store = args
        .build
        .store
        .canonicalize()
        .unwrap_or_else(|_| args.build.store.clone());
    let node = |extra: &[&str]| {
        let mut c = Command::new("node");
        c.arg(&runner).args(extra);
        c
    };
    let coldstart = || {
        let mut c = Command::new(&exe);
        c.arg("call")
            .arg(&bundle)
            .arg("__rex_render_page")
            .arg(&args.route)
            .arg(&args.props)
            .arg("--store")
            .arg(&store)
            .env("COLDSTART_LOG", "error");
        for w in warmups(args) {
            c.arg("--warmup")
                .arg(format!("{}={}", w.route, w.props_json));
        }
        c.arg("--function-code")
            .arg(args.build.function_code.as_str());
        c
    };
    let bundle_str = bundle.to_string_lossy().into_owned();
    // Untimed: warm the page cache and make sure the snapshot is in the store.
    let (_, node_out) = time_process(&mut node(&[
        &bundle_str,
        "__rex_render_page",
        &args.route,
        &args.props,
    ]))?;
    let (_, cold_out) = time_process(&mut coldstart())?;
    let (mut n, mut c) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        n.push(
            time_process(&mut node(&[
                &bundle_str,
                "__rex_render_page",
                &args.route,
                &args.props,
            ]))?
            .0,
        );
        c.push(time_process(&mut coldstart())?.0);
        tick();
    }
    let (_, steady) = time_process(&mut node(&[
        "--steady",
        "1",
        &bundle_str,
        &args.route,
        &args.props,
    ]))?;
    Ok(ProcessComparison {
        node: Stats::from_samples(&n),
        coldstart: Stats::from_samples(&c),
        node_steady_renders_per_s: steady.trim().parse().unwrap_or(0.0),
        outputs_match: node_out == cold_out,
    })
}

fn warmups(args: &BenchArgs) -> Vec<WarmupCall> {
    if !args.build.warmup.is_empty() || args.no_warmup {
        return args.build.options().map(|o| o.warmup).unwrap_or_default();
    }
    vec![WarmupCall {
        route: args.route.clone(),
        props_json: args.props.clone(),
    }]
}

pub fn run(engine: &coldstart::Engine, args: BenchArgs) -> Result<(), Error> {
    serde_json::from_str::<serde_json::Value>(&args.props)
        .map_err(|e| Error::Invalid(format!("--props is not valid JSON: {e}")))?;
    let bundle = args.build.bundle(&args.bundle)?;
    if args.compare_node && bundle.format() == BundleFormat::Module {
        return Err(Error::Invalid(
            "--compare-node runs Rex bundles in Node; for module workers, \
             scripts/bench-workers.mjs compares with workerd and Node over HTTP"
                .to_string(),
        ));
    }
    let store = args.build.open_store(engine)?;
    let mut options = args.build.options()?;
    options.warmup = warmups(&args);
    let loaded = store.get_or_build(&bundle, &options)?;
    let plan = BenchPlan {
        route: args.route.clone(),
        props: args.props.clone(),
        runs: args.runs.max(1),
        ..BenchPlan::default()
    };
    let total = plan.runs as u64 * if args.compare_node { 2 } else { 1 };
    let mut tick = progress(total);
    let report = bench::run(&bundle, &loaded.snapshot, &plan, &mut tick)?;
    let comparison = if args.compare_node {
        Some(compare_node(&args, plan.runs, &mut tick)?)
    } else {
        None
    };
    if let Some(path) = &args.plot {
        plot(path, &report, comparison.as_ref())?;
    }
    if args.json {
        let mut out = serde_json::to_value(&report).map_err(|e| Error::Invalid(e.to_string()))?;
        out["function_code"] = json!(options.function_code.as_str());
        out["warmup"] = json!(options.warmup.iter().map(|w| &w.route).collect::<Vec<_>>());
        if let Some(c) = &comparison {
            out["process_node"] = json!(c.node);
            out["process_coldstart"] = json!(c.coldstart);
            out["process_speedup_vs_node"] =
                json!(c.node.median_ms / c.coldstart.median_ms.max(1e-9));
            out["node_steady_renders_per_s"] = json!(c.node_steady_renders_per_s);
            out["outputs_match_node"] = json!(c.outputs_match);
        }
        out!("{out}");
    } else {
        print_table(&args, &report, &options, comparison.as_ref());
    }
    Ok(())
}

fn print_table(
    args: &BenchArgs,
    r: &BenchReport,
    options: &coldstart::snapshot::BuildOptions,
    c: Option<&ProcessComparison>,
) {
    out!(
        "{} ({} KiB bundle, {} KiB snapshot: {} KiB V8 blob + sources, function code {}, warm-up {:?}), {} runs",
        args.bundle.display(),
        r.bundle_bytes / 1024,
        r.snapshot_bytes / 1024,
        r.v8_blob_bytes / 1024,
        options.function_code.as_str(),
        options
            .warmup
            .iter()
            .map(|w| w.route.as_str())
            .collect::<Vec<_>>(),
        r.empty_isolate.runs
    );
    out!("{:<28} {:>9} {:>9} {:>9}", "ms", "min", "median", "p95");
    let row = |name: &str, s: &Stats| {
        out!(
            "{name:<28} {:>9.3} {:>9.3} {:>9.3}",
            s.min_ms,
            s.median_ms,
            s.p95_ms
        )
    };
    row("empty_isolate (floor)", &r.empty_isolate);
    row("fresh (eval bundle)", &r.fresh);
    row("snapshot (isolate ready)", &r.snapshot);
    row("load+verify+isolate", &r.load_verify_isolate);
    row("first_render_fresh", &r.first_render_fresh);
    row("first_render_snapshot", &r.first_render_snapshot);
    row("context_per_request", &r.context_per_request);
    if let Some(c) = c {
        row("process: node", &c.node);
        row("process: coldstart call", &c.coldstart);
    }
    out!("");
    out!("speedup fresh/snapshot            {:>8.1}x", r.speedup);
    out!(
        "snapshot / empty-isolate floor    {:>8.2}x",
        r.snapshot_over_floor
    );
    out!(
        "ready+first render speedup        {:>8.1}x",
        r.ready_to_html_speedup
    );
    out!(
        "steady renders/s (coldstart)      {:>8.0}",
        r.steady_renders_per_s
    );
    out!(
        "RSS per live isolate              {:>8.0} KiB ({:.2} x the V8 blob; V8 heap {:.0} KiB, rest {:.0} KiB)",
        r.rss_per_isolate_bytes / 1024.0,
        r.rss_per_isolate_over_blob,
        r.heap_per_isolate_bytes / 1024.0,
        r.rss_beyond_heap_per_isolate_bytes / 1024.0
    );
    if let Some(c) = c {
        out!(
            "steady renders/s (node)           {:>8.0}",
            c.node_steady_renders_per_s
        );
        out!(
            "exec → output: node / coldstart   {:>8.1}x{}",
            c.node.median_ms / c.coldstart.median_ms.max(1e-9),
            if c.outputs_match {
                ""
            } else {
                "  (outputs differ!)"
            }
        );
    }
}

fn plot(path: &Path, r: &BenchReport, c: Option<&ProcessComparison>) -> Result<(), Error> {
    use plotters::prelude::*;
    let mut series: Vec<(String, Vec<f64>)> = r
        .samples
        .iter()
        .map(|(n, s)| (n.to_string(), s.clone()))
        .collect();
    if let Some(c) = c {
        series.push((
            format!(
                "process: coldstart call (median {:.1})",
                c.coldstart.median_ms
            ),
            vec![
                c.coldstart.min_ms,
                c.coldstart.median_ms,
                c.coldstart.p95_ms,
            ],
        ));
        series.push((
            format!("process: node (median {:.1})", c.node.median_ms),
            vec![c.node.min_ms, c.node.median_ms, c.node.p95_ms],
        ));
    }
    let max = series
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .fold(0.1f64, f64::max)
        * 1.2;
    let labels: Vec<String> = series.iter().map(|(n, _)| n.clone()).collect();
    let height = 80 + 40 * series.len() as u32;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "coldstart: start-up distributions (ms, log scale)",
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(260)
            .build_cartesian_2d(
                (0.01f32..max as f32).log_scale(),
                labels.as_slice().into_segmented(),
            )?;
        chart
            .configure_mesh()
            .x_desc("milliseconds")
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let boxes: Vec<Boxplot<_, _>> = series
            .iter()
            .zip(labels.iter())
            .map(|((_, samples), label)| {
                let clamped: Vec<f32> = samples.iter().map(|v| v.max(0.011) as f32).collect();
                Boxplot::new_horizontal(SegmentValue::CenterOf(label), &Quartiles::new(&clamped))
                    .width(18)
                    .style(BLUE)
            })
            .collect();
        chart.draw_series(boxes)?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| Error::Invalid(format!("cannot write plot {}: {e}", path.display())))
}
