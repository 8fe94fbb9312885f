//! `host.op_fetch`, `host.op_cancel`: real HTTP(S) for the `fetch` polyfill.
//!
//! Requests run on a shared tokio runtime with reqwest + rustls; the event loop
//! ([`crate::isolate::event_loop`]) receives completions from a per-isolate channel and settles the JS
//! promises through `internals.op_complete`. Requests started in one call run concurrently.
//!
//! **SSRF policy.** Unless an origin is allowlisted, a request may only reach public unicast
//! addresses: loopback, private (RFC 1918), link-local (incl. cloud metadata `169.254.169.254`),
//! CGNAT `100.64/10`, ULA `fc00::/7`, IPv6 link-local, multicast, unspecified and reserved ranges
//! are refused. The check runs on the *resolved* address through a filtering DNS resolver — the
//! address checked is the address connected to, so DNS rebinding cannot slip past it — and on IP
//! literals directly. Redirects are followed here, hop by hop, so every hop is checked again.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::{arg_bytes, declare_host_fns, state, throw_type_error, HostFn};

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns![
        "op_fetch" => op_fetch,
        "op_cancel" => op_cancel,
    ]
}

/// Network policy for `fetch`, chosen by the embedder.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Origins (`scheme://host[:port]`) that may be reached even on non-public addresses.
    pub allowed_origins: Vec<String>,
    /// Turns the SSRF check off entirely (tests, trusted deployments).
    pub allow_private_addresses: bool,
    /// Deadline for one `fetch` (all redirects and the body included).
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most redirects followed.
    pub max_redirects: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allowed_origins: Vec::new(),
            allow_private_addresses: false,
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024 * 1024,
            max_redirects: 20,
        }
    }
}

impl FetchPolicy {
    /// Allows `origin` (e.g. `http://127.0.0.1:8080`) regardless of its address.
    pub fn allow_origin(mut self, origin: &str) -> Self {
        if let Some(o) = origin_of(origin) {
            self.allowed_origins.push(o);
        }
        self
    }

    fn trusts(&self, url: &url::Url) -> bool {
        let origin = url.origin().ascii_serialization();
        self.allow_private_addresses || self.allowed_origins.contains(&origin)
    }
}

fn origin_of(text: &str) -> Option<String> {
    url::Url::parse(text)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// Why an address is refused, or `None` for a public unicast address.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b) {
        (0, _) => "unspecified/\"this network\" address",
        (127, _) => "loopback address",
        (10, _) => "private address",
        (172, 16..=31) => "private address",
        (192, 168) => "private address",
        (169, 254) => "link-local address (cloud metadata range)",
        (100, 64..=127) => "carrier-grade NAT address",
        (192, 0) if c == 0 => "IETF protocol assignment address",
        (198, 18..=19) => "benchmarking address",
        (224..=239, _) => "multicast address",
        (240..=255, _) => "reserved address",
        _ => return None,
    })
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified address");
    }
    if ip.is_loopback() {
        return Some("loopback address");
    }
    // IPv4-compatible (deprecated) ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16 embed IPv4.
    if seg[..6] == [0, 0, 0, 0, 0, 0] {
        return blocked_v4(Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        ))
        .or(Some("IPv4-compatible address"));
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        );
        return blocked_v4(v4);
    }
    if seg[0] == 0x2002 {
        let v4 = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        return blocked_v4(v4);
    }
    Some(match seg[0] {
        s if s & 0xfe00 == 0xfc00 => "unique local address (ULA)",
        s if s & 0xffc0 == 0xfe80 => "link-local address",
        s if s & 0xffc0 == 0xfec0 => "site-local address",
        s if s & 0xff00 == 0xff00 => "multicast address",
        _ => return None,
    })
}

