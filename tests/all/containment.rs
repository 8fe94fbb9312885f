//! Containment of bundle code at build and restore time, and of what one call leaves behind:
//! every hazard ends in a clear error (exit 1, typed error, HTTP status), never a hang, a signal
//! or an abort — and never costs the previous working snapshot.

use std::path::Path;
use std::time::{Duration, Instant};

use coldstart::pool::{BuildMode, IsolatePool, Isolation};
use coldstart::snapshot::SnapshotBuilder;
use coldstart::{Bundle, Error, Limits, Snapshot, SnapshotError, SsrConfig, SsrIsolate};

use crate::bin::*;
use crate::common::*;

/// Required globals, appended to hazardous top-level code.
const GLOBALS: &str = r#"
globalThis.__rex_render_page = function (route) { return JSON.stringify({ body: "<p>" + route + "</p>", head: "" }); };
globalThis.__rex_get_server_side_props = function () { return JSON.stringify({ props: {} }); };
globalThis.__rex_get_static_props = function () { return JSON.stringify({ props: {} }); };
"#;

fn hazard(dir: &Path, name: &str, top_level: &str) {
    std::fs::write(dir.join(name), format!("{GLOBALS}\n{top_level}\n")).unwrap();
}

fn snap_files(store: &Path) -> usize {
    std::fs::read_dir(store)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".snap"))
                .count()
        })
        .unwrap_or(0)
}

// ------------------------------------------------------------------------------------------
// Build time: deadline and heap limit.

