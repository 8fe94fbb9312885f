//! Native host APIs through the JS surface: fetch (real HTTP against a local server, SSRF policy,
//! redirects, limits), the fs sandbox, RNG after restore, timers and the event loop, hygiene.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use coldstart::snapshot::{BuildOptions, SnapshotBuilder};
use coldstart::{Bundle, Error, FetchPolicy, RuntimeOptions, Snapshot, SsrConfig, SsrIsolate};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};

use crate::common::*;

/// `__rex_get_server_side_props(route, code)` evaluates `code` as an async function body and
/// returns its JSON-stringified result: a generic way to drive host APIs from tests.
const HOST_APP: &str = r#"
globalThis.__rex_render_page = function () { return JSON.stringify({ body: "", head: "" }); };
globalThis.__rex_get_static_props = function () { return "{}"; };
globalThis.__rex_get_server_side_props = function (route, code) {
  const AsyncFunction = (async () => {}).constructor;
  return new AsyncFunction(code)().then((value) => JSON.stringify(value === undefined ? null : value));
};
"#;

fn host_snapshot() -> (tempfile::TempDir, Snapshot) {
    snapshot_of(&Bundle::new("host-app.js", HOST_APP))
}

fn run(iso: &mut SsrIsolate, code: &str) -> Result<serde_json::Value, Error> {
    let text = iso.get_server_side_props("/", code)?;
    Ok(serde_json::from_str(&text).unwrap())
}

fn with_runtime(snapshot: &Snapshot, runtime: RuntimeOptions) -> SsrIsolate {
    SsrIsolate::from_snapshot(
        snapshot,
        SsrConfig {
            runtime,
            ..SsrConfig::default()
        },
    )
    .unwrap()
}

// ------------------------------------------------------------------------------------------
// A local HTTP server for fetch tests.