/// Looks a host name up (the system resolver; a fixed table in tests).
type Lookup = Arc<
    dyn Fn(
            String,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>,
        > + Send
        + Sync,
>;

/// A DNS resolver that only returns public addresses: a name that resolves to a mix of public
/// and private addresses is connected to through its public ones only (DNS rebinding), and a
/// name with no public address fails, naming the address refused and why.
struct PublicOnlyResolver {
    lookup: Lookup,
}

impl PublicOnlyResolver {
    fn system() -> Self {
        PublicOnlyResolver {
            lookup: Arc::new(|host| {
                Box::pin(
                    async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) },
                )
            }),
        }
    }
}

/// The public addresses among `addrs`, or why there are none.
fn public_only(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
    let mut refused = None;
    let public: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| match blocked_reason(a.ip()) {
            Some(reason) => {
                refused.get_or_insert((a.ip(), reason));
                false
            }
            None => true,
        })
        .collect();
    if public.is_empty() {
        return Err(match refused {
            Some((ip, reason)) => format!("{host} resolves to {ip}, a {reason} (SSRF policy)"),
            None => format!("{host} did not resolve"),
        });
    }
    Ok(public)
}

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let lookup = (self.lookup)(host.clone());
        Box::pin(async move {
            let public = public_only(&host, lookup.await?)?;
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

struct Clients {
    guarded: reqwest::Client,
    trusted: reqwest::Client,
}

fn clients() -> &'static Clients {
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let base = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .user_agent(concat!("coldstart/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
        };
        Clients {
            guarded: base()
                .dns_resolver(Arc::new(PublicOnlyResolver::system()))
                .build()
                .expect("reqwest client with rustls builds"),
            trusted: base().build().expect("reqwest client with rustls builds"),
        }
    })
}

/// The shared runtime host I/O runs on.
pub(crate) fn io_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("coldstart-io")
            .enable_all()
            .build()
            .expect("tokio runtime starts")
    })
}

/// One request as the polyfill describes it.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header list, in order.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<Vec<u8>>,
    /// `follow`, `manual` or `error`.
    pub redirect: String,
}

/// A completed response.
#[derive(Debug, Clone)]
pub struct FetchResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub status_text: String,
    /// Final URL after redirects.
    pub url: String,
    /// Whether a redirect was followed.
    pub redirected: bool,
    /// Header list, in order.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// A failed fetch: the JS error name (`TypeError`, `AbortError`, ...) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchFailure {
    /// JS error class name.
    pub name: &'static str,
    /// Message.
    pub message: String,
}

