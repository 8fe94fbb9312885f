//! The HTTP server behind `coldstart serve`: hyper + tokio in front of an [`IsolatePool`].
//!
//! Request flow: middleware (`__rex_run_middleware`: redirect / rewrite / headers) → `/api/*`
//! (`__rex_call_api_handler`) → app route handlers (a 404 from them falls through) → pages
//! (`__rex_get_server_side_props`, honouring `redirect`/`notFound`, then `__rex_render_page` into a
//! full HTML document with `__rex_render_document`'s attributes). Admin endpoints live under
//! `/_coldstart/`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use crate::error::Error;
use crate::pool::IsolatePool;
use crate::ssr::SsrIsolate;

/// Largest request body accepted.
pub const MAX_REQUEST_BODY: usize = 8 * 1024 * 1024;

const LATENCY_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Request counters and the latency histogram.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    by_status: std::sync::Mutex<BTreeMap<u16, u64>>,
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl HttpMetrics {
    fn observe(&self, status: u16, elapsed: Duration) {
        *self
            .by_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

/// Everything a request handler needs.
#[derive(Debug)]
pub struct AppState {
    /// The isolate pool.
    pub pool: IsolatePool,
    /// The bundle file reloads re-read.
    pub bundle_path: PathBuf,
    /// HTTP metrics.
    pub metrics: HttpMetrics,
    /// Connection settings.
    pub http: HttpOptions,
}

/// Connection settings of the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// A connection that has not sent a whole request head this long after it was opened, or
    /// after its previous response (an idle keep-alive connection), is closed.
    pub header_read_timeout: Duration,
    /// How long a shutdown waits for in-flight requests before it gives up on them.
    pub drain_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            header_read_timeout: Duration::from_secs(15),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

impl AppState {
    /// State for `pool` serving `bundle_path`, with default [`HttpOptions`].
    pub fn new(pool: IsolatePool, bundle_path: PathBuf) -> Arc<Self> {
        Self::with_http(pool, bundle_path, HttpOptions::default())
    }

    /// State for `pool` serving `bundle_path` with connection settings `http`.
    pub fn with_http(pool: IsolatePool, bundle_path: PathBuf, http: HttpOptions) -> Arc<Self> {
        Arc::new(AppState {
            pool,
            bundle_path,
            metrics: HttpMetrics::default(),
            http,
        })
    }
}

/// A response built inside a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".to_string(), content_type.to_string())],
            body: body.into(),
        }
    }

    fn html(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status, "text/html; charset=utf-8", body)
    }

    fn text(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status, "text/plain; charset=utf-8", body)
    }

    fn json(status: u16, value: &Value) -> Self {
        Reply::new(status, "application/json", value.to_string())
    }

    fn redirect(status: u16, location: &str) -> Self {
        let mut reply = Reply::text(status, format!("Redirecting to {location}"));
        reply
            .headers
            .push(("location".to_string(), location.to_string()));
        reply
    }

    fn not_found() -> Self {
        Reply::html(
            404,
            "<!DOCTYPE html><html><head><title>404: Not Found</title></head><body><h1>404</h1><p>This page could not be found.</p></body></html>",
        )
    }
}

/// A request, as plain data a worker can take.
#[derive(Debug, Clone)]
pub struct RequestData {
    /// Method.
    pub method: String,
    /// Path + query, as received.
    pub url: String,
    /// Path.
    pub path: String,
    /// Query parameters (last value wins).
    pub query: BTreeMap<String, String>,
    /// Headers (lowercase names; repeated headers joined with ", ").
    pub headers: BTreeMap<String, String>,
    /// Cookies from the `cookie` header.
    pub cookies: BTreeMap<String, String>,
    /// Body as text.
    pub body: String,
}

/// Percent-decodes a cookie value (`+` stays a plus sign; invalid UTF-8 is replaced).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn parse_query(query: Option<&str>) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn parse_cookies(header: Option<&String>) -> BTreeMap<String, String> {
    header
        .map(|h| {
            h.split(';')
                .filter_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    Some((k.trim().to_string(), percent_decode(v.trim())))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn escape_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn attrs(value: Option<&Value>) -> String {
    let mut out = String::new();
    if let Some(Value::Object(map)) = value {
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(out, " {}=\"{}\"", escape_attr(k), escape_attr(&v));
        }
    }
    out
}

fn headers_of(value: Option<&Value>) -> Vec<(String, String)> {
    match value {
        Some(Value::Object(map)) => map
            .iter()
            .flat_map(|(k, v)| match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        (
                            k.to_lowercase(),
                            i.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| i.to_string()),
                        )
                    })
                    .collect::<Vec<_>>(),
                Value::String(s) => vec![(k.to_lowercase(), s.clone())],
                other => vec![(k.to_lowercase(), other.to_string())],
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn parse_json(entry: &str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::BadResult {
        entry: entry.to_string(),
        detail: format!("not JSON: {e}"),
    })
}

