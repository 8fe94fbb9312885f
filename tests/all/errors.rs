//! Refusals: corrupt or incompatible snapshot files become typed errors in-process (V8 never sees
//! them), and JS errors at build or call time name the file, line and global.

use coldstart::snapshot::format::{offsets, HEADER_LEN};
use coldstart::snapshot::{BuildOptions, SnapshotBuilder};
use coldstart::{Bundle, Error, Snapshot, SnapshotError, SsrConfig, SsrIsolate};

use crate::common::*;

/// Writes a modified copy of a valid snapshot and opens it.
fn open_modified(modify: impl FnOnce(&mut Vec<u8>)) -> Result<Snapshot, Error> {
    let (dir, snapshot) = snapshot_of(&small_app());
    let mut bytes = read(snapshot.path());
    drop(snapshot);
    modify(&mut bytes);
    let path = dir.path().join("modified.snap");
    std::fs::write(&path, &bytes).unwrap();
    let result = Snapshot::open(&engine(), &path);
    drop(dir);
    result
}

fn refusal(result: Result<Snapshot, Error>) -> SnapshotError {
    match result {
        Err(Error::Snapshot(e)) => *e,
        Err(other) => panic!("expected a snapshot refusal, got {other}"),
        Ok(_) => panic!("a bad snapshot was accepted"),
    }
}

#[test]
fn truncated_file_is_refused() {
    let e = refusal(open_modified(|b| b.truncate(b.len() - 100)));
    assert!(matches!(e, SnapshotError::Truncated { .. }), "{e}");
    assert!(e.to_string().contains("truncated"));
    let e = refusal(open_modified(|b| b.truncate(HEADER_LEN / 2)));
    assert!(matches!(e, SnapshotError::Truncated { .. }), "{e}");
    let e = refusal(open_modified(|b| b.truncate(0)));
    assert!(matches!(e, SnapshotError::Truncated { .. }), "{e}");
}

#[test]
fn one_flipped_payload_byte_is_refused() {
    let e = refusal(open_modified(|b| {
        let middle = HEADER_LEN + (b.len() - HEADER_LEN) / 2;
        b[middle] ^= 0x01;
    }));
    assert!(matches!(e, SnapshotError::PayloadChecksum { .. }), "{e}");
}

#[test]
fn bad_magic_is_refused() {
    let e = refusal(open_modified(|b| b[0..8].copy_from_slice(b"NOTSNAP!")));
    assert!(matches!(e, SnapshotError::BadMagic { .. }), "{e}");
}

#[test]
fn another_v8_version_is_refused_by_name() {
    let e = refusal(open_modified(|b| {
        let field = offsets::V8_VERSION;
        b[field.clone()].fill(0);
        b[field.start..field.start + 9].copy_from_slice(b"12.0.0.0-");
        offsets::reseal(b);
    }));
    match e {
        SnapshotError::V8Version {
            found, expected, ..
        } => {
            assert_eq!(found, "12.0.0.0-");
            assert_eq!(expected, engine().v8_version());
        }
        other => panic!("expected V8Version, got {other}"),
    }
}

#[test]
fn another_external_reference_table_is_refused() {
    let e = refusal(open_modified(|b| {
        b[offsets::EXTERNAL_REFERENCES.start] ^= 0xff;
        offsets::reseal(b);
    }));
    assert!(matches!(e, SnapshotError::ExternalReferences { .. }), "{e}");
}

#[test]
fn another_format_version_is_refused_by_number() {
    let e = refusal(open_modified(|b| {
        b[offsets::FORMAT_VERSION].copy_from_slice(&7u32.to_le_bytes());
        offsets::reseal(b);
    }));
    match e {
        SnapshotError::FormatVersion {
            found, expected, ..
        } => assert_eq!(
            (found, expected),
            (7, coldstart::snapshot::format::FORMAT_VERSION)
        ),
        other => panic!("expected FormatVersion, got {other}"),
    }
}

#[test]
fn another_coldstart_version_is_refused_by_name() {
    let e = refusal(open_modified(|b| {
        let field = offsets::ENGINE_VERSION;
        b[field.clone()].fill(0);
        b[field.start..field.start + 5].copy_from_slice(b"9.9.9");
        offsets::reseal(b);
    }));
    match e {
        SnapshotError::EngineVersion {
            found, expected, ..
        } => {
            assert_eq!(found, "9.9.9");
            assert_eq!(expected, coldstart::engine::ENGINE_VERSION);
        }
        other => panic!("expected EngineVersion, got {other}"),
    }
}

