//! A verified, memory-mapped snapshot file.
//!
//! [`Snapshot::open`] maps the file, checks the header against this engine and the payload against
//! its blake3 — once per mapping — and only then hands out the payload. Isolates are created from
//! the mapped V8 blob directly (no copy); the bundle's sources after it, which V8 reads for as long
//! as an isolate lives, are read from one copy made at open (`src/external_source.rs`). Every
//! [`crate::isolate::Runtime`] holds a clone of the `Snapshot` (an `Arc`), so the mapping lives
//! as long as the last isolate made from it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Mmap, MmapOptions};

use super::format::{hex, Expected, Header};
use crate::engine::{Engine, ENGINE_VERSION};
use crate::error::{Error, Result, SnapshotError};
use crate::external_source::{self, ExternalSources};
use crate::file_identity::{FileIdentity, HashRecord};
use crate::isolate::Limits;

/// A snapshot file that passed every check. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Snapshot {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    path: PathBuf,
    header: Header,
    map: Mmap,
    /// The mapped file, kept open to notice changes made to it after it was verified.
    file: File,
    /// Its length and modification time when it was verified.
    verified: FileState,
    /// How its payload was checked.
    verification: Verification,
    /// Length of the V8 startup blob at the start of the payload; the bundle's source section
    /// follows it.
    startup_len: usize,
    /// The bundle sources restored isolates read (from a copy of the mapped source section).
    sources: ExternalSources,
}

/// The file's identity when it was verified; its length and modification time are what a change
/// to its bytes always changes ([`Snapshot::check_unchanged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileState {
    identity: FileIdentity,
}

impl FileState {
    fn of(file: &File, path: &Path) -> Result<Self> {
        let meta = file
            .metadata()
            .map_err(|e| Error::io("cannot stat snapshot", path, e))?;
        Ok(FileState {
            identity: FileIdentity::of(&meta),
        })
    }
}

/// A record that a snapshot file's payload was hashed and matched its header, tied to the file's
/// identity (device, inode, length, modification and change times) at that moment.
///
/// A store keeps one beside each snapshot it verified, so that a later process opening the same,
/// untouched file skips hashing the payload (about 1 ms per MB). Safety argument: store files are
/// written read-only and only ever replaced by rename — a new file is a new inode; a write in
/// place, a truncation or a `chmod` moves the change time, which the kernel sets and no one can set
/// back (`utimes` sets only access and modification times). A record is only written for a file
/// whose last change is over 100 ms old, so that a later write cannot fall in the same tick of
/// the kernel's coarse file clock. So a matching record means the bytes hashed then are the
/// bytes there now, barring a change below the filesystem (media corruption, a raw device write),
/// which the record cannot see and a full hash would (`crate::file_identity`).
/// [`VerifyPolicy::Always`] hashes every time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRecord(HashRecord);

impl VerifiedRecord {
    const MAGIC: &'static str = "coldstart verified v1";

    /// The record's text form (one line).
    pub fn encode(&self) -> String {
        self.0.encode(Self::MAGIC)
    }

    /// Parses [`VerifiedRecord::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<VerifiedRecord> {
        HashRecord::decode(text, Self::MAGIC).map(VerifiedRecord)
    }
}

/// Whether [`Snapshot::open_with`] may trust a [`VerifiedRecord`] instead of hashing the payload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VerifyPolicy {
    /// Skip hashing when a record matches the file (stores keep records).
    #[default]
    Recorded,
    /// Hash the payload at every open.
    Always,
}

/// How a snapshot's payload was checked when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Hashed with blake3 and compared with the header.
    Hashed,
    /// A [`VerifiedRecord`] of an earlier hash matched the file's identity.
    Recorded,
}

assert_send_sync!(Snapshot);

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("path", &self.inner.path)
            .field("key", &hex(&self.inner.header.key))
            .field("payload_len", &self.inner.header.payload_len)
            .finish()
    }
}

/// Payloads at least this large are hashed on all cores.
const PARALLEL_VERIFY_MIN: usize = 512 * 1024;

/// How to map a snapshot file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MapOptions {
    /// Pre-fault every page at map time (`MAP_POPULATE`).
    pub populate: bool,
    /// Whether a [`VerifiedRecord`] may stand in for hashing the payload.
    pub verify: VerifyPolicy,
}