/// The HTTP status in `field` of a handler's result: `default` when absent, an error when it is
/// not an integer in 100..=999 (never wrapped into range).
fn status_field(entry: &str, value: &Value, field: &str, default: u16) -> Result<u16, Error> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(code) => code
            .as_u64()
            .filter(|c| (100..=999).contains(c))
            .map(|c| c as u16)
            .ok_or_else(|| Error::BadResult {
                entry: entry.to_string(),
                detail: format!("{field} {code} is not an HTTP status (100-999)"),
            }),
    }
}

fn handler_reply(entry: &str, text: &str) -> Result<Reply, Error> {
    let value = parse_json(entry, text)?;
    if !value.is_object() {
        return Err(Error::BadResult {
            entry: entry.to_string(),
            detail: format!("expected an object {{statusCode, headers, body}}, got `{value}`"),
        });
    }
    let status = status_field(entry, &value, "statusCode", 200)?;
    let mut headers = headers_of(value.get("headers"));
    let body = match value.get("body") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => {
            if !headers.iter().any(|(k, _)| k == "content-type") {
                headers.push(("content-type".to_string(), "application/json".to_string()));
            }
            other.to_string()
        }
    };
    if !headers.iter().any(|(k, _)| k == "content-type") {
        headers.push((
            "content-type".to_string(),
            "text/plain; charset=utf-8".to_string(),
        ));
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Runs the whole request flow on one isolate (inside a pool worker).
pub fn handle_in_isolate(iso: &mut SsrIsolate, mut req: RequestData) -> Result<Reply, Error> {
    let headers_value = json!(req.headers);
    let cookies_value = json!(req.cookies);
    iso.set_request_context(&headers_value, &cookies_value)?;
    let result = route(iso, &mut req);
    iso.clear_request_context();
    result
}

fn route(iso: &mut SsrIsolate, req: &mut RequestData) -> Result<Reply, Error> {
    let mut extra_headers: Vec<(String, String)> = Vec::new();
    // Middleware.
    let mw_req = json!({
        "method": req.method, "url": req.url, "pathname": req.path,
        "headers": req.headers, "cookies": req.cookies,
    });
    if let Some(text) = iso.run_middleware(&mw_req.to_string())? {
        let action = parse_json("__rex_run_middleware", &text)?;
        extra_headers = headers_of(action.get("response_headers"));
        for (k, v) in headers_of(action.get("request_headers")) {
            req.headers.insert(k, v);
        }
        match action
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("next")
        {
            "redirect" => {
                let url = action.get("url").and_then(Value::as_str).unwrap_or("/");
                let status = status_field("__rex_run_middleware", &action, "status", 307)?;
                let mut reply = Reply::redirect(status, url);
                reply.headers.extend(extra_headers);
                return Ok(reply);
            }
            "rewrite" => {
                if let Some(url) = action.get("url").and_then(Value::as_str) {
                    let (path, query) = url
                        .split_once('?')
                        .map_or((url, None), |(p, q)| (p, Some(q)));
                    let path = url::Url::parse(url)
                        .map(|u| u.path().to_string())
                        .unwrap_or_else(|_| path.to_string());
                    req.path = path;
                    if let Some(q) = query {
                        req.query.extend(parse_query(Some(q)));
                    }
                }
            }
            _ => {}
        }
    }
    let mut reply = route_after_middleware(iso, req)?;
    reply.headers.extend(extra_headers);
    Ok(reply)
}

fn route_after_middleware(iso: &mut SsrIsolate, req: &RequestData) -> Result<Reply, Error> {
    if req.path == "/api" || req.path.starts_with("/api/") {
        if !iso.has_entry("__rex_call_api_handler") {
            return Ok(Reply::not_found());
        }
        let api_req = json!({
            "method": req.method, "url": req.url, "headers": req.headers,
            "query": req.query, "body": req.body, "cookies": req.cookies,
        });
        let text = iso.call_api_handler(&req.path, &api_req.to_string())?;
        return handler_reply("__rex_call_api_handler", &text);
    }
    if iso.has_entry("__rex_call_app_route_handler") {
        let app_req = json!({
            "method": req.method, "url": req.url, "headers": req.headers,
            "query": req.query, "params": {}, "body": req.body,
        });
        let text = iso.call_app_route_handler(&req.path, &app_req.to_string())?;
        let reply = handler_reply("__rex_call_app_route_handler", &text)?;
        if reply.status != 404 {
            return Ok(reply);
        }
    }
    if req.method != "GET" && req.method != "HEAD" {
        let mut reply = Reply::text(405, "Method Not Allowed");
        reply
            .headers
            .push(("allow".to_string(), "GET, HEAD".to_string()));
        return Ok(reply);
    }
    let context = json!({
        "params": {}, "query": req.query, "headers": req.headers,
        "cookies": req.cookies, "resolvedUrl": req.url,
    });
    let gssp = iso.get_server_side_props(&req.path, &context.to_string())?;
    let gssp = parse_json("__rex_get_server_side_props", &gssp)?;
    if let Some(redirect) = gssp.get("redirect") {
        let destination = redirect
            .get("destination")
            .and_then(Value::as_str)
            .unwrap_or("/");
        let permanent = redirect
            .get("permanent")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let status = status_field(
            "__rex_get_server_side_props",
            redirect,
            "statusCode",
            if permanent { 308 } else { 307 },
        )?;
        return Ok(Reply::redirect(status, destination));
    }
    if gssp
        .get("notFound")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return Ok(Reply::not_found());
    }
    let props = gssp.get("props").cloned().unwrap_or_else(|| json!({}));
    let page = match iso.render_page(&req.path, &props.to_string()) {
        Ok(page) => page,
        Err(Error::Js(e)) if e.message.to_lowercase().contains("not found") => {
            return Ok(Reply::not_found())
        }
        Err(e) => return Err(e),
    };
    let document = match iso.render_document()? {
        Some(text) => parse_json("__rex_render_document", &text)?,
        None => json!({}),
    };
    let head_content = document
        .get("headContent")
        .and_then(Value::as_str)
        .unwrap_or("");
    let html = format!(
        "<!DOCTYPE html><html{}><head><meta charset=\"utf-8\">{}{}</head><body{}><div id=\"__rex\">{}</div></body></html>",
        attrs(document.get("htmlAttrs")),
        head_content,
        page.head,
        attrs(document.get("bodyAttrs")),
        page.body
    );
    Ok(Reply::html(200, html))
}

