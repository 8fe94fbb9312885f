//! What identifies a file's bytes without reading them: its device, inode, length, and its
//! modification and change times.
//!
//! Records built on it (a store's [`crate::snapshot::VerifiedRecord`] of a hashed snapshot, its
//! [`crate::bundle::BundleRecord`] of a hashed bundle) let a later process skip reading and
//! hashing a file nobody touched since. The argument: a write in place, a truncation or a `chmod`
//! moves the change time, which only the kernel sets (`utimes` sets the access and modification
//! times, never the change time); replacing the file by rename gives a new inode. A change below
//! the filesystem (media corruption, a raw device write) is the one thing an identity cannot see.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::time::{SystemTime, UNIX_EPOCH};

/// How long ago a file must have last changed for a record of it to be kept: file times tick with
/// the kernel's coarse clock (up to 10 ms), so a write landing in the same tick as the change a
/// record saw would leave the change time as it was.
const SETTLE_NS: i128 = 100_000_000;

/// A file's device, inode, length, modification and change times (nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileIdentity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl FileIdentity {
    /// The identity `meta` describes.
    pub fn of(meta: &Metadata) -> FileIdentity {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        }
    }

    /// The file's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The modification time in nanoseconds since the epoch.
    pub fn mtime_ns(&self) -> i128 {
        self.mtime_ns
    }

    /// Whether the file last changed long enough ago for a record of it to be kept.
    pub fn settled(&self) -> bool {
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        now_ns - self.ctime_ns > SETTLE_NS
    }

    /// The identity as five space-separated numbers.
    pub fn encode(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.dev, self.ino, self.len, self.mtime_ns, self.ctime_ns
        )
    }

    /// Parses [`FileIdentity::encode`]'s five fields.
    pub fn decode(fields: &[&str]) -> Option<FileIdentity> {
        let [dev, ino, len, mtime, ctime] = fields else {
            return None;
        };
        Some(FileIdentity {
            dev: dev.parse().ok()?,
            ino: ino.parse().ok()?,
            len: len.parse().ok()?,
            mtime_ns: mtime.parse().ok()?,
            ctime_ns: ctime.parse().ok()?,
        })
    }
}

/// A record line: `MAGIC identity… hex-hash [extra…]` → the identity, the hash and the rest.
pub(crate) fn decode_record<'t>(
    text: &'t str,
    magic: &str,
) -> Option<(FileIdentity, [u8; 32], Vec<&'t str>)> {
    let rest = text.strip_prefix(magic)?.trim();
    let fields: Vec<&str> = rest.split(' ').collect();
    if fields.len() < 6 {
        return None;
    }
    let identity = FileIdentity::decode(&fields[..5])?;
    let hash = fields[5];
    if hash.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hash.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((identity, bytes, fields[6..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_garbage_is_refused() {
        let meta = std::fs::metadata(file!()).unwrap();
        let id = FileIdentity::of(&meta);
        let line = format!("magic {} {} extra\n", id.encode(), "ab".repeat(32));
        let (back, hash, rest) = decode_record(&line, "magic").unwrap();
        assert_eq!(back, id);
        assert_eq!(hash, [0xab; 32]);
        assert_eq!(rest, vec!["extra"]);
        assert!(decode_record(&line, "other").is_none());
        assert!(decode_record("magic 1 2 3", "magic").is_none());
        assert!(decode_record(&line.replace("ab", "zz"), "magic").is_none());
    }
}
