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

use crate::hex::{hex, parse_key};

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

/// A file's identity and the blake3 of its content (or payload) at the moment it was hashed: the
/// body of a store's records. One line of text: `MAGIC dev ino len mtime ctime hex-hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HashRecord {
    /// The file when it was hashed.
    pub identity: FileIdentity,
    /// What the hash was.
    pub hash: [u8; 32],
}

impl HashRecord {
    /// The record's line, after `magic`.
    pub fn encode(&self, magic: &str) -> String {
        format!("{magic} {} {}\n", self.identity.encode(), hex(&self.hash))
    }

    /// Parses [`HashRecord::encode`]'s line for `magic`; `None` for anything else.
    pub fn decode(text: &str, magic: &str) -> Option<HashRecord> {
        let rest = text.strip_prefix(magic)?.trim();
        let fields: Vec<&str> = rest.split(' ').collect();
        let [identity @ .., hash] = fields.as_slice() else {
            return None;
        };
        Some(HashRecord {
            identity: FileIdentity::decode(identity)?,
            hash: parse_key(hash)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_garbage_is_refused() {
        let meta = std::fs::metadata(file!()).unwrap();
        let record = HashRecord {
            identity: FileIdentity::of(&meta),
            hash: [0xab; 32],
        };
        let line = record.encode("magic");
        assert_eq!(HashRecord::decode(&line, "magic"), Some(record));
        assert_eq!(HashRecord::decode(&line, "other"), None);
        assert_eq!(HashRecord::decode("magic 1 2 3", "magic"), None);
        assert_eq!(HashRecord::decode(&line.replace("ab", "zz"), "magic"), None);
        let extra = line.trim_end().to_string() + " extra";
        assert_eq!(HashRecord::decode(&extra, "magic"), None);
    }
}
