//! Every documented flag through the binary, checked by its effect (not only the exit code), and
//! the exit-code contract: 0 success, 1 bad input, 2 usage error.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Output;

use crate::bin::*;

/// A bundle whose routes expose what the flags control.
const FLAGS_APP: &str = r#"
globalThis.__rex_render_page = function (route) {
  if (route === "/env") return JSON.stringify({ body: JSON.stringify(process.env), head: "" });
  if (route === "/fs") return JSON.stringify({ body: coldstart.fs.readFileSync("data.txt", "utf8"), head: "" });
  if (route === "/spin") { for (;;) {} }
  if (route === "/bomb") { const keep = []; for (;;) keep.push(new Array(1e5).fill(keep.length)); }
  if (route === "/state") { globalThis.hits = (globalThis.hits || 0) + 1; }
  return JSON.stringify({ body: "<p>" + route + " hits=" + (globalThis.hits || 0) + "</p>", head: "" });
};
globalThis.__rex_get_server_side_props = function (route, ctx) {
  if (route === "/fetch") {
    return fetch(JSON.parse(ctx).url).then((r) => r.text()).then(
      (text) => JSON.stringify({ props: { text } }),
      (error) => JSON.stringify({ props: { error: String(error.message) } }));
  }
  return JSON.stringify({ props: {} });
};
globalThis.__rex_get_static_props = function () { return JSON.stringify({ props: {} }); };
"#;

fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), FLAGS_APP).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    run_within(dir, args, HANG)
}

fn body_of(o: &Output) -> String {
    assert!(o.status.success(), "{}", stderr(o));
    let v: serde_json::Value = serde_json::from_str(stdout(o).trim()).unwrap();
    v["body"].as_str().unwrap().to_string()
}

fn json_of(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_str(stdout(o).trim()).unwrap()
}

#[test]
fn env_exposes_exactly_the_named_variables() {
    let dir = workdir();
    let out = output_within(
        command(
            dir.path(),
            &[
                "call",
                "app.js",
                "__rex_render_page",
                "/env",
                "{}",
                "--env",
                "CS_SHOWN",
            ],
        )
        .env("CS_SHOWN", "visible")
        .env("CS_HIDDEN", "secret"),
        HANG,
        "call --env",
    );
    let env: serde_json::Value = serde_json::from_str(&body_of(&out)).unwrap();
    assert_eq!(env, serde_json::json!({ "CS_SHOWN": "visible" }));
    // Without --env, nothing of the host environment is visible.
    let out = output_within(
        command(
            dir.path(),
            &["call", "app.js", "__rex_render_page", "/env", "{}"],
        )
        .env("CS_SHOWN", "visible"),
        HANG,
        "call without --env",
    );
    assert_eq!(body_of(&out), "{}");
}

#[test]
fn fs_root_chooses_the_sandbox() {
    let dir = workdir();
    std::fs::create_dir(dir.path().join("root")).unwrap();
    std::fs::write(dir.path().join("root/data.txt"), "from the sandbox").unwrap();
    std::fs::write(dir.path().join("data.txt"), "outside").unwrap();
    let out = run(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/fs",
            "{}",
            "--fs-root",
            "root",
        ],
    );
    assert_eq!(body_of(&out), "from the sandbox");
    let out = run(
        dir.path(),
        &["call", "app.js", "__rex_render_page", "/fs", "{}"],
    );
    assert_exit(&out, 1, "EACCES");
}

/// Answers every connection with `200 hello` until the listener is dropped with the thread.
fn local_http() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            );
        }
    });
    addr
}

#[test]
fn allow_origin_opens_one_private_origin() {
    let dir = workdir();
    let addr = local_http();
    let ctx = serde_json::json!({ "url": format!("http://{addr}/") }).to_string();
    let refused = run(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_get_server_side_props",
            "/fetch",
            &ctx,
        ],
    );
    assert!(refused.status.success(), "{}", stderr(&refused));
    assert!(
        stdout(&refused).contains("loopback"),
        "{}",
        stdout(&refused)
    );
    let origin = format!("http://{addr}");
    let allowed = run(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_get_server_side_props",
            "/fetch",
            &ctx,
            "--allow-origin",
            &origin,
        ],
    );
    assert!(
        stdout(&allowed).contains(r#""text":"hello""#),
        "{}",
        stdout(&allowed)
    );
    // Another origin on the same host stays refused.
    let other = run(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_get_server_side_props",
            "/fetch",
            &ctx,
            "--allow-origin",
            "http://127.0.0.1:1",
        ],
    );
    assert!(stdout(&other).contains("loopback"), "{}", stdout(&other));
}