struct TestHttp {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

/// `/slow` requests being served right now, and the most seen at once (this test process's).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static MAX_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

async fn route(
    request: Request<hyper::body::Incoming>,
    addr: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let method = request.method().to_string();
    let header = request
        .headers()
        .get("x-test")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let response = |status: u16, headers: &[(&str, String)], body: Vec<u8>| {
        let mut builder = Response::builder().status(status);
        for (k, v) in headers {
            builder = builder.header(*k, v.as_str());
        }
        Ok(builder.body(Full::new(Bytes::from(body))).unwrap())
    };
    match path.as_str() {
        "/text" => response(200, &[("content-type", "text/plain".into())], b"hello from the server".to_vec()),
        "/json" => response(200, &[("content-type", "application/json".into())], br#"{"ok":true,"n":42}"#.to_vec()),
        "/status" => response(418, &[("x-teapot", "yes".into())], b"short and stout".to_vec()),
        "/echo" => response(
            200,
            &[("content-type", "application/json".into())],
            serde_json::json!({"method": method, "header": header, "body": String::from_utf8_lossy(&body), "query": query})
                .to_string()
                .into_bytes(),
        ),
        "/slow" => {
            let ms: u64 = query.trim_start_matches("ms=").parse().unwrap_or(300);
            let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
            MAX_IN_FLIGHT.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
            response(200, &[], format!("slept {ms}").into_bytes())
        }
        "/big" => response(200, &[], vec![b'x'; 256 * 1024]),
        "/redirect" => response(302, &[("location", "/json".into())], Vec::new()),
        "/redirect-post" => response(303, &[("location", "/echo".into())], Vec::new()),
        "/redirect-private" => response(302, &[("location", "http://10.0.0.1/".into())], Vec::new()),
        "/redirect-other-port" => {
            // Same host, another (not allowlisted) origin: must be checked again and refused.
            response(302, &[("location", format!("http://127.0.0.1:{}/json", addr.port() + 1))], Vec::new())
        }
        "/redirect-loop" => response(302, &[("location", "/redirect-loop".into())], Vec::new()),
        _ => response(404, &[], b"not found".to_vec()),
    }
}

impl TestHttp {
    fn start() -> TestHttp {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| route(req, addr));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TestHttp {
            addr,
            _runtime: runtime,
        }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    fn allowed(&self) -> RuntimeOptions {
        RuntimeOptions {
            fetch: FetchPolicy::default().allow_origin(&self.origin()),
            ..RuntimeOptions::default()
        }
    }
}

#[test]
fn fetch_reads_text_json_status_and_headers() {
    let server = TestHttp::start();
    let (_dir, snapshot) = host_snapshot();
    let mut iso = with_runtime(&snapshot, server.allowed());
    let o = server.origin();
    let value = run(
        &mut iso,
        &format!(
            r#"
            const text = await fetch("{o}/text");
            const json = await (await fetch("{o}/json")).json();
            const status = await fetch("{o}/status");
            const buf = await (await fetch("{o}/text")).arrayBuffer();
            return {{ text: await text.text(), type: text.headers.get("content-type"), ok: text.ok, json,
                     status: status.status, statusOk: status.ok, teapot: status.headers.get("x-teapot"),
                     bytes: buf.byteLength, url: text.url, redirected: text.redirected }};"#
        ),
    )
    .unwrap();
    assert_eq!(value["text"], "hello from the server");
    assert_eq!(value["type"], "text/plain");
    assert_eq!(value["ok"], true);
    assert_eq!(value["json"]["n"], 42);
    assert_eq!(value["status"], 418);
    assert_eq!(value["statusOk"], false);
    assert_eq!(value["teapot"], "yes");
    assert_eq!(value["bytes"], 21);
    assert_eq!(value["url"], format!("{o}/text"));
    assert_eq!(value["redirected"], false);
}

#[test]
fn fetch_sends_method_headers_and_body_and_follows_redirects() {
    let server = TestHttp::start();
    let (_dir, snapshot) = host_snapshot();
    let mut iso = with_runtime(&snapshot, server.allowed());
    let o = server.origin();
    let value = run(
        &mut iso,
        &format!(
            r#"
            const echo = await (await fetch("{o}/echo?a=1", {{ method: "PUT", headers: {{ "x-test": "hdr" }}, body: "payload" }})).json();
            const redirected = await fetch("{o}/redirect");
            const afterPost = await (await fetch("{o}/redirect-post", {{ method: "POST", body: "gone" }})).json();
            const manual = await fetch("{o}/redirect", {{ redirect: "manual" }});
            let errorMode = null;
            try {{ await fetch("{o}/redirect", {{ redirect: "error" }}); }} catch (e) {{ errorMode = e.name; }}
            let loop = null;
            try {{ await fetch("{o}/redirect-loop"); }} catch (e) {{ loop = e.message; }}
            return {{ echo, redirectedUrl: redirected.url, redirected: redirected.redirected, json: await redirected.json(),
                     afterPost, manual: manual.status, location: manual.headers.get("location"), errorMode, loop }};"#
        ),
    )
    .unwrap();
    assert_eq!(value["echo"]["method"], "PUT");
    assert_eq!(value["echo"]["header"], "hdr");
    assert_eq!(value["echo"]["body"], "payload");
    assert_eq!(value["echo"]["query"], "a=1");
    assert_eq!(value["redirectedUrl"], format!("{o}/json"));
    assert_eq!(value["redirected"], true);
    assert_eq!(value["json"]["ok"], true);
    assert_eq!(
        value["afterPost"]["method"], "GET",
        "303 turns POST into GET"
    );
    assert_eq!(value["afterPost"]["body"], "");
    assert_eq!(value["manual"], 302);
    assert_eq!(value["location"], "/json");
    assert_eq!(value["errorMode"], "TypeError");
    assert!(
        value["loop"].as_str().unwrap().contains("redirects"),
        "{}",
        value["loop"]
    );
}

#[test]
fn fetches_in_one_call_run_concurrently() {
    let server = TestHttp::start();
    let (_dir, snapshot) = host_snapshot();
    let mut iso = with_runtime(&snapshot, server.allowed());
    let o = server.origin();
    let started = Instant::now();
    let value = run(
        &mut iso,
        &format!(
            r#"const results = await Promise.all([1, 2, 3, 4].map(() => fetch("{o}/slow?ms=400").then((r) => r.text())));
               return results;"#
        ),
    )
    .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(value.as_array().unwrap().len(), 4);
    // All four were in flight at the same time (a half-serial implementation peaks at 2)...
    assert_eq!(MAX_IN_FLIGHT.load(Ordering::SeqCst), 4);
    assert!(
        elapsed < Duration::from_millis(1500),
        "4 × 400 ms requests took {elapsed:?}"
    );
}

/// Fetches `url` and returns `"Name: message"` of the error it fails with, or `"reached"`.
fn fetch_error(iso: &mut SsrIsolate, url: &str) -> String {
    let value = run(
        iso,
        &format!(r#"try {{ await fetch("{url}"); return "reached"; }} catch (e) {{ return e.name + ": " + e.message; }}"#),
    )
    .unwrap();
    value.as_str().unwrap().to_string()
}

#[test]
fn private_and_loopback_addresses_are_refused_by_default() {
    let server = TestHttp::start();
    let (_dir, snapshot) = host_snapshot();
    let mut iso = isolate(&snapshot);
    let o = server.origin();
    for url in [
        o.clone(),
        format!("http://localhost:{}/", server.addr.port()),
        "http://10.0.0.1/".to_string(),
        "http://172.16.5.4/".to_string(),
        "http://192.168.1.1/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://100.64.0.1/".to_string(),
        "http://[::1]/".to_string(),
        "http://[fd00::1]/".to_string(),
        "http://[fe80::1]/".to_string(),
        "http://[::ffff:127.0.0.1]/".to_string(),
        "http://0.0.0.0/".to_string(),
        "http://0x7f.1/".to_string(),
    ] {
        let text = fetch_error(&mut iso, &url);
        assert!(
            text.starts_with("TypeError:") && text.contains("SSRF policy"),
            "{url}: {text}"
        );
    }
}

#[test]
fn redirects_are_checked_again_at_every_hop() {
    let server = TestHttp::start();
    let (_dir, snapshot) = host_snapshot();
    let mut iso = with_runtime(&snapshot, server.allowed());
    let o = server.origin();
    for path in ["/redirect-private", "/redirect-other-port"] {
        let text = fetch_error(&mut iso, &format!("{o}{path}"));
        assert!(text.contains("SSRF policy"), "{path}: {text}");
    }
}

#[test]
fn fetch_timeout_and_body_limit() {
    let server = TestHttp::start();
    let (_dir, snapshot) = host_snapshot();
    let mut runtime = server.allowed();
    runtime.fetch.timeout = Duration::from_millis(200);
    runtime.fetch.max_body_bytes = 64 * 1024;
    let mut iso = with_runtime(&snapshot, runtime);
    let o = server.origin();
    let value = run(
        &mut iso,
        &format!(
            r#"const out = {{}};
               try {{ await fetch("{o}/slow?ms=2000"); }} catch (e) {{ out.slow = e.name; }}
               try {{ await fetch("{o}/big"); }} catch (e) {{ out.big = e.message; }}
               return out;"#
        ),
    )
    .unwrap();
    assert_eq!(value["slow"], "TimeoutError");
    assert!(
        value["big"].as_str().unwrap().contains("exceeds the limit"),
        "{value}"
    );
}

#[test]
fn aborting_a_fetch_rejects_it() {
    let server = TestHttp::start();
    let (_dir, snapshot) = host_snapshot();
    let mut iso = with_runtime(&snapshot, server.allowed());
    let o = server.origin();
    let started = Instant::now();
    let value = run(
        &mut iso,
        &format!(
            r#"const c = new AbortController();
               setTimeout(() => c.abort(), 20);
               try {{ await fetch("{o}/slow?ms=3000", {{ signal: c.signal }}); return "finished"; }}
               catch (e) {{ return e.name; }}"#
        ),
    )
    .unwrap();
    assert_eq!(value, "AbortError");
    assert!(started.elapsed() < Duration::from_secs(2));
}

// ------------------------------------------------------------------------------------------
// fs sandbox.

fn fs_isolate(snapshot: &Snapshot, root: &std::path::Path) -> SsrIsolate {
    with_runtime(
        snapshot,
        RuntimeOptions {
            fs_root: Some(root.to_path_buf()),
            ..RuntimeOptions::default()
        },
    )
}

fn fs_error(iso: &mut SsrIsolate, code: &str) -> String {
    let value = run(
        iso,
        &format!(
            "try {{ {code}; return 'no error'; }} catch (e) {{ return e.code + ' ' + e.message; }}"
        ),
    )
    .unwrap();
    value.as_str().unwrap().to_string()
}

#[test]
fn fs_reads_writes_lists_and_removes_inside_the_root() {
    let (_dir, snapshot) = host_snapshot();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("hello.txt"), "héllo").unwrap();
    std::fs::create_dir(root.path().join("sub")).unwrap();
    std::fs::write(root.path().join("sub/b.bin"), [1u8, 2, 3]).unwrap();
    let mut iso = fs_isolate(&snapshot, root.path());
    let value = run(
        &mut iso,
        r#"const fs = coldstart.fs;
           fs.writeFileSync("new/../written.txt", "round trip");
           fs.mkdirSync("deep/er/est", { recursive: true });
           const stat = fs.statSync("hello.txt");
           const out = {
             text: fs.readFileSync("hello.txt", "utf8"),
             bytes: Array.from(fs.readFileSync("sub/b.bin")),
             written: fs.readFileSync("written.txt", { encoding: "utf-8" }),
             list: fs.readdirSync("."),
             exists: [fs.existsSync("hello.txt"), fs.existsSync("nope"), fs.existsSync("../etc/passwd")],
             stat: [stat.isFile(), stat.isDirectory(), stat.size],
             dir: fs.statSync("deep/er").isDirectory(),
             rex: globalThis.__rex_fs_read_file_sync("/ignored/root", "hello.txt", "utf8"),
             rexList: globalThis.__rex_fs_readdir_sync("/ignored", "sub"),
           };
           fs.rmSync("deep", { recursive: true });
           fs.unlinkSync("written.txt");
           fs.rmSync("missing", { force: true });
           out.after = fs.readdirSync(".");
           return out;"#,
    )
    .unwrap();
    assert_eq!(value["text"], "héllo");
    assert_eq!(value["bytes"], serde_json::json!([1, 2, 3]));
    assert_eq!(value["written"], "round trip");
    assert_eq!(
        value["list"],
        serde_json::json!(["deep", "hello.txt", "sub", "written.txt"])
    );
    assert_eq!(value["exists"], serde_json::json!([true, false, false]));
    assert_eq!(value["stat"], serde_json::json!([true, false, 6]));
    assert_eq!(value["dir"], true);
    assert_eq!(value["rex"], "héllo");
    assert_eq!(value["rexList"], r#"["b.bin"]"#);
    assert_eq!(value["after"], serde_json::json!(["hello.txt", "sub"]));
    assert_eq!(
        std::fs::read_to_string(root.path().join("hello.txt")).unwrap(),
        "héllo"
    );
}

#[test]
fn fs_refuses_traversal_absolute_paths_and_symlink_escapes() {
    let (_dir, snapshot) = host_snapshot();
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        root.path().join("secret-link"),
    )
    .unwrap();
    std::fs::write(root.path().join("inside.txt"), "inside").unwrap();
    std::os::unix::fs::symlink("inside.txt", root.path().join("inside-link")).unwrap();
    let mut iso = fs_isolate(&snapshot, root.path());
    let outside_path = outside.path().join("secret.txt").display().to_string();
    for attempt in [
        r#"coldstart.fs.readFileSync("../secret.txt", "utf8")"#.to_string(),
        r#"coldstart.fs.readFileSync("a/../../x", "utf8")"#.to_string(),
        format!(r#"coldstart.fs.readFileSync("{outside_path}", "utf8")"#),
        r#"coldstart.fs.readFileSync("/etc/passwd", "utf8")"#.to_string(),
        r#"coldstart.fs.readFileSync("escape/secret.txt", "utf8")"#.to_string(),
        r#"coldstart.fs.readFileSync("secret-link", "utf8")"#.to_string(),
        r#"coldstart.fs.writeFileSync("escape/planted.txt", "x")"#.to_string(),
    ] {
        let error = fs_error(&mut iso, &attempt);
        assert!(
            error.starts_with("EACCES") || error.starts_with("EPERM") || error.starts_with("ELOOP"),
            "{attempt}: {error}"
        );
    }
    assert!(!outside.path().join("planted.txt").exists());
    // A symlink that stays inside the root is fine, and absolute paths under the root work.
    let inside_abs = root
        .path()
        .canonicalize()
        .unwrap()
        .join("inside.txt")
        .display()
        .to_string();
    let value = run(
        &mut iso,
        &format!(r#"return [coldstart.fs.readFileSync("inside-link", "utf8"), coldstart.fs.readFileSync("{inside_abs}", "utf8")];"#),
    )
    .unwrap();
    assert_eq!(value, serde_json::json!(["inside", "inside"]));
    let rex = run(
        &mut iso,
        r#"return globalThis.__rex_fs_read_file_sync("/", "../x", "utf8");"#,
    )
    .unwrap();
    let rex = rex.as_str().unwrap();
    assert!(
        rex.starts_with("__REX_FS_ERR__{\"code\":\"EACCES\""),
        "{rex}"
    );
}

#[test]
fn fs_refuses_hard_links_that_may_lead_outside_the_root() {
    let (_dir, snapshot) = host_snapshot();
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let outside = scratch.path().join("secret.txt");
    std::fs::write(&outside, "secret").unwrap();
    std::fs::hard_link(&outside, root.join("linked.txt")).unwrap();
    std::fs::write(root.join("plain.txt"), "plain").unwrap();
    let mut iso = fs_isolate(&snapshot, &root);
    let read = fs_error(
        &mut iso,
        r#"coldstart.fs.readFileSync("linked.txt", "utf8")"#,
    );
    assert!(
        read.starts_with("EACCES") && read.contains("hard links"),
        "{read}"
    );
    let write = fs_error(
        &mut iso,
        r#"coldstart.fs.writeFileSync("linked.txt", "overwritten")"#,
    );
    assert!(
        write.starts_with("EACCES") && write.contains("hard links"),
        "{write}"
    );
    let rex = run(
        &mut iso,
        r#"return globalThis.__rex_fs_read_file_sync("/", "linked.txt", "utf8");"#,
    )
    .unwrap();
    assert!(rex.as_str().unwrap().contains("EACCES"), "{rex}");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "secret");
    // A file with one link is read and overwritten as usual.
    let value = run(
        &mut iso,
        r#"coldstart.fs.writeFileSync("plain.txt", "new");
           return coldstart.fs.readFileSync("plain.txt", "utf8");"#,
    )
    .unwrap();
    assert_eq!(value, "new");
}

#[test]
fn fs_errors_carry_node_codes() {
    let (_dir, snapshot) = host_snapshot();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("file.txt"), "x").unwrap();
    std::fs::create_dir(root.path().join("dir")).unwrap();
    std::fs::write(root.path().join("dir/child"), "x").unwrap();
    let mut iso = fs_isolate(&snapshot, root.path());
    assert!(
        fs_error(&mut iso, r#"coldstart.fs.readFileSync("missing.txt")"#)
            .starts_with("ENOENT ENOENT: no such file or directory, open 'missing.txt'")
    );
    assert!(fs_error(&mut iso, r#"coldstart.fs.mkdirSync("dir")"#).starts_with("EEXIST"));
    assert!(fs_error(&mut iso, r#"coldstart.fs.readdirSync("file.txt")"#).starts_with("ENOTDIR"));
    assert!(fs_error(&mut iso, r#"coldstart.fs.readFileSync("dir")"#).starts_with("EISDIR"));
    assert!(fs_error(&mut iso, r#"coldstart.fs.rmSync("dir")"#).starts_with("EISDIR"));
    assert!(fs_error(&mut iso, r#"coldstart.fs.unlinkSync("dir")"#).starts_with("EISDIR"));
    assert!(fs_error(&mut iso, r#"coldstart.fs.mkdirSync("a/b/c")"#).starts_with("ENOENT"));
    let detail = run(&mut iso, r#"try { coldstart.fs.statSync("nope"); } catch (e) { return [e.code, e.syscall, e.path, e instanceof Error]; }"#).unwrap();
    assert_eq!(detail, serde_json::json!(["ENOENT", "stat", "nope", true]));
    // Without a configured root every call is refused.
    let mut no_root = isolate(&snapshot);
    assert!(
        fs_error(&mut no_root, r#"coldstart.fs.readFileSync("file.txt")"#).starts_with("EACCES")
    );
}

// ------------------------------------------------------------------------------------------
// RNG, timers, event loop, rejections.

#[test]
fn isolates_restored_from_one_snapshot_draw_different_random_numbers() {
    let bundle = Bundle::new("rng.js", format!("var atLoad = Math.random();\n{HOST_APP}"));
    let dir = tempfile::tempdir().unwrap();
    let store = coldstart::SnapshotStore::open(&engine(), dir.path()).unwrap();
    let snapshot = store
        .get_or_build(&bundle, &BuildOptions::default())
        .unwrap()
        .snapshot;
    let code = "return [Math.random(), Math.random(), crypto.randomUUID(), Array.from(crypto.getRandomValues(new Uint8Array(8)))];";
    let mut a = isolate(&snapshot);
    let mut b = isolate(&snapshot);
    let (x, y) = (run(&mut a, code).unwrap(), run(&mut b, code).unwrap());
    for i in 0..4 {
        assert_ne!(x[i], y[i], "value {i} repeats across isolates: {x} vs {y}");
    }
}

#[test]
fn timers_of_one_call_never_fire_in_the_next() {
    let (_dir, snapshot) = host_snapshot();
    let mut iso = isolate(&snapshot);
    run(
        &mut iso,
        "globalThis.leaks = []; setTimeout(() => leaks.push('timeout'), 30); setInterval(() => leaks.push('interval'), 5); return 1;",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(80));
    let value = run(
        &mut iso,
        "await new Promise((r) => setTimeout(r, 60)); return globalThis.leaks;",
    )
    .unwrap();
    assert_eq!(value, serde_json::json!([]));
}

#[test]
fn a_promise_waiting_past_the_deadline_times_out_naming_the_entry() {
    let (_dir, snapshot) = host_snapshot();
    let mut iso = SsrIsolate::from_snapshot(
        &snapshot,
        SsrConfig {
            call_timeout: Duration::from_millis(150),
            ..SsrConfig::default()
        },
    )
    .unwrap();
    let started = Instant::now();
    let error = run(
        &mut iso,
        "await new Promise((r) => setTimeout(r, 10000)); return 1;",
    )
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    match &error {
        Error::Timeout { entry, ms } => {
            assert_eq!(entry, "__rex_get_server_side_props");
            assert_eq!(*ms, 150);
        }
        other => panic!("expected a timeout, got {other}"),
    }
}

#[test]
fn a_promise_that_can_never_settle_is_reported_not_awaited_forever() {
    let (_dir, snapshot) = host_snapshot();
    let mut iso = isolate(&snapshot);
    let error = run(&mut iso, "await new Promise(() => {}); return 1;").unwrap_err();
    assert!(matches!(error, Error::Stalled { .. }), "{error}");
    assert!(error.to_string().contains("can never settle"));
}

#[test]
fn rejections_become_errors_with_stacks_and_unhandled_ones_are_reported() {
    let (_dir, snapshot) = host_snapshot();
    let mut iso = isolate(&snapshot);
    let error = run(
        &mut iso,
        "await new Promise((r) => setTimeout(r, 1)); throw new TypeError('async failure');",
    )
    .unwrap_err();
    let js = error.as_js().expect("JS error");
    assert!(js.message.contains("TypeError: async failure"), "{js}");
    assert!(js.stack.as_deref().unwrap_or("").contains("at "), "{js:?}");
    assert!(
        iso.take_unhandled_rejections().is_empty(),
        "the call's own rejection is not 'unhandled'"
    );
    run(&mut iso, "Promise.reject(new Error('nobody listens')); await new Promise((r) => setTimeout(r, 1)); return 1;").unwrap();
    let unhandled = iso.take_unhandled_rejections();
    assert_eq!(unhandled.len(), 1, "{unhandled:?}");
    assert!(
        unhandled[0].contains("nobody listens") && unhandled[0].contains("at "),
        "{unhandled:?}"
    );
}

#[test]
fn env_is_an_allowlist_of_the_host_environment() {
    std::env::set_var("COLDSTART_ALLOWED_VAR", "yes");
    std::env::set_var("COLDSTART_SECRET_VAR", "no");
    let (_dir, snapshot) = host_snapshot();
    let runtime = RuntimeOptions::default()
        .env_from_allowlist(["COLDSTART_ALLOWED_VAR", "COLDSTART_UNSET_VAR"]);
    let mut iso = with_runtime(&snapshot, runtime);
    let value = run(&mut iso, "return process.env;").unwrap();
    assert_eq!(value, serde_json::json!({"COLDSTART_ALLOWED_VAR": "yes"}));
}

// ------------------------------------------------------------------------------------------
// Polyfills loaded on first use (`// lazy-globals:` in src/js, src/js/14_lazy.js).

/// Every global a lazily loaded polyfill declares, from the engine's own polyfill table.
fn lazy_globals() -> Vec<&'static str> {
    coldstart::polyfills::POLYFILLS
        .iter()
        .filter_map(|polyfill| polyfill.lazy)
        .flat_map(|lazy| lazy.globals.iter().copied())
        .collect()
}

#[test]
fn lazy_polyfills_load_on_first_use_and_define_exactly_what_they_declare() {
    let names = lazy_globals();
    for expected in [
        "URL",
        "ReadableStream",
        "TextEncoderStream",
        "fetch",
        "Response",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} is not lazy: {names:?}"
        );
    }
    let (_dir, snapshot) = host_snapshot();
    let mut iso = isolate(&snapshot);
    let code = format!(
        r#"
        const names = {names};
        const isAccessor = (n) => typeof Object.getOwnPropertyDescriptor(globalThis, n).get === "function";
        const before = Object.getOwnPropertyNames(globalThis);
        const lazyBefore = names.filter(isAccessor).length;
        const types = [...new Set(names.map((n) => typeof globalThis[n]))];
        const after = Object.getOwnPropertyNames(globalThis);
        const shapes = [...new Set(names.map((n) => JSON.stringify(Object.getOwnPropertyDescriptor(globalThis, n), (k, v) => (k === "value" ? undefined : v))))];
        return {{ lazyBefore, types, shapes, added: after.filter((n) => !before.includes(n)),
                  works: [new URL("/a?b=1", "https://x.test").searchParams.get("b"), new Response("hi").status] }};
        "#,
        names = serde_json::to_string(&names).unwrap()
    );
    assert_eq!(
        run(&mut iso, &code).unwrap(),
        serde_json::json!({
            "lazyBefore": names.len(),
            "types": ["function"],
            "shapes": [r#"{"writable":true,"enumerable":false,"configurable":true}"#],
            "added": [],
            "works": ["1", 200],
        })
    );
}

#[test]
fn a_lazy_global_the_bundle_replaced_keeps_the_bundles_value() {
    let (_dir, snapshot) = host_snapshot();
    let mut iso = isolate(&snapshot);
    let code = r#"
        globalThis.fetch = function mine() {};
        delete globalThis.Blob;
        const request = new Request("http://x.test/", { headers: { a: "1" } }); // loads fetch's file
        structuredClone({ plain: true });
        return [fetch.name, typeof Blob, request.headers.get("a"), typeof Response];
    "#;
    assert_eq!(
        run(&mut iso, code).unwrap(),
        serde_json::json!(["mine", "undefined", "1", "function"])
    );
}

/// A lazily loaded polyfill is in the snapshot when the build used it (here the bundle's top
/// level), and only then: a bundle that merely names one (React's server build names
/// `ReadableStream` for a streaming renderer a synchronous render never calls) keeps its code
/// cache instead, and loads it on first use after the restore.
#[test]
fn a_lazy_polyfill_is_in_the_snapshot_when_the_build_used_it() {
    let (_dir, plain) = host_snapshot();
    // Named only in a function the build never calls: not used, not loaded.
    let naming_bundle = Bundle::new(
        "naming-app.js",
        format!("{HOST_APP}\nglobalThis.__later = () => new ReadableStream();"),
    );
    let (_dir2, naming) = snapshot_of(&naming_bundle);
    // Used by the top level: loaded at build, in the snapshot.
    let using_bundle = Bundle::new(
        "using-app.js",
        format!("{HOST_APP}\nglobalThis.__stream = new ReadableStream();"),
    );
    let (_dir3, using) = snapshot_of(&using_bundle);
    // The streams' objects and compiled code are about 100 KiB of heap; their code cache is
    // bytes outside it.
    let heap_kib = |s: &Snapshot| s.header().metadata.heap_bytes / 1024;
    let (plain_kib, naming_kib, using_kib) =
        (heap_kib(&plain), heap_kib(&naming), heap_kib(&using));
    assert!(
        naming_kib < plain_kib + 20,
        "naming streams took the heap from {plain_kib} KiB to {naming_kib} KiB: loaded by name?"
    );
    assert!(
        plain_kib + 50 < using_kib,
        "using streams took the heap from {plain_kib} KiB to {using_kib} KiB only: not loaded?"
    );
    let lazy_then_working = "
        const lazy = ['ReadableStream', 'WritableStream', 'URL', 'fetch']
            .map((n) => typeof Object.getOwnPropertyDescriptor(globalThis, n).get === 'function');
        return [lazy, new URL('https://x.test/p').pathname + typeof new ReadableStream().getReader];";
    for (snapshot, lazy) in [
        (&plain, [true, true, true, true]),
        (&naming, [true, true, true, true]),
        (&using, [false, false, true, true]),
    ] {
        let mut iso = isolate(snapshot);
        assert_eq!(
            run(&mut iso, lazy_then_working).unwrap(),
            serde_json::json!([lazy, "/pfunction"])
        );
    }
    // A fresh isolate (no snapshot) likewise loads only what the bundle's evaluation uses.
    for (bundle, lazy) in [
        (&naming_bundle, [true, true, true, true]),
        (&using_bundle, [false, false, true, true]),
    ] {
        let mut fresh = SsrIsolate::fresh(&engine(), bundle, SsrConfig::default()).unwrap();
        assert_eq!(
            run(&mut fresh, lazy_then_working).unwrap(),
            serde_json::json!([lazy, "/pfunction"])
        );
    }
}

#[test]
fn structured_clone_of_a_plain_object_does_not_load_fetch() {
    let (_dir, snapshot) = host_snapshot();
    let mut iso = isolate(&snapshot);
    let code = r#"
        const isLazy = () => typeof Object.getOwnPropertyDescriptor(globalThis, "Blob").get === "function";
        structuredClone({ a: [1, new Uint8Array(2)] });
        const lazyAfterPlain = isLazy();
        const copy = structuredClone(new File(["ab"], "f.txt", { type: "text/plain" }));
        return [lazyAfterPlain, isLazy(), copy instanceof File, copy.name, copy.size];
    "#;
    assert_eq!(
        run(&mut iso, code).unwrap(),
        serde_json::json!([true, false, true, "f.txt", 2])
    );
}

// ------------------------------------------------------------------------------------------
// Snapshot hygiene.

#[test]
fn hygiene_report_names_what_the_snapshot_froze() {
    let bundle = Bundle::from_file(fixture("errors/hygiene.js")).unwrap();
    let error = SnapshotBuilder::new(&engine(), &bundle)
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Hygiene(_)), "{error}");
    assert!(
        error.to_string().contains("1 timer(s) are still pending"),
        "{error}"
    );
    let built = SnapshotBuilder::new(&engine(), &bundle)
        .options(BuildOptions {
            allow_pending_timers: true,
            ..BuildOptions::default()
        })
        .build()
        .unwrap();
    let report = &built.header.metadata.hygiene;
    assert_eq!(report.date_now_reads, 1);
    assert_eq!(report.performance_reads, 2);
    assert_eq!(report.math_random_calls, 1);
    assert_eq!(report.env_reads, vec!["HOME".to_string()]);
    assert_eq!(report.pending_timers, 1);
    let findings = report.findings().join("\n");
    for needle in ["clock", "Math.random", "process.env", "timer"] {
        assert!(findings.contains(needle), "{findings}");
    }
    // A clean bundle has no findings, and the probe leaves nothing behind.
    let clean = SnapshotBuilder::new(&engine(), &small_app())
        .build()
        .unwrap();
    assert!(clean.header.metadata.hygiene.findings().is_empty());
    let (_dir, snapshot) = snapshot_of(&Bundle::new("probe-check.js", HOST_APP));
    let mut iso = isolate(&snapshot);
    let value = run(&mut iso, "return [Date.name, typeof Date.now(), Math.random.name, new Date(0).getTime(), Date === globalThis.Date, Object.getOwnPropertyNames(performance), performance.now.name];").unwrap();
    assert_eq!(
        value,
        serde_json::json!(["Date", "number", "random", 0, true, [], "now"])
    );
}

#[test]
fn builds_report_unsettled_promises() {
    let bundle = Bundle::new(
        "pending.js",
        format!("globalThis.never = new Promise(() => {{}});\n{HOST_APP}"),
    );
    let built = SnapshotBuilder::new(&engine(), &bundle).build().unwrap();
    assert!(built.header.metadata.hygiene.unsettled_promises >= 1);
}
