//! hyper in front of the pool: connections (header-read and idle timeouts, graceful drain),
//! admin endpoints under `/_coldstart/`, request bodies, and the answer — a [`Reply`], or a
//! module worker's response whose body is streamed to the socket as the worker yields it —
//! into an HTTP response.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Frame;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::metrics::{render_metrics, HttpMetrics};
use super::routing::{
    error_reply, handle_in_isolate, parse_cookies, parse_query, status_for, Reply, RequestData,
    Stage,
};
use super::statics::StaticMount;
use crate::error::Error;
use crate::pool::IsolatePool;
use crate::ssr::SsrIsolate;
use crate::worker::{AppKind, ResponsePart, WorkerRequest};

/// The body of every response: whole, or streamed from a worker (an error aborts the
/// connection, so a client never mistakes a cut-off body for a complete one).
pub type ResponseBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// Largest request body accepted.
pub const MAX_REQUEST_BODY: usize = 8 * 1024 * 1024;

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
    /// The HTML template a `render(url)` module's output is placed into (at `<!--app-html-->`;
    /// without one the rendered HTML is the page).
    pub template: Option<Arc<str>>,
    /// Folders of client assets, by URL prefix.
    pub statics: Vec<StaticMount>,
    /// Compress whole HTML/JSON/text responses (br or gzip, as the client accepts).
    pub compression: bool,
    /// Who may `POST /_coldstart/reload` (see [`ReloadAccess`]).
    pub reload_access: ReloadAccess,
}

/// Who may ask `serve` to reload over HTTP (`POST /_coldstart/reload`; `SIGHUP` is always
/// there for whoever can signal the process).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum ReloadAccess {
    /// Clients connected from a loopback address (the default): a sidecar or an operator on the
    /// machine, never a client reaching the app through a public address. Behind a reverse
    /// proxy on the same machine every client looks local: give a token then.
    #[default]
    Loopback,
    /// Clients sending `Authorization: Bearer TOKEN`, whatever their address (loopback
    /// included). Only the token's blake3 hash is kept, and compared in constant time.
    Token(blake3::Hash),
}

impl std::fmt::Debug for ReloadAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadAccess::Loopback => f.write_str("Loopback"),
            ReloadAccess::Token(_) => f.write_str("Token(..)"),
        }
    }
}

impl ReloadAccess {
    /// Access for clients sending `Authorization: Bearer token`.
    pub fn token(token: &str) -> Self {
        ReloadAccess::Token(blake3::hash(token.as_bytes()))
    }

    /// Whether a reload request from `peer` (unknown: `None`) with these `headers` may run;
    /// the reply to send when not.
    ///
    /// ```
    /// use coldstart::server::ReloadAccess;
    /// use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION};
    ///
    /// let local = Some("127.0.0.1:40000".parse().unwrap());
    /// let remote = Some("203.0.113.9:40000".parse().unwrap());
    /// assert!(ReloadAccess::Loopback.check(local, &HeaderMap::new()).is_ok());
    /// assert_eq!(ReloadAccess::Loopback.check(remote, &HeaderMap::new()).unwrap_err().status, 403);
    ///
    /// let access = ReloadAccess::token("s3cret");
    /// let mut headers = HeaderMap::new();
    /// assert_eq!(access.check(local, &headers).unwrap_err().status, 401);
    /// headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
    /// assert!(access.check(remote, &headers).is_ok());
    /// ```
    pub fn check(
        &self,
        peer: Option<std::net::SocketAddr>,
        headers: &hyper::HeaderMap,
    ) -> Result<(), Reply> {
        match self {
            ReloadAccess::Loopback => {
                if peer.is_some_and(|peer| peer.ip().is_loopback()) {
                    Ok(())
                } else {
                    Err(Reply::json(
                        403,
                        &json!({ "error": "reload is only accepted from a loopback address unless serve has a --reload-token" }),
                    ))
                }
            }
            ReloadAccess::Token(expected) => {
                let given = headers
                    .get(hyper::header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.strip_prefix("Bearer "));
                // blake3::Hash compares in constant time.
                if given.is_some_and(|token| blake3::hash(token.as_bytes()) == *expected) {
                    Ok(())
                } else {
                    let mut reply = Reply::json(
                        401,
                        &json!({ "error": "reload needs `Authorization: Bearer <the --reload-token>`" }),
                    );
                    reply
                        .headers
                        .push(("www-authenticate".to_string(), "Bearer".to_string()));
                    Err(reply)
                }
            }
        }
    }
}

