//! The SSRF policy of `fetch`, pure (no I/O, no V8): which origins the embedder trusts, which
//! addresses are never reached (loopback, private, link-local incl. cloud metadata, CGNAT, ULA,
//! multicast, reserved, and every IPv6 form that embeds one of those IPv4 addresses), and the
//! filter the DNS resolver applies to every answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

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

    pub(crate) fn trusts(&self, url: &url::Url) -> bool {
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
        return blocked_v4(embedded_v4(seg[6], seg[7])).or(Some("IPv4-compatible address"));
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        return blocked_v4(embedded_v4(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return blocked_v4(embedded_v4(seg[1], seg[2]));
    }
    Some(match seg[0] {
        s if s & 0xfe00 == 0xfc00 => "unique local address (ULA)",
        s if s & 0xffc0 == 0xfe80 => "link-local address",
        s if s & 0xffc0 == 0xfec0 => "site-local address",
        s if s & 0xff00 == 0xff00 => "multicast address",
        _ => return None,
    })
}

/// The IPv4 address carried by two 16-bit IPv6 segments.
fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

/// The public addresses among `addrs`, or why there are none.
pub(crate) fn public_only(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            "240.0.0.1",
            "192.0.0.170",
            "198.18.0.1",
            "198.19.255.254",
            "fec0::1",
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
            "192.0.1.1",
            "198.20.0.1",
            // Only the well-known NAT64 prefix 64:ff9b::/96 embeds an IPv4 address.
            "64:1::a00:1",
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
