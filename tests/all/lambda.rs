//! `coldstart lambda` end to end against a local stand-in for the AWS Lambda Runtime API (the
//! real one cannot run here): `GET /2018-06-01/runtime/invocation/next`, `POST
//! …/invocation/{id}/response|error` and `POST …/init/error`, implemented from the Runtime API
//! documentation with hyper. One event of each kind — API Gateway REST (stage in the path), HTTP
//! API, ALB, Function URL — goes through a module worker, and an init failure is reported.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{json, Value};

use crate::bin::command;

/// What the stand-in Runtime API saw.
#[derive(Default)]
struct Recorded {
    /// When the runtime first asked for an invocation (its init phase was over).
    first_next: Option<Instant>,
    /// When the first response arrived.
    first_response: Option<Instant>,
    /// Events still to hand out.
    queue: VecDeque<(String, Value)>,
    /// Responses by request id.
    responses: Vec<(String, Value)>,
    /// Invocation errors by request id.
    errors: Vec<(String, Value)>,
    /// Init errors (body, error-type header).
    init_errors: Vec<(Value, String)>,
}

struct RuntimeApi {
    addr: String,
    recorded: Arc<Mutex<Recorded>>,
    _runtime: tokio::runtime::Runtime,
}

async fn api(
    recorded: Arc<Mutex<Recorded>>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_string();
    let streaming = request
        .headers()
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|v| v == "streaming");
    let error_type = request
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    // A streamed response is a JSON prelude (status, headers, cookies), eight NUL bytes, then
    // the body (the documented http-integration-response format).
    let parsed = || {
        if streaming {
            let split = body
                .windows(8)
                .position(|w| w == [0u8; 8])
                .unwrap_or(body.len());
            let prelude = serde_json::from_slice::<Value>(&body[..split]).unwrap_or(Value::Null);
            let rest = body.get(split + 8..).unwrap_or_default();
            return json!({ "prelude": prelude, "body": String::from_utf8_lossy(rest) });
        }
        serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null)
    };
    let ok = |status: u16| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from_static(b"{\"status\":\"OK\"}")))
            .unwrap()
    };
    if path == "/2018-06-01/runtime/invocation/next" {
        recorded
            .lock()
            .unwrap()
            .first_next
            .get_or_insert_with(Instant::now);
        loop {
            let next = recorded.lock().unwrap().queue.pop_front();
            if let Some((id, event)) = next {
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
                    + 30_000;
                return Ok(Response::builder()
                    .header("lambda-runtime-aws-request-id", &id)
                    .header("lambda-runtime-deadline-ms", deadline.to_string())
                    .header(
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:eu-west-1:123456789012:function:coldstart-test",
                    )
                    .header(
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000",
                    )
                    .body(Full::new(Bytes::from(event.to_string())))
                    .unwrap());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    if path == "/2018-06-01/runtime/init/error" {
        recorded
            .lock()
            .unwrap()
            .init_errors
            .push((parsed(), error_type));
        return Ok(ok(202));
    }
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/invocation/") else {
        return Ok(ok(404));
    };
    let (id, what) = rest.split_once('/').unwrap_or((rest, ""));
    let mut recorded = recorded.lock().unwrap();
    match what {
        "response" => {
            recorded.first_response.get_or_insert_with(Instant::now);
            recorded.responses.push((id.to_string(), parsed()));
        }
        "error" => recorded.errors.push((id.to_string(), parsed())),
        _ => return Ok(ok(404)),
    }
    Ok(ok(202))
}

impl RuntimeApi {
    fn start(events: Vec<(String, Value)>) -> RuntimeApi {
        let recorded = Arc::new(Mutex::new(Recorded {
            queue: events.into(),
            ..Recorded::default()
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let shared = recorded.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let recorded = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| api(recorded.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RuntimeApi {
            addr,
            recorded,
            _runtime: runtime,
        }
    }

    /// Waits until `done` holds for what was recorded, or fails after `limit`.
    fn wait_for(&self, limit: Duration, what: &str, done: impl Fn(&Recorded) -> bool) {
        let started = Instant::now();
        while !done(&self.recorded.lock().unwrap()) {
            assert!(
                started.elapsed() < limit,
                "the runtime never {what} within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// `coldstart lambda ARGS` in `dir` pointed at `api`, with the variables Lambda sets.
fn lambda(dir: &Path, api: &RuntimeApi, args: &[&str]) -> Child {
    // A state directory of the test's own unless given (on Lambda it is /tmp/coldstart).
    let state = dir.join("lambda-state");
    let mut all = vec!["lambda"];
    if !args.contains(&"--state-dir") {
        all.extend_from_slice(&["--state-dir", state.to_str().unwrap()]);
    }
    all.extend_from_slice(args);
    command(dir, &all)
        .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "coldstart-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/coldstart-test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

const WORKER: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/bytes") {
      return new Response(new Uint8Array([0, 159, 146, 150, 255]), { headers: { "content-type": "application/octet-stream" } });
    }
    const headers = new Headers({ "content-type": "application/json", "x-app": "coldstart" });
    headers.append("set-cookie", "a=1; Path=/");
    headers.append("set-cookie", "b=2; Path=/");
    return new Response(JSON.stringify({
      method: request.method,
      path: url.pathname,
      query: url.search,
      host: url.host,
      body: request.method === "POST" ? await request.text() : null,
    }), { status: url.pathname === "/missing" ? 404 : 200, headers });
  },
};
"#;

fn rest_event(path: &str) -> Value {
    json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": { "Host": "abc123.execute-api.eu-west-1.amazonaws.com", "Accept": "*/*" },
        "multiValueHeaders": { "Host": ["abc123.execute-api.eu-west-1.amazonaws.com"], "Accept": ["*/*"] },
        "queryStringParameters": { "q": "1" },
        "multiValueQueryStringParameters": { "q": ["1"] },
        "pathParameters": { "proxy": path.trim_start_matches('/') },
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc",
            "stage": "prod",
            "requestId": "rest-1",
            "path": format!("/prod{path}"),
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "apiId": "abc123",
            "identity": { "sourceIp": "203.0.113.1" }
        },
        "body": null,
        "isBase64Encoded": false
    })
}

fn http_api_event(method: &str, path: &str, body: Option<&str>, domain: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "x=2",
        "cookies": ["session=abc"],
        "headers": { "host": domain, "content-type": "text/plain" },
        "queryStringParameters": { "x": "2" },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap(),
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "test" },
            "requestId": "v2-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "26/Nov/2026:01:00:00 +0000",
            "timeEpoch": 1795654800000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

fn alb_event(path: &str) -> Value {
    json!({
        "requestContext": { "elb": { "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg/abc" } },
        "httpMethod": "GET",
        "path": path,
        "queryStringParameters": {},
        "headers": { "host": "alb.example.com" },
        "isBase64Encoded": false,
        "body": ""
    })
}

fn write_worker(dir: &Path, source: &str) {
    std::fs::write(dir.join("worker.mjs"), source).unwrap();
}

#[test]
fn every_event_kind_reaches_the_worker_and_returns_in_its_shape() {
    let dir = tempfile::tempdir().unwrap();
    write_worker(dir.path(), WORKER);
    let api = RuntimeApi::start(vec![
        ("rest".into(), rest_event("/hello")),
        (
            "http".into(),
            http_api_event("POST", "/echo", Some("payload"), "api.example.com"),
        ),
        ("alb".into(), alb_event("/missing")),
        (
            "url".into(),
            http_api_event("GET", "/bytes", None, "abcdefg.lambda-url.eu-west-1.on.aws"),
        ),
    ]);
    let mut child = lambda(dir.path(), &api, &["worker.mjs", "--store", "store"]);
    api.wait_for(Duration::from_secs(30), "answered four events", |r| {
        r.responses.len() + r.errors.len() >= 4
    });
    let _ = child.kill();
    let _ = child.wait();
    let recorded = api.recorded.lock().unwrap();
    assert!(recorded.errors.is_empty(), "{:?}", recorded.errors);
    let response =
        |id: &str| -> &Value { &recorded.responses.iter().find(|(r, _)| r == id).unwrap().1 };

    // REST API (v1): the app sees its own path, without the stage; multi-value headers.
    let rest = response("rest");
    assert_eq!(rest["statusCode"], 200, "{rest}");
    let body: Value = serde_json::from_str(rest["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["path"], "/hello", "no stage in the path: {body}");
    assert_eq!(body["query"], "?q=1");
    assert_eq!(body["host"], "abc123.execute-api.eu-west-1.amazonaws.com");
    assert_eq!(
        rest["multiValueHeaders"]["set-cookie"],
        json!(["a=1; Path=/", "b=2; Path=/"]),
        "{rest}"
    );

    // HTTP API (v2): body in, cookies out as `cookies`.
    let http = response("http");
    assert_eq!(http["statusCode"], 200, "{http}");
    let body: Value = serde_json::from_str(http["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["method"], "POST");
    assert_eq!(body["body"], "payload");
    assert_eq!(body["query"], "?x=2");
    assert_eq!(
        http["cookies"],
        json!(["a=1; Path=/", "b=2; Path=/"]),
        "{http}"
    );
    assert_eq!(http["headers"]["x-app"], "coldstart");

    // ALB: status and body.
    let alb = response("alb");
    assert_eq!(alb["statusCode"], 404, "{alb}");
    assert!(alb["body"]
        .as_str()
        .unwrap()
        .contains("\"path\":\"/missing\""));

    // Function URL: a binary body goes back base64-encoded.
    let url = response("url");
    assert_eq!(url["statusCode"], 200, "{url}");
    assert_eq!(url["isBase64Encoded"], true, "{url}");
    assert_eq!(url["body"], "AJ+Slv8=");
}

#[test]
fn a_bundle_that_fails_at_init_is_reported_to_the_runtime_api() {
    let dir = tempfile::tempdir().unwrap();
    write_worker(
        dir.path(),
        "throw new Error('broken at load');\nexport default { fetch() {} };",
    );
    let api = RuntimeApi::start(vec![("never".into(), rest_event("/"))]);
    let mut child = lambda(dir.path(), &api, &["worker.mjs", "--store", "store"]);
    let status = crate::bin::wait_within(&mut child, Duration::from_secs(30), "a failing init");
    assert!(!status.success(), "init failure exits non-zero");
    let recorded = api.recorded.lock().unwrap();
    assert_eq!(recorded.init_errors.len(), 1, "one init error report");
    let (body, error_type) = &recorded.init_errors[0];
    assert_eq!(error_type, "Runtime.BundleError");
    assert_eq!(body["errorType"], "Runtime.BundleError");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("broken at load"),
        "{body}"
    );
    assert_eq!(recorded.queue.len(), 1, "no invocation was taken");
}

#[test]
fn a_packaged_function_starts_from_its_baked_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app/chunks")).unwrap();
    std::fs::write(
        dir.path().join("app/worker.mjs"),
        "import { greet } from './chunks/greet.js';\nexport default { fetch: (r, env) => new Response(greet(env.WHO)) };",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app/chunks/greet.js"),
        "export const greet = (who) => `hello ${who}`;",
    )
    .unwrap();
    let out = crate::bin::run_within(
        dir.path(),
        &[
            "package",
            "app/worker.mjs",
            "--out",
            "pkg",
            "--var",
            "WHO=lambda",
        ],
        crate::bin::HANG,
    );
    assert!(out.status.success(), "{}", crate::bin::stderr(&out));
    let pkg = dir.path().join("pkg");
    for file in [
        "bootstrap",
        "coldstart",
        "bundle/worker.mjs",
        "bundle/chunks/greet.js",
        "snapshots/CURRENT",
    ] {
        assert!(pkg.join(file).exists(), "{file} missing");
    }
    use std::os::unix::fs::PermissionsExt;
    assert_ne!(
        std::fs::metadata(pkg.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode()
            & 0o111,
        0
    );
    let snapshots = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let baked = snapshots(&pkg.join("snapshots"));
    let api = RuntimeApi::start(vec![(
        "pkg".into(),
        http_api_event("GET", "/", None, "pkg.example.com"),
    )]);
    let mut child = std::process::Command::new(pkg.join("bootstrap"))
        .env("LAMBDA_TASK_ROOT", &pkg)
        .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "pkg")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("COLDSTART_STATE_DIR", dir.path().join("state"))
        .env("COLDSTART_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    api.wait_for(
        Duration::from_secs(30),
        "answered the packaged event",
        |r| !r.responses.is_empty() || !r.errors.is_empty() || !r.init_errors.is_empty(),
    );
    let _ = child.kill();
    let _ = child.wait();
    let recorded = api.recorded.lock().unwrap();
    assert!(
        recorded.init_errors.is_empty(),
        "{:?}",
        recorded.init_errors.first().map(|e| &e.0)
    );
    let response = &recorded.responses[0].1;
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["body"], "hello lambda");
    assert_eq!(
        snapshots(&pkg.join("snapshots")),
        baked,
        "the baked snapshot served as is"
    );
}

/// Init duration (exec → the first `next`) and first-invocation latency (`next` → response) of
/// framework fixtures behind the stand-in Runtime API, printed for the README (not asserted:
/// timings are not test outcomes on this noisy machine). The store is warm, as in a package.
#[test]
fn init_and_first_invocation_of_the_fixtures() {
    for (name, entry) in [
        ("hono", "dist/worker.js"),
        ("sveltekit", "dist/cloudflare/_worker.js"),
    ] {
        let fixture = crate::common::fixture(&format!("workers/{name}"));
        let store = tempfile::tempdir().unwrap();
        let store_arg = store.path().to_str().unwrap().to_string();
        let (mut init, mut first) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let api = RuntimeApi::start(vec![(
                "f".into(),
                http_api_event("GET", "/", None, "fixture.test"),
            )]);
            let started = Instant::now();
            let state = format!("{store_arg}/state");
            let mut child = lambda(
                &fixture,
                &api,
                &[entry, "--store", &store_arg, "--state-dir", &state],
            );
            api.wait_for(Duration::from_secs(30), "answered", |r| {
                !r.responses.is_empty()
            });
            let _ = child.kill();
            let _ = child.wait();
            let recorded = api.recorded.lock().unwrap();
            assert_eq!(recorded.responses[0].1["statusCode"], 200);
            let next = recorded.first_next.unwrap();
            init.push((next - started).as_secs_f64() * 1000.0);
            first.push((recorded.first_response.unwrap() - next).as_secs_f64() * 1000.0);
        }
        // The first sample built the snapshot.
        let (mut init, mut first) = (init.split_off(1), first.split_off(1));
        init.sort_by(f64::total_cmp);
        first.sort_by(f64::total_cmp);
        eprintln!(
            "lambda {name}: init (exec -> first next) median {:.1} ms, first invocation median {:.1} ms",
            init[init.len() / 2],
            first[first.len() / 2]
        );
    }
}

#[test]
fn streaming_mode_sends_the_prelude_then_the_body() {
    let dir = tempfile::tempdir().unwrap();
    write_worker(
        dir.path(),
        "export default { fetch() {\n\
           const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('shell;')); \
             setTimeout(() => { c.enqueue(new TextEncoder().encode('rest')); c.close(); }, 20); } });\n\
           return new Response(body, { status: 201, headers: { 'content-type': 'text/html', 'set-cookie': 's=1' } }); } };",
    );
    let api = RuntimeApi::start(vec![(
        "stream".into(),
        http_api_event("GET", "/", None, "abcdefg.lambda-url.eu-west-1.on.aws"),
    )]);
    let mut child = lambda(
        dir.path(),
        &api,
        &["worker.mjs", "--store", "store", "--stream"],
    );
    api.wait_for(
        Duration::from_secs(30),
        "answered the streamed event",
        |r| !r.responses.is_empty() || !r.errors.is_empty(),
    );
    let _ = child.kill();
    let _ = child.wait();
    let recorded = api.recorded.lock().unwrap();
    let response = &recorded.responses[0].1;
    assert_eq!(response["prelude"]["statusCode"], 201, "{response}");
    assert_eq!(
        response["prelude"]["headers"]["content-type"], "text/html",
        "{response}"
    );
    assert_eq!(response["prelude"]["cookies"], json!(["s=1"]), "{response}");
    assert_eq!(response["body"], "shell;rest");
}