#[test]
fn max_heap_mb_and_timeout_ms_bound_a_call() {
    let dir = workdir();
    let out = run(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/bomb",
            "{}",
            "--max-heap-mb",
            "32",
        ],
    );
    assert_exit(&out, 1, "heap limit of 32 MiB");
    let out = run(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/spin",
            "{}",
            "--timeout-ms",
            "250",
        ],
    );
    assert_exit(&out, 1, "timed out after 250 ms");
}

fn inspect(dir: &Path, path: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["inspect", path, "--json"];
    args.extend_from_slice(extra);
    json_of(&run(dir, &args))
}

#[test]
fn build_options_reach_the_snapshot_and_its_key() {
    let dir = workdir();
    let plain = json_of(&run(
        dir.path(),
        &["build", "app.js", "--store", "s", "--json"],
    ));
    let warm = json_of(&run(
        dir.path(),
        &[
            "build",
            "app.js",
            "--store",
            "s",
            "--json",
            "--warmup",
            "/state",
            "--function-code",
            "clear",
        ],
    ));
    assert_ne!(plain["key"], warm["key"]);
    let header = inspect(dir.path(), warm["path"].as_str().unwrap(), &[]);
    assert_eq!(header["metadata"]["warmup"], serde_json::json!(["/state"]));
    assert_eq!(header["metadata"]["function_code"], "clear");
    let header = inspect(dir.path(), plain["path"].as_str().unwrap(), &[]);
    assert_eq!(header["metadata"]["warmup"], serde_json::json!([]));
    assert_eq!(header["metadata"]["function_code"], "keep");
    // The warm-up ran before the snapshot: its global state is frozen in.
    let body = body_of(&run(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/x",
            "{}",
            "--store",
            "s",
            "--warmup",
            "/state",
            "--function-code",
            "clear",
        ],
    ));
    assert_eq!(body, "<p>/x hits=1</p>");
}

#[test]
fn v8_flags_are_part_of_the_key_and_checked_on_load() {
    let dir = workdir();
    let flagged = json_of(&run(
        dir.path(),
        &[
            "build",
            "app.js",
            "--store",
            "s",
            "--json",
            "--v8-flags=--max-lazy",
        ],
    ));
    let plain = json_of(&run(
        dir.path(),
        &["build", "app.js", "--store", "s", "--json"],
    ));
    assert_ne!(flagged["key"], plain["key"]);
    let path = flagged["path"].as_str().unwrap();
    let header = inspect(dir.path(), path, &[]);
    assert_eq!(header["v8_flags"], "--max-lazy");
    assert_eq!(header["loadable"], false);
    assert!(
        header["problem"]
            .as_str()
            .unwrap()
            .contains("other V8 flags"),
        "{header}"
    );
    let header = inspect(dir.path(), path, &["--v8-flags=--max-lazy"]);
    assert_eq!(header["loadable"], true, "{header}");
    // The same flags at run time load it.
    let body = body_of(&run(
        dir.path(),
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "/f",
            "{}",
            "--store",
            "s",
            "--v8-flags=--max-lazy",
            "--snapshot",
            path,
        ],
    ));
    assert_eq!(body, "<p>/f hits=0</p>");
}

