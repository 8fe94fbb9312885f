//! `host.random_fill`, `host.random_uuid`, `host.digest`, `host.hmac`: the native half of the
//! `crypto` polyfill. Randomness comes from the OS RNG (`getrandom`), never from `Math.random`;
//! hashes from the RustCrypto `sha1`/`sha2`/`hmac` crates.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{
    arg_bytes, array_buffer_from, declare_host_fns, throw_error_with, throw_type_error, HostFn,
};

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns![
        "random_fill" => random_fill,
        "random_uuid" => random_uuid,
        "digest" => digest,
        "hmac" => hmac,
    ]
}

/// Fills `bytes` from the OS RNG.
pub(crate) fn os_random(bytes: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(bytes)
}

/// A random (version 4) UUID in its canonical lowercase form.
pub fn random_uuid_string() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    os_random(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

fn random_fill(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let Ok(view) = v8::Local::<v8::ArrayBufferView>::try_from(args.get(0)) else {
        return throw_type_error(scope, "random_fill: expected an ArrayBufferView");
    };
    let Some(buffer) = view.buffer(scope) else {
        return throw_type_error(scope, "random_fill: detached buffer");
    };
    let (offset, len) = (view.byte_offset(), view.byte_length());
    let mut bytes = vec![0u8; len];
    if let Err(e) = os_random(&mut bytes) {
        return throw_error_with(
            scope,
            &format!("OS random number generator failed: {e}"),
            &[],
        );
    }
    let store = buffer.get_backing_store();
    if let Some(cells) = store.get(offset..offset + len) {
        for (cell, byte) in cells.iter().zip(bytes) {
            cell.set(byte);
        }
    }
    rv.set(args.get(0));
}

fn random_uuid(
    scope: &mut v8::HandleScope,
    _args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    match random_uuid_string() {
        Ok(uuid) => {
            if let Some(s) = v8::String::new(scope, &uuid) {
                rv.set(s.into());
            }
        }
        Err(e) => throw_error_with(
            scope,
            &format!("OS random number generator failed: {e}"),
            &[],
        ),
    }
}

/// Hashes `data` with the WebCrypto algorithm `name`.
pub fn digest_bytes(name: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match name.to_ascii_uppercase().as_str() {
        "SHA-1" => Sha1::digest(data).to_vec(),
        "SHA-256" => Sha256::digest(data).to_vec(),
        "SHA-384" => Sha384::digest(data).to_vec(),
        "SHA-512" => Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

/// HMAC of `data` under `key` with the WebCrypto hash `name`.
pub fn hmac_bytes(name: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac =
            <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
    Some(match name.to_ascii_uppercase().as_str() {
        "SHA-1" => run::<Hmac<Sha1>>(key, data),
        "SHA-256" => run::<Hmac<Sha256>>(key, data),
        "SHA-384" => run::<Hmac<Sha384>>(key, data),
        "SHA-512" => run::<Hmac<Sha512>>(key, data),
        _ => return None,
    })
}

fn digest(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let algorithm = args.get(0).to_rust_string_lossy(scope);
    let Some(data) = arg_bytes(args.get(1)) else {
        return throw_type_error(scope, "digest: data must be a BufferSource");
    };
    match digest_bytes(&algorithm, &data) {
        Some(hash) => rv.set(array_buffer_from(scope, hash).into()),
        None => throw_error_with(
            scope,
            &format!("Unrecognized algorithm name: {algorithm}"),
            &[("name", "NotSupportedError")],
        ),
    }
}

fn hmac(scope: &mut v8::HandleScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let algorithm = args.get(0).to_rust_string_lossy(scope);
    let (Some(key), Some(data)) = (arg_bytes(args.get(1)), arg_bytes(args.get(2))) else {
        return throw_type_error(scope, "hmac: key and data must be BufferSources");
    };
    match hmac_bytes(&algorithm, &key, &data) {
        Some(mac) => rv.set(array_buffer_from(scope, mac).into()),
        None => throw_error_with(
            scope,
            &format!("Unrecognized hash name: {algorithm}"),
            &[("name", "NotSupportedError")],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(
            hex(&digest_bytes("SHA-256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&digest_bytes("sha-1", b"").unwrap()),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert!(digest_bytes("MD5", b"").is_none());
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_bytes("SHA-256", b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn uuids_are_v4_and_distinct() {
        let a = random_uuid_string().unwrap();
        let b = random_uuid_string().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
