//! The `coldstart` binary: pinned flags and output shapes, and clean failures on bad input.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::bin::*;
use crate::common::*;

fn coldstart(dir: &Path, args: &[&str]) -> Output {
    run_within(dir, args, Duration::from_secs(120))
}

fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), SMALL_APP).unwrap();
    dir
}

/// Bad input fails with one clear line on stderr and exit code 1 or 2 — never a signal.
fn assert_clean_failure(o: &Output, needle: &str) {
    let code = o.status.code().expect("exited, not killed by a signal");
    assert!((1..=2).contains(&code), "exit code {code}");
    let err = stderr(o);
    assert!(
        err.contains(needle),
        "stderr should mention {needle:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
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
    assert_eq!(h["v8_version"], coldstart::Engine::get().v8_version());
    assert_eq!(h["key"], v["key"]);
    assert_eq!(h["bundle"], "app.js");
    assert_eq!(h["loadable"], true);
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
    assert_clean_failure(&coldstart(dir.path(), &["build"]), "BUNDLE");
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
    let keys: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success());
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["key"].as_str().unwrap().to_string()
        })
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