#[test]
fn a_bundle_that_never_finishes_loading_stops_at_the_build_deadline() {
    let dir = tempfile::tempdir().unwrap();
    hazard(dir.path(), "spin.js", "for (;;) {}");
    hazard(
        dir.path(),
        "ticks.js",
        "(async () => { for (;;) await null; })();",
    );
    for bundle in ["spin.js", "ticks.js"] {
        let started = Instant::now();
        let out = run_within(
            dir.path(),
            &[
                "build",
                bundle,
                "--store",
                "store",
                "--build-timeout-ms",
                "300",
            ],
            HANG,
        );
        assert_exit(&out, 1, &format!("building the snapshot of {bundle}"));
        assert!(
            stderr(&out).contains("timed out after 300 ms"),
            "{}",
            stderr(&out)
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        // Without a snapshot, evaluating the bundle is bounded by the same deadline.
        let out = run_within(
            dir.path(),
            &[
                "call",
                bundle,
                "__rex_render_page",
                "/",
                "{}",
                "--no-snapshot",
                "--build-timeout-ms",
                "300",
            ],
            HANG,
        );
        assert_exit(&out, 1, &format!("evaluating {bundle}"));
        assert!(
            stderr(&out).contains("timed out after 300 ms"),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }
    assert_eq!(snap_files(&dir.path().join("store")), 0);
    // `serve` start-up builds in a child process: same deadline, a clean exit 1.
    let out = run_within(
        dir.path(),
        &[
            "serve",
            "spin.js",
            "--port",
            "0",
            "--store",
            "store",
            "--build-timeout-ms",
            "300",
        ],
        HANG,
    );
    assert_exit(&out, 1, "spin.js");
    assert!(
        stderr(&out).contains("timed out after 300 ms"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_heap_bomb_at_load_is_an_error_never_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    hazard(
        dir.path(),
        "bomb.js",
        "const keep = []; for (;;) keep.push(new Array(1e6).fill(1.5));",
    );
    let out = run_within(
        dir.path(),
        &[
            "build",
            "bomb.js",
            "--store",
            "store",
            "--build-max-heap-mb",
            "64",
        ],
        HANG,
    );
    assert_exit(&out, 1, "building the snapshot of bomb.js");
    assert!(
        stderr(&out).contains("heap limit of 64 MiB"),
        "{}",
        stderr(&out)
    );
    let out = run_within(
        dir.path(),
        &[
            "call",
            "bomb.js",
            "__rex_render_page",
            "/",
            "--no-snapshot",
            "--max-heap-mb",
            "64",
        ],
        HANG,
    );
    assert_exit(&out, 1, "evaluating bomb.js");
    assert!(
        stderr(&out).contains("heap limit of 64 MiB"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snap_files(&dir.path().join("store")), 0);
}

#[test]
fn the_library_builder_has_the_same_limits() {
    let spin = Bundle::new("spin.js", format!("{GLOBALS}\nfor (;;) {{}}"));
    let started = Instant::now();
    let error = within(Duration::from_secs(10), "a spinning build", move || {
        SnapshotBuilder::new(&engine(), &spin)
            .limits(Limits {
                load_timeout: Some(Duration::from_millis(200)),
                ..Limits::default()
            })
            .build()
            .unwrap_err()
    });
    assert!(
        matches!(&error, Error::Timeout { entry, ms: 200 } if entry.contains("spin.js")),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // A failed build leaves the process able to build and run the next bundle.
    let (_dir, snapshot) = snapshot_of(&small_app());
    let page = isolate(&snapshot).render_page("/ok", "{}").unwrap();
    assert!(page.body.contains("/ok"));
}

// ------------------------------------------------------------------------------------------
// Restore time: heaps that do not fit, files that change under the mapping.

/// A bundle whose heap holds about `mb` MiB of distinct strings.
fn heavy_bundle(mb: usize) -> Bundle {
    let mut source = String::from("var heavy = [];\n");
    // Flat strings of ~1 KiB each (`repeat` would share one rope between them all).
    source.push_str(&format!(
        "for (var i = 0; i < {}; i++) heavy.push(Array(200).fill(i).join(','));\n",
        mb * 1024
    ));
    source.push_str(GLOBALS);
    Bundle::new("heavy.js", source)
}

#[test]
fn a_snapshot_larger_than_the_heap_limit_is_refused_before_v8_reads_it() {
    let (_dir, snapshot) = snapshot_of(&heavy_bundle(24));
    let heap = snapshot.header().metadata.heap_bytes;
    assert!(heap > 24 * 1024 * 1024, "recorded heap {heap}");
    for limit in [8, 16, 24] {
        let config = SsrConfig {
            limits: Limits {
                max_heap_mb: Some(limit),
                ..Limits::default()
            },
            ..SsrConfig::default()
        };
        let error = SsrIsolate::from_snapshot(&snapshot, config)
            .err()
            .expect("refused");
        match error.as_snapshot() {
            Some(SnapshotError::HeapTooSmall {
                needed_mb,
                limit_mb,
                ..
            }) => {
                assert_eq!(*limit_mb, limit.max(8));
                assert!(*needed_mb > 24);
            }
            _ => panic!("expected HeapTooSmall, got {error}"),
        }
    }
    let config = SsrConfig {
        limits: Limits {
            max_heap_mb: Some(128),
            ..Limits::default()
        },
        ..SsrConfig::default()
    };
    let mut iso = SsrIsolate::from_snapshot(&snapshot, config).unwrap();
    assert!(iso
        .render_page("/fits", "{}")
        .unwrap()
        .body
        .contains("/fits"));
}

#[test]
fn the_cli_refuses_a_snapshot_bigger_than_its_heap_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("heavy.js"),
        heavy_bundle(24).source().unwrap(),
    )
    .unwrap();
    let out = run_within(
        dir.path(),
        &[
            "call",
            "heavy.js",
            "__rex_render_page",
            "/",
            "{}",
            "--store",
            "store",
            "--max-heap-mb",
            "16",
        ],
        HANG,
    );
    assert_exit(&out, 1, "more than the heap limit of 16 MiB");
    let out = run_within(
        dir.path(),
        &[
            "call",
            "heavy.js",
            "__rex_render_page",
            "/",
            "{}",
            "--store",
            "store",
            "--max-heap-mb",
            "128",
        ],
        HANG,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_reload_to_a_snapshot_that_cannot_fit_keeps_the_old_one_serving() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let mut config = pool_config(dir.path(), Isolation::PerWorker, 8, Duration::from_secs(5));
    config.ssr.limits.max_heap_mb = Some(16);
    let pool = IsolatePool::start(&engine(), &bundle, config).unwrap();
    std::fs::write(&bundle, heavy_bundle(24).source().unwrap()).unwrap();
    let error = pool.reload(&bundle).unwrap_err();
    assert!(
        matches!(
            error.as_snapshot(),
            Some(SnapshotError::HeapTooSmall { .. })
        ),
        "{error}"
    );
    assert_eq!(pool.generation(), 1);
    let page = pool.render_blocking("/still", "{}").unwrap();
    assert!(page.body.contains("v1 /still"), "{}", page.body);
}

/// Makes a store file writable again (the store writes them read-only).
fn writable(path: &Path) -> std::fs::File {
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    assert!(permissions.readonly(), "store files are written read-only");
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(path, permissions).unwrap();
    std::fs::OpenOptions::new().write(true).open(path).unwrap()
}

#[test]
fn a_mapped_file_truncated_or_rewritten_in_place_is_refused_not_a_sigbus() {
    // Truncated.
    let (_dir, snapshot) = snapshot_of(&small_app());
    let mut iso = isolate(&snapshot);
    writable(snapshot.path()).set_len(4096 + 1024).unwrap();
    let error = SsrIsolate::from_snapshot(&snapshot, SsrConfig::default())
        .err()
        .expect("refused");
    assert!(
        matches!(error.as_snapshot(), Some(SnapshotError::ChangedOnDisk { detail, .. }) if detail.contains("bytes")),
        "{error}"
    );
    // A per-request context reset reads the mapping too.
    let error = iso.reset_context().unwrap_err();
    assert!(
        matches!(
            error.as_snapshot(),
            Some(SnapshotError::ChangedOnDisk { .. })
        ),
        "{error}"
    );

    // 64 KiB overwritten in place: same length, new modification time.
    let (_dir, snapshot) = snapshot_of(&Bundle::new(
        "other.js",
        SMALL_APP.replace("renders++", "renders += 1"),
    ));
    std::thread::sleep(Duration::from_millis(20));
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = writable(snapshot.path());
        file.seek(SeekFrom::Start(8192)).unwrap();
        file.write_all(&vec![0xA5; 64 * 1024]).unwrap();
        file.sync_all().unwrap();
    }
    assert_eq!(
        std::fs::metadata(snapshot.path()).unwrap().len(),
        4096 + snapshot.header().payload_len
    );
    let error = SsrIsolate::from_snapshot(&snapshot, SsrConfig::default())
        .err()
        .expect("refused");
    assert!(
        matches!(error.as_snapshot(), Some(SnapshotError::ChangedOnDisk { detail, .. }) if detail.contains("in place")),
        "{error}"
    );
    // Opening it again verifies the payload: the damage is found, never handed to V8.
    let error = Snapshot::open(&engine(), snapshot.path()).unwrap_err();
    assert!(
        matches!(
            error.as_snapshot(),
            Some(SnapshotError::PayloadChecksum { .. })
        ),
        "{error}"
    );
}

#[test]
fn serve_survives_its_store_file_being_truncated_and_rebuilds_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), pool_app("v1")).unwrap();
    let mut server = ServeProcess::start(
        dir.path(),
        "app.js",
        &["--workers", "1", "--isolation", "per-request"],
    );
    assert!(http_get(&server.addr, "/a").unwrap().1.contains("v1 /a"));
    let store = dir.path().join("store");
    let snap = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "snap"))
        .unwrap();
    // Let the worker finish preparing the next request's context: a change *during* a restore
    // is the one race the check before each restore cannot close (README, reliability).
    std::thread::sleep(Duration::from_millis(300));
    writable(&snap).set_len(8192).unwrap();
    // Every request after the truncation is answered (200, or 503 while the snapshot is being
    // rebuilt); the pool notices the change before restoring from it, and rebuilds the file.
    let started = Instant::now();
    let mut statuses = Vec::new();
    loop {
        let (status, body) = http_get(&server.addr, "/b").expect("serve answers");
        statuses.push(status);
        assert!(status == 200 || status == 503, "{status}: {body}");
        if status == 200 {
            assert!(body.contains("v1 /b"), "{body}");
        }
        let rebuilt = std::fs::metadata(&snap)
            .map(|m| m.len() > 8192)
            .unwrap_or(false);
        if rebuilt && status == 200 && statuses.len() > 2 {
            break;
        }
        assert!(started.elapsed() < HANG, "never recovered: {statuses:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server.running(), "serve died");
    assert!(
        Snapshot::open(&engine(), &snap).is_ok(),
        "the rebuilt file verifies"
    );
}

// ------------------------------------------------------------------------------------------
// Reloads in serve: bounded, never queued, never orphaned.

#[test]
fn a_reload_that_hangs_is_bounded_and_does_not_block_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), pool_app("v1")).unwrap();
    let server = ServeProcess::start(
        dir.path(),
        "app.js",
        &["--workers", "1", "--build-timeout-ms", "1000"],
    );
    hazard(dir.path(), "app.js", "for (;;) {}");
    let addr = server.addr.clone();
    let started = Instant::now();
    let hanging = std::thread::spawn(move || http_post(&addr, "/_coldstart/reload"));
    std::thread::sleep(Duration::from_millis(300));
    // A second reload while the first runs is refused at once.
    let (status, body) = http_post(&server.addr, "/_coldstart/reload").unwrap();
    assert_eq!(status, 409, "{body}");
    // Requests keep being served by the previous snapshot meanwhile.
    assert!(http_get(&server.addr, "/x").unwrap().1.contains("v1 /x"));
    let (status, body) = hanging.join().unwrap().unwrap();
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("timed out after 1000 ms"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(15));
    // Back to a good bundle: the next reload works.
    std::fs::write(dir.path().join("app.js"), pool_app("v2")).unwrap();
    let (status, body) = http_post(&server.addr, "/_coldstart/reload").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(http_get(&server.addr, "/x").unwrap().1.contains("v2 /x"));
}