fn error_reply(error: &Error) -> Reply {
    match error {
        Error::Timeout { .. } => {
            Reply::text(504, "Gateway Timeout: the page took too long to render\n")
        }
        Error::Overloaded(_) | Error::WorkerLost => {
            let mut reply = Reply::text(503, "Service Unavailable\n");
            reply
                .headers
                .push(("retry-after".to_string(), "1".to_string()));
            reply
        }
        _ => Reply::text(500, "Internal Server Error\n"),
    }
}

fn to_response(reply: Reply, head_only: bool) -> Response<Full<Bytes>> {
    let body = if head_only {
        Bytes::new()
    } else {
        Bytes::from(reply.body)
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// Prometheus text exposition of the server's and pool's metrics.
pub fn render_metrics(state: &AppState) -> String {
    let mut out = String::new();
    let stats = state.pool.stats();
    out.push_str("# HELP coldstart_http_requests_total HTTP requests by status code.\n# TYPE coldstart_http_requests_total counter\n");
    for (status, count) in state
        .metrics
        .by_status
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "coldstart_http_requests_total{{status=\"{status}\"}} {count}"
        );
    }
    out.push_str("# HELP coldstart_http_request_duration_seconds Request latency.\n# TYPE coldstart_http_request_duration_seconds histogram\n");
    for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "coldstart_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
            state.metrics.buckets[i].load(Ordering::Relaxed)
        );
    }
    let count = state.metrics.latency_count.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "coldstart_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
    );
    let _ = writeln!(
        out,
        "coldstart_http_request_duration_seconds_sum {}",
        state.metrics.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(out, "coldstart_http_request_duration_seconds_count {count}");
    let counters = [
        (
            "coldstart_isolates_created_total",
            "Isolates created from a snapshot.",
            &stats.isolates_created,
        ),
        (
            "coldstart_isolates_discarded_total",
            "Isolates discarded after a timeout, heap limit or panic.",
            &stats.isolates_discarded,
        ),
        (
            "coldstart_contexts_reset_total",
            "Fresh contexts created for per-request isolation.",
            &stats.contexts_reset,
        ),
        (
            "coldstart_worker_panics_total",
            "Jobs that panicked.",
            &stats.panics,
        ),
        (
            "coldstart_reloads_succeeded_total",
            "Successful reloads.",
            &stats.reloads_ok,
        ),
        (
            "coldstart_reloads_failed_total",
            "Failed reloads.",
            &stats.reloads_failed,
        ),
        (
            "coldstart_overloaded_total",
            "Requests refused because every queue was full.",
            &stats.overloaded,
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            value.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP coldstart_isolate_create_seconds_total Time spent creating isolates.\n# TYPE coldstart_isolate_create_seconds_total counter\ncoldstart_isolate_create_seconds_total {}",
        stats.isolate_create_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "# HELP coldstart_snapshot_generation Snapshot generation being served.\n# TYPE coldstart_snapshot_generation gauge\ncoldstart_snapshot_generation {}",
        state.pool.generation()
    );
    let _ = writeln!(
        out,
        "# HELP coldstart_workers_ready Workers with an isolate ready.\n# TYPE coldstart_workers_ready gauge\ncoldstart_workers_ready {}",
        state.pool.ready_workers()
    );
    out
}

/// Reloads from the bundle file; the reply carries the new key or the error.
pub async fn reload(state: &Arc<AppState>) -> Reply {
    let state2 = state.clone();
    let result = tokio::task::spawn_blocking(move || state2.pool.reload(&state2.bundle_path)).await;
    match result {
        Ok(Ok(report)) => Reply::json(200, &json!(report)),
        Ok(Err(error)) => {
            let status = match error {
                Error::ReloadInProgress => 409,
                Error::Js(_)
                | Error::MissingGlobal { .. }
                | Error::Hygiene(_)
                | Error::Io { .. }
                | Error::BuildFailed { .. }
                | Error::Timeout { .. }
                | Error::HeapLimit { .. }
                | Error::Snapshot(_)
                | Error::Invalid(_) => 422,
                _ => 500,
            };
            Reply::json(
                status,
                &json!({ "error": error.to_string(), "generation": state.pool.generation() }),
            )
        }
        Err(join) => Reply::json(
            500,
            &json!({ "error": format!("reload task failed: {join}") }),
        ),
    }
}

/// Handles one HTTP request.
pub async fn handle(
    state: Arc<AppState>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let head_only = request.method() == Method::HEAD;
    let reply = dispatch(&state, request).await;
    state.metrics.observe(reply.status, started.elapsed());
    Ok(to_response(reply, head_only))
}

async fn dispatch(state: &Arc<AppState>, request: Request<Incoming>) -> Reply {
    let path = request.uri().path().to_string();
    match (request.method(), path.as_str()) {
        (&Method::GET, "/_coldstart/health") => {
            return if state.pool.ready_workers() > 0 {
                Reply::json(
                    200,
                    &json!({ "status": "ok", "generation": state.pool.generation() }),
                )
            } else {
                Reply::json(503, &json!({ "status": "starting" }))
            };
        }
        (&Method::GET, "/_coldstart/metrics") => {
            return Reply::new(200, "text/plain; version=0.0.4", render_metrics(state));
        }
        (&Method::POST, "/_coldstart/reload") => return reload(state).await,
        (_, p) if p.starts_with("/_coldstart/") => return Reply::not_found(),
        _ => {}
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return Reply::text(413, "Payload Too Large\n")
        }
        // A malformed body (bad chunk size, truncated chunk): the client's fault.
        Err(_) => return Reply::text(400, "Bad Request: malformed request body\n"),
    };
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in parts.headers.iter() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let url = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let data = RequestData {
        method: parts.method.as_str().to_string(),
        url,
        path: path.clone(),
        query: parse_query(parts.uri.query()),
        cookies: parse_cookies(headers.get("cookie")),
        headers,
        body,
    };
    let method = data.method.clone();
    match state
        .pool
        .execute(move |iso| handle_in_isolate(iso, data))
        .await
    {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) | Err(error) => {
            match &error {
                Error::Js(js) => tracing::error!(%method, %path, "request failed: {js}"),
                other => tracing::error!(%method, %path, "request failed: {other}"),
            }
            error_reply(&error)
        }
    }
}