/// The address a request's connection came from, put in the request's extensions by
/// [`serve`] (an embedder calling [`handle`] from its own server can insert it too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// What `serve` does besides running the bundle.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Connection settings.
    pub http: HttpOptions,
    /// The template of a `render(url)` module.
    pub template: Option<String>,
    /// Client asset folders.
    pub statics: Vec<StaticMount>,
    /// Response compression.
    pub compression: bool,
    /// Who may reload over HTTP.
    pub reload_access: ReloadAccess,
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
        Self::with_options(
            pool,
            bundle_path,
            ServeOptions {
                http,
                ..ServeOptions::default()
            },
        )
    }

    /// State for `pool` serving `bundle_path` with everything `options` adds.
    pub fn with_options(
        pool: IsolatePool,
        bundle_path: PathBuf,
        options: ServeOptions,
    ) -> Arc<Self> {
        Arc::new(AppState {
            pool,
            bundle_path,
            metrics: HttpMetrics::default(),
            http: options.http,
            template: options.template.map(Arc::from),
            statics: options.statics,
            compression: options.compression,
            reload_access: options.reload_access,
        })
    }
}

/// Reloads from the bundle file; the reply carries the new key or the error.
pub async fn reload(state: &Arc<AppState>) -> Reply {
    let state2 = state.clone();
    let result = tokio::task::spawn_blocking(move || state2.pool.reload(&state2.bundle_path)).await;
    match result {
        Ok(Ok(report)) => Reply::json(200, &json!(report)),
        Ok(Err(error)) => Reply::json(
            status_for(&error, Stage::Reload),
            &json!({ "error": error.to_string(), "generation": state.pool.generation() }),
        ),
        Err(join) => Reply::json(
            500,
            &json!({ "error": format!("reload task failed: {join}") }),
        ),
    }
}

/// Handles one HTTP request: client assets, then the app (or the admin endpoints). Every
/// response carries an `x-request-id` (the client's, when it sent a sane one) and produces one
/// access-log line when its body is done.
pub async fn handle(
    state: Arc<AppState>,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let started = Instant::now();
    let head_only = request.method() == Method::HEAD;
    let request_id = request_id(request.headers().get(X_REQUEST_ID));
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let statics = if state.statics.is_empty() {
        None
    } else {
        super::statics::serve(&state.statics, &request).await
    };
    let mut response = match statics {
        Some(response) => response,
        None => match dispatch(&state, request).await {
            Answer::Whole(reply) => to_response(reply, head_only),
            Answer::Streamed(mut response) => {
                response.extensions_mut().insert(Streamed);
                response
            }
        },
    };
    let status = response.status().as_u16();
    state.metrics.observe(status, started.elapsed());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    let line = AccessLine {
        method,
        path,
        status,
        generation: state.pool.generation(),
        request_id,
        started,
        bytes: 0,
    };
    Ok(response.map(|body| BodyExt::boxed_unsync(LoggedBody { inner: body, line })))
}

/// The header carrying a request's id.
pub const X_REQUEST_ID: &str = "x-request-id";

/// Marks a response whose body a worker is still streaming (never compressed: compression
/// would hold chunks back).
#[derive(Debug, Clone, Copy)]
pub struct Streamed;

/// The client's request id when it is short printable ASCII, else a new random one.
fn request_id(given: Option<&HeaderValue>) -> String {
    if let Some(value) = given.and_then(|v| v.to_str().ok()) {
        if !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic()) {
            return value.to_string();
        }
    }
    let mut bytes = [0u8; 12];
    if crate::runtime::crypto::os_random(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes.copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One access-log line, written when the response body is done (or dropped).
struct AccessLine {
    method: Method,
    path: String,
    status: u16,
    generation: u64,
    request_id: String,
    started: Instant,
    bytes: u64,
}

/// A response body that counts its bytes (before compression) and logs the access line when it
/// is dropped.
struct LoggedBody {
    inner: ResponseBody,
    line: AccessLine,
}

impl hyper::body::Body for LoggedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.line.bytes += data.len() as u64;
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        let line = &self.line;
        tracing::info!(
            target: "coldstart::access",
            method = %line.method,
            path = %line.path,
            status = line.status,
            bytes = line.bytes,
            ms = format_args!("{:.2}", line.started.elapsed().as_secs_f64() * 1000.0),
            generation = line.generation,
            request_id = %line.request_id,
            "request"
        );
    }
}

/// What a request gets: a whole reply, or a worker's response with its body still streaming.
pub(crate) enum Answer {
    Whole(Reply),
    Streamed(Response<ResponseBody>),
}

/// What the isolate sends back while it answers a request.
enum Message {
    /// A whole reply (Rex bundles, `render(url)` modules).
    Reply(Reply),
    /// A part of a fetch handler's response.
    Part(ResponsePart),
    /// The call failed (before or after the head was sent).
    Failed(Error),
}

