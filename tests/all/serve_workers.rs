//! `coldstart serve` with module workers, through the binary and a real HTTP client (reqwest):
//! bodies streamed as the worker yields them, the framework fixtures as workerd answered them,
//! `render(url)` with a template, errors, deadlines, `env`, `ctx.waitUntil`, reload.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bin::ServeProcess;
use crate::common::fixture;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The chunks of a response body as the client received them, with when each arrived.
async fn chunks(response: &mut reqwest::Response) -> Vec<(Instant, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        out.push((Instant::now(), chunk.to_vec()));
    }
    out
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

const STREAMING_WORKER: &str = r#"
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/slow") {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("first;"));
          setTimeout(() => { controller.enqueue(new TextEncoder().encode("second")); controller.close(); }, 1500);
        },
      });
      return new Response(body, { headers: { "content-type": "text/plain" } });
    }
    if (url.pathname === "/broken-stream") {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("partial"));
          setTimeout(() => controller.error(new Error("stream broke")), 10);
        },
      });
      return new Response(body);
    }
    if (url.pathname === "/throws") throw new Error("handler failed");
    if (url.pathname === "/not-a-response") return "text";
    if (url.pathname === "/spin") for (;;) {}
    if (url.pathname === "/later") {
      ctx.waitUntil(new Promise((resolve) => setTimeout(() => { globalThis.done = (globalThis.done || 0) + 1; resolve(); }, 200)));
      return new Response("scheduled");
    }
    if (url.pathname === "/done") return new Response(String(globalThis.done || 0));
    return Response.json({
      method: request.method,
      url: request.url,
      greeting: env.GREETING ?? null,
      secret: env.SECRET_NAME ?? null,
      path: env.PATH ?? null,
      body: request.method === "POST" ? await request.text() : null,
    });
  },
};
"#;

#[test]
fn a_streamed_body_reaches_the_client_as_the_worker_yields_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("worker.mjs", STREAMING_WORKER)]);
    let server = ServeProcess::start(dir.path(), "worker.mjs", &["--workers", "1"]);
    let url = format!("http://{}/slow", server.addr);
    let received = runtime().block_on(async move {
        let mut response = client().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        chunks(&mut response).await
    });
    let text: Vec<String> = received
        .iter()
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .collect();
    assert_eq!(text.concat(), "first;second");
    assert_eq!(
        text[0], "first;",
        "the first chunk is sent on its own: {text:?}"
    );
    let gap = received.last().unwrap().0 - received[0].0;
    // The second chunk is produced 1.5 s after the first: a server that held the body back would
    // deliver both together.
    assert!(
        gap >= Duration::from_millis(1000),
        "first chunk held back: gap {gap:?}"
    );
}

#[test]
fn react_suspense_sends_the_shell_before_the_boundary_resolves() {
    let dir = fixture("workers/react-stream");
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let stream = expected.iter().find(|e| e["name"] == "stream").unwrap();
    let shell = stream["stream_chunks"][0].as_str().unwrap().to_string();
    let store = tempfile::tempdir().unwrap();
    let store_arg = store.path().to_str().unwrap().to_string();
    let server = ServeProcess::start(&dir, "dist/worker.js", &["--store", &store_arg]);
    let url = format!("http://{}/stream?name=Ada", server.addr);
    let received = runtime().block_on(async move {
        let mut response = client().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        chunks(&mut response).await
    });
    let first = String::from_utf8_lossy(&received[0].1).into_owned();
    assert_eq!(
        first, shell,
        "the first chunk is the shell, with the fallback"
    );
    assert!(!first.contains("id=\"comments\""));
    let body: Vec<u8> = received.iter().flat_map(|(_, c)| c.clone()).collect();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        stream["body"].as_str().unwrap()
    );
}