/// Starts a hanging reload in `serve` (child build with a 60 s deadline) and returns the
/// server, the bundle marker and the pid of the running child build.
fn serve_with_a_hanging_reload(dir: &Path) -> (ServeProcess, u32) {
    std::fs::write(dir.join("app.js"), pool_app("v1")).unwrap();
    let server = ServeProcess::start(
        dir,
        "app.js",
        &["--workers", "1", "--build-timeout-ms", "60000"],
    );
    hazard(dir, "app.js", "for (;;) {}");
    let addr = server.addr.clone();
    std::thread::spawn(move || http_post(&addr, "/_coldstart/reload"));
    let started = Instant::now();
    loop {
        if let Some(pid) = build_processes(dir).first() {
            return (server, *pid);
        }
        assert!(started.elapsed() < HANG, "the reload build never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_gone(pid: u32, within: Duration, what: &str) {
    let started = Instant::now();
    while alive(pid) {
        assert!(
            started.elapsed() < within,
            "{what}: build process {pid} still running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_during_a_hanging_reload_stops_serve_and_its_build() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, build) = serve_with_a_hanging_reload(dir.path());
    signal(server.pid(), "TERM");
    let status = wait_within(
        &mut server.child,
        Duration::from_secs(10),
        "serve after SIGTERM",
    );
    assert!(status.success(), "{status:?}");
    assert_gone(build, Duration::from_secs(5), "after SIGTERM of serve");
}

#[test]
fn a_killed_server_takes_its_build_child_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, build) = serve_with_a_hanging_reload(dir.path());
    signal(server.pid(), "KILL");
    let _ = server.child.wait();
    assert_gone(build, Duration::from_secs(5), "after SIGKILL of serve");
}

// ------------------------------------------------------------------------------------------
// What one call leaves behind is never charged to the next.

const LEAKY_APP: &str = r#"
globalThis.__rex_render_page = function (route) {
  if (route === "/leak") { const f = () => Promise.resolve().then(f); f(); }
  return JSON.stringify({ body: "<p>" + route + "</p>", head: "" });
};
globalThis.__rex_get_server_side_props = function (route) {
  return new Promise((resolve) => setTimeout(() => resolve(JSON.stringify({ props: { route } })), 5));
};
globalThis.__rex_get_static_props = function () { return JSON.stringify({ props: {} }); };
"#;

#[test]
fn an_endless_microtask_chain_left_by_a_call_is_not_charged_to_the_next() {
    let (_dir, snapshot) = snapshot_of(&Bundle::new("leaky.js", LEAKY_APP));
    let config = SsrConfig {
        call_timeout: Duration::from_secs(3),
        ..SsrConfig::default()
    };
    let mut iso = SsrIsolate::from_snapshot(&snapshot, config).unwrap();
    let page = iso.render_page("/leak", "{}").unwrap();
    assert_eq!(page.body, "<p>/leak</p>");
    // The chain was terminated after the call; the isolate is marked for replacement.
    let reason = iso.poisoned().expect("poisoned").to_string();
    assert!(reason.contains("microtasks left behind"), "{reason}");
    let mut fresh = SsrIsolate::from_snapshot(&snapshot, SsrConfig::default()).unwrap();
    let started = Instant::now();
    let props = fresh.get_server_side_props("/next", "{}").unwrap();
    assert!(props.contains("/next"));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn in_a_pool_the_next_async_request_after_a_leaky_one_succeeds_in_both_modes() {
    for isolation in [Isolation::PerWorker, Isolation::PerRequest] {
        let dir = tempfile::tempdir().unwrap();
        let bundle = write_bundle(dir.path(), LEAKY_APP);
        let mut config = pool_config(dir.path(), isolation, 8, Duration::from_secs(3));
        config.workers = 1;
        config.build_mode = BuildMode::InProcess;
        let pool = IsolatePool::start(&engine(), &bundle, config).unwrap();
        let page = pool.render_blocking("/leak", "{}").unwrap();
        assert_eq!(page.body, "<p>/leak</p>");
        for i in 0..3 {
            let route = format!("/after{i}");
            let props = pool.execute_blocking(move |iso| iso.get_server_side_props(&route, "{}"));
            assert!(
                props
                    .as_ref()
                    .is_ok_and(|p| p.contains(&format!("/after{i}"))),
                "{isolation:?}: {props:?}"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// Results that cannot become text, and snapshot files with bytes appended.

#[test]
fn call_fails_when_the_result_has_no_string_form() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("odd.js"),
        format!(
            "{GLOBALS}\nglobalThis.__rex_render_document = function () {{ return Symbol('odd'); }};\n\
             globalThis.__rex_list_mcp_tools = function () {{ return {{ toString() {{ throw new Error('toString refused'); }} }}; }};\n"
        ),
    )
    .unwrap();
    let out = run_within(
        dir.path(),
        &[
            "call",
            "odd.js",
            "__rex_render_document",
            "--store",
            "store",
        ],
        HANG,
    );
    assert_exit(&out, 1, "Symbol");
    assert!(stdout(&out).is_empty(), "stdout: {}", stdout(&out));
    let out = run_within(
        dir.path(),
        &["call", "odd.js", "__rex_list_mcp_tools", "--store", "store"],
        HANG,
    );
    assert_exit(&out, 1, "toString refused");
    assert!(stdout(&out).is_empty(), "stdout: {}", stdout(&out));
    assert!(!stderr(&out).contains("Uncaught"), "{}", stderr(&out));
}

#[test]
fn bytes_appended_to_a_snapshot_are_a_length_mismatch() {
    let (_dir, snapshot) = snapshot_of(&small_app());
    let path = snapshot.path().to_path_buf();
    drop(writable(&path));
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"garbage").unwrap();
    }
    let error = Snapshot::open(&engine(), &path).unwrap_err();
    match error.as_snapshot() {
        Some(SnapshotError::LengthMismatch { detail, .. }) => {
            assert!(detail.contains("7 extra"), "{detail}")
        }
        _ => panic!("expected LengthMismatch, got {error}"),
    }
    assert!(error.to_string().contains("length mismatch"), "{error}");
}

#[test]
fn process_looks_like_the_bundler_shim_not_like_node() {
    let (_dir, snapshot) = snapshot_of(&small_app());
    let mut iso = isolate(&snapshot);
    let out = iso
        .runtime()
        .eval(
            "JSON.stringify([process.browser, typeof process.versions.node, typeof require])",
            "probe.js",
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(out, r#"[true,"undefined","undefined"]"#);
}

// ------------------------------------------------------------------------------------------
// HTTP: slow clients, idle connections, results that are not HTTP.

const HTTP_APP: &str = r#"
globalThis.__rex_render_page = function (route) { return JSON.stringify({ body: "<p>" + route + "</p>", head: "" }); };
globalThis.__rex_get_server_side_props = function () { return JSON.stringify({ props: {} }); };
globalThis.__rex_get_static_props = function () { return JSON.stringify({ props: {} }); };
globalThis.__rex_call_api_handler = function (route, reqJson) {
  if (route === "/api/wrap") return JSON.stringify({ statusCode: 65736, headers: {}, body: "wrapped?" });
  if (route === "/api/number") return "42";
  if (route === "/api/echo") return JSON.stringify({ statusCode: 200, headers: {}, body: JSON.parse(reqJson).body });
  return JSON.stringify({ statusCode: 201, headers: {}, body: "created" });
};
"#;

fn http_server(dir: &Path, args: &[&str]) -> ServeProcess {
    std::fs::write(dir.join("http.js"), HTTP_APP).unwrap();
    ServeProcess::start(dir, "http.js", args)
}

/// Reads from `stream` until the server closes it; returns how long that took.
fn time_until_closed(mut stream: std::net::TcpStream) -> Duration {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

#[test]
fn half_sent_headers_and_idle_keep_alive_connections_are_closed() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let server = http_server(dir.path(), &["--header-timeout-ms", "300"]);
    // Slowloris: half a request head, then silence.
    let mut slow = std::net::TcpStream::connect(&server.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let waited = time_until_closed(slow);
    assert!(
        waited < Duration::from_secs(10),
        "half-sent head kept open {waited:?}"
    );
    // Idle keep-alive: one full request and response, then silence.
    let mut idle = std::net::TcpStream::connect(&server.addr).unwrap();
    idle.write_all(b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let waited = time_until_closed(idle);
    assert!(
        waited < Duration::from_secs(10),
        "idle connection kept open {waited:?}"
    );
    // New requests are still answered.
    assert_eq!(http_get(&server.addr, "/ok").unwrap().0, 200);
}

#[test]
fn handler_results_that_are_not_http_are_500_and_bad_bodies_400() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server(dir.path(), &[]);
    assert_eq!(http_get(&server.addr, "/api/created").unwrap().0, 201);
    // 65736 must not wrap to 200.
    assert_eq!(http_get(&server.addr, "/api/wrap").unwrap().0, 500);
    // A bare number is not a {statusCode, headers, body} object.
    assert_eq!(http_get(&server.addr, "/api/number").unwrap().0, 500);
    // A malformed chunk size is the client's error, not an oversized payload.
    let (status, _) = http_raw(
        &server.addr,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(status, 400);
    // A well-formed chunked body goes through.
    let (status, body) = http_raw(
        &server.addr,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!((status, body.as_str()), (200, "abc"));
}

#[test]
fn module_bundles_are_contained_at_build_and_fresh_too() {
    let limits = Limits {
        load_timeout: Some(Duration::from_millis(300)),
        max_heap_mb: Some(128),
    };
    let cases = [
        (
            "spin.js",
            "for (;;) {}\nexport default { fetch() {} };",
            "timeout",
        ),
        (
            "chunk-spin.js",
            "import './c.js';\nexport default { fetch() {} };",
            "timeout",
        ),
        (
            "tla-spin.js",
            "await null; for (;;) {}\nexport default { fetch() {} };",
            "timeout",
        ),
        (
            "tla-never.js",
            "await new Promise(() => {});\nexport default { fetch() {} };",
            "stalled",
        ),
        (
            "bomb.js",
            "const a = []; for (;;) a.push(new Array(1e6).fill(1.5));\nexport default {};",
            "heap",
        ),
    ];
    for (name, source, expect) in cases {
        // The heap bomb gets time enough to reach the heap limit first.
        let limits = if expect == "heap" {
            Limits {
                load_timeout: Some(Duration::from_secs(10)),
                ..limits
            }
        } else {
            limits
        };
        let bundle = Bundle::from_modules(
            name,
            vec![
                (name.to_string(), source.to_string()),
                ("c.js".to_string(), "for (;;) {}".to_string()),
            ],
        )
        .unwrap();
        let built = within(Duration::from_secs(20), name, {
            let bundle = bundle.clone();
            move || {
                SnapshotBuilder::new(&engine(), &bundle)
                    .limits(limits)
                    .build()
                    .unwrap_err()
            }
        });
        let fresh = within(Duration::from_secs(20), name, move || {
            let config = coldstart::SsrConfig {
                limits,
                ..Default::default()
            };
            coldstart::SsrIsolate::fresh(&engine(), &bundle, config)
                .err()
                .unwrap()
        });
        for error in [built, fresh] {
            let ok = match expect {
                "timeout" => matches!(error, Error::Timeout { .. }),
                "stalled" => matches!(error, Error::Stalled { .. }),
                _ => matches!(error, Error::HeapLimit { .. }),
            };
            assert!(ok, "{name}: expected {expect}, got {error:?}");
        }
    }
}

#[test]
fn a_child_build_whose_parent_died_before_it_started_exits() {
    // The pool names itself as the parent: a build whose named parent is not its parent (killed
    // before the child got to watch it) must not run on.
    let dir = tempfile::tempdir().unwrap();
    hazard(dir.path(), "hang.js", "for (;;) {}");
    let started = Instant::now();
    let out = run_within(
        dir.path(),
        &[
            "build",
            "hang.js",
            "--store",
            "store",
            "--exit-with-parent",
            "--parent-pid",
            "1",
        ],
        Duration::from_secs(10),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(5));
}
