//! The generated fixture bundles (React 19, Preact, Vue 3, marked, TypeScript) produce exactly the
//! output Node produces for every case in `fixtures/cases/`, both from a snapshot and fresh.

use coldstart::snapshot::{BuildOptions, SnapshotStore, WarmupCall};
use coldstart::{Bundle, Error, RuntimeOptions, SsrConfig, SsrIsolate};
use serde_json::Value;

use crate::common::*;

/// Runs one case in `iso`, returning the result string or the error message.
fn run_case(iso: &mut SsrIsolate, case: &Value) -> Result<String, Error> {
    let entry = case["entry"].as_str().unwrap();
    let args: Vec<String> = case["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let with_request = case.get("request").is_some();
    if with_request {
        let request = &case["request"];
        iso.set_request_context(&request["headers"], &request["cookies"])?;
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = iso.call(entry.parse()?, &refs);
    if with_request {
        iso.clear_request_context();
    }
    result
}

fn config_for(case: &Value) -> SsrConfig {
    let mut runtime = RuntimeOptions::default();
    if let Some(env) = case.get("env").and_then(Value::as_object) {
        for (k, v) in env {
            runtime
                .env
                .insert(k.clone(), v.as_str().unwrap().to_string());
        }
    }
    SsrConfig {
        runtime,
        ..SsrConfig::default()
    }
}

/// Compares every case of `name` against Node's expected output, on isolates restored from a
/// snapshot (one isolate reused across cases, as a worker would) and on fresh isolates.
fn check_bundle(name: &str, warmup: Option<(&str, &str)>) {
    let bundle = Bundle::from_file(fixture(&format!("dist/{name}.js"))).unwrap();
    let expected: Vec<Value> =
        serde_json::from_slice(&std::fs::read(fixture(&format!("expected/{name}.json"))).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(&engine(), dir.path()).unwrap();
    let options = BuildOptions {
        warmup: warmup
            .map(|(route, props)| {
                vec![WarmupCall {
                    route: route.into(),
                    props_json: props.into(),
                }]
            })
            .unwrap_or_default(),
        ..BuildOptions::default()
    };
    let snapshot = store.get_or_build(&bundle, &options).unwrap().snapshot;
    let mut shared = SsrIsolate::from_snapshot(&snapshot, SsrConfig::default()).unwrap();
    let mut failures = Vec::new();
    for (i, case) in expected.iter().enumerate() {
        let mut dedicated;
        let iso = if case.get("env").is_some() {
            dedicated = SsrIsolate::from_snapshot(&snapshot, config_for(case)).unwrap();
            &mut dedicated
        } else {
            &mut shared
        };
        let got = run_case(iso, case);
        match (case.get("result"), case.get("error"), &got) {
            (Some(want), _, Ok(text)) if want.as_str() == Some(text.as_str()) => {}
            (_, Some(want), Err(error)) => {
                let message = error
                    .as_js()
                    .map(|js| js.message.clone())
                    .unwrap_or_else(|| error.to_string());
                if !message.contains(want.as_str().unwrap()) {
                    failures.push(format!(
                        "case {i} {}: error {message:?} lacks {want}",
                        case["args"]
                    ));
                }
            }
            _ => failures.push(format!(
                "case {i} {} {}:\n  want {:?}\n  got  {:?}",
                case["entry"],
                case["args"],
                case.get("result").or(case.get("error")),
                got
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} mismatches\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The fresh (no snapshot) path renders the same, on a sample of cases.
    for case in expected
        .iter()
        .filter(|c| c.get("result").is_some() && c.get("env").is_none())
        .take(12)
    {
        let mut fresh = SsrIsolate::fresh(&engine(), &bundle, config_for(case)).unwrap();
        let got = run_case(&mut fresh, case).unwrap();
        assert_eq!(
            Some(got.as_str()),
            case["result"].as_str(),
            "fresh {name} {}",
            case["args"]
        );
    }
}

#[test]
fn react_matches_node_for_every_entry_point() {
    check_bundle("react-app", Some(("/", r#"{"items":["warm"]}"#)));
}

#[test]
fn preact_matches_node() {
    check_bundle("preact-app", None);
}

#[test]
fn vue_matches_node() {
    check_bundle("vue-app", None);
}

#[test]
fn marked_matches_node() {
    check_bundle("marked-app", None);
}

#[test]
fn typescript_matches_node() {
    check_bundle("typescript-app", None);
}

#[test]
fn react_entry_points_through_the_typed_api() {
    let bundle = Bundle::from_file(fixture("dist/react-app.js")).unwrap();
    let (_dir, snapshot) = snapshot_of(&bundle);
    let mut iso = isolate(&snapshot);
    let page = iso.render_page("/head", "{}").unwrap();
    assert!(
        page.head.contains("<meta name=\"description\""),
        "{}",
        page.head
    );
    let next = iso.render_page("/about", "{}").unwrap();
    assert_eq!(
        next.head, "<title>About</title>",
        "head elements reset between renders"
    );
    assert_eq!(
        iso.get_static_paths("/about").unwrap().as_deref(),
        Some(r#"{"paths":[],"fallback":false}"#)
    );
    assert!(iso
        .render_document()
        .unwrap()
        .unwrap()
        .contains("\"lang\":\"en\""));
    assert!(iso.list_mcp_tools().unwrap().unwrap().contains("slow_echo"));
    assert!(iso
        .call_server_action_encoded("double", "[8]", false)
        .unwrap()
        .contains("16"));
    match iso.render_rsc_flight("/rsc-missing", "{}").unwrap() {
        coldstart::RscOutcome::NotFound => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    match iso.render_rsc_to_html("/rsc-redirect", "{}").unwrap() {
        coldstart::RscOutcome::Redirect { status, url } => {
            assert_eq!((status, url.as_str()), (307, "/login"))
        }
        other => panic!("expected Redirect, got {other:?}"),
    }
    match iso
        .render_rsc_to_html("/rsc-async", r#"{"items":[1]}"#)
        .unwrap()
    {
        coldstart::RscOutcome::Rendered(r) => {
            assert!(r.body.contains("<li>1</li>"));
            assert!(r.flight.starts_with("0:[\"$\",\"div\""));
        }
        other => panic!("expected Rendered, got {other:?}"),
    }
}

#[test]
fn absent_optional_entries_are_none_or_not_loaded() {
    let bundle = Bundle::from_file(fixture("errors/minimal.js")).unwrap();
    let (_dir, snapshot) = snapshot_of(&bundle);
    let mut iso = isolate(&snapshot);
    assert_eq!(iso.get_static_paths("/").unwrap(), None);
    assert_eq!(iso.run_middleware("{}").unwrap(), None);
    assert_eq!(iso.render_document().unwrap(), None);
    assert_eq!(iso.list_mcp_tools().unwrap(), None);
    for error in [
        iso.call_api_handler("/api/x", "{}").unwrap_err(),
        iso.call_app_route_handler("/x", "{}").unwrap_err(),
        iso.call_mcp_tool("x", "{}").unwrap_err(),
        iso.call_server_action("x", "[]").unwrap_err(),
        iso.call_form_action("{}").unwrap_err(),
        iso.render_rsc_flight("/", "{}").unwrap_err(),
    ] {
        assert!(matches!(error, Error::NotLoaded { .. }), "{error}");
        assert!(error.to_string().contains("is not loaded"));
    }
}