/// Sends every recorded request of a fixture through `serve` and compares with workerd.
fn serve_matches_workerd(name: &str, extra: &[&str]) {
    let dir = fixture(&format!("workers/{name}"));
    let read = |file: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
    };
    let meta = read("fixture.json");
    let requests = read("requests.json");
    let expected = read("expected.json");
    let store = tempfile::tempdir().unwrap();
    let store_arg = store.path().to_str().unwrap().to_string();
    let mut args = vec!["--store", store_arg.as_str()];
    args.extend_from_slice(extra);
    let server = ServeProcess::start(&dir, meta["entry"].as_str().unwrap(), &args);
    let host = meta["origin"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .to_string();
    let addr = server.addr.clone();
    runtime().block_on(async move {
        let client = client();
        for (request, expected) in requests
            .as_array()
            .unwrap()
            .iter()
            .zip(expected.as_array().unwrap())
        {
            let label = format!("{name} {}", request["name"]);
            let method =
                reqwest::Method::from_bytes(request["method"].as_str().unwrap().as_bytes())
                    .unwrap();
            let mut builder = client
                .request(
                    method,
                    format!("http://{addr}{}", request["path"].as_str().unwrap()),
                )
                .header("host", &host);
            for (k, v) in request["headers"].as_object().unwrap() {
                builder = builder.header(k, v.as_str().unwrap());
            }
            if let Some(body) = request["body"].as_str() {
                builder = builder.body(body.to_string());
            }
            let response = builder.send().await.unwrap();
            assert_eq!(
                response.status().as_u16() as u64,
                expected["status"].as_u64().unwrap(),
                "{label}"
            );
            for (header, value) in expected["headers"].as_object().unwrap() {
                let ours: Vec<&str> = response
                    .headers()
                    .get_all(header.as_str())
                    .iter()
                    .map(|v| v.to_str().unwrap())
                    .collect();
                assert_eq!(
                    ours.join(", "),
                    value.as_str().unwrap(),
                    "{label}: {header}"
                );
            }
            let body = response.text().await.unwrap();
            assert_eq!(body, expected["body"].as_str().unwrap(), "{label}: body");
        }
    });
}

#[test]
fn hono_over_http_matches_workerd() {
    serve_matches_workerd("hono", &[]);
}

#[test]
fn sveltekit_over_http_matches_workerd() {
    serve_matches_workerd("sveltekit", &[]);
}

#[test]
fn astro_over_http_matches_workerd() {
    serve_matches_workerd("astro", &["--assets", "dist-client"]);
}

#[test]
fn a_render_module_is_served_in_its_template() {
    serve_matches_workerd("vue-vite", &["--template", "index.html"]);
}

#[test]
fn errors_deadlines_env_and_wait_until() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("worker.mjs", STREAMING_WORKER)]);
    let server = ServeProcess::start(
        dir.path(),
        "worker.mjs",
        &[
            "--workers",
            "1",
            "--timeout-ms",
            "500",
            "--var",
            "GREETING=hello",
            "--env",
            "PATH",
        ],
    );
    let base = format!("http://{}", server.addr);
    runtime().block_on(async move {
        let client = client();
        let get = |path: &str| client.get(format!("{base}{path}")).send();
        let json: Value =
            serde_json::from_str(&get("/").await.unwrap().text().await.unwrap()).unwrap();
        assert_eq!(json["greeting"], "hello");
        assert_eq!(json["path"], std::env::var("PATH").unwrap().as_str());
        assert_eq!(
            json["secret"],
            Value::Null,
            "only --env names and --var reach env"
        );
        assert!(
            json["url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:"),
            "{json}"
        );
        let posted = client
            .post(format!("{base}/echo"))
            .body("payload")
            .send()
            .await
            .unwrap();
        let posted: Value = serde_json::from_str(&posted.text().await.unwrap()).unwrap();
        assert_eq!(posted["body"], "payload");

        let throws = get("/throws").await.unwrap();
        assert_eq!(throws.status(), 500);
        assert!(
            !throws.text().await.unwrap().contains("handler failed"),
            "no JS error text to clients"
        );
        assert_eq!(get("/not-a-response").await.unwrap().status(), 500);
        assert_eq!(get("/spin").await.unwrap().status(), 504);

        // A stream that fails after the head: the client sees a broken body, not a short one.
        let mut broken = get("/broken-stream").await.unwrap();
        assert_eq!(broken.status(), 200);
        let mut failed = false;
        loop {
            match broken.chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed, "a body cut off by an error must not end cleanly");

        // ctx.waitUntil work runs after the response was sent.
        assert_eq!(
            get("/later").await.unwrap().text().await.unwrap(),
            "scheduled"
        );
        assert_eq!(get("/done").await.unwrap().text().await.unwrap(), "1");
        // The server is still healthy after all of it.
        assert_eq!(get("/").await.unwrap().status(), 200);
    });
}

#[test]
fn reload_picks_up_a_changed_chunk() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("dist/worker.js", "import { v } from './chunks/v.js';\nexport default { fetch: () => new Response(v) };"),
            ("dist/chunks/v.js", "export const v = 'one';"),
        ],
    );
    let server = ServeProcess::start(dir.path(), "dist/worker.js", &["--workers", "1"]);
    let base = format!("http://{}", server.addr);
    std::fs::write(
        dir.path().join("dist/chunks/v.js"),
        "export const v = 'two';",
    )
    .unwrap();
    runtime().block_on(async move {
        let client = client();
        assert_eq!(
            client
                .get(format!("{base}/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "one"
        );
        let reload = client
            .post(format!("{base}/_coldstart/reload"))
            .send()
            .await
            .unwrap();
        assert_eq!(reload.status(), 200, "{}", reload.text().await.unwrap());
        assert_eq!(
            client
                .get(format!("{base}/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "two"
        );
    });
}