/// Serves on `listener` until `shutdown` resolves, then drains in-flight requests.
///
/// # Errors
/// Accepting connections fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(ok) => ok,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let header_read_timeout = state.http.header_read_timeout;
                let state = state.clone();
                let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                // The header-read timer also runs while a keep-alive connection waits for its
                // next request, so it bounds idle connections too (slowloris included).
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(header_read_timeout)
                    .keep_alive(true)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection closed with an error");
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let drain = state.http.drain_timeout;
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections drained"),
        _ = tokio::time::sleep(drain) => tracing::warn!("drain timed out after {} ms", drain.as_millis()),
    }
    Ok(())
}

/// Binds `addr` (port 0 picks a free port) and returns the listener and its address.
///
/// # Errors
/// The address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_query_parse() {
        let cookies = parse_cookies(Some(&"a=1; b=hello%20world;c".to_string()));
        assert_eq!(cookies.get("a").map(String::as_str), Some("1"));
        assert_eq!(cookies.get("b").map(String::as_str), Some("hello world"));
        assert_eq!(cookies.len(), 2);
        let query = parse_query(Some("x=1&y=a+b&x=2"));
        assert_eq!(query.get("x").map(String::as_str), Some("2"));
        assert_eq!(query.get("y").map(String::as_str), Some("a b"));
    }

    #[test]
    fn attributes_are_escaped() {
        let value = json!({"lang": "en", "data-x": "\"<>&"});
        assert_eq!(
            attrs(Some(&value)),
            " data-x=\"&quot;&lt;&gt;&amp;\" lang=\"en\""
        );
    }

    #[test]
    fn handler_results_become_replies() {
        let reply = handler_reply(
            "x",
            r#"{"statusCode":201,"headers":{"X-A":"1"},"body":{"ok":true}}"#,
        )
        .unwrap();
        assert_eq!(reply.status, 201);
        assert!(reply
            .headers
            .contains(&("x-a".to_string(), "1".to_string())));
        assert!(reply
            .headers
            .contains(&("content-type".to_string(), "application/json".to_string())));
        assert_eq!(reply.body, r#"{"ok":true}"#);
    }

    #[test]
    fn errors_map_to_status_codes() {
        assert_eq!(
            error_reply(&Error::Timeout {
                entry: "x".into(),
                ms: 5
            })
            .status,
            504
        );
        assert_eq!(error_reply(&Error::Overloaded("full".into())).status, 503);
        assert_eq!(error_reply(&Error::Invalid("x".into())).status, 500);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn cookie_values_round_trip_through_percent_encoding(value in "\\PC*") {
                let encoded = percent_encoding::utf8_percent_encode(
                    &value,
                    percent_encoding::NON_ALPHANUMERIC,
                )
                .to_string();
                prop_assert_eq!(percent_decode(&encoded), value);
            }

            #[test]
            fn cookie_headers_parse_into_their_pairs(
                pairs in proptest::collection::btree_map("[A-Za-z0-9_]{1,12}", "[!#-+\\--:<-\\[\\]-~]{0,16}", 0..6)
            ) {
                let header = pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let parsed = parse_cookies(Some(&header));
                // Cookie values are percent-decoded and nothing else: `&`, `=` and `+` are data.
                let expected: BTreeMap<String, String> = pairs
                    .iter()
                    .map(|(k, v)| {
                        let decoded = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
                        (k.clone(), decoded.into_owned())
                    })
                    .collect();
                prop_assert_eq!(parsed, expected);
            }

            #[test]
            fn any_cookie_header_or_query_parses_without_panicking(text in "\\PC*") {
                let _ = parse_cookies(Some(&text));
                let _ = parse_query(Some(&text));
                let _ = percent_decode(&text);
            }

            #[test]
            fn queries_round_trip_through_form_encoding(
                pairs in proptest::collection::btree_map("\\PC{1,8}", "\\PC{0,8}", 0..6)
            ) {
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs.iter())
                    .finish();
                prop_assert_eq!(parse_query(Some(&query)), pairs);
            }

            #[test]
            fn handler_status_codes_are_in_range_or_refused(code in proptest::num::u64::ANY) {
                let text = format!(r#"{{"statusCode":{code},"body":"x"}}"#);
                match handler_reply("__rex_call_api_handler", &text) {
                    Ok(reply) => prop_assert!((100..=999).contains(&code) && u64::from(reply.status) == code),
                    Err(_) => prop_assert!(!(100..=999).contains(&code)),
                }
            }
        }
    }
}
