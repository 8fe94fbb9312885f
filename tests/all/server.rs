//! The HTTP server: request flow, admin endpoints, reload under load, signals.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coldstart::pool::{IsolatePool, Isolation};
use coldstart::server::{self, AppState, ReloadAccess, ServeOptions};

use crate::common::*;

struct TestServer {
    addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    fn start(dir: &Path, source: &str, isolation: Isolation) -> TestServer {
        Self::start_with(
            dir,
            source,
            isolation,
            "127.0.0.1:0",
            ReloadAccess::Loopback,
        )
    }

    /// A server listening on `listen`, reloading for whom `reload_access` lets in.
    fn start_with(
        dir: &Path,
        source: &str,
        isolation: Isolation,
        listen: &str,
        reload_access: ReloadAccess,
    ) -> TestServer {
        let bundle = write_bundle(dir, source);
        let config = pool_config(dir, isolation, 256, Duration::from_millis(400));
        let pool = IsolatePool::start(&engine(), &bundle, config).unwrap();
        let options = ServeOptions {
            reload_access,
            ..ServeOptions::default()
        };
        let state = AppState::with_options(pool, bundle, options);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (listener, addr) = runtime
            .block_on(server::bind(listen.parse().unwrap()))
            .unwrap();
        let task = runtime.spawn(server::serve(listener, state, async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            runtime,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let url = self.url(path);
        self.runtime.block_on(async move {
            // A request that outlives every deadline of the server is a failure, not a wait.
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let response = client.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.text().await.unwrap())
        })
    }

    fn post(&self, path: &str, body: &str) -> (u16, String) {
        self.post_as(self.url(path), body, None)
    }

    /// POSTs `body` to `url` (which may name another address of this machine), with `Bearer
    /// token` when given.
    fn post_as(&self, url: String, body: &str, token: Option<&str>) -> (u16, String) {
        let body = body.to_string();
        let token = token.map(str::to_string);
        self.runtime.block_on(async move {
            let mut request = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap()
                .post(url)
                .body(body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = self.runtime.block_on(task);
        }
    }
}

#[test]
fn pages_become_full_documents() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &pool_app("v1"), Isolation::PerWorker);
    let (status, headers, body) = server.get("/hello?q=world");
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(
        body.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"),
        "{body}"
    );
    assert!(
        body.contains("<meta name=\"v\" content=\"v1\"><title>v1</title></head>"),
        "{body}"
    );
    assert!(body.contains("<body class=\"app\"><div id=\"__rex\"><p>v1 /hello hits=0 q=world</p></div></body></html>"), "{body}");
}

#[test]
fn redirects_not_found_errors_and_api_routes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &pool_app("v1"), Isolation::PerWorker);
    let (status, headers, _) = server.get("/old");
    assert_eq!(status, 308);
    assert_eq!(headers["location"], "/new");
    assert_eq!(server.get("/gone").0, 404);
    assert_eq!(
        server.get("/missing").0,
        404,
        "a render error naming a missing page is a 404"
    );
    let (status, _, body) = server.get("/throws");
    assert_eq!(status, 500);
    assert!(
        !body.contains("render failed on purpose"),
        "no JS details in the response body"
    );
    let (status, headers, body) = server.get("/api/hello?name=ada");
    assert_eq!(status, 200);
    assert_eq!(headers["x-version"], "v1");
    assert_eq!(body, r#"{"hello":"ada","method":"GET"}"#);
    assert_eq!(server.get("/api/nope").0, 404);
    let (status, body) = server.post("/api/hello", "payload");
    assert_eq!(status, 200);
    assert!(body.contains("\"method\":\"POST\""));
    assert_eq!(server.post("/page", "x").0, 405);
}

/// The props `__rex_get_server_side_props` returns reach `__rex_render_page` as the bundle wrote
/// them (key order, number spelling), not re-serialised by the server; `redirect: null` and
/// `notFound: false` are no outcome, and JSON that is not an object means no props.
#[test]
fn props_reach_the_render_as_the_bundle_wrote_them() {
    let app = r#"
globalThis.__rex_render_page = (route, propsJson) => JSON.stringify({ body: propsJson, head: "" });
globalThis.__rex_get_static_props = () => "{}";
globalThis.__rex_get_server_side_props = (route) => {
  if (route === "/list") return "[1, 2]";
  if (route === "/nulls") return '{"redirect": null, "notFound": false, "props": {"ok": true}}';
  return '{"props": {"zeta": 1.50, "alpha": [3, 2], "mid": {"b": 1, "a": 2}}}';
};
"#;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), app, Isolation::PerWorker);
    let page = |path: &str| {
        let (status, _, body) = server.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        let start = body.find("<div id=\"__rex\">").unwrap() + "<div id=\"__rex\">".len();
        body[start..body.rfind("</div>").unwrap()].to_string()
    };
    assert_eq!(
        page("/"),
        r#"{"zeta": 1.50, "alpha": [3, 2], "mid": {"b": 1, "a": 2}}"#
    );
    assert_eq!(page("/nulls"), r#"{"ok": true}"#);
    assert_eq!(page("/list"), "{}");
}

#[test]
fn middleware_redirects_rewrites_and_adds_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &pool_app("v1"), Isolation::PerWorker);
    let (status, headers, _) = server.get("/mw-redirect");
    assert_eq!(status, 307);
    assert_eq!(headers["location"], "/target");
    let (status, _, body) = server.get("/mw-rewrite");
    assert_eq!(status, 200);
    assert!(body.contains("/rewritten"), "{body}");
    let (_, headers, _) = server.get("/mw-headers");
    assert_eq!(headers["x-mw"], "yes");
}

