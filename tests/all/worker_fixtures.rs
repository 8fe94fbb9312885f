//! The framework fixtures (`fixtures/workers/`, built by `scripts/gen-worker-fixtures.sh` with
//! pinned versions) answer every recorded request exactly as real `workerd` did — status,
//! headers, body — from a snapshot and fresh. `expected.json` is workerd's output.

use std::path::Path;

use coldstart::worker::{AppKind, WorkerRequest};
use coldstart::{Bundle, BundleFormat, SsrConfig, SsrIsolate};
use serde_json::Value;

use crate::common::{engine, fixture, snapshot_of};

struct Fixture {
    dir: std::path::PathBuf,
    meta: Value,
    requests: Vec<Value>,
    expected: Vec<Value>,
}

fn load(name: &str) -> Fixture {
    let dir = fixture(&format!("workers/{name}"));
    let read = |file: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
    };
    let meta = read("fixture.json");
    let requests = read("requests.json").as_array().unwrap().clone();
    let expected = read("expected.json").as_array().unwrap().clone();
    Fixture {
        dir,
        meta,
        requests,
        expected,
    }
}

impl Fixture {
    fn bundle(&self) -> Bundle {
        let entry = self.dir.join(self.meta["entry"].as_str().unwrap());
        Bundle::from_file_as(entry, BundleFormat::Auto, None).unwrap()
    }

    fn config(&self) -> SsrConfig {
        let mut config = SsrConfig::default();
        if let Some(assets) = self.meta["assets"].as_str() {
            config.runtime.assets_dir = Some(self.dir.join(assets));
        }
        config
    }

    fn request(&self, request: &Value) -> WorkerRequest {
        let origin = self.meta["origin"].as_str().unwrap();
        WorkerRequest {
            method: request["method"].as_str().unwrap().to_string(),
            url: format!("{origin}{}", request["path"].as_str().unwrap()),
            headers: request["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
            body: request["body"].as_str().map(|b| b.as_bytes().to_vec()),
        }
    }

    /// Status, headers and body of each recorded request.
    fn answer(
        &self,
        iso: &mut SsrIsolate,
        request: &Value,
    ) -> (u16, Vec<(String, String)>, String) {
        if iso.app_kind() == AppKind::Render {
            let template =
                std::fs::read_to_string(self.dir.join(self.meta["template"].as_str().unwrap()))
                    .unwrap();
            let page = iso.render_url(request["path"].as_str().unwrap()).unwrap();
            let headers = vec![(
                "content-type".to_string(),
                "text/html; charset=utf-8".to_string(),
            )];
            return (
                page.status.unwrap_or(200),
                headers,
                page.in_template(&template),
            );
        }
        let response = iso.fetch_collect(&self.request(request)).unwrap();
        let body = String::from_utf8(response.body()).unwrap();
        (response.status, response.headers, body)
    }

    fn check(&self, iso: &mut SsrIsolate, how: &str) {
        let name = self.dir.file_name().unwrap().to_string_lossy().to_string();
        for (request, expected) in self.requests.iter().zip(&self.expected) {
            let label = format!("{name} {} ({how})", request["name"].as_str().unwrap());
            let (status, headers, body) = self.answer(iso, request);
            assert_eq!(
                status as u64,
                expected["status"].as_u64().unwrap(),
                "{label}: status"
            );
            for (header, value) in expected["headers"].as_object().unwrap() {
                let ours: Vec<&str> = headers
                    .iter()
                    .filter(|(n, _)| n == header)
                    .map(|(_, v)| v.as_str())
                    .collect();
                assert_eq!(
                    ours.join(", "),
                    value.as_str().unwrap(),
                    "{label}: header {header}"
                );
            }
            assert_eq!(body, expected["body"].as_str().unwrap(), "{label}: body");
        }
    }
}

fn matches_workerd(name: &str) {
    let fixture = load(name);
    let bundle = fixture.bundle();
    let (_dir, snapshot) = snapshot_of(&bundle);
    let mut restored = SsrIsolate::from_snapshot(&snapshot, fixture.config()).unwrap();
    fixture.check(&mut restored, "snapshot");
    let mut fresh = SsrIsolate::fresh(&engine(), &bundle, fixture.config()).unwrap();
    fixture.check(&mut fresh, "fresh");
    assert!(Path::new(&fixture.dir).exists());
}

#[test]
fn hono_matches_workerd() {
    matches_workerd("hono");
}

#[test]
fn react_stream_matches_workerd() {
    matches_workerd("react-stream");
}

#[test]
fn sveltekit_matches_workerd() {
    matches_workerd("sveltekit");
}

#[test]
fn astro_matches_workerd() {
    matches_workerd("astro");
}

#[test]
fn vue_vite_matches_workerd() {
    matches_workerd("vue-vite");
}
