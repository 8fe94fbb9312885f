//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};

use coldstart::pool::{BuildMode, Isolation, PoolConfig};
use coldstart::snapshot::{BuildOptions, SnapshotStore};
use coldstart::Limits;
use coldstart::{Bundle, Snapshot, SsrConfig, SsrIsolate};

/// The process's engine (default flags).
pub fn engine() -> coldstart::Engine {
    coldstart::Engine::init(coldstart::EngineConfig::default()).expect("engine")
}

/// Repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A committed fixture file.
pub fn fixture(path: &str) -> PathBuf {
    root().join("fixtures").join(path)
}

/// A small valid bundle: every required global, sync + async paths, env and errors.
pub const SMALL_APP: &str = r#"
var renders = 0;
globalThis.__rex_render_page = function (route, propsJson) {
  renders++;
  if (route === "/throws") { throw new Error("boom in " + route); }
  var props = JSON.parse(propsJson);
  return JSON.stringify({ body: "<main>" + route + ":" + (props.items || []).join(",") + "</main>", head: "<title>" + route + "</title>" });
};
globalThis.__rex_get_server_side_props = function (route, ctx) {
  return JSON.stringify({ props: { route: route, greeting: process.env.COLDSTART_TEST_GREETING || null, renders: renders } });
};
globalThis.__rex_get_static_props = function (route) { return JSON.stringify({ props: { static: route } }); };
"#;

/// [`SMALL_APP`] as a bundle named `small-app.js`.
pub fn small_app() -> Bundle {
    Bundle::new("small-app.js", SMALL_APP)
}

/// A temp store.
pub fn temp_store() -> (tempfile::TempDir, SnapshotStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::open(&engine(), dir.path().join("snapshots")).expect("open store");
    (dir, store)
}

/// Builds `bundle` into a fresh temp store and returns the snapshot (with the dir to keep alive).
pub fn snapshot_of(bundle: &Bundle) -> (tempfile::TempDir, Snapshot) {
    let (dir, store) = temp_store();
    let loaded = store
        .get_or_build(bundle, &BuildOptions::default())
        .expect("build snapshot");
    (dir, loaded.snapshot)
}

/// An isolate restored from `snapshot` with default settings.
pub fn isolate(snapshot: &Snapshot) -> SsrIsolate {
    SsrIsolate::from_snapshot(snapshot, SsrConfig::default()).expect("restore isolate")
}

/// Reads a file to bytes.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read file")
}

/// A bundle for pool and server tests: versioned content, state, runaway code, slow routes.
pub fn pool_app(version: &str) -> String {
    format!(
        r#"
var VERSION = "{version}";
globalThis.__rex_render_page = function (route, propsJson) {{
  if (route === "/spin") {{ while (true) {{}} }}
  if (route === "/bomb") {{ var keep = []; while (true) {{ keep.push(new Array(100000).fill(keep.length)); }} }}
  if (route === "/recurse") {{ var f = function (n) {{ return f(n + 1) + 1; }}; return f(0); }}
  if (route === "/slow") {{ var end = Date.now() + 300; while (Date.now() < end) {{}} }}
  if (route === "/state") {{ globalThis.hits = (globalThis.hits || 0) + 1; }}
  if (route === "/throws") {{ throw new Error("render failed on purpose"); }}
  if (route === "/missing") {{ throw new Error("Page not found: " + route); }}
  var props = JSON.parse(propsJson);
  return JSON.stringify({{ body: "<p>" + VERSION + " " + route + " hits=" + (globalThis.hits || 0) + " q=" + (props.q || "") + "</p>", head: "<title>" + VERSION + "</title>" }});
}};
globalThis.__rex_get_server_side_props = function (route, ctxJson) {{
  var ctx = JSON.parse(ctxJson);
  if (route === "/old") return JSON.stringify({{ redirect: {{ destination: "/new", permanent: true }} }});
  if (route === "/gone") return JSON.stringify({{ notFound: true }});
  return JSON.stringify({{ props: {{ q: ctx.query.q || "" }} }});
}};
globalThis.__rex_get_static_props = function () {{ return JSON.stringify({{ props: {{}} }}); }};
globalThis.__rex_call_api_handler = function (route, reqJson) {{
  var req = JSON.parse(reqJson);
  if (route === "/api/hello") return JSON.stringify({{ statusCode: 200, headers: {{ "x-version": VERSION }}, body: {{ hello: req.query.name || "world", method: req.method }} }});
  return JSON.stringify({{ statusCode: 404, headers: {{}}, body: "no such api" }});
}};
globalThis.__rex_run_middleware = function (reqJson) {{
  var req = JSON.parse(reqJson);
  if (req.pathname === "/mw-redirect") return JSON.stringify({{ action: "redirect", url: "/target", status: 307 }});
  if (req.pathname === "/mw-rewrite") return JSON.stringify({{ action: "rewrite", url: "/rewritten" }});
  if (req.pathname === "/mw-headers") return JSON.stringify({{ action: "next", response_headers: {{ "x-mw": "yes" }} }});
  return JSON.stringify({{ action: "next" }});
}};
globalThis.__rex_render_document = function () {{
  return JSON.stringify({{ htmlAttrs: {{ lang: "en" }}, bodyAttrs: {{ class: "app" }}, headContent: "<meta name=\"v\" content=\"" + VERSION + "\">" }});
}};
"#
    )
}

/// Writes `source` to `dir/app.js` and returns the path.
pub fn write_bundle(dir: &Path, source: &str) -> PathBuf {
    let path = dir.join("app.js");
    std::fs::write(&path, source).unwrap();
    path
}

/// A 2-worker, in-process-build pool over `dir/store` with a 64 MiB heap limit and `timeout`.
pub fn pool_config(
    dir: &Path,
    isolation: Isolation,
    queue: usize,
    timeout: std::time::Duration,
) -> PoolConfig {
    PoolConfig {
        workers: 2,
        queue_per_worker: queue,
        isolation,
        ssr: SsrConfig {
            call_timeout: timeout,
            limits: Limits {
                max_heap_mb: Some(64),
                ..Limits::default()
            },
            ..SsrConfig::default()
        },
        build_mode: BuildMode::InProcess,
        store_dir: dir.join("store"),
        ..PoolConfig::default()
    }
}

/// Runs `f` on its own thread and returns its result, or panics naming `what` when it has not
/// finished after `limit` — so that a broken deadline fails the test quickly instead of hanging
/// it (the stuck thread is abandoned with the failing test process).
pub fn within<T: Send + 'static>(
    limit: std::time::Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(8 * 1024 * 1024)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within {limit:?}: a deadline was not enforced"),
    }
}
