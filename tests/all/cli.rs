//! The `coldstart` binary: pinned flags and output shapes, and clean failures on bad input.

use std::path::Path;
use std::process::{Command, Output};

use crate::bin::*;
use crate::common::*;

fn coldstart(dir: &Path, args: &[&str]) -> Output {
    run_within(dir, args, HANG)
}

fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), SMALL_APP).unwrap();
    dir
}

/// Bad input fails with one clear line on stderr and exit code 1 — never a signal.
fn assert_clean_failure(o: &Output, needle: &str) {
    assert_exit(o, 1, needle);
}

#[test]
fn build_json_reports_key_path_bytes_time_and_cache_hits() {
    let dir = workdir();
    let first = coldstart(
        dir.path(),
        &["build", "app.js", "--store", "snaps", "--json"],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let v: serde_json::Value = serde_json::from_str(stdout(&first).trim()).unwrap();
    let key = v["key"].as_str().unwrap();
    assert_eq!(key.len(), 64);
    assert!(v["path"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{key}.snap")));
    assert!(v["bytes"].as_u64().unwrap() > 4096);
    assert!(v["build_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(v["cached"], false);
    let second = coldstart(
        dir.path(),
        &["build", "app.js", "--store", "snaps", "--json"],
    );
    let v2: serde_json::Value = serde_json::from_str(stdout(&second).trim()).unwrap();
    assert_eq!(v2["cached"], true);
    assert_eq!(v2["key"], v["key"]);

    let inspect = coldstart(
        dir.path(),
        &["inspect", v["path"].as_str().unwrap(), "--json"],
    );
    assert!(inspect.status.success(), "{}", stderr(&inspect));
    let h: serde_json::Value = serde_json::from_str(stdout(&inspect).trim()).unwrap();
    assert_eq!(h["v8_version"], engine().v8_version());
    assert_eq!(h["key"], v["key"]);
    assert_eq!(h["bundle"], "app.js");
    assert_eq!(h["loadable"], true);
    // The bundle's source follows the V8 blob in the payload.
    let blob = h["metadata"]["startup_len"].as_u64().unwrap();
    assert!(
        blob > 0 && blob < h["payload_bytes"].as_u64().unwrap(),
        "{h}"
    );
}

#[test]
fn call_prints_the_entry_result_exactly() {
    let dir = workdir();
    let out = coldstart(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/p/0",
            r#"{"items":[]}"#,
            "--store",
            "s",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "{\"body\":\"<main>/p/0:</main>\",\"head\":\"<title>/p/0</title>\"}\n"
    );
    let fresh = coldstart(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/p/0",
            r#"{"items":[]}"#,
            "--no-snapshot",
        ],
    );
    assert_eq!(stdout(&fresh), stdout(&out));
    let render = coldstart(
        dir.path(),
        &[
            "render",
            "app.js",
            "--route",
            "/r",
            "--props",
            r#"{"items":[1]}"#,
            "--store",
            "s",
        ],
    );
    assert_eq!(stdout(&render), "<main>/r:1</main>\n");
}

#[test]
fn call_with_an_explicit_snapshot_file() {
    let dir = workdir();
    let built = coldstart(dir.path(), &["build", "app.js", "--store", "s", "--json"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&built).trim()).unwrap();
    let path = v["path"].as_str().unwrap();
    let out = coldstart(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_get_static_props",
            "/s",
            "{}",
            "--snapshot",
            path,
        ],
    );
    assert_eq!(
        stdout(&out),
        "{\"props\":{\"static\":\"/s\"}}\n",
        "{}",
        stderr(&out)
    );
}

#[test]
fn js_errors_exit_1_with_the_message_on_stderr() {
    let dir = workdir();
    let out = coldstart(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/throws",
            "{}",
            "--store",
            "s",
        ],
    );
    assert_clean_failure(&out, "boom in /throws");
    assert!(stdout(&out).is_empty());
}

#[test]
fn bad_input_fails_cleanly() {
    let dir = workdir();
    assert_clean_failure(
        &coldstart(dir.path(), &["build", "missing.js"]),
        "missing.js",
    );
    assert_clean_failure(
        &coldstart(
            dir.path(),
            &["render", "app.js", "--route", "/", "--props", "{not json"],
        ),
        "--props is not valid JSON",
    );
    assert_clean_failure(
        &coldstart(dir.path(), &["call", "app.js", "__nope", "x"]),
        "not a contract entry point",
    );
    std::fs::write(
        dir.path().join("junk.snap"),
        b"this is not a snapshot at all",
    )
    .unwrap();
    assert_clean_failure(
        &coldstart(dir.path(), &["inspect", "junk.snap"]),
        "junk.snap",
    );
    assert_clean_failure(
        &coldstart(
            dir.path(),
            &[
                "call",
                "app.js",
                "__rex_render_page",
                "/",
                "{}",
                "--snapshot",
                "junk.snap",
            ],
        ),
        "not a coldstart snapshot",
    );
    std::fs::write(dir.path().join("syntax.js"), "let x = ;").unwrap();
    assert_clean_failure(
        &coldstart(dir.path(), &["build", "syntax.js"]),
        "syntax.js:1",
    );
    // A usage error is exit code 2.
    assert_exit(&coldstart(dir.path(), &["build"]), 2, "BUNDLE");
}

#[test]
fn serve_reloads_on_sighup_and_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), pool_app("v1")).unwrap();
    let mut server = ServeProcess::start(dir.path(), "app.js", &["--workers", "2"]);
    assert!(http_get(&server.addr, "/x").unwrap().1.contains("v1 /x"));

    std::fs::write(dir.path().join("app.js"), pool_app("v2")).unwrap();
    signal(server.pid(), "HUP");
    let reloaded = std::time::Instant::now();
    while !http_get(&server.addr, "/x").unwrap().1.contains("v2 /x") {
        assert!(reloaded.elapsed().as_secs() < 20, "SIGHUP did not reload");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    // SIGHUP with a bundle that no longer builds: the error is logged, v2 keeps serving.
    std::fs::write(dir.path().join("app.js"), "globalThis.x = ;").unwrap();
    signal(server.pid(), "HUP");
    // The SIGHUP reload may still be running (409): ask until this one runs.
    let asked = std::time::Instant::now();
    let (status, body) = loop {
        let reply = http_post(&server.addr, "/_coldstart/reload").unwrap();
        if reply.0 != 409 || asked.elapsed() > HANG {
            break reply;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("app.js") && body.contains("Unexpected token"),
        "{body}"
    );
    for _ in 0..5 {
        assert!(http_get(&server.addr, "/x").unwrap().1.contains("v2 /x"));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::fs::write(dir.path().join("app.js"), pool_app("v2")).unwrap();

    // A slow request in flight when SIGTERM arrives still completes; then the process exits 0.
    let addr = server.addr.clone();
    let slow = std::thread::spawn(move || http_get(&addr, "/slow"));
    std::thread::sleep(std::time::Duration::from_millis(100));
    signal(server.pid(), "TERM");
    let (status, body) = slow.join().unwrap().unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("v2 /slow"));
    let exit = wait_within(&mut server.child, HANG, "coldstart serve after SIGTERM");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn two_processes_building_the_same_key_leave_one_valid_file() {
    let dir = workdir();
    // A bundle that takes ~400 ms to evaluate, so that two builds started together overlap: both
    // report `cached: false` below, which proves they really raced for the same key.
    std::fs::write(
        dir.path().join("app.js"),
        format!("{SMALL_APP}\nvar until = Date.now() + 400; while (Date.now() < until) {{}}\n"),
    )
    .unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_coldstart"))
                .current_dir(dir.path())
                .args(["build", "app.js", "--store", "shared", "--json"])
                .env("COLDSTART_LOG", "error")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<serde_json::Value> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success());
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    assert!(
        outputs.iter().all(|v| v["cached"] == false),
        "the builds did not overlap: {outputs:?}"
    );
    let keys: Vec<String> = outputs
        .iter()
        .map(|v| v["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys[0], keys[1]);
    let files: Vec<String> = std::fs::read_dir(dir.path().join("shared"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        vec![format!("{}.snap", keys[0])],
        "no partial or temp files"
    );
    let inspect = coldstart(
        dir.path(),
        &["inspect", &format!("shared/{}.snap", keys[0]), "--json"],
    );
    let h: serde_json::Value = serde_json::from_str(stdout(&inspect).trim()).unwrap();
    assert_eq!(h["loadable"], true);
}

/// Console output reaches the log at the matching level, formatted as Node formats it
/// (expected lines produced by Node 20 from the same calls), without terminal colour codes when
/// stderr is not a terminal.
#[test]
fn console_output_is_logged_at_its_level_as_node_formats_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("console.js"),
        r#"
globalThis.__rex_render_page = function () {
  console.log("a", {b:1, c:"x"}, [1,2], null, undefined, 3.5, "%s=%d", "k", 7);
  console.log("%s=%d", "k", 7, "rest");
  console.info(new Map([["k",1]]));
  console.warn("warn", true);
  console.error("err", [ { deep: { deeper: { deepest: 1 } } } ]);
  console.debug("dbg", Symbol("s"));
  return JSON.stringify({ body: "", head: "" });
};
globalThis.__rex_get_server_side_props = function () { return "{}"; };
globalThis.__rex_get_static_props = function () { return "{}"; };
"#,
    )
    .unwrap();
    let out = output_within(
        command(
            dir.path(),
            &["call", "console.js", "__rex_render_page", "/", "{}"],
        )
        .env("COLDSTART_LOG", "debug"),
        HANG,
        "call console.js",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        !err.contains('\u{1b}'),
        "colour codes in a non-terminal log: {err:?}"
    );
    // "<timestamp>  LEVEL message": keep "LEVEL message".
    let lines: Vec<String> = err
        .lines()
        .filter_map(|l| {
            l.split_once(' ')
                .map(|(_, rest)| rest.trim_start().to_string())
        })
        .collect();
    assert_eq!(
        lines,
        [
            "INFO a { b: 1, c: 'x' } [ 1, 2 ] null undefined 3.5 %s=%d k 7",
            "INFO k=7 rest",
            "INFO Map(1) { 'k' => 1 }",
            "WARN warn true",
            "ERROR err [ { deep: { deeper: [Object] } } ]",
            "DEBUG dbg Symbol(s)",
        ]
    );
}

/// Each committed error fixture (`fixtures/errors/`) fails — or works — as its header comment
/// says, through the binary.
#[test]
fn the_error_fixtures_fail_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "minimal",
        "syntax-error",
        "throw-at-load",
        "missing-global",
        "runaway",
    ] {
        std::fs::copy(
            fixture(&format!("errors/{name}.js")),
            dir.path().join(format!("{name}.js")),
        )
        .unwrap();
    }
    let build = |name: &str| {
        coldstart(
            dir.path(),
            &["build", &format!("{name}.js"), "--store", "s"],
        )
    };
    assert!(build("minimal").status.success());
    let body = stdout(&coldstart(
        dir.path(),
        &[
            "call",
            "minimal.js",
            "__rex_render_page",
            "/m",
            r#"{"name":"ada"}"#,
            "--store",
            "s",
        ],
    ));
    assert_eq!(body.trim(), r#"{"body":"<p>/m ada</p>","head":""}"#);

    let out = build("syntax-error");
    assert_exit(&out, 1, "SyntaxError");
    assert!(
        stderr(&out).contains("syntax-error.js:3"),
        "{}",
        stderr(&out)
    );

    let out = build("throw-at-load");
    assert_exit(&out, 1, "exploded at load");
    let err = stderr(&out);
    assert!(err.contains("throw-at-load.js:3"), "{err}");
    assert!(
        err.contains("at explode (throw-at-load.js:3"),
        "stack: {err}"
    );
    assert!(err.contains("throw-at-load.js:5"), "stack: {err}");

    assert_exit(
        &build("missing-global"),
        1,
        "does not define the required global `__rex_get_server_side_props`",
    );

    // runaway.js builds; its routes are contained at call time.
    assert!(build("runaway").status.success());
    let call = |route: &str, extra: &[&str]| {
        let mut args = vec![
            "call",
            "runaway.js",
            "__rex_render_page",
            route,
            "{}",
            "--store",
            "s",
        ];
        args.extend_from_slice(extra);
        coldstart(dir.path(), &args)
    };
    assert_exit(
        &call("/spin", &["--timeout-ms", "300"]),
        1,
        "timed out after 300 ms",
    );
    assert_exit(
        &call("/bomb", &["--max-heap-mb", "32"]),
        1,
        "heap limit of 32 MiB",
    );
    assert_exit(
        &call("/recurse", &[]),
        1,
        "Maximum call stack size exceeded",
    );
    assert!(call("/fine", &[]).status.success());
}

/// `coldstart build` seeds V8 with fixed values: two processes building the same inputs write
/// byte-identical files (header and blob) — a Rex script with a warm-up render, and a module
/// worker built from its folder.
#[test]
fn builds_in_two_processes_are_byte_identical() {
    let root = root();
    let cases: [(&str, &[&str]); 2] = [
        ("fixtures/dist/react-app.js", &["--warmup", "/"]),
        ("fixtures/workers/hono/dist/worker.js", &[]),
    ];
    for (bundle, extra) in cases {
        let mut files = Vec::new();
        for run in ["one", "two"] {
            let store = tempfile::tempdir().unwrap();
            let store_path = store.path().to_str().unwrap().to_string();
            let mut args = vec!["build", bundle, "--store", &store_path, "--json"];
            args.extend_from_slice(extra);
            let o = coldstart(&root, &args);
            assert!(o.status.success(), "{bundle} ({run}): {}", stderr(&o));
            let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
            files.push(read(Path::new(v["path"].as_str().unwrap())));
        }
        assert!(files[0].len() > 100_000, "{bundle}");
        let differing = files[0]
            .iter()
            .zip(&files[1])
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(files[0].len(), files[1].len(), "{bundle}: sizes differ");
        assert_eq!(differing, 0, "{bundle}: {differing} bytes differ");
    }
}

/// A bundle whose top level runs a lot of code (the TypeScript compiler builds its whole API)
/// leaves V8's background threads (concurrent compilation, marking) different work to do in
/// every run: build processes run V8 in predictable mode so the blob does not depend on their
/// timing (300 bytes differed without it). The compiler also reads `performance.now()` once at
/// load (the hygiene report names it), which a build process's counted clock makes the same in
/// every build (74 bytes differed without it).
#[test]
fn a_bundle_that_runs_a_lot_at_load_builds_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("dist/typescript-app.js"), dir.path().join("ts.js")).unwrap();
    let mut files = Vec::new();
    for run in ["one", "two"] {
        let o = coldstart(dir.path(), &["build", "ts.js", "--store", run, "--json"]);
        assert!(o.status.success(), "{run}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        let findings = v["findings"].to_string();
        assert!(
            findings.contains("performance: 1") && !findings.contains("Math.random"),
            "{v}"
        );
        files.push(read(&dir.path().join(v["path"].as_str().unwrap())));
    }
    let differing = files[0]
        .iter()
        .zip(&files[1])
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!((files[0].len(), differing), (files[1].len(), 0));
}

