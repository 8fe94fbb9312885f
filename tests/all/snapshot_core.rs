//! Snapshot build → store → map → isolate, and equality with the fresh (no-snapshot) path.

use coldstart::snapshot::{BuildOptions, FunctionCode, KeyInputs, WarmupCall};
use coldstart::{Bundle, Origin, RuntimeOptions, SsrConfig, SsrIsolate};

use crate::common::*;

#[test]
fn snapshot_render_equals_fresh_render() {
    let bundle = small_app();
    let (_dir, snapshot) = snapshot_of(&bundle);
    let mut fresh = SsrIsolate::fresh(&engine(), &bundle, SsrConfig::default()).unwrap();
    let mut restored = isolate(&snapshot);
    assert_eq!(fresh.origin(), Origin::Fresh);
    assert_eq!(restored.origin(), Origin::Snapshot);
    for (route, props) in [
        ("/", r#"{"items":[1,2,3]}"#),
        ("/about", "{}"),
        ("/p/7", r#"{"items":["x"]}"#),
    ] {
        let a = fresh.render_page(route, props).unwrap();
        let b = restored.render_page(route, props).unwrap();
        assert_eq!(a, b, "route {route}");
        assert!(a.body.contains(route));
    }
    drop(restored);
    drop(fresh);
}

#[test]
fn env_is_injected_after_restore_and_never_frozen() {
    let bundle = small_app();
    let (_dir, snapshot) = snapshot_of(&bundle);
    let mut runtime = RuntimeOptions::default();
    runtime
        .env
        .insert("COLDSTART_TEST_GREETING".into(), "hello".into());
    let config = SsrConfig {
        runtime,
        ..SsrConfig::default()
    };
    let mut with_env = SsrIsolate::from_snapshot(&snapshot, config).unwrap();
    let props = with_env.get_server_side_props("/", "{}").unwrap();
    assert!(props.contains(r#""greeting":"hello""#), "{props}");
    drop(with_env);
    let mut without = isolate(&snapshot);
    let props = without.get_server_side_props("/", "{}").unwrap();
    assert!(props.contains(r#""greeting":null"#), "{props}");
}

#[test]
fn each_restored_isolate_starts_from_the_snapshot_state() {
    let bundle = small_app();
    let (_dir, snapshot) = snapshot_of(&bundle);
    let mut first = isolate(&snapshot);
    first.render_page("/", "{}").unwrap();
    first.render_page("/", "{}").unwrap();
    let props = first.get_server_side_props("/", "{}").unwrap();
    assert!(props.contains(r#""renders":2"#), "{props}");
    drop(first);
    let mut second = isolate(&snapshot);
    let props = second.get_server_side_props("/", "{}").unwrap();
    assert!(props.contains(r#""renders":0"#), "{props}");
}

#[test]
fn key_changes_with_bundle_polyfills_flags_and_options() {
    let engine = engine();
    let bundle = small_app();
    let options = BuildOptions::default();
    let inputs = KeyInputs::of(&engine);
    let base = inputs.key(&bundle, &options);
    assert_eq!(
        base,
        inputs.key(&bundle, &options),
        "the key is deterministic"
    );

    let edited = Bundle::new("small-app.js", format!("{SMALL_APP}\n// edit"));
    assert_ne!(base, inputs.key(&edited, &options), "bundle source");
    let renamed = Bundle::new("other.js", SMALL_APP);
    assert_ne!(
        base,
        inputs.key(&renamed, &options),
        "bundle name (stack traces)"
    );

    let mut polyfills = inputs.clone();
    polyfills.polyfills[0] ^= 1;
    assert_ne!(base, polyfills.key(&bundle, &options), "polyfills");

    let mut flags = inputs.clone();
    flags.v8_flags = "--max-lazy".into();
    assert_ne!(base, flags.key(&bundle, &options), "V8 flags");

    let mut v8 = inputs.clone();
    v8.v8_version = "0.0.0".into();
    assert_ne!(base, v8.key(&bundle, &options), "V8 version");

    let mut refs = inputs.clone();
    refs.external_references[0] ^= 1;
    assert_ne!(base, refs.key(&bundle, &options), "external references");

    let clear = BuildOptions {
        function_code: FunctionCode::Clear,
        ..BuildOptions::default()
    };
    assert_ne!(base, inputs.key(&bundle, &clear), "function code handling");
    let warm = BuildOptions {
        warmup: vec![WarmupCall {
            route: "/".into(),
            props_json: "{}".into(),
        }],
        ..BuildOptions::default()
    };
    assert_ne!(base, inputs.key(&bundle, &warm), "warm-up");
}

#[test]
fn warmup_and_clear_builds_render_the_same() {
    let bundle = small_app();
    let (_dir, store) = temp_store();
    let mut outputs = Vec::new();
    for options in [
        BuildOptions::default(),
        BuildOptions {
            function_code: FunctionCode::Clear,
            ..BuildOptions::default()
        },
        BuildOptions {
            warmup: vec![WarmupCall {
                route: "/".into(),
                props_json: r#"{"items":[1]}"#.into(),
            }],
            ..BuildOptions::default()
        },
    ] {
        let loaded = store.get_or_build(&bundle, &options).unwrap();
        assert!(!loaded.cached);
        let mut iso = isolate(&loaded.snapshot);
        outputs.push(iso.render_page("/x", r#"{"items":["a","b"]}"#).unwrap());
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn the_mapping_lives_as_long_as_its_isolates() {
    let bundle = small_app();
    let (_dir, snapshot) = snapshot_of(&bundle);
    let base = snapshot.handle_count();
    let iso = isolate(&snapshot);
    assert_eq!(
        snapshot.handle_count(),
        base + 1,
        "the isolate holds the mapping"
    );
    let path = snapshot.path().to_path_buf();
    drop(snapshot);
    // The file can even be deleted: the isolate keeps its mapping.
    std::fs::remove_file(&path).unwrap();
    let mut iso = iso;
    assert!(iso.render_page("/", "{}").unwrap().body.contains("<main>/"));
}