#[test]
fn runaway_code_gets_504_and_500_while_the_server_lives() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &pool_app("v1"), Isolation::PerWorker);
    let started = Instant::now();
    assert_eq!(server.get("/spin").0, 504);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.get("/bomb").0, 500);
    assert_eq!(server.get("/recurse").0, 500);
    assert_eq!(server.get("/fine").0, 200);
    let (_, _, metrics) = server.get("/_coldstart/metrics");
    assert!(
        metrics.contains("coldstart_http_requests_total{status=\"504\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("coldstart_isolates_discarded_total"));
}

#[test]
fn per_request_isolation_leaks_no_global_state() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &pool_app("v1"), Isolation::PerRequest);
    for _ in 0..4 {
        let (_, _, body) = server.get("/state");
        assert!(body.contains("hits=1"), "{body}");
    }
}

#[test]
fn health_metrics_and_reload_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &pool_app("v1"), Isolation::PerWorker);
    let started = Instant::now();
    while server.get("/_coldstart/health").0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    }
    write_bundle(dir.path(), &pool_app("v2"));
    let (status, body) = server.post("/_coldstart/reload", "");
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["generation"], 2);
    assert_eq!(report["key"].as_str().unwrap().len(), 64);
    assert!(server.get("/").2.contains("v2"));
    write_bundle(dir.path(), "throw new Error('bad reload')");
    let (status, body) = server.post("/_coldstart/reload", "");
    assert_eq!(status, 422);
    assert!(body.contains("bad reload"), "{body}");
    assert!(
        server.get("/").2.contains("v2"),
        "old snapshot keeps serving"
    );
    let (_, _, metrics) = server.get("/_coldstart/metrics");
    for needle in [
        "coldstart_reloads_succeeded_total 1",
        "coldstart_reloads_failed_total 1",
        "coldstart_snapshot_generation 2",
        "coldstart_http_request_duration_seconds_bucket{le=\"+Inf\"}",
        "coldstart_isolates_created_total",
    ] {
        assert!(metrics.contains(needle), "missing {needle}:\n{metrics}");
    }
}

#[test]
fn reload_under_concurrent_load_fails_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &pool_app("v1"), Isolation::PerWorker);
    let base = server.url("");
    let bundle = dir.path().to_path_buf();
    let results = server.runtime.block_on(async move {
        let client = reqwest::Client::new();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let response = client.get(format!("{base}/load")).send().await.unwrap();
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap();
                    seen.push((status, body.contains("v2")));
                }
                seen
            }));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        write_bundle(&bundle, &pool_app("v2"));
        let reload = client
            .post(format!("{base}/_coldstart/reload"))
            .send()
            .await
            .unwrap();
        assert_eq!(reload.status().as_u16(), 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    });
    assert!(
        results.len() > 50,
        "load generator made {} requests",
        results.len()
    );
    assert!(
        results.iter().all(|(status, _)| *status == 200),
        "every request succeeded"
    );
    assert!(
        results.iter().any(|(_, v2)| !v2),
        "old content served before the reload"
    );
    assert!(
        results.last().unwrap().1 || results.iter().rev().take(8).any(|(_, v2)| *v2),
        "new content after"
    );
}

/// This machine's address on its default route, when it has one that is not loopback.
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // No packet is sent: connecting a UDP socket only picks the route and its source address.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Without a token, a reload is only accepted from a loopback address: the same server refuses
/// it (403, nothing reloaded) when the client comes in through the machine's public address.
#[test]
fn reload_over_http_is_loopback_only_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &pool_app("v1"),
        Isolation::PerWorker,
        "0.0.0.0:0",
        ReloadAccess::Loopback,
    );
    let port = server.addr.port();
    write_bundle(dir.path(), &pool_app("v2"));
    let Some(ip) = non_loopback_address() else {
        eprintln!(
            "\n*** reload_over_http_is_loopback_only_without_a_token: this machine has no \
             non-loopback address; only the loopback half ran ***\n"
        );
        let (status, body) = server.post_as(
            format!("http://127.0.0.1:{port}/_coldstart/reload"),
            "",
            None,
        );
        assert_eq!(status, 200, "{body}");
        return;
    };
    let (status, body) = server.post_as(format!("http://{ip}:{port}/_coldstart/reload"), "", None);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("loopback"), "{body}");
    assert!(
        server.get("/").2.contains("v1"),
        "a refused reload reloaded"
    );
    let (status, body) = server.post_as(
        format!("http://127.0.0.1:{port}/_coldstart/reload"),
        "",
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(server.get("/").2.contains("v2"));
}

/// With a token, a reload needs `Authorization: Bearer TOKEN` from every address, loopback
/// included (a reverse proxy on the same machine makes every client look local).
#[test]
fn reload_over_http_with_a_token_needs_it_from_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &pool_app("v1"),
        Isolation::PerWorker,
        "127.0.0.1:0",
        ReloadAccess::token("s3cret"),
    );
    write_bundle(dir.path(), &pool_app("v2"));
    let url = server.url("/_coldstart/reload");
    for token in [None, Some("wrong"), Some("S3cret"), Some("s3cret2")] {
        let (status, body) = server.post_as(url.clone(), "", token);
        assert_eq!(status, 401, "{token:?}: {body}");
        assert!(server.get("/").2.contains("v1"), "{token:?} reloaded");
    }
    let (status, body) = server.post_as(url, "", Some("s3cret"));
    assert_eq!(status, 200, "{body}");
    assert!(server.get("/").2.contains("v2"));
}