/// The fixed seeds stay in the build process: a value the bundle drew from `Math.random` at
/// build is frozen in the snapshot (and the same in every build), while each process restoring
/// the snapshot draws its own sequence.
#[test]
fn restored_isolates_draw_their_own_random_numbers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        r#"
const atBuild = Math.random();
globalThis.__rex_render_page = () => JSON.stringify([atBuild, Math.random(), Math.random()]);
globalThis.__rex_get_server_side_props = () => "{}";
globalThis.__rex_get_static_props = () => "{}";
"#,
    )
    .unwrap();
    for store in ["a", "b"] {
        let o = coldstart(dir.path(), &["build", "app.js", "--store", store]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let draws: Vec<Vec<f64>> = ["a", "a", "b"]
        .iter()
        .map(|store| serde_json::from_str(render_from_store(dir.path(), store).trim()).unwrap())
        .collect();
    assert_eq!(
        draws[0][0], draws[1][0],
        "the value drawn at build is frozen"
    );
    assert_eq!(draws[0][0], draws[2][0], "and the same in both builds");
    assert_ne!(
        draws[0][1..],
        draws[1][1..],
        "two restores drew the same numbers"
    );
    assert_ne!(
        draws[1][1..],
        draws[2][1..],
        "two restores drew the same numbers"
    );
    assert!(!draws[0][1..].contains(&draws[0][0]));
}

/// A build process's `performance` reads a counted clock (`runtime::clock`): what bundle code
/// keeps of it at load is the same in every build — a loop waiting for the clock to move ends —
/// while a restored isolate reads the process's own clocks.
#[test]
fn a_build_reads_a_counted_performance_clock_and_a_restore_the_real_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        r#"
const atLoad = [performance.now(), performance.now(), performance.timeOrigin];
const start = performance.now();
let spins = 0;
while (performance.now() - start < 5) spins++;
const mark = performance.mark("load");
globalThis.__rex_render_page = () => {
  const now = performance.now();
  return JSON.stringify({ atLoad, spins, mark: mark.startTime, now, later: performance.now(),
    origin: performance.timeOrigin, date: Date.now(),
    sinceLoad: performance.measure("m", "load").duration });
};
globalThis.__rex_get_server_side_props = () => "{}";
globalThis.__rex_get_static_props = () => "{}";
"#,
    )
    .unwrap();
    let mut files = Vec::new();
    for store in ["a", "b"] {
        let o = coldstart(dir.path(), &["build", "app.js", "--store", store, "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        files.push(read(&dir.path().join(v["path"].as_str().unwrap())));
    }
    assert!(files[0] == files[1], "two builds differ");
    let seen: serde_json::Value =
        serde_json::from_str(render_from_store(dir.path(), "a").trim()).unwrap();
    assert_eq!(
        seen["atLoad"],
        serde_json::json!([0.001, 0.002, 0]),
        "{seen}"
    );
    let f = |name: &str| seen[name].as_f64().unwrap();
    assert!((4999.0..=5000.0).contains(&f("spins")), "{seen}");
    assert!(f("mark") > 5.0 && f("mark") < 5.01, "{seen}");
    // After the restore: the process's clocks, from the isolate's own origin.
    assert!(f("now") > 0.0 && f("now") < 60_000.0, "{seen}");
    assert!(f("later") >= f("now"), "{seen}");
    assert!(
        (f("date") - f("origin") - f("now")).abs() < 60_000.0,
        "{seen}"
    );
    // A mark kept from the build is a counted reading, measured against the restored clock.
    assert!(f("sinceLoad") >= f("now") - f("mark"), "{seen}");
}

/// A `call` whose snapshot is stored never reads the bundle (the store's record of its hash), yet
/// a bundle rewritten in place — same length, modification time put back — is never served from
/// the old snapshot.
#[test]
fn a_bundle_rewritten_in_place_is_never_served_from_its_old_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.js");
    let version = |v: &str| {
        format!(
            r#"globalThis.__rex_render_page = () => JSON.stringify({{ body: "{v}", head: "" }});
globalThis.__rex_get_server_side_props = () => "{{}}";
globalThis.__rex_get_static_props = () => "{{}}";
"#
        )
    };
    std::fs::write(&app, version("one")).unwrap();
    let render = || render_from_store(dir.path(), "s");
    assert!(render().contains("\"one\""));
    std::thread::sleep(std::time::Duration::from_millis(150));
    assert!(render().contains("\"one\""), "records the bundle's hash");
    assert!(render().contains("\"one\""), "from the record");
    let records = std::fs::read_dir(dir.path().join("s/bundles"))
        .unwrap()
        .count();
    assert_eq!(records, 1);
    let modified = std::fs::metadata(&app).unwrap().modified().unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&app).unwrap();
    std::io::Write::write_all(&mut &file, version("two").as_bytes()).unwrap();
    file.set_modified(modified).unwrap();
    drop(file);
    assert!(
        render().contains("\"two\""),
        "a stale record served the old snapshot"
    );
}

