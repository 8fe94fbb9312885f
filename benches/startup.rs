//! Criterion benches for the library paths behind `coldstart bench`: isolate creation from V8's
//! built-in snapshot (the floor), fresh evaluation, restore from the mapped snapshot, first render,
//! and the loader alone (map + verify + isolate) on the large TypeScript bundle.

use std::path::PathBuf;

use coldstart::snapshot::{BuildOptions, SnapshotStore, WarmupCall};
use coldstart::{Bundle, PlainIsolate, Snapshot, SsrConfig, SsrIsolate};
use criterion::{criterion_group, criterion_main, Criterion};

fn fixture(name: &str) -> Bundle {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/dist")
        .join(name);
    Bundle::from_file(path).expect("fixture bundle (run fixtures/build.mjs)")
}

fn snapshot_of(bundle: &Bundle, route: &str, props: &str, dir: &std::path::Path) -> Snapshot {
    let store = SnapshotStore::open(&v8(), dir).unwrap();
    let options = BuildOptions {
        warmup: vec![WarmupCall {
            route: route.into(),
            props_json: props.into(),
        }],
        ..BuildOptions::default()
    };
    store.get_or_build(bundle, &options).unwrap().snapshot
}

fn react(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = fixture("react-app.js");
    let props = r#"{"items":["a","b","c"]}"#;
    let snapshot = snapshot_of(&bundle, "/", props, dir.path());
    let mut group = c.benchmark_group("react");
    group.sample_size(30);
    group.bench_function("empty_isolate", |b| {
        b.iter(|| {
            let mut plain = PlainIsolate::new(&v8());
            plain.eval("0")
        })
    });
    group.bench_function("fresh", |b| {
        b.iter(|| SsrIsolate::fresh(&v8(), &bundle, SsrConfig::default()).unwrap())
    });
    group.bench_function("snapshot", |b| {
        b.iter(|| SsrIsolate::from_snapshot(&snapshot, SsrConfig::default()).unwrap())
    });
    group.bench_function("snapshot_first_render", |b| {
        b.iter(|| {
            let mut iso = SsrIsolate::from_snapshot(&snapshot, SsrConfig::default()).unwrap();
            iso.render_page("/", props).unwrap()
        })
    });
    let mut warm = SsrIsolate::from_snapshot(&snapshot, SsrConfig::default()).unwrap();
    group.bench_function("steady_render", |b| {
        b.iter(|| warm.render_page("/", props).unwrap())
    });
    group.bench_function("context_per_request", |b| {
        b.iter(|| warm.reset_context().unwrap())
    });
    group.finish();
}

fn large_loader(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = fixture("typescript-app.js");
    let props = r#"{"source":"const x: number = 1; export default x;"}"#;
    let snapshot = snapshot_of(&bundle, "/", props, dir.path());
    let path = snapshot.path().to_path_buf();
    let mut group = c.benchmark_group("typescript");
    group.sample_size(20);
    group.bench_function("map_verify", |b| {
        b.iter(|| Snapshot::open(&v8(), &path).unwrap())
    });
    group.bench_function("map_verify_isolate", |b| {
        b.iter(|| {
            let snap = Snapshot::open(&v8(), &path).unwrap();
            SsrIsolate::from_snapshot(&snap, SsrConfig::default()).unwrap()
        })
    });
    group.bench_function("map_verify_isolate_first_result", |b| {
        b.iter(|| {
            let snap = Snapshot::open(&v8(), &path).unwrap();
            let mut iso = SsrIsolate::from_snapshot(&snap, SsrConfig::default()).unwrap();
            iso.render_page("/", props).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, react, large_loader);
criterion_main!(benches);

/// The process's engine (default flags).
fn v8() -> coldstart::Engine {
    coldstart::Engine::init(coldstart::EngineConfig::default()).expect("engine")
}
