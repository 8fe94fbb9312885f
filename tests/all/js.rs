//! The JS polyfill tests (`tests/js/*.test.js`) run inside coldstart, in an isolate restored from
//! a snapshot (the polyfills are in the snapshot; harness and tests are evaluated after restore).
//! `tests/js/run-node.mjs` runs the same files in Node against a stand-in host.

use std::time::Duration;

use coldstart::{Bundle, Runtime};

use crate::common::*;

/// Runs `f` in an isolate restored from a snapshot, with the harness (`tests/js/harness.js`)
/// evaluated in it.
fn with_harness<R>(f: impl FnOnce(&mut Runtime) -> R) -> R {
    let bundle = Bundle::from_file(fixture("errors/minimal.js")).unwrap();
    let (_store, snapshot) = snapshot_of(&bundle);
    let mut iso = isolate(&snapshot);
    let runtime = iso.runtime();
    let harness = std::fs::read_to_string(root().join("tests/js/harness.js")).unwrap();
    runtime
        .eval(&harness, "harness.js", Duration::from_secs(10))
        .unwrap();
    f(runtime)
}

fn run_js_test(file: &str) {
    with_harness(|runtime| run_js_file(runtime, file));
}

fn run_js_file(runtime: &mut Runtime, file: &str) {
    let dir = root().join("tests/js");
    let source = std::fs::read_to_string(dir.join(file)).unwrap();
    let timeout = Duration::from_secs(60);
    if let Some(line) = source.lines().find(|l| l.starts_with("// vectors: ")) {
        for vector in line.trim_start_matches("// vectors: ").split_whitespace() {
            let text = std::fs::read_to_string(dir.join("vectors").join(vector)).unwrap();
            runtime.eval(&text, vector, timeout).unwrap();
        }
    }
    runtime.eval(&source, file, timeout).unwrap();
    let report = runtime
        .eval("__run_tests()", "run-tests.js", timeout)
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let failed = report["failed"].as_array().unwrap();
    assert!(
        failed.is_empty(),
        "{file}: {} failed\n{}",
        failed.len(),
        failed
            .iter()
            .map(|f| format!("- {}\n  {}", f["name"], f["message"].as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        report["passed"].as_u64().unwrap() > 0,
        "{file} ran no tests"
    );
}

/// The harness must be able to fail inside the engine too: a failed assertion, a rejected async
/// test and a deep-equality mismatch are each reported as failures, and only the passing test counts.
#[test]
fn harness_reports_failures() {
    with_harness(|runtime| {
        let timeout = Duration::from_secs(10);
        let tests = r#"
            __test("passes", () => assert.equal(1, 1));
            __test("fails", () => assert.equal(1, 2));
            __test("rejects", async () => { await new Promise((r) => setTimeout(r, 1)); throw "plain"; });
            __test("deep", () => assert.deepEqual(new Map([[1, 2]]), new Map([[1, 3]])));
        "#;
        runtime.eval(tests, "self-check.js", timeout).unwrap();
        let report = runtime
            .eval("__run_tests()", "run-tests.js", timeout)
            .unwrap();
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        assert_eq!(report["passed"], 1, "{report}");
        let failed: Vec<&str> = report["failed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(failed, ["fails", "rejects", "deep"], "{report}");
    });
}

macro_rules! js_tests {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $name() { run_js_test($file); })*
    };
}

js_tests! {
    clone => "clone.test.js",
    console => "console.test.js",
    crypto => "crypto.test.js",
    encoding => "encoding.test.js",
    events => "events.test.js",
    fetch_types => "fetch-types.test.js",
    message_channel => "message-channel.test.js",
    process => "process.test.js",
    streams => "streams.test.js",
    timers => "timers.test.js",
    url => "url.test.js",
    worker => "worker.test.js",
}

#[test]
fn every_js_test_file_is_wired_up() {
    let listed = [
        "clone",
        "console",
        "crypto",
        "encoding",
        "events",
        "fetch-types",
        "message-channel",
        "process",
        "streams",
        "timers",
        "url",
        "worker",
    ];
    let mut found: Vec<String> = std::fs::read_dir(root().join("tests/js"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".test.js").map(str::to_string))
        .collect();
    found.sort();
    assert_eq!(found, listed);
}