#[test]
fn a_malformed_header_is_refused() {
    // Name + metadata lengths that overflow the header (checksum resealed: only the structure
    // check can catch it).
    let e = refusal(open_modified(|b| {
        b[offsets::NAME_AND_METADATA_LENGTHS].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        offsets::reseal(b);
    }));
    assert!(
        matches!(&e, SnapshotError::Malformed { detail, .. } if detail.contains("overflow")),
        "{e}"
    );
    // Metadata that is not JSON.
    let e = refusal(open_modified(|b| {
        let name_len = u16::from_le_bytes([b[264], b[265]]) as usize;
        b[268 + name_len] = b'!';
        offsets::reseal(b);
    }));
    assert!(
        matches!(&e, SnapshotError::Malformed { detail, .. } if detail.contains("metadata")),
        "{e}"
    );
}

#[test]
fn a_tampered_header_is_refused() {
    let e = refusal(open_modified(|b| b[300] ^= 0x20));
    assert!(matches!(e, SnapshotError::HeaderChecksum { .. }), "{e}");
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let bundle = Bundle::new("broken.js", "var ok = 1;\nvar also = 2;\nfunction ( {\n");
    let error = SnapshotBuilder::new(&engine(), &bundle)
        .build()
        .unwrap_err();
    let js = error.as_js().expect("a JS error");
    assert_eq!(js.file.as_deref(), Some("broken.js"));
    assert_eq!(js.line, Some(3));
    assert!(js.message.contains("SyntaxError"), "{js}");
    assert!(error.to_string().contains("broken.js:3"), "{error}");
    // The fresh path reports the same.
    let fresh = SsrIsolate::fresh(&engine(), &bundle, SsrConfig::default())
        .err()
        .expect("fresh must fail");
    assert_eq!(fresh.as_js().and_then(|j| j.line), Some(3));
}

#[test]
fn a_throw_at_load_names_file_line_and_stack() {
    let source =
        "var x = 1;\nfunction explode() {\n  throw new Error('exploded at load');\n}\nexplode();\n";
    let bundle = Bundle::new("throws.js", source);
    let error = SnapshotBuilder::new(&engine(), &bundle)
        .build()
        .unwrap_err();
    let js = error.as_js().expect("a JS error");
    assert_eq!(js.file.as_deref(), Some("throws.js"));
    assert_eq!(js.line, Some(3));
    assert!(js.message.contains("exploded at load"));
    let stack = js.stack.as_deref().unwrap();
    assert!(stack.contains("at explode (throws.js:3:"), "{stack}");
    assert!(
        error.to_string().contains("evaluating throws.js"),
        "{error}"
    );
}

#[test]
fn a_missing_required_global_is_named() {
    let bundle = Bundle::new(
        "partial.js",
        "globalThis.__rex_render_page = () => '{}';\nglobalThis.__rex_get_static_props = () => '{}';\n",
    );
    match SnapshotBuilder::new(&engine(), &bundle).build() {
        Err(Error::MissingGlobal { bundle, global }) => {
            assert_eq!(bundle, "partial.js");
            assert_eq!(global, "__rex_get_server_side_props");
        }
        other => panic!("expected MissingGlobal, got {other:?}"),
    }
    let fresh = SsrIsolate::fresh(&engine(), &bundle, SsrConfig::default())
        .err()
        .unwrap();
    assert!(fresh.to_string().contains("__rex_get_server_side_props"));
}

#[test]
fn a_throwing_render_reports_message_file_and_stack() {
    let (_dir, snapshot) = snapshot_of(&small_app());
    let mut iso = isolate(&snapshot);
    let error = iso.render_page("/throws", "{}").unwrap_err();
    let js = error.as_js().expect("JS error");
    assert!(js.message.contains("boom in /throws"));
    assert_eq!(js.file.as_deref(), Some("small-app.js"));
    assert!(js.stack.as_deref().unwrap().contains("small-app.js:5:"));
    // The isolate stays usable after a JS exception.
    assert!(iso.render_page("/", "{}").is_ok());
}

#[test]
fn failed_builds_leave_no_file_in_the_store() {
    let (_dir, store) = temp_store();
    let bundle = Bundle::new("bad.js", "throw new Error('nope')");
    assert!(store
        .get_or_build(&bundle, &BuildOptions::default())
        .is_err());
    assert_eq!(std::fs::read_dir(store.dir()).unwrap().count(), 0);
}