impl FetchFailure {
    fn type_error(message: impl Into<String>) -> Self {
        FetchFailure {
            name: "TypeError",
            message: message.into(),
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Performs `request` under `policy`, following redirects hop by hop.
pub async fn perform(
    request: FetchRequest,
    policy: &FetchPolicy,
) -> Result<FetchResponse, FetchFailure> {
    let deadline = Instant::now() + policy.timeout;
    match tokio::time::timeout(policy.timeout, perform_inner(request, policy, deadline)).await {
        Ok(result) => result,
        Err(_) => Err(FetchFailure {
            name: "TimeoutError",
            message: format!("fetch timed out after {} ms", policy.timeout.as_millis()),
        }),
    }
}

async fn perform_inner(
    mut request: FetchRequest,
    policy: &FetchPolicy,
    _deadline: Instant,
) -> Result<FetchResponse, FetchFailure> {
    let mut redirected = false;
    for _hop in 0..=policy.max_redirects {
        let url = url::Url::parse(&request.url).map_err(|e| {
            FetchFailure::type_error(format!("fetch: invalid URL `{}`: {e}", request.url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchFailure::type_error(format!(
                "fetch: unsupported URL scheme `{}:`",
                url.scheme()
            )));
        }
        let client = if policy.trusts(&url) {
            &clients().trusted
        } else {
            if let Some(host) = url.host() {
                let literal = match host {
                    url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
                    url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
                    url::Host::Domain(_) => None,
                };
                if let Some(ip) = literal {
                    if let Some(reason) = blocked_reason(ip) {
                        return Err(FetchFailure::type_error(format!(
                            "fetch to {url} refused: {ip} is a {reason} (SSRF policy)"
                        )));
                    }
                }
            }
            &clients().guarded
        };
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            FetchFailure::type_error(format!("fetch: invalid method `{}`", request.method))
        })?;
        let mut builder = client.request(method.clone(), url.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await.map_err(|e| {
            FetchFailure::type_error(format!("fetch to {url} failed: {}", describe(&e)))
        })?;
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if status.is_redirection() && location.is_some() && request.redirect != "manual" {
            if request.redirect == "error" {
                return Err(FetchFailure::type_error(format!(
                    "fetch to {url} failed: redirect mode is \"error\" and the server redirected"
                )));
            }
            let next = url
                .join(location.as_deref().unwrap_or_default())
                .map_err(|e| {
                    FetchFailure::type_error(format!("fetch: bad redirect location: {e}"))
                })?;
            let code = status.as_u16();
            if code == 303
                || ((code == 301 || code == 302) && request.method.eq_ignore_ascii_case("POST"))
            {
                if !request.method.eq_ignore_ascii_case("HEAD") {
                    request.method = "GET".to_string();
                }
                request.body = None;
                request.headers.retain(|(n, _)| {
                    !matches!(
                        n.to_ascii_lowercase().as_str(),
                        "content-type"
                            | "content-length"
                            | "content-encoding"
                            | "content-language"
                            | "content-location"
                    )
                });
            }
            if url.origin() != next.origin() {
                request.headers.retain(|(n, _)| {
                    !matches!(n.to_ascii_lowercase().as_str(), "authorization" | "cookie")
                });
            }
            request.url = next.to_string();
            redirected = true;
            continue;
        }
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            FetchFailure::type_error(format!(
                "fetch to {url}: reading the body failed: {}",
                describe(&e)
            ))
        })? {
            if body.len() + chunk.len() > policy.max_body_bytes {
                return Err(FetchFailure::type_error(format!(
                    "fetch to {url}: response body exceeds the limit of {} bytes",
                    policy.max_body_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(FetchResponse {
            status: status.as_u16(),
            status_text: status.canonical_reason().unwrap_or("").to_string(),
            url: url.to_string(),
            redirected,
            headers,
            body,
        });
    }
    Err(FetchFailure::type_error(format!(
        "fetch: more than {} redirects",
        policy.max_redirects
    )))
}

/// A host operation that finished on the I/O runtime.
#[derive(Debug)]
pub(crate) struct OpCompletion {
    /// The JS op id.
    pub id: u32,
    /// Which arming of `id` this is (ids can be reused after cancellation).
    pub ticket: u64,
    /// The outcome.
    pub result: Result<FetchResponse, FetchFailure>,
}

/// Host I/O in flight for one isolate.
pub(crate) struct Ops {
    tx: mpsc::Sender<OpCompletion>,
    rx: mpsc::Receiver<OpCompletion>,
    in_flight: HashMap<u32, (u64, tokio::task::AbortHandle)>,
    next_ticket: u64,
}

impl Ops {
    pub(crate) fn new() -> Self {
        let (tx, rx) = mpsc::channel();
        Ops {
            tx,
            rx,
            in_flight: HashMap::new(),
            next_ticket: 0,
        }
    }

    /// Number of operations whose completion is still expected.
    pub(crate) fn pending(&self) -> usize {
        self.in_flight.len()
    }

    /// Cancels everything in flight; their completions are dropped.
    pub(crate) fn cancel_all(&mut self) {
        for (_, (_, handle)) in self.in_flight.drain() {
            handle.abort();
        }
        while self.rx.try_recv().is_ok() {}
    }

    fn cancel(&mut self, id: u32) {
        if let Some((_, handle)) = self.in_flight.remove(&id) {
            handle.abort();
        }
    }

    /// Takes a completion if one is ready (waiting up to `wait`), skipping cancelled ones.
    pub(crate) fn next_completion(&mut self, wait: Option<Duration>) -> Option<OpCompletion> {
        loop {
            let completion = match wait {
                None => self.rx.try_recv().ok()?,
                Some(d) => self.rx.recv_timeout(d).ok()?,
            };
            match self.in_flight.get(&completion.id) {
                Some((ticket, _)) if *ticket == completion.ticket => {
                    self.in_flight.remove(&completion.id);
                    return Some(completion);
                }
                // Cancelled or superseded: drop it and look again without waiting.
                _ => {
                    if wait.is_some() {
                        return None;
                    }
                }
            }
        }
    }
}

fn get_prop<'s>(
    scope: &mut v8::HandleScope<'s>,
    object: v8::Local<v8::Object>,
    key: &str,
) -> Option<v8::Local<'s, v8::Value>> {
    let key = v8::String::new(scope, key)?;
    object.get(scope, key.into())
}

fn read_request(
    scope: &mut v8::HandleScope,
    value: v8::Local<v8::Value>,
) -> Result<FetchRequest, String> {
    let object = v8::Local::<v8::Object>::try_from(value)
        .map_err(|_| "request must be an object".to_string())?;
    let text = |scope: &mut v8::HandleScope, key: &str, default: &str| -> String {
        match get_prop(scope, object, key) {
            Some(v) if !v.is_null_or_undefined() => v.to_rust_string_lossy(scope),
            _ => default.to_string(),
        }
    };
    let method = text(scope, "method", "GET");
    let url = text(scope, "url", "");
    let redirect = text(scope, "redirect", "follow");
    let mut headers = Vec::new();
    if let Some(list) = get_prop(scope, object, "headers") {
        if let Ok(array) = v8::Local::<v8::Array>::try_from(list) {
            for i in 0..array.length() {
                let Some(pair) = array.get_index(scope, i) else {
                    continue;
                };
                let Ok(pair) = v8::Local::<v8::Array>::try_from(pair) else {
                    continue;
                };
                let (Some(k), Some(v)) = (pair.get_index(scope, 0), pair.get_index(scope, 1))
                else {
                    continue;
                };
                headers.push((k.to_rust_string_lossy(scope), v.to_rust_string_lossy(scope)));
            }
        }
    }
    let body = match get_prop(scope, object, "body") {
        Some(v) if !v.is_null_or_undefined() => {
            Some(arg_bytes(v).unwrap_or_else(|| v.to_rust_string_lossy(scope).into_bytes()))
        }
        _ => None,
    };
    Ok(FetchRequest {
        method,
        url,
        headers,
        body,
        redirect,
    })
}

fn op_fetch(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let Some(id) = args.get(0).uint32_value(scope) else {
        return throw_type_error(scope, "op_fetch: id must be an integer");
    };
    let request = match read_request(scope, args.get(1)) {
        Ok(r) => r,
        Err(e) => return throw_type_error(scope, &format!("op_fetch: {e}")),
    };
    let state = state::get(scope);
    let mut state = state.borrow_mut();
    let policy = state.fetch_policy.clone();
    state.ops.cancel(id);
    state.ops.next_ticket += 1;
    let ticket = state.ops.next_ticket;
    let tx = state.ops.tx.clone();
    let task = io_runtime().spawn(async move {
        let result = perform(request, &policy).await;
        let _ = tx.send(OpCompletion { id, ticket, result });
    });
    state
        .ops
        .in_flight
        .insert(id, (ticket, task.abort_handle()));
}

fn op_cancel(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    if let Some(id) = args.get(0).uint32_value(scope) {
        state::get(scope).borrow_mut().ops.cancel(id);
    }
}

/// Converts a completion into the `(error, value)` pair `internals.op_complete` takes.
pub(crate) fn completion_to_js<'s>(
    scope: &mut v8::HandleScope<'s>,
    result: Result<FetchResponse, FetchFailure>,
) -> (v8::Local<'s, v8::Value>, v8::Local<'s, v8::Value>) {
    let set = |scope: &mut v8::HandleScope<'s>,
               obj: v8::Local<'s, v8::Object>,
               k: &str,
               v: v8::Local<'s, v8::Value>| {
        if let Some(key) = v8::String::new(scope, k) {
            obj.set(scope, key.into(), v);
        }
    };
    let string = |scope: &mut v8::HandleScope<'s>, s: &str| -> v8::Local<'s, v8::Value> {
        v8::String::new(scope, s)
            .map(Into::into)
            .unwrap_or_else(|| v8::undefined(scope).into())
    };
    match result {
        Err(failure) => {
            let error = v8::Object::new(scope);
            let name = string(scope, failure.name);
            let message = string(scope, &failure.message);
            set(scope, error, "name", name);
            set(scope, error, "message", message);
            (error.into(), v8::undefined(scope).into())
        }
        Ok(response) => {
            let value = v8::Object::new(scope);
            let status = v8::Integer::new(scope, response.status as i32).into();
            set(scope, value, "status", status);
            let status_text = string(scope, &response.status_text);
            set(scope, value, "statusText", status_text);
            let url = string(scope, &response.url);
            set(scope, value, "url", url);
            let redirected = v8::Boolean::new(scope, response.redirected).into();
            set(scope, value, "redirected", redirected);
            let pairs: Vec<v8::Local<v8::Value>> = response
                .headers
                .iter()
                .map(|(k, v)| {
                    let pair = [string(scope, k), string(scope, v)];
                    v8::Array::new_with_elements(scope, &pair).into()
                })
                .collect();
            let headers = v8::Array::new_with_elements(scope, &pairs).into();
            set(scope, value, "headers", headers);
            let body = super::uint8_array_from(scope, response.body)
                .map(Into::into)
                .unwrap_or_else(|| v8::undefined(scope).into());
            set(scope, value, "body", body);
            (v8::null(scope).into(), value.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resolver we control: `rebind.test` answers with a public and a private address,
    /// `private.test` with private ones only.
    fn table_resolver() -> PublicOnlyResolver {
        PublicOnlyResolver {
            lookup: Arc::new(|host| {
                let addrs: Vec<SocketAddr> = match host.as_str() {
                    "rebind.test" => vec![
                        "127.0.0.1:0".parse().unwrap(),
                        "93.184.216.34:0".parse().unwrap(),
                        "[::1]:0".parse().unwrap(),
                        "169.254.169.254:0".parse().unwrap(),
                    ],
                    "private.test" => vec![
                        "10.1.2.3:0".parse().unwrap(),
                        "[fd00::1]:0".parse().unwrap(),
                    ],
                    _ => Vec::new(),
                };
                Box::pin(async move { Ok(addrs) })
            }),
        }
    }

    fn resolve(resolver: &PublicOnlyResolver, host: &str) -> Result<Vec<SocketAddr>, String> {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let name = reqwest::dns::Name::from_str(host).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(resolver.resolve(name))
            .map(|addrs| addrs.collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_name_resolving_to_public_and_private_addresses_reaches_only_the_public_one() {
        let resolver = table_resolver();
        assert_eq!(
            resolve(&resolver, "rebind.test").unwrap(),
            vec!["93.184.216.34:0".parse::<SocketAddr>().unwrap()]
        );
        let error = resolve(&resolver, "private.test").unwrap_err();
        assert!(
            error.contains("private.test resolves to 10.1.2.3, a private address (SSRF policy)"),
            "{error}"
        );
        let error = resolve(&resolver, "nothing.test").unwrap_err();
        assert!(error.contains("did not resolve"), "{error}");
    }

    fn reason(s: &str) -> Option<&'static str> {
        blocked_reason(s.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_are_refused() {
        for addr in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(reason(addr).is_some(), "{addr} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(reason(addr), None, "{addr} should pass");
        }
    }

    #[test]
    fn allowlisted_origins_match_exactly() {
        let policy = FetchPolicy::default().allow_origin("http://127.0.0.1:8080/some/path");
        assert!(policy.trusts(&url::Url::parse("http://127.0.0.1:8080/x").unwrap()));
        assert!(!policy.trusts(&url::Url::parse("http://127.0.0.1:8081/x").unwrap()));
        assert!(!policy.trusts(&url::Url::parse("https://127.0.0.1:8080/x").unwrap()));
    }
}