async fn dispatch(state: &Arc<AppState>, request: Request<Incoming>) -> Answer {
    let path = request.uri().path().to_string();
    match (request.method(), path.as_str()) {
        (&Method::GET, "/_coldstart/health") => {
            return Answer::Whole(if state.pool.ready_workers() > 0 {
                Reply::json(
                    200,
                    &json!({ "status": "ok", "generation": state.pool.generation() }),
                )
            } else {
                Reply::json(503, &json!({ "status": "starting" }))
            });
        }
        (&Method::GET, "/_coldstart/metrics") => {
            return Answer::Whole(Reply::new(
                200,
                "text/plain; version=0.0.4",
                render_metrics(&state.metrics, &state.pool),
            ));
        }
        (&Method::POST, "/_coldstart/reload") => {
            let peer = request.extensions().get::<PeerAddr>().map(|peer| peer.0);
            return Answer::Whole(match state.reload_access.check(peer, request.headers()) {
                Ok(()) => reload(state).await,
                Err(refusal) => {
                    tracing::warn!(?peer, status = refusal.status, "reload refused");
                    refusal
                }
            });
        }
        (_, p) if p.starts_with("/_coldstart/") => return Answer::Whole(Reply::not_found()),
        _ => {}
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return Answer::Whole(Reply::text(413, "Payload Too Large\n"))
        }
        // A malformed body (bad chunk size, truncated chunk): the client's fault.
        Err(_) => return Answer::Whole(Reply::text(400, "Bad Request: malformed request body\n")),
    };
    answer(state, parts, body).await
}

/// Answers a request whose body has been read: runs the bundle (Rex routing, a module worker's
/// `fetch`, or a render module) on a pool worker. Shared by the HTTP server and the Lambda
/// runtime.
pub(crate) async fn answer(
    state: &Arc<AppState>,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Answer {
    let path = parts.uri.path().to_string();
    let method = parts.method.clone();
    let template = state.template.clone();
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Message>();
    // The job answers through `sender`, on (and past, for ctx.waitUntil) the response: whole
    // replies, a streamed response's parts, and its failure, which joins the stream. No task
    // waits for it here: a job lost with its worker drops `sender`, and the reply below, or the
    // streamed body, reads the closed channel as `Error::WorkerLost`.
    let (job_method, job_path) = (method.clone(), path.clone());
    let submitted = state.pool.submit(move |iso| {
        let (method, path) = (job_method, job_path);
        let answered = answer_in_isolate(iso, &parts, body, template.as_deref(), sender.clone());
        if let Err(error) = answered {
            log_failed(&method, &path, &error);
            let _ = sender.send(Message::Failed(error));
        }
    });
    if let Err(error) = submitted {
        log_failed(&method, &path, &error);
        return Answer::Whole(error_reply(&error));
    }
    match receiver.recv().await {
        Some(Message::Reply(reply)) => Answer::Whole(reply),
        Some(Message::Failed(error)) => Answer::Whole(error_reply(&error)),
        Some(Message::Part(ResponsePart::Head { status, headers })) => {
            Answer::Streamed(streamed_response(status, headers, receiver))
        }
        Some(Message::Part(_)) | None => Answer::Whole(error_reply(&Error::WorkerLost)),
    }
}

/// The log line of a request that failed (a JS error as the bundle's message and stack).
fn log_failed(method: &Method, path: &str, error: &Error) {
    match error {
        Error::Js(js) => tracing::error!(%method, %path, "request failed: {js}"),
        other => tracing::error!(%method, %path, "request failed: {other}"),
    }
}

/// Runs on a pool worker: answers with whatever the bundle is, building only the request form
/// that kind of bundle takes.
fn answer_in_isolate(
    iso: &mut SsrIsolate,
    parts: &hyper::http::request::Parts,
    body: Bytes,
    template: Option<&str>,
    sender: tokio::sync::mpsc::UnboundedSender<Message>,
) -> Result<(), Error> {
    match iso.app_kind() {
        AppKind::Rex => {
            let reply = handle_in_isolate(iso, rex_request(parts, &body))?;
            let _ = sender.send(Message::Reply(reply));
        }
        AppKind::Render => {
            let page = iso.render_url(path_and_query(parts))?;
            let html = match template {
                Some(template) => page.in_template(template),
                None => page.html.clone(),
            };
            let _ = sender.send(Message::Reply(Reply::html(
                page.status.unwrap_or(200),
                html,
            )));
        }
        AppKind::Fetch => {
            iso.fetch(
                &worker_request(parts, body),
                Box::new(move |part| {
                    let _ = sender.send(Message::Part(part));
                }),
            )?;
        }
    }
    Ok(())
}

fn path_and_query(parts: &hyper::http::request::Parts) -> &str {
    parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or_else(|| parts.uri.path())
}

/// A header's value as text (invalid UTF-8 replaced).
fn header_text(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// The request as the Rex routing takes it: headers joined by name, query and cookies parsed.
fn rex_request(parts: &hyper::http::request::Parts, body: &[u8]) -> RequestData {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in parts.headers.iter() {
        let value = header_text(value);
        headers
            .entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    RequestData {
        method: parts.method.as_str().to_string(),
        url: path_and_query(parts).to_string(),
        path: parts.uri.path().to_string(),
        query: parse_query(parts.uri.query()),
        cookies: parse_cookies(headers.get("cookie")),
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    }
}

/// The request as a module worker's `fetch` takes it: the full URL, its host from the `Host`
/// header (as workerd builds it), every header in order.
fn worker_request(parts: &hyper::http::request::Parts, body: Bytes) -> WorkerRequest {
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .map(header_text)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_string());
    WorkerRequest {
        method: parts.method.as_str().to_string(),
        url: format!("http://{host}{}", path_and_query(parts)),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_string(), header_text(value)))
            .collect(),
        body: (!body.is_empty()).then(|| body.to_vec()),
    }
}

