//! AWS Lambda: the bundle behind the Lambda Runtime API, through the official `lambda_http`
//! crate — API Gateway REST (v1) and HTTP (v2) APIs, ALB and Function URL events become
//! requests that go through the same answer as `coldstart serve` (Rex routing, module workers,
//! render modules); responses go back in the event's shape (the crate picks it: multi-value
//! headers, cookies, base64 bodies). REST API events carry the stage in their path: the app
//! sees its own path (`/p/0`, not `/prod/p/0`).
//!
//! The isolate is restored in the init phase, before the first invocation is polled
//! ([`wait_ready`]); a bundle that cannot be served is reported to the Runtime API's
//! `/runtime/init/error` ([`report_init_error`]) instead of crash-looping.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use lambda_http::{Body, RequestExt};

use crate::error::{Error, Result};
use crate::server::http::{answer, to_response, Answer, ResponseBody};
use crate::server::AppState;

/// How long the init phase waits for the first isolate.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// Waits until the pool has a restored isolate (the init phase's work).
///
/// # Errors
/// No worker became ready within 30 s (the pool logs why).
pub fn wait_ready(state: &AppState) -> Result<()> {
    let started = Instant::now();
    while state.pool.ready_workers() == 0 {
        if started.elapsed() > READY_WITHIN {
            return Err(Error::Engine(
                "no isolate could be restored from the snapshot within 30 s".to_string(),
            ));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

/// Serves invocations until the Runtime API goes away. `streaming` answers in Lambda's
/// response-streaming mode (Function URLs with `InvokeMode: RESPONSE_STREAM`): a module
/// worker's body reaches the client as it is produced; otherwise each response is buffered.
///
/// # Errors
/// The Runtime API cannot be reached.
pub async fn run(state: Arc<AppState>, streaming: bool) -> Result<()> {
    let outcome = if streaming {
        let handler = lambda_http::service_fn(move |event: lambda_http::Request| {
            let state = state.clone();
            async move { Ok::<_, std::convert::Infallible>(invoke(&state, event).await) }
        });
        lambda_http::run_with_streaming_response(handler).await
    } else {
        let handler = lambda_http::service_fn(move |event: lambda_http::Request| {
            let state = state.clone();
            async move { buffered(invoke(&state, event).await).await }
        });
        lambda_http::run(handler).await
    };
    outcome.map_err(|e| Error::Engine(format!("the Lambda runtime stopped: {e}")))
}

/// One invocation, answered like an HTTP request to `serve`.
async fn invoke(
    state: &Arc<AppState>,
    event: lambda_http::Request,
) -> hyper::Response<ResponseBody> {
    let path = event.raw_http_path().to_string();
    let (mut parts, body) = event.into_parts();
    let target = match parts.uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    if let Ok(uri) = target.parse() {
        parts.uri = uri;
    }
    let head_only = parts.method == hyper::Method::HEAD;
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    match answer(state, parts, body).await {
        Answer::Whole(reply) => to_response(reply, head_only),
        Answer::Streamed(response) => response,
    }
}

/// A response collected whole for the buffered mode: text for textual content types that are
/// valid UTF-8, else binary (base64 in the event).
async fn buffered(
    response: hyper::Response<ResponseBody>,
) -> std::result::Result<lambda_http::Response<Body>, lambda_http::Error> {
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let textual = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|kind| {
            kind.starts_with("text/")
                || ["json", "javascript", "xml", "svg", "x-www-form-urlencoded"]
                    .iter()
                    .any(|k| kind.contains(k))
        });
    let body = if bytes.is_empty() {
        Body::Empty
    } else if textual {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    } else {
        Body::Binary(bytes.to_vec())
    };
    Ok(lambda_http::Response::from_parts(parts, body))
}

/// Reports a failed init phase to the Runtime API (`POST /2018-06-01/runtime/init/error`),
/// as its documentation describes, so Lambda records the reason instead of a crashed runtime.
///
/// # Errors
/// `AWS_LAMBDA_RUNTIME_API` is unset or the report cannot be sent.
pub async fn report_init_error(error: &Error) -> Result<()> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .map_err(|_| Error::Invalid("AWS_LAMBDA_RUNTIME_API is not set".to_string()))?;
    let kind = format!("Runtime.{}", error_kind(error));
    let body = serde_json::json!({
        "errorMessage": error.to_string(),
        "errorType": kind,
        "stackTrace": [],
    });
    let response = reqwest::Client::new()
        .post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header("Lambda-Runtime-Function-Error-Type", &kind)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| Error::Engine(format!("cannot report the init error: {e}")))?;
    if !response.status().is_success() {
        return Err(Error::Engine(format!(
            "the Runtime API refused the init error report: {}",
            response.status()
        )));
    }
    Ok(())
}

/// A short name for the error's kind (the `errorType` Lambda shows).
fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::Js(_) => "BundleError",
        Error::Timeout { .. } => "BundleTimeout",
        Error::HeapLimit { .. } => "BundleHeapLimit",
        Error::UnresolvedImport { .. } | Error::NoHandler { .. } | Error::MissingGlobal { .. } => {
            "BundleInvalid"
        }
        Error::Snapshot(_) => "SnapshotError",
        Error::Io { .. } => "IoError",
        _ => "InitError",
    }
}
