//! The snapshot file format.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "COLDSNAP"
//!      8     4  format version (u32 LE)
//!     12     4  header length = payload offset (u32 LE, a multiple of 4096)
//!     16    32  engine (coldstart) version, NUL padded
//!     48    64  V8 version, NUL padded
//!    112    32  blake3 of the V8 flags
//!    144    32  external-reference table fingerprint
//!    176    32  content key
//!    208     8  payload length (u64 LE)
//!    216    32  blake3 of the payload
//!    248     8  bundle size in bytes (u64 LE)
//!    256     8  creation time, ms since the Unix epoch (u64 LE)
//!    264     2  bundle name length N (u16 LE)
//!    266     2  metadata length M (u16 LE)
//!    268     N  bundle name (UTF-8)
//!  268+N     M  metadata (JSON: flags, build options, hygiene report)
//!   ....        zero padding
//! HL-32     32  blake3 of header bytes [0, HL-32)
//!     HL        payload, page aligned: the V8 startup blob (`startup_len` bytes in the
//!               metadata), then the bundle's source section (`crate::external_source`)
//! ```
//!
//! Compatibility fields are checked first, each with its own error, then the header checksum,
//! the lengths, and (in [`super::mapped`]) the payload checksum — all before V8 sees a byte.

use serde::{Deserialize, Serialize};

use crate::error::SnapshotError;

/// File magic.
pub const MAGIC: [u8; 8] = *b"COLDSNAP";
/// Version of this layout.
pub const FORMAT_VERSION: u32 = 2;
/// Header size = payload offset (one page).
pub const HEADER_LEN: usize = 4096;

const ENGINE_FIELD: std::ops::Range<usize> = 16..48;
const V8_FIELD: std::ops::Range<usize> = 48..112;
const FIXED_END: usize = 268;
const CHECKSUM_AT: usize = HEADER_LEN - 32;

/// Free-form facts about how a snapshot was built, stored as JSON in the header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The V8 flags (the header holds only their hash).
    pub v8_flags: String,
    /// `keep` or `clear`: whether compiled function code was kept in the blob.
    pub function_code: String,
    /// Warm-up calls run before the snapshot was taken.
    #[serde(default)]
    pub warmup: Vec<String>,
    /// blake3 of the built-in polyfills (hex).
    pub polyfills_hash: String,
    /// What the snapshot froze that behaves differently after restore.
    #[serde(default)]
    pub hygiene: super::hygiene::HygieneReport,
    /// V8 heap in use when the snapshot was taken (after a full GC), in bytes: about what a
    /// restored isolate needs before it runs anything. 0 when unknown.
    #[serde(default)]
    pub heap_bytes: u64,
    /// Length of the V8 startup blob at the start of the payload, in bytes; the bundle's source
    /// section (`crate::external_source`) follows it. 0: the payload is the blob.
    #[serde(default)]
    pub startup_len: u64,
}

/// A parsed header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Format version.
    pub format_version: u32,
    /// coldstart version that built it.
    pub engine_version: String,
    /// V8 version that built it.
    pub v8_version: String,
    /// blake3 of the V8 flags.
    pub flags_hash: [u8; 32],
    /// External-reference table fingerprint.
    pub external_references: [u8; 32],
    /// Content key.
    pub key: [u8; 32],
    /// Payload length in bytes.
    pub payload_len: u64,
    /// blake3 of the payload.
    pub payload_hash: [u8; 32],
    /// Bundle size in bytes.
    pub bundle_size: u64,
    /// The bundle's name.
    pub bundle_name: String,
    /// Build metadata.
    pub metadata: Metadata,
}

/// What this engine expects of a header.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// coldstart version.
    pub engine_version: &'a str,
    /// V8 version.
    pub v8_version: &'a str,
    /// blake3 of the V8 flags.
    pub flags_hash: [u8; 32],
    /// External-reference fingerprint.
    pub external_references: [u8; 32],
}

pub use crate::hex::{hex, parse_key};