/// A body whose frames are the chunks a worker sends, as it sends them.
struct WorkerBody {
    receiver: Option<tokio::sync::mpsc::UnboundedReceiver<Message>>,
}

impl hyper::body::Body for WorkerBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        use std::task::Poll;
        let Some(receiver) = self.receiver.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = match receiver.poll_recv(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Message::Part(ResponsePart::Chunk(bytes)))) => {
                return Poll::Ready(Some(Ok(Frame::data(Bytes::from(bytes)))));
            }
            Poll::Ready(Some(Message::Part(ResponsePart::End))) => None,
            // The job went away before the end (its worker was lost): not a complete body.
            Poll::Ready(None) => Some(Err(body_failed(&Error::WorkerLost))),
            Poll::Ready(Some(Message::Failed(error))) => Some(Err(body_failed(&error))),
            Poll::Ready(Some(Message::Part(ResponsePart::Head { .. }) | Message::Reply(_))) => {
                Some(Err(std::io::Error::other("the worker answered twice")))
            }
        };
        self.receiver = None;
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.receiver.is_none()
    }
}

/// The error a streamed body ends with when its job fails (or is lost) after the head was sent.
fn body_failed(error: &Error) -> std::io::Error {
    std::io::Error::other(format!("the response body failed: {error}"))
}

/// A response whose body frames come from the worker as its stream yields them.
fn streamed_response(
    status: u16,
    headers: Vec<(String, String)>,
    receiver: tokio::sync::mpsc::UnboundedReceiver<Message>,
) -> Response<ResponseBody> {
    response_with(
        status,
        headers,
        BodyExt::boxed_unsync(WorkerBody {
            receiver: Some(receiver),
        }),
    )
}

/// A response with `status` (500 when out of range), the valid ones of `headers` (others are
/// dropped) and `body`.
fn response_with(
    status: u16,
    headers: impl IntoIterator<Item = (String, String)>,
    body: ResponseBody,
) -> Response<ResponseBody> {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
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
                let (stream, peer) = match accepted {
                    Ok(ok) => ok,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let header_read_timeout = state.http.header_read_timeout;
                let compression = state.compression;
                let state = state.clone();
                let handler = tower::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(PeerAddr(peer));
                    handle(state.clone(), req)
                });
                let service = hyper_util::service::TowerToHyperService::new(
                    tower::ServiceBuilder::new()
                        .map_response(|response: Response<_>| response.map(box_any_body))
                        .layer(
                            tower_http::compression::CompressionLayer::new().compress_when(
                                move |status, version, headers: &hyper::HeaderMap, extensions: &hyper::http::Extensions| {
                                    compression && compressible(status, version, headers, extensions)
                                },
                            ),
                        )
                        .service(handler),
                );
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

/// Whether a response is worth compressing: whole (not streamed by a worker) text, HTML, JSON,
/// JavaScript, CSS, SVG or XML of at least 256 bytes that is not already encoded (tower-http
/// skips encoded responses itself).
fn compressible(
    _status: StatusCode,
    _version: hyper::Version,
    headers: &hyper::HeaderMap,
    extensions: &hyper::http::Extensions,
) -> bool {
    if extensions.get::<Streamed>().is_some() {
        return false;
    }
    let kind = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let textual = kind.starts_with("text/")
        || ["json", "javascript", "xml", "svg"]
            .iter()
            .any(|k| kind.contains(k));
    let length = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    textual && length.is_none_or(|n| n >= 256)
}

fn box_any_body<B>(body: B) -> ResponseBody
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    body.map_err(|e| std::io::Error::other(e.to_string()))
        .boxed_unsync()
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

pub(crate) fn to_response(reply: Reply, head_only: bool) -> Response<ResponseBody> {
    let body = if head_only {
        Bytes::new()
    } else {
        Bytes::from(reply.body)
    };
    let body = Full::new(body)
        .map_err(|never| match never {})
        .boxed_unsync();
    response_with(reply.status, reply.headers, body)
}
