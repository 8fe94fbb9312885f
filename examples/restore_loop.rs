//! Restores isolates from one snapshot in a loop, for profilers (`perf record`): `restore_loop BUNDLE N`.
use coldstart::snapshot::{BuildOptions, SnapshotStore, WarmupCall};
use coldstart::*;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let bundle = Bundle::from_file(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(&v8(), dir.path()).unwrap();
    let options = BuildOptions {
        warmup: vec![WarmupCall {
            route: "/".into(),
            props_json: "{}".into(),
        }],
        ..Default::default()
    };
    let snap = store.get_or_build(&bundle, &options).unwrap().snapshot;
    let t = std::time::Instant::now();
    for _ in 0..n {
        drop(SsrIsolate::from_snapshot(&snap, SsrConfig::default()).unwrap());
    }
    eprintln!(
        "{:.3} ms/isolate",
        t.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
}

/// The process's engine (default flags).
fn v8() -> coldstart::Engine {
    coldstart::Engine::init(coldstart::EngineConfig::default()).expect("engine")
}