fn put_str(buf: &mut [u8], range: std::ops::Range<usize>, value: &str) {
    let bytes = value.as_bytes();
    let n = bytes.len().min(range.len());
    buf[range.start..range.start + n].copy_from_slice(&bytes[..n]);
}

fn get_str(buf: &[u8], range: std::ops::Range<usize>) -> String {
    let field = &buf[range];
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn u16_at(buf: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([buf[at], buf[at + 1]])
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

fn hash_at(buf: &[u8], at: usize) -> [u8; 32] {
    buf[at..at + 32].try_into().expect("32 bytes")
}

impl Header {
    /// Serialises the header into exactly [`HEADER_LEN`] bytes (checksum included).
    ///
    /// The bundle name is cut to 255 bytes and the metadata must fit in the page.
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; HEADER_LEN];
        buf[0..8].copy_from_slice(&MAGIC);
        buf[8..12].copy_from_slice(&self.format_version.to_le_bytes());
        buf[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        put_str(&mut buf, ENGINE_FIELD, &self.engine_version);
        put_str(&mut buf, V8_FIELD, &self.v8_version);
        buf[112..144].copy_from_slice(&self.flags_hash);
        buf[144..176].copy_from_slice(&self.external_references);
        buf[176..208].copy_from_slice(&self.key);
        buf[208..216].copy_from_slice(&self.payload_len.to_le_bytes());
        buf[216..248].copy_from_slice(&self.payload_hash);
        buf[248..256].copy_from_slice(&self.bundle_size.to_le_bytes());
        // 256..264: reserved, zero (held a creation time before builds became reproducible).
        let mut name_end = self.bundle_name.len().min(255);
        while !self.bundle_name.is_char_boundary(name_end) {
            name_end -= 1;
        }
        let name = &self.bundle_name.as_bytes()[..name_end];
        let metadata = serde_json::to_vec(&self.metadata).map_err(|e| e.to_string())?;
        if FIXED_END + name.len() + metadata.len() > CHECKSUM_AT {
            return Err(format!(
                "snapshot metadata is {} bytes; at most {} fit in the header",
                metadata.len(),
                CHECKSUM_AT - FIXED_END - name.len()
            ));
        }
        buf[264..266].copy_from_slice(&(name.len() as u16).to_le_bytes());
        buf[266..268].copy_from_slice(&(metadata.len() as u16).to_le_bytes());
        buf[FIXED_END..FIXED_END + name.len()].copy_from_slice(name);
        let meta_at = FIXED_END + name.len();
        buf[meta_at..meta_at + metadata.len()].copy_from_slice(&metadata);
        let checksum = blake3::hash(&buf[..CHECKSUM_AT]);
        buf[CHECKSUM_AT..].copy_from_slice(checksum.as_bytes());
        Ok(buf)
    }

    /// Parses and checks a header against what this engine expects. `file_len` is the length of
    /// the whole file; `path` is only used in errors. `expected: None` skips the compatibility
    /// checks (for `inspect`), never the integrity ones.
    pub fn decode(
        file: &[u8],
        file_len: u64,
        path: &str,
        expected: Option<Expected<'_>>,
    ) -> Result<Header, SnapshotError> {
        let path = path.to_string();
        if file.len() < 16 {
            return Err(SnapshotError::Truncated {
                path,
                detail: format!("{} bytes, shorter than the header", file.len()),
            });
        }
        if file[0..8] != MAGIC {
            return Err(SnapshotError::BadMagic { path });
        }
        let format_version = u32_at(file, 8);
        if format_version != FORMAT_VERSION {
            return Err(SnapshotError::FormatVersion {
                path,
                found: format_version,
                expected: FORMAT_VERSION,
            });
        }
        let header_len = u32_at(file, 12) as usize;
        if header_len != HEADER_LEN {
            return Err(SnapshotError::Malformed {
                path,
                detail: format!("header length {header_len}, expected {HEADER_LEN}"),
            });
        }
        if file.len() < HEADER_LEN {
            return Err(SnapshotError::Truncated {
                path,
                detail: format!("{} bytes, the header alone is {HEADER_LEN}", file.len()),
            });
        }
        let engine_version = get_str(file, ENGINE_FIELD);
        let v8_version = get_str(file, V8_FIELD);
        let flags_hash = hash_at(file, 112);
        let external_references = hash_at(file, 144);
        if let Some(exp) = expected {
            if engine_version != exp.engine_version {
                return Err(SnapshotError::EngineVersion {
                    path,
                    found: engine_version,
                    expected: exp.engine_version.to_string(),
                });
            }
            if v8_version != exp.v8_version {
                return Err(SnapshotError::V8Version {
                    path,
                    found: v8_version,
                    expected: exp.v8_version.to_string(),
                });
            }
            if flags_hash != exp.flags_hash {
                return Err(SnapshotError::Flags {
                    path,
                    found: hex(&flags_hash[..8]),
                    expected: hex(&exp.flags_hash[..8]),
                });
            }
            if external_references != exp.external_references {
                return Err(SnapshotError::ExternalReferences {
                    path,
                    found: hex(&external_references[..8]),
                    expected: hex(&exp.external_references[..8]),
                });
            }
        }
        if blake3::hash(&file[..CHECKSUM_AT]).as_bytes() != &file[CHECKSUM_AT..HEADER_LEN] {
            return Err(SnapshotError::HeaderChecksum { path });
        }
        let payload_len = u64_at(file, 208);
        let actual = file_len.saturating_sub(HEADER_LEN as u64);
        if payload_len > actual {
            return Err(SnapshotError::Truncated {
                path,
                detail: format!("header says {payload_len} payload bytes, the file holds {actual}"),
            });
        }
        if payload_len < actual {
            return Err(SnapshotError::LengthMismatch {
                path,
                detail: format!(
                    "header says {payload_len} payload bytes, the file holds {actual} ({} extra)",
                    actual - payload_len
                ),
            });
        }
        let name_len = u16_at(file, 264) as usize;
        let meta_len = u16_at(file, 266) as usize;
        if FIXED_END + name_len + meta_len > CHECKSUM_AT {
            return Err(SnapshotError::Malformed {
                path,
                detail: "name and metadata overflow the header".to_string(),
            });
        }
        let bundle_name =
            String::from_utf8_lossy(&file[FIXED_END..FIXED_END + name_len]).into_owned();
        let meta_at = FIXED_END + name_len;
        let metadata: Metadata = serde_json::from_slice(&file[meta_at..meta_at + meta_len])
            .map_err(|e| SnapshotError::Malformed {
                path: path.clone(),
                detail: format!("metadata: {e}"),
            })?;
        Ok(Header {
            format_version,
            engine_version,
            v8_version,
            flags_hash,
            external_references,
            key: hash_at(file, 176),
            payload_len,
            payload_hash: hash_at(file, 216),
            bundle_size: u64_at(file, 248),
            bundle_name,
            metadata,
        })
    }

    /// Offset of the payload in the file.
    pub fn payload_offset(&self) -> usize {
        HEADER_LEN
    }
}

/// Byte offsets of header fields, for tests that forge headers.
pub mod offsets {
    /// Format version field (u32 LE).
    pub const FORMAT_VERSION: std::ops::Range<usize> = 8..12;
    /// coldstart version field.
    pub const ENGINE_VERSION: std::ops::Range<usize> = super::ENGINE_FIELD;
    /// Bundle name length (u16 LE) and metadata length (u16 LE).
    pub const NAME_AND_METADATA_LENGTHS: std::ops::Range<usize> = 264..268;
    /// V8 version field.
    pub const V8_VERSION: std::ops::Range<usize> = super::V8_FIELD;
    /// External-reference fingerprint field.
    pub const EXTERNAL_REFERENCES: std::ops::Range<usize> = 144..176;
    /// Header checksum field.
    pub const CHECKSUM: std::ops::Range<usize> = super::CHECKSUM_AT..super::HEADER_LEN;
    /// Recomputes the header checksum after a forged edit.
    pub fn reseal(file: &mut [u8]) {
        let checksum = blake3::hash(&file[..super::CHECKSUM_AT]);
        file[CHECKSUM].copy_from_slice(checksum.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            format_version: FORMAT_VERSION,
            engine_version: "0.1.0".into(),
            v8_version: "13.7.152.14-rusty".into(),
            flags_hash: [1; 32],
            external_references: [2; 32],
            key: [3; 32],
            payload_len: 10,
            payload_hash: [4; 32],
            bundle_size: 1234,
            bundle_name: "app.js".into(),
            metadata: Metadata {
                v8_flags: "--foo".into(),
                function_code: "keep".into(),
                ..Metadata::default()
            },
        }
    }

    fn expected() -> Expected<'static> {
        Expected {
            engine_version: "0.1.0",
            v8_version: "13.7.152.14-rusty",
            flags_hash: [1; 32],
            external_references: [2; 32],
        }
    }

    #[test]
    fn round_trips() {
        let header = sample();
        let bytes = header.encode().unwrap();
        assert_eq!(bytes.len(), HEADER_LEN);
        let back = Header::decode(&bytes, HEADER_LEN as u64 + 10, "x", Some(expected())).unwrap();
        assert_eq!(back, header);
    }

    #[test]
    fn each_mismatch_has_its_own_error() {
        let bytes = sample().encode().unwrap();
        let len = HEADER_LEN as u64 + 10;
        let mut e = expected();
        e.v8_version = "12.0";
        assert!(matches!(
            Header::decode(&bytes, len, "x", Some(e)),
            Err(SnapshotError::V8Version { .. })
        ));
        let mut e = expected();
        e.flags_hash = [9; 32];
        assert!(matches!(
            Header::decode(&bytes, len, "x", Some(e)),
            Err(SnapshotError::Flags { .. })
        ));
        let mut e = expected();
        e.external_references = [9; 32];
        assert!(matches!(
            Header::decode(&bytes, len, "x", Some(e)),
            Err(SnapshotError::ExternalReferences { .. })
        ));
        assert!(matches!(
            Header::decode(&bytes, len - 1, "x", Some(expected())),
            Err(SnapshotError::Truncated { .. })
        ));
        let mut flipped = bytes.clone();
        flipped[300] ^= 1;
        assert!(matches!(
            Header::decode(&flipped, len, "x", Some(expected())),
            Err(SnapshotError::HeaderChecksum { .. })
        ));
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert!(matches!(
            Header::decode(&magic, len, "x", None),
            Err(SnapshotError::BadMagic { .. })
        ));
        assert!(matches!(
            Header::decode(&bytes[..100], len, "x", None),
            Err(SnapshotError::Truncated { .. })
        ));
    }

    #[test]
    fn keys_parse_from_hex() {
        let key = [0xab; 32];
        assert_eq!(parse_key(&hex(&key)), Some(key));
        assert_eq!(parse_key("zz"), None);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic_the_decoder(
                bytes in proptest::collection::vec(any::<u8>(), 0..6000),
                extra in 0u64..100_000,
                checked in any::<bool>(),
            ) {
                let file_len = bytes.len() as u64 + extra;
                let _ = Header::decode(&bytes, file_len, "x", checked.then(expected));
            }

            #[test]
            fn any_flipped_bit_of_a_header_is_refused(at in 0..HEADER_LEN, bit in 0u8..8) {
                let mut bytes = sample().encode().unwrap();
                bytes[at] ^= 1 << bit;
                let len = HEADER_LEN as u64 + 10;
                prop_assert!(Header::decode(&bytes, len, "x", Some(expected())).is_err());
                prop_assert!(Header::decode(&bytes, len, "x", None).is_err());
            }

            #[test]
            fn a_file_length_other_than_the_headers_is_refused(len in 0u64..1_000_000) {
                prop_assume!(len != HEADER_LEN as u64 + 10);
                let bytes = sample().encode().unwrap();
                let refused = Header::decode(&bytes, len, "x", Some(expected()));
                let is_length_error = matches!(
                    refused,
                    Err(SnapshotError::Truncated { .. } | SnapshotError::LengthMismatch { .. })
                );
                prop_assert!(is_length_error);
            }
        }
    }
}
