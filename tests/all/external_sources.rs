//! Bundle sources live in the snapshot file's source section, outside the V8 heap: the blob V8
//! deserialises does not carry them, and everything that reads a source after a restore
//! (`Function.prototype.toString`, stack positions) sees the same text as a fresh isolate.

use coldstart::worker::WorkerRequest;
use coldstart::{Bundle, SsrConfig, SsrIsolate};

use crate::common::{engine, isolate, snapshot_of};

/// A script bundle whose `big` function holds `filler` in a comment (a string literal's value
/// would be a heap string of its own), and whose `__rex_get_server_side_props` reports `big`'s
/// text and the stack of an error thrown after the filler on the same line.
fn script_app(filler: &str) -> String {
    format!(
        r#"
function big() {{ /* {filler} */ return 1; }} function sameLine() {{ throw new Error("after"); }}
globalThis.__rex_render_page = function () {{ return JSON.stringify({{ body: "", head: "" }}); }};
globalThis.__rex_get_static_props = function () {{ return "{{}}"; }};
globalThis.__rex_get_server_side_props = function () {{
  let stack = "";
  try {{ sameLine(); }} catch (e) {{ stack = e.stack; }}
  return JSON.stringify({{ text: big.toString(), stack }});
}};
"#
    )
}

fn props(iso: &mut SsrIsolate) -> serde_json::Value {
    serde_json::from_str(&iso.get_server_side_props("/", "{}").expect("props")).unwrap()
}

/// Latin-1 sources (one byte per character in V8) and sources with any other character (two)
/// are both kept out of the blob, and read back exactly.
#[test]
fn script_sources_are_read_from_the_file_not_the_blob() {
    for (what, unit) in [("Latin-1", "caf\u{e9} "), ("two-byte", "\u{2026}\u{2502} ")] {
        let small = Bundle::new("small.js", script_app(unit));
        let filler = unit.repeat(100_000);
        let large = Bundle::new("large.js", script_app(&filler));
        let (_d1, small_snapshot) = snapshot_of(&small);
        let (_d2, large_snapshot) = snapshot_of(&large);
        let blob = |s: &coldstart::Snapshot| s.header().metadata.startup_len as usize;
        let source_bytes = filler.chars().count() * if what == "Latin-1" { 1 } else { 2 };
        assert!(
            blob(&large_snapshot) < blob(&small_snapshot) + source_bytes / 20,
            "{what}: a {source_bytes}-byte source grew the V8 blob from {} to {} bytes",
            blob(&small_snapshot),
            blob(&large_snapshot)
        );
        assert!(
            large_snapshot.payload().len() > blob(&large_snapshot) + source_bytes,
            "{what}: the source section holds the source"
        );
        let restored = props(&mut isolate(&large_snapshot));
        let fresh = props(&mut SsrIsolate::fresh(&engine(), &large, SsrConfig::default()).unwrap());
        assert_eq!(
            restored["text"],
            format!("function big() {{ /* {filler} */ return 1; }}"),
            "{what}"
        );
        // (The frames below differ: V8 drops inferred names like `globalThis.f` from
        // functions compiled eagerly, which a fresh isolate does not do.)
        let top = |v: &serde_json::Value| {
            let stack = v["stack"].as_str().unwrap();
            (
                v["text"].clone(),
                stack.lines().take(2).collect::<Vec<_>>().join("\n"),
            )
        };
        assert_eq!(
            top(&restored),
            top(&fresh),
            "{what}: a restored isolate reads the source as a fresh one"
        );
        // Columns count UTF-16 units, as V8 does.
        let line = script_app(&filler).lines().nth(1).unwrap().to_string();
        let column = line[..line.find("new Error").unwrap()]
            .encode_utf16()
            .count()
            + 1;
        let stack = restored["stack"].as_str().unwrap();
        assert!(
            stack.contains(&format!("(large.js:2:{column})")),
            "{what}: expected column {column} in {stack}"
        );
    }
}

/// Every file of a module bundle is external, whatever its characters.
#[test]
fn module_sources_are_read_from_the_file_not_the_blob() {
    let lib = format!(
        "export function label() {{ /* {} */ return \"\u{2026}\u{2026}\"; }}\n",
        "\u{2026}".repeat(50_000)
    );
    let worker = r#"
import { label } from "./lib.js";
export default {
  fetch() { return new Response(label.toString().length + " " + label().slice(0, 2)); },
};
"#;
    let bundle = Bundle::from_modules(
        "worker.js",
        vec![
            ("worker.js".into(), worker.into()),
            ("lib.js".into(), lib.clone()),
        ],
    )
    .unwrap();
    let (_dir, snapshot) = snapshot_of(&bundle);
    let blob = snapshot.header().metadata.startup_len as usize;
    assert!(
        snapshot.payload().len() >= blob + 100_000,
        "the two-byte module is in the source section"
    );
    let (_dir, small) = snapshot_of(
        &Bundle::from_modules(
            "worker.js",
            vec![
                ("worker.js".into(), worker.into()),
                (
                    "lib.js".into(),
                    "export function label() { return \"\u{2026}\u{2026}\"; }\n".into(),
                ),
            ],
        )
        .unwrap(),
    );
    let small_blob = small.header().metadata.startup_len as usize;
    assert!(
        blob < small_blob + 5_000,
        "a 100 000-byte module grew the V8 blob from {small_blob} to {blob} bytes"
    );
    // `toString` of an exported declaration starts at `function`.
    let text = lib.trim_end().trim_start_matches("export ");
    let expected = format!("{} \u{2026}\u{2026}", text.encode_utf16().count());
    let request = WorkerRequest {
        method: "GET".into(),
        url: "http://x.test/".into(),
        ..Default::default()
    };
    for mut iso in [
        SsrIsolate::from_snapshot(&snapshot, SsrConfig::default()).unwrap(),
        SsrIsolate::fresh(&engine(), &bundle, SsrConfig::default()).unwrap(),
    ] {
        let response = iso.fetch_collect(&request).unwrap();
        assert_eq!(String::from_utf8(response.body()).unwrap(), expected);
    }
}

/// V8 reads a source whenever it needs it, long after the restore: a snapshot file truncated in
/// place meanwhile must not take the process down (a read of the vanished mapped pages would
/// raise SIGBUS), nor change what the live isolate reads.
#[test]
fn a_snapshot_truncated_under_a_live_isolate_leaves_its_sources_readable() {
    let filler = "\u{2026} ".repeat(50_000);
    let bundle = Bundle::new("truncated.js", script_app(&filler));
    let (_dir, snapshot) = snapshot_of(&bundle);
    let mut iso = isolate(&snapshot);
    let path = snapshot.path().to_path_buf();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&path, permissions).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(4096)
        .unwrap();
    let props = props(&mut iso);
    assert_eq!(
        props["text"],
        format!("function big() {{ /* {filler} */ return 1; }}")
    );
    assert!(props["stack"]
        .as_str()
        .unwrap()
        .contains("(truncated.js:2:"));
}