fn map_file(path: &Path, options: MapOptions) -> Result<(Mmap, File, FileState)> {
    let file = File::open(path).map_err(|e| Error::io("cannot open snapshot", path, e))?;
    let state = FileState::of(&file, path)?;
    let mut map_options = MmapOptions::new();
    if options.populate {
        map_options.populate();
    }
    // SAFETY: the map is read-only and coldstart never modifies a snapshot file in place (the
    // store writes read-only files and only ever replaces them by rename). Another process
    // truncating or rewriting the file while it is mapped is detected before every restore
    // (`Snapshot::check_unchanged`), which leaves only the race of a change during the restore
    // itself — documented as part of the store's contract (like wasmtime's
    // `Module::deserialize_file`).
    let map =
        unsafe { map_options.map(&file) }.map_err(|e| Error::io("cannot map snapshot", path, e))?;
    Ok((map, file, state))
}

/// Headroom V8 needs beyond the snapshot's own heap to deserialise it without a GC (which it
/// cannot do while deserialising: it aborts the process instead).
const RESTORE_HEADROOM_BYTES: u64 = 4 * 1024 * 1024;

impl Snapshot {
    /// Maps and verifies `path` for this engine.
    ///
    /// # Mapping contract
    ///
    /// Isolates are restored from the mapped bytes without copying them. The file must not be
    /// changed in place while it is mapped: coldstart's store writes snapshot files read-only
    /// and only ever replaces them by rename (which leaves mappings intact). A change made
    /// anyway is detected before every restore ([`Snapshot::check_unchanged`]) and refused
    /// with [`SnapshotError::ChangedOnDisk`]; only a change racing a restore in progress
    /// (about a millisecond) can still reach V8 — see the README's reliability section.
    ///
    /// # Errors
    /// [`Error::Snapshot`] for any refusal (truncation, bad magic, version/flags/fingerprint
    /// mismatch, checksum), [`Error::Io`] if the file cannot be read.
    pub fn open(engine: &Engine, path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(engine, path, MapOptions::default())
    }

    /// [`Snapshot::open`] with mapping options.
    ///
    /// # Errors
    /// As [`Snapshot::open`].
    pub fn open_with(engine: &Engine, path: impl AsRef<Path>, options: MapOptions) -> Result<Self> {
        Self::open_recorded(engine, path, options, None)
    }

    /// [`Snapshot::open_with`], skipping the payload hash when `record` matches the file (and
    /// `options.verify` allows it). The header is always checked.
    ///
    /// # Errors
    /// As [`Snapshot::open`].
    pub fn open_recorded(
        engine: &Engine,
        path: impl AsRef<Path>,
        options: MapOptions,
        record: Option<&VerifiedRecord>,
    ) -> Result<Self> {
        let path = path.as_ref();
        let expected = Expected {
            engine_version: ENGINE_VERSION,
            v8_version: engine.v8_version(),
            flags_hash: engine.flags_hash(),
            external_references: engine.external_references_fingerprint(),
        };
        let (map, file, verified) = map_file(path, options)?;
        let display = path.display().to_string();
        let header = Header::decode(&map, verified.identity.len(), &display, Some(expected))?;
        let payload = &map[header.payload_offset()..];
        let recorded = options.verify == VerifyPolicy::Recorded
            && record.is_some_and(|record| {
                record.0
                    == HashRecord {
                        identity: verified.identity,
                        hash: header.payload_hash,
                    }
            });
        let verification = if recorded {
            Verification::Recorded
        } else {
            let found = if payload.len() >= PARALLEL_VERIFY_MIN {
                blake3::Hasher::new().update_rayon(payload).finalize()
            } else {
                blake3::hash(payload)
            };
            if found.as_bytes() != &header.payload_hash {
                return Err(SnapshotError::PayloadChecksum {
                    path: display,
                    expected: hex(&header.payload_hash),
                    found: hex(found.as_bytes()),
                }
                .into());
            }
            Verification::Hashed
        };
        let startup_len = match usize::try_from(header.metadata.startup_len) {
            Ok(0) => payload.len(),
            Ok(len) if len <= payload.len() => len,
            _ => {
                return Err(SnapshotError::Malformed {
                    path: display,
                    detail: format!(
                        "a V8 blob of {} bytes in a payload of {}",
                        header.metadata.startup_len,
                        payload.len()
                    ),
                }
                .into())
            }
        };
        let section = &payload[external_source::section_offset(startup_len).min(payload.len())..];
        let sources = ExternalSources::copied_from(section).map_err(|detail| {
            SnapshotError::SourceSection {
                path: display.clone(),
                detail,
            }
        })?;
        Ok(Snapshot {
            inner: Arc::new(Inner {
                engine: *engine,
                path: path.to_path_buf(),
                header,
                map,
                file,
                verified,
                verification,
                startup_len,
                sources,
            }),
        })
    }

    /// Reads only the header, without compatibility checks (for `coldstart inspect`).
    ///
    /// # Errors
    /// Integrity errors (magic, truncation, header checksum) and I/O errors.
    pub fn inspect(path: impl AsRef<Path>) -> Result<Header> {
        let path = path.as_ref();
        let (map, _, state) = map_file(path, MapOptions::default())?;
        Ok(Header::decode(
            &map,
            state.identity.len(),
            &path.display().to_string(),
            None,
        )?)
    }

