//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};

use coldstart::snapshot::{BuildOptions, SnapshotStore};
use coldstart::{Bundle, Snapshot, SsrConfig, SsrIsolate};

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
    let store = SnapshotStore::open(dir.path().join("snapshots")).expect("open store");
    (dir, store)
}

/// Builds `bundle` into a fresh temp store and returns the snapshot (with the dir to keep alive).
pub fn snapshot_of(bundle: &Bundle) -> (tempfile::TempDir, Snapshot) {
    let (dir, store) = temp_store();
    let loaded = store.get_or_build(bundle, &BuildOptions::default()).expect("build snapshot");
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
