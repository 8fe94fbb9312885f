//! The HTTP client behind `fetch`: reqwest + rustls on a shared tokio runtime, a DNS resolver
//! that only hands out public addresses, redirects followed here hop by hop (each hop checked
//! against the [`FetchPolicy`] again), time and body limits. No V8 here.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::net_policy::{blocked_reason, public_only, FetchPolicy};

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
}
