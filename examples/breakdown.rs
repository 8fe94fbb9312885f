//! Where the time of restoring an isolate from a snapshot goes.
use coldstart::snapshot::{BuildOptions, FunctionCode, SnapshotStore, WarmupCall};
use coldstart::*;
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let fc = std::env::args().nth(2).unwrap_or("keep".into());
    let warm = std::env::args().nth(3).unwrap_or("warm".into());
    let bundle = Bundle::from_file(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path()).unwrap();
    let props = r#"{"items":["a","b","c","d"]}"#;
    let options = BuildOptions {
        function_code: if fc == "keep" {
            FunctionCode::Keep
        } else {
            FunctionCode::Clear
        },
        warmup: if warm == "warm" {
            vec![WarmupCall {
                route: "/".into(),
                props_json: props.into(),
            }]
        } else {
            vec![]
        },
        ..Default::default()
    };
    let snap = store.get_or_build(&bundle, &options).unwrap().snapshot;
    println!("blob {} KiB", snap.header().payload_len / 1024);
    let mut ready = vec![];
    let mut first = vec![];
    let mut plain = vec![];
    for _ in 0..30 {
        let t = Instant::now();
        let mut p = PlainIsolate::new();
        p.eval("0");
        plain.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(p);
        let t = Instant::now();
        let mut iso = SsrIsolate::from_snapshot(&snap, SsrConfig::default()).unwrap();
        ready.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        iso.render_page("/", props).unwrap();
        first.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let m = |v: &Vec<f64>| coldstart::measure::Stats::from_samples(v).median_ms;
    println!(
        "plain {:.3} ready {:.3} first {:.3}",
        m(&plain),
        m(&ready),
        m(&first)
    );
}
