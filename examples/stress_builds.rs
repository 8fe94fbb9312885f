//! Stress: several pools start (and build snapshots) concurrently. Guards the build lock in
//! `snapshot::builder` — without it this crashes in round 0.
use coldstart::pool::{BuildMode, IsolatePool, PoolConfig};
fn main() {
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let src = "globalThis.__rex_render_page=()=>JSON.stringify({body:'a'});globalThis.__rex_get_server_side_props=()=>'{}';globalThis.__rex_get_static_props=()=>'{}';";
    for round in 0..20 {
        let hs: Vec<_> = (0..n)
            .map(|_| {
                std::thread::spawn(move || {
                    let dir = tempfile::tempdir().unwrap();
                    let b = dir.path().join("app.js");
                    std::fs::write(&b, src).unwrap();
                    let cfg = PoolConfig {
                        build_mode: BuildMode::InProcess,
                        store_dir: dir.path().join("s"),
                        ..PoolConfig::default()
                    };
                    let pool = IsolatePool::start(&v8(), &b, cfg).unwrap();
                    let r = pool
                        .execute_blocking(|iso| iso.render_page("/", "{}").map(|p| p.body))
                        .unwrap();
                    assert_eq!(r, "a");
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        eprintln!("round {round} ok");
    }
}

/// The process's engine (default flags).
fn v8() -> coldstart::Engine {
    coldstart::Engine::init(coldstart::EngineConfig::default()).expect("engine")
}