    /// The engine it was verified for (and that restores it).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.inner.header
    }

    /// How the payload was checked when the file was opened.
    pub fn verification(&self) -> Verification {
        self.inner.verification
    }

    /// A record of this file's verification, for a later open to trust ([`VerifiedRecord`]).
    pub fn verified_record(&self) -> VerifiedRecord {
        VerifiedRecord(HashRecord {
            identity: self.inner.verified.identity,
            hash: self.inner.header.payload_hash,
        })
    }

    /// Whether the file's last change is old enough to record its verification.
    pub(crate) fn settled(&self) -> bool {
        self.inner.verified.identity.settled()
    }

    /// The content key.
    pub fn key(&self) -> [u8; 32] {
        self.inner.header.key
    }

    /// The content key in hex.
    pub fn key_hex(&self) -> String {
        hex(&self.inner.header.key)
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The payload as mapped: the V8 startup blob, then the bundle's source section.
    pub fn payload(&self) -> &[u8] {
        &self.inner.map[self.inner.header.payload_offset()..]
    }

    /// The bundle sources restored isolates read (their external references follow the built-in
    /// ones).
    pub(crate) fn external_sources(&self) -> &ExternalSources {
        &self.inner.sources
    }

    /// Number of live handles to this mapping (isolates + other clones).
    pub fn handle_count(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// Fails if the file's length or modification time changed since it was verified: its
    /// mapped bytes may no longer be the verified ones (or no longer exist: reading past a
    /// truncation raises SIGBUS). One `fstat`, about a microsecond.
    ///
    /// # Errors
    /// [`SnapshotError::ChangedOnDisk`]; [`Error::Io`] if the file cannot be inspected.
    pub fn check_unchanged(&self) -> Result<()> {
        let now = FileState::of(&self.inner.file, &self.inner.path)?;
        let was = self.inner.verified;
        let (now, was) = (now.identity, was.identity);
        if (now.len(), now.mtime_ns()) == (was.len(), was.mtime_ns()) {
            return Ok(());
        }
        let detail = if now.len() != was.len() {
            format!("{} bytes when verified, {} now", was.len(), now.len())
        } else {
            "modified in place since it was verified".to_string()
        };
        Err(SnapshotError::ChangedOnDisk {
            path: self.inner.path.display().to_string(),
            detail,
        }
        .into())
    }

    /// Heap a restored isolate needs before it runs anything, in bytes, with the headroom V8
    /// needs to deserialise without collecting garbage. From the header's record of the heap at
    /// build time; snapshots without that record count twice their payload.
    pub fn heap_needed_bytes(&self) -> u64 {
        let header = &self.inner.header;
        let heap = match header.metadata.heap_bytes {
            0 => header.payload_len.saturating_mul(2),
            recorded => recorded,
        };
        heap.saturating_add(heap / 4)
            .saturating_add(RESTORE_HEADROOM_BYTES)
    }

    /// Checks, before V8 reads a byte, that an isolate can be restored from this mapping under
    /// `limits`: the file is unchanged and its heap fits the heap limit.
    ///
    /// # Errors
    /// [`SnapshotError::ChangedOnDisk`], [`SnapshotError::HeapTooSmall`].
    pub fn check_restorable(&self, limits: Limits) -> Result<()> {
        self.check_unchanged()?;
        if let Some(limit_mb) = limits.effective_heap_mb() {
            let needed = self.heap_needed_bytes();
            if needed > (limit_mb as u64) * 1024 * 1024 {
                return Err(SnapshotError::HeapTooSmall {
                    path: self.inner.path.display().to_string(),
                    needed_mb: needed.div_ceil(1024 * 1024) as usize,
                    limit_mb,
                }
                .into());
            }
        }
        Ok(())
    }

    /// Startup data pointing into the mapping, for `CreateParams::snapshot_blob`.
    ///
    /// # Safety
    /// The returned value claims `'static` but borrows the mapping owned by `self`: the caller must
    /// keep a clone of this `Snapshot` alive for as long as the isolate created from it (V8 reads
    /// the blob again when it creates contexts).
    pub(crate) unsafe fn startup_data(&self) -> v8::StartupData {
        let payload = &self.payload()[..self.inner.startup_len];
        // SAFETY: per this function's contract the mapping outlives every use of the slice, and
        // the mapping is read-only, so no `&mut` aliasing can arise.
        let payload: &'static [u8] =
            unsafe { std::slice::from_raw_parts(payload.as_ptr(), payload.len()) };
        v8::StartupData::from(payload)
    }
}
