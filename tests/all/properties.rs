//! Property tests of the code that keeps promises against hostile input: the snapshot loader
//! (truncations, bit flips, appended bytes are always a typed refusal, never a V8 abort) and the
//! SSRF address classifier (agrees with the standard library's classification and sees through
//! every IPv6 form that embeds an IPv4 address). Seeds are fixed by proptest's defaults per test
//! name; failures print the minimal case.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use coldstart::runtime::net_policy::blocked_reason;
use coldstart::Snapshot;
use proptest::prelude::*;

use crate::common::*;

/// One small snapshot, built once per test process; tests damage copies of its bytes.
fn pristine() -> &'static (tempfile::TempDir, Vec<u8>) {
    static PRISTINE: OnceLock<(tempfile::TempDir, Vec<u8>)> = OnceLock::new();
    PRISTINE.get_or_init(|| {
        let (dir, snapshot) = snapshot_of(&small_app());
        let bytes = read(snapshot.path());
        (dir, bytes)
    })
}

/// Writes `bytes` to a new file and opens it as a snapshot.
fn open_bytes(bytes: &[u8]) -> Result<Snapshot, coldstart::Error> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    Snapshot::open(&engine(), file.path())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_truncated_snapshot_is_refused(fraction in 0.0f64..1.0) {
        let bytes = &pristine().1;
        let cut = ((bytes.len() as f64) * fraction) as usize;
        let error = open_bytes(&bytes[..cut]).unwrap_err();
        prop_assert!(error.as_snapshot().is_some(), "{}", error);
    }

    #[test]
    fn a_snapshot_with_any_flipped_bit_is_refused(fraction in 0.0f64..1.0, bit in 0u8..8) {
        let mut bytes = pristine().1.clone();
        let at = ((bytes.len() as f64) * fraction) as usize;
        bytes[at] ^= 1 << bit;
        let error = open_bytes(&bytes).unwrap_err();
        prop_assert!(error.as_snapshot().is_some(), "{}", error);
    }

    #[test]
    fn a_snapshot_with_bytes_appended_is_a_length_mismatch(
        extra in proptest::collection::vec(any::<u8>(), 1..4096)
    ) {
        let mut bytes = pristine().1.clone();
        bytes.extend_from_slice(&extra);
        let error = open_bytes(&bytes).unwrap_err();
        let is_mismatch = matches!(
            error.as_snapshot(),
            Some(coldstart::SnapshotError::LengthMismatch { .. })
        );
        prop_assert!(is_mismatch, "{}", error);
    }
}

/// What the standard library (plus RFC 6598 shared address space) calls non-public.
fn std_says_internal(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

fn embeddings(v4: Ipv4Addr) -> Vec<Ipv6Addr> {
    let [a, b, c, d] = v4.octets();
    let hi = u16::from_be_bytes([a, b]);
    let lo = u16::from_be_bytes([c, d]);
    vec![
        v4.to_ipv6_mapped(),
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo),
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
        Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_internal_ipv4_address_is_refused(raw in any::<u32>()) {
        let ip = Ipv4Addr::from(raw);
        if std_says_internal(ip) {
            prop_assert!(blocked_reason(IpAddr::V4(ip)).is_some(), "{} allowed", ip);
        }
    }

    #[test]
    fn ipv6_forms_that_embed_ipv4_are_classified_like_the_ipv4(raw in any::<u32>()) {
        let v4 = Ipv4Addr::from(raw);
        let blocked = blocked_reason(IpAddr::V4(v4)).is_some();
        for v6 in embeddings(v4) {
            if blocked {
                prop_assert!(blocked_reason(IpAddr::V6(v6)).is_some(), "{} (for {}) allowed", v6, v4);
            }
        }
    }

    #[test]
    fn internal_ipv6_ranges_are_refused(raw in any::<u128>()) {
        let ip = Ipv6Addr::from(raw);
        let seg = ip.segments();
        let internal = ip.is_loopback()
            || ip.is_unspecified()
            || ip.is_multicast()
            || (seg[0] & 0xfe00) == 0xfc00 // unique local
            || (seg[0] & 0xffc0) == 0xfe80; // link-local
        if internal {
            prop_assert!(blocked_reason(IpAddr::V6(ip)).is_some(), "{} allowed", ip);
        }
    }
}

#[test]
fn public_addresses_stay_reachable() {
    for ip in [
        "8.8.8.8",
        "1.1.1.1",
        "151.101.1.69",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
    ] {
        let ip: IpAddr = ip.parse().unwrap();
        assert_eq!(blocked_reason(ip), None, "{ip}");
    }
}
