//! hyper in front of the pool: connections (header-read and idle timeouts, graceful drain),
//! admin endpoints under `/_coldstart/`, request bodies, and [`Reply`] into an HTTP response.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::metrics::{render_metrics, HttpMetrics};
use super::routing::{
    error_reply, handle_in_isolate, parse_cookies, parse_query, status_for, Reply, RequestData,
    Stage,
};
use crate::error::Error;
use crate::pool::IsolatePool;

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
            return Reply::new(
                200,
                "text/plain; version=0.0.4",
                render_metrics(&state.metrics, &state.pool),
            );
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
        Ok(reply) => reply,
        Err(error) => {
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