/// `coldstart call app.js __rex_render_page / {} --store STORE` in `dir`: its stdout, after
/// checking it succeeded.
fn render_from_store(dir: &Path, store: &str) -> String {
    let o = coldstart(
        dir,
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/",
            "{}",
            "--store",
            store,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

/// A polyfill the build did not use (`URL`, streams, fetch: loaded on first use) loads from the
/// code cache its snapshot keeps, in another process than the one that built it: V8 refusing the
/// cache (it checks V8's flags and the blob's read-only heap) would be logged as a warning.
#[test]
fn a_polyfill_first_used_after_restore_loads_from_the_snapshots_code_cache() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        r#"
globalThis.__rex_render_page = () => JSON.stringify({ body: "", head: "" });
globalThis.__rex_get_static_props = () => "{}";
// The globals are reached without being named (as a bundle may): the build never uses them.
const web = (...parts) => globalThis[parts.join("")];
globalThis.__rex_get_server_side_props = async () => {
  const url = new (web("U", "RL"))("https://x.test/a?b=1");
  const Stream = web("Readable", "Stream");
  const body = new Stream({ start(c) { c.enqueue(new TextEncoder().encode("s")); c.close(); } });
  const text = await new (web("Resp", "onse"))(body).text();
  return JSON.stringify([url.searchParams.get("b"), text, new (web("TextDecoder", "Stream"))().encoding]);
};
"#,
    )
    .unwrap();
    let o = coldstart(dir.path(), &["build", "app.js", "--store", "s"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let call = [
        "call",
        "app.js",
        "__rex_get_server_side_props",
        "/",
        "{}",
        "--store",
        "s",
    ];
    for _ in 0..2 {
        let mut command = command(dir.path(), &call);
        let o = output_within(command.env("COLDSTART_LOG", "warn"), HANG, "coldstart call");
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            r#"["1","s","utf-8"]"#
        );
        assert!(
            !stderr(&o).contains("code cache"),
            "the code cache was refused: {}",
            stderr(&o)
        );
    }
}

/// `main` starts V8 before clap parses a command line that begins with a subcommand, so a line
/// clap rejects or answers itself (`--help`) now exits while V8 is starting (`main` waits for
/// it first): still clap's exit code, 2 for usage errors and 0 for help, with clap's text, and
/// never a signal (ten times each, the exit coming at different points of V8's start).
#[test]
fn usage_errors_and_help_exit_cleanly_while_v8_is_starting() {
    let dir = workdir();
    for _ in 0..10 {
        let missing = coldstart(dir.path(), &["call"]);
        assert_exit(&missing, 2, "required arguments were not provided");
        let unknown = coldstart(dir.path(), &["build", "app.js", "--no-such-flag"]);
        assert_exit(&unknown, 2, "unexpected argument '--no-such-flag'");
        let help = coldstart(dir.path(), &["serve", "--help"]);
        assert_eq!(help.status.code(), Some(0), "{help:?}");
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("Usage: coldstart serve"),
            "{help:?}"
        );
    }
}

/// `serve --reload-token`: `POST /_coldstart/reload` without the token (or with another) is 401
/// and reloads nothing, even from loopback; with `Authorization: Bearer TOKEN` it reloads.
#[test]
fn serve_reload_token_guards_the_reload_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), pool_app("v1")).unwrap();
    let server = ServeProcess::start(dir.path(), "app.js", &["--reload-token", "tok-3"]);
    std::fs::write(dir.path().join("app.js"), pool_app("v2")).unwrap();
    let post = |authorization: &str| {
        http_raw(
            &server.addr,
            format!(
                "POST /_coldstart/reload HTTP/1.1\r\nHost: t\r\n{authorization}Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap()
    };
    for authorization in [
        "",
        "Authorization: Bearer tok-4\r\n",
        "Authorization: tok-3\r\n",
    ] {
        let (status, body) = post(authorization);
        assert_eq!(status, 401, "{authorization:?}: {body}");
        assert!(http_get(&server.addr, "/x").unwrap().1.contains("v1 /x"));
    }
    let (status, body) = post("Authorization: Bearer tok-3\r\n");
    assert_eq!(status, 200, "{body}");
    assert!(http_get(&server.addr, "/x").unwrap().1.contains("v2 /x"));
}