#[test]
fn build_json_reports_hygiene_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::common::fixture("errors/hygiene.js"),
        dir.path().join("hygiene.js"),
    )
    .unwrap();
    let refused = run(
        dir.path(),
        &["build", "hygiene.js", "--store", "s", "--json"],
    );
    assert_exit(&refused, 1, "timer(s) are still pending");
    let out = json_of(&run(
        dir.path(),
        &[
            "build",
            "hygiene.js",
            "--store",
            "s",
            "--json",
            "--allow-pending-timers",
        ],
    ));
    assert_eq!(out["hygiene"]["date_now_reads"], 1);
    assert_eq!(out["hygiene"]["performance_reads"], 2);
    assert_eq!(out["hygiene"]["math_random_calls"], 1);
    assert_eq!(out["hygiene"]["env_reads"], serde_json::json!(["HOME"]));
    assert_eq!(out["hygiene"]["pending_timers"], 1);
    let findings: Vec<String> = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert_eq!(findings.len(), 4, "{findings:?}");
    assert!(
        findings[0].contains("read the clock 3 time(s)"),
        "{findings:?}"
    );
    assert!(
        findings[1].contains("Math.random() 1 time(s)"),
        "{findings:?}"
    );
    assert!(
        findings[2].contains("process.env at load (HOME)"),
        "{findings:?}"
    );
    assert!(
        findings[3].contains("1 timer(s) were pending"),
        "{findings:?}"
    );
}

#[test]
fn isolation_mode_and_workers_reach_serve() {
    let dir = workdir();
    let server = ServeProcess::start(dir.path(), "app.js", &["--workers", "1"]);
    http_get(&server.addr, "/state").unwrap();
    assert!(http_get(&server.addr, "/state")
        .unwrap()
        .1
        .contains("hits=2"));
    drop(server);
    let server = ServeProcess::start(
        dir.path(),
        "app.js",
        &["--workers", "1", "--isolation", "per-request"],
    );
    for _ in 0..3 {
        assert!(http_get(&server.addr, "/state")
            .unwrap()
            .1
            .contains("hits=1"));
    }
}

#[test]
fn serve_timeout_and_heap_flags_answer_504_and_500() {
    let dir = workdir();
    let server = ServeProcess::start(
        dir.path(),
        "app.js",
        &[
            "--workers",
            "1",
            "--timeout-ms",
            "300",
            "--max-heap-mb",
            "32",
        ],
    );
    let started = std::time::Instant::now();
    assert_eq!(http_get(&server.addr, "/spin").unwrap().0, 504);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(http_get(&server.addr, "/bomb").unwrap().0, 500);
    assert_eq!(http_get(&server.addr, "/ok").unwrap().0, 200);
}

#[test]
fn overload_is_503_with_retry_after() {
    let dir = workdir();
    let server = ServeProcess::start(
        dir.path(),
        "app.js",
        &["--workers", "1", "--queue", "1", "--timeout-ms", "1500"],
    );
    // One request spinning, one queued: the rest are refused at once.
    let addr = server.addr.clone();
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let addr = addr.clone();
            let thread = std::thread::spawn(move || http_get(&addr, "/spin").unwrap().0);
            std::thread::sleep(std::time::Duration::from_millis(100));
            thread
        })
        .collect();
    let refused = http_raw(
        &server.addr,
        b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(refused.0, 503, "{}", refused.1);
    for thread in busy {
        assert_eq!(thread.join().unwrap(), 504);
    }
    assert_eq!(http_get(&server.addr, "/after").unwrap().0, 200);
}

#[test]
fn usage_errors_exit_2_and_bad_input_exits_1() {
    let dir = workdir();
    for args in [
        &["build"][..],
        &["build", "app.js", "--no-such-flag"],
        &["call", "app.js"],
        &["serve", "app.js", "--isolation", "sideways"],
        &["build", "app.js", "--function-code", "sometimes"],
        &["render", "app.js"],
        &["frobnicate"],
        &[
            "call",
            "app.js",
            "__rex_render_page",
            "--snapshot",
            "x.snap",
            "--no-snapshot",
        ],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    for (args, needle) in [
        (&["build", "missing.js"][..], "missing.js"),
        (
            &["call", "app.js", "__rex_nope"],
            "not a contract entry point",
        ),
        (
            &["render", "app.js", "--route", "/", "--props", "{nope"],
            "--props is not valid JSON",
        ),
        (&["inspect", "app.js"], "not a coldstart snapshot"),
        (&["build", "app.js", "--warmup", "/=[oops"], "--warmup /"),
    ] {
        let out = run(dir.path(), args);
        assert_exit(&out, 1, needle);
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
}
