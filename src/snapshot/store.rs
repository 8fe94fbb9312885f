//! Content-addressed snapshot files: `<dir>/<key>.snap`, plus `CURRENT` / `PREVIOUS` pointers.
//!
//! Writes go to a temp file in the same directory, are fsynced, renamed over the final name and
//! the directory is fsynced, so a reader sees either no file or a complete one — never a partial
//! write — and a file is never modified in place once it exists (mapped readers stay valid). Two
//! processes building the same key race harmlessly: both renames install a complete, valid file.
//! A store failure on the read path is a logged miss, never an error.
//!
//! A read-only deploy (a snapshot baked into a container image or a Lambda zip) opens the baked
//! directory with a writable *state directory* ([`SnapshotStore::with_state_dir`]): snapshots
//! are found in either, and everything written — a rebuilt snapshot, `CURRENT`, temp files —
//! goes to the state directory only; the baked directory is never written.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::builder::{default_build_limits, BuildOptions, BuiltSnapshot, SnapshotBuilder};
use super::format::{hex, parse_key};
use super::hygiene::HygieneReport;
use super::mapped::{MapOptions, Snapshot, Verification, VerifiedRecord};
use crate::bundle::{Bundle, BundleFormat, BundleRecord, FreshRecord, ModuleBundleRecord};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::isolate::Limits;

/// Default store directory, relative to the working directory.
pub const DEFAULT_STORE_DIR: &str = "snapshots";
const CURRENT: &str = "CURRENT";
const PREVIOUS: &str = "PREVIOUS";
const TEMP_PREFIX: &str = ".tmp-";
/// How old a temp file must be for [`SnapshotStore::gc`] to take it for a crashed writer's.
const TEMP_FILE_MAX_AGE: Duration = Duration::from_secs(600);
/// The folder (in the writable directory) that holds bundle records.
const BUNDLE_RECORDS: &str = "bundles";
/// How long [`SnapshotStore::gc`] keeps a bundle record (records are written when a bundle is
/// hashed, not when they are used: a bundle still served loses its record at most this often).
pub const BUNDLE_RECORD_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// A directory of snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    engine: Engine,
    /// Where snapshots and pointers are written (and looked up first).
    dir: PathBuf,
    /// A read-only layer looked up after `dir` (the baked store of a read-only deploy).
    baked: Option<PathBuf>,
    map_options: MapOptions,
}

/// What [`SnapshotStore::get_or_build`] did.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The verified snapshot.
    pub snapshot: Snapshot,
    /// True when the file was already in the store (V8 was not involved).
    pub cached: bool,
    /// Build time (0 when cached).
    pub build_ms: f64,
    /// Hygiene findings of the build (from the header when cached).
    pub hygiene: HygieneReport,
}

/// What [`SnapshotStore::gc`] removed.
#[derive(Debug, Clone, Default)]
pub struct GcReport {
    /// Snapshot files deleted.
    pub removed: Vec<PathBuf>,
    /// Snapshot files kept.
    pub kept: usize,
    /// Bundle records deleted (see [`SnapshotStore::gc`]).
    pub records_removed: usize,
}

impl SnapshotStore {
    /// Opens (creating if needed) the store at `dir`.
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(engine: &Engine, dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create snapshot store", &dir, e))?;
        Ok(SnapshotStore {
            engine: *engine,
            dir,
            baked: None,
            map_options: MapOptions::default(),
        })
    }

    /// Opens the store at `baked` without ever writing to it (it need not be writable, and is
    /// not created): snapshots are looked up in `state_dir` (created if needed) and then in
    /// `baked`; builds, pointers and temp files go to `state_dir`. `CURRENT` is `state_dir`'s,
    /// else `baked`'s.
    ///
    /// # Errors
    /// `state_dir` cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// use coldstart::{Engine, EngineConfig, SnapshotStore};
    ///
    /// let engine = Engine::init(EngineConfig::default())?;
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = SnapshotStore::with_state_dir(&engine, dir.path().join("baked"), dir.path().join("state"))?;
    /// assert_eq!(store.dir(), dir.path().join("state"));
    /// assert!(!dir.path().join("baked").exists(), "the baked directory is never created or written");
    /// # Ok::<(), coldstart::Error>(())
    /// ```
    pub fn with_state_dir(
        engine: &Engine,
        baked: impl Into<PathBuf>,
        state_dir: impl Into<PathBuf>,
    ) -> Result<Self> {
        let mut store = Self::open(engine, state_dir)?;
        store.baked = Some(baked.into());
        Ok(store)
    }

    /// Sets how snapshot files are mapped.
    pub fn with_map_options(mut self, options: MapOptions) -> Self {
        self.map_options = options;
        self
    }

    /// The store directory.
    /// The engine whose snapshots the store holds.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the snapshot with `key` lives.
    pub fn path_for(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.snap", hex(key)))
    }

    /// The verified snapshot for `key`, or `None` if absent or unusable (logged).
    pub fn get(&self, key: &[u8; 32]) -> Option<Snapshot> {
        let name = format!("{}.snap", hex(key));
        let path = std::iter::once(&self.dir)
            .chain(self.baked.as_ref())
            .map(|dir| dir.join(&name))
            .find(|path| path.exists())?;
        match self.open_file(key, &path) {
            Ok(snapshot) if snapshot.key() == *key => Some(snapshot),
            Ok(snapshot) => {
                tracing::warn!(path = %path.display(), found = %snapshot.key_hex(), "snapshot file holds another key; rebuilding");
                None
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "unusable snapshot in store; rebuilding");
                None
            }
        }
    }

    /// Writes `built` atomically as `<key>.snap` and returns it mapped and verified.
    ///
    /// # Errors
    /// I/O failures, or the written file failing verification.
    pub fn put(&self, built: &BuiltSnapshot) -> Result<Snapshot> {
        let header = built
            .header
            .encode()
            .map_err(|e| Error::Invalid(format!("cannot encode snapshot header: {e}")))?;
        let path = self.path_for(&built.header.key);
        self.write_atomically(&path, &[&header, &built.blob])?;
        self.open_file(&built.header.key, &path)
    }

    /// The bundle at `path` (as [`Bundle::from_file_as`]), trusting the store's
    /// [`BundleRecord`] of its content hash while the file is untouched, so that a start whose
    /// snapshot is already stored never reads the bundle; keeps a record when it had to hash a
    /// script file (best effort). [`VerifyPolicy::Always`](super::VerifyPolicy::Always) ignores
    /// records.
    ///
    /// # Errors
    /// As [`Bundle::from_file_as`].
    ///
    /// # Examples
    ///
    /// ```
    /// use coldstart::bundle::BundleFormat;
    /// use coldstart::{Engine, EngineConfig, SnapshotStore};
    ///
    /// let engine = Engine::init(EngineConfig::default())?;
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = SnapshotStore::open(&engine, dir.path().join("snapshots"))?;
    /// let app = dir.path().join("app.js");
    /// std::fs::write(&app, "globalThis.x = 1;").unwrap();
    /// // A file changed in the last 100 ms is hashed, and not recorded yet.
    /// assert!(!store.bundle(&app, BundleFormat::Auto, None)?.hash_from_record());
    /// std::thread::sleep(std::time::Duration::from_millis(150));
    /// let hashed = store.bundle(&app, BundleFormat::Auto, None)?; // hashed and recorded
    /// let recorded = store.bundle(&app, BundleFormat::Auto, None)?; // not read at all
    /// assert!(recorded.hash_from_record());
    /// assert_eq!(recorded.content_hash(), hashed.content_hash());
    /// # Ok::<(), coldstart::Error>(())
    /// ```
    pub fn bundle(&self, path: &Path, format: BundleFormat, root: Option<&Path>) -> Result<Bundle> {
        let read = |record_path: &Path| match self.map_options.verify {
            super::VerifyPolicy::Always => None,
            super::VerifyPolicy::Recorded => fs::read_to_string(record_path).ok(),
        };
        // A record says what a read in `format` found: a script file read as a script on request
        // is not a record of what `auto` would make of it.
        let script_path = self.bundle_record_path(path, format == BundleFormat::Script, None);
        let modules_path = self.bundle_record_path(path, false, Some(root));
        let script_record = read(&script_path).and_then(|text| BundleRecord::decode(&text));
        let module_record = match format {
            BundleFormat::Script => None,
            _ => read(&modules_path).and_then(|text| ModuleBundleRecord::decode(&text)),
        };
        let (bundle, fresh) = Bundle::from_file_with_records(
            path,
            format,
            root,
            module_record.as_ref(),
            script_record.as_ref(),
        )?;
        match fresh {
            Some(FreshRecord::Script(record)) => self.write_record(&script_path, &record.encode()),
            Some(FreshRecord::Modules(record)) => {
                if let Some(text) = record.encode() {
                    self.write_record(&modules_path, &text);
                }
            }
            None => {}
        }
        Ok(bundle)
    }

    /// Where the record of the bundle file at `path` lives: named by the blake3 of its absolute
    /// path (and, for the record of a module bundle, of the module root it was asked for), in
    /// the writable directory; a script read with `--format script` has its own.
    fn bundle_record_path(
        &self,
        path: &Path,
        forced_script: bool,
        module_root: Option<Option<&Path>>,
    ) -> PathBuf {
        let absolute =
            |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut hasher = blake3::Hasher::new();
        hasher.update(absolute(path).as_os_str().as_encoded_bytes());
        let suffix = match module_root {
            None if forced_script => "script.record",
            // Not `.record`, which a binary before the forced-script split wrote for both.
            None => "auto.record",
            Some(root) => {
                hasher.update(b"\0module root\0");
                if let Some(root) = root {
                    hasher.update(absolute(root).as_os_str().as_encoded_bytes());
                }
                "modules.record"
            }
        };
        self.dir
            .join(BUNDLE_RECORDS)
            .join(format!("{}.{suffix}", hex(hasher.finalize().as_bytes())))
    }

    /// Writes a record file atomically, without fsync (a lost record only means the next
    /// process hashes again); failures are logged at debug level.
    fn write_record(&self, path: &Path, text: &str) {
        let written = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| {
                tempfile::Builder::new()
                    .prefix(TEMP_PREFIX)
                    .tempfile_in(path.parent().unwrap_or(&self.dir))
            })
            .and_then(|mut temp| {
                temp.write_all(text.as_bytes())?;
                temp.persist(path).map_err(|e| e.error)
            });
        if let Err(e) = written {
            tracing::debug!(path = %path.display(), error = %e, "cannot write a record");
        }
    }

    /// Where the record of `key`'s last verification lives (always in the writable directory).
    fn record_path(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.verified", hex(key)))
    }

    /// Opens the snapshot file at `path`, trusting the store's [`VerifiedRecord`] of it when the
    /// file is untouched since, and records a verification it had to hash for (best effort: a
    /// record that cannot be written only means the next open hashes again).
    fn open_file(&self, key: &[u8; 32], path: &Path) -> Result<Snapshot> {
        let record_path = self.record_path(key);
        let record = fs::read_to_string(&record_path)
            .ok()
            .and_then(|text| VerifiedRecord::decode(&text));
        let snapshot =
            Snapshot::open_recorded(&self.engine, path, self.map_options, record.as_ref())?;
        if snapshot.verification() == Verification::Hashed && snapshot.settled() {
            self.write_record(&record_path, &snapshot.verified_record().encode());
        }
        Ok(snapshot)
    }

    /// Returns the snapshot of `bundle` built with `options`: from the store when present (without
    /// touching V8), else built, stored and mapped.
    ///
    /// # Errors
    /// Build errors (JS errors, missing globals, hygiene) and store write failures.
    pub fn get_or_build(&self, bundle: &Bundle, options: &BuildOptions) -> Result<Loaded> {
        self.get_or_build_within(bundle, options, default_build_limits())
    }

    /// [`SnapshotStore::get_or_build`] with the build's deadline and heap limit.
    ///
    /// # Errors
    /// As [`SnapshotStore::get_or_build`]; [`Error::Timeout`] or [`Error::HeapLimit`] when the
    /// build exceeds `limits`.
    pub fn get_or_build_within(
        &self,
        bundle: &Bundle,
        options: &BuildOptions,
        limits: Limits,
    ) -> Result<Loaded> {
        let builder = SnapshotBuilder::new(&self.engine, bundle)
            .options(options.clone())
            .limits(limits);
        let key = builder.key();
        if let Some(snapshot) = self.get(&key) {
            let hygiene = snapshot.header().metadata.hygiene.clone();
            return Ok(Loaded {
                snapshot,
                cached: true,
                build_ms: 0.0,
                hygiene,
            });
        }
        let started = Instant::now();
        let built = builder.build()?;
        let hygiene = built.header.metadata.hygiene.clone();
        let snapshot = self.put(&built)?;
        Ok(Loaded {
            snapshot,
            cached: false,
            build_ms: started.elapsed().as_secs_f64() * 1000.0,
            hygiene,
        })
    }

    fn write_atomically(&self, path: &Path, parts: &[&[u8]]) -> Result<()> {
        let mut temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io("cannot create temp file in store", &self.dir, e))?;
        for part in parts {
            temp.write_all(part)
                .map_err(|e| Error::io("cannot write snapshot", temp.path().to_path_buf(), e))?;
        }
        // Read-only: nothing in coldstart writes a store file in place, and a mapped file must not
        // change under the isolates reading it. Files are only ever replaced by rename.
        let mut permissions = temp
            .as_file()
            .metadata()
            .map_err(|e| Error::io("cannot stat temp file", temp.path().to_path_buf(), e))?
            .permissions();
        permissions.set_readonly(true);
        temp.as_file().set_permissions(permissions).map_err(|e| {
            Error::io(
                "cannot make snapshot read-only",
                temp.path().to_path_buf(),
                e,
            )
        })?;
        temp.as_file()
            .sync_all()
            .map_err(|e| Error::io("cannot fsync snapshot", temp.path().to_path_buf(), e))?;
        temp.persist(path)
            .map_err(|e| Error::io("cannot rename snapshot into place", path, e.error))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io("cannot fsync store directory", &self.dir, e))?;
        Ok(())
    }

    fn read_pointer(&self, name: &str) -> Option<[u8; 32]> {
        let read = |dir: &Path| {
            fs::read_to_string(dir.join(name))
                .ok()
                .and_then(|text| parse_key(text.trim()))
        };
        read(&self.dir).or_else(|| self.baked.as_deref().and_then(read))
    }

    /// Key of the current snapshot, if one was set.
    pub fn current(&self) -> Option<[u8; 32]> {
        self.read_pointer(CURRENT)
    }

    /// Key of the previous snapshot, if any.
    pub fn previous(&self) -> Option<[u8; 32]> {
        self.read_pointer(PREVIOUS)
    }

    /// Makes `key` current; the old current becomes previous.
    ///
    /// # Errors
    /// I/O failures.
    pub fn set_current(&self, key: &[u8; 32]) -> Result<()> {
        if let Some(old) = self.current() {
            if old == *key {
                // Already current: nothing to write (a start from a warm store writes nothing).
                return Ok(());
            }
            self.write_atomically(&self.dir.join(PREVIOUS), &[hex(&old).as_bytes()])?;
        }
        self.write_atomically(&self.dir.join(CURRENT), &[hex(key).as_bytes()])
    }

    /// Swaps current and previous; returns the new current.
    ///
    /// # Errors
    /// There is no previous snapshot, or I/O failures.
    pub fn rollback(&self) -> Result<[u8; 32]> {
        let previous = self.previous().ok_or(Error::NoPreviousSnapshot)?;
        self.set_current(&previous)?;
        Ok(previous)
    }

    /// Deletes all but the `keep_n` newest snapshots (never `CURRENT` or `PREVIOUS`), temp files
    /// older than ten minutes left by crashed writers, and bundle records that stand for nothing
    /// any more: a module bundle's record whose entry file is gone, records in a format no
    /// binary reads now, and any record written more than [`BUNDLE_RECORD_MAX_AGE`] ago (a
    /// bundle whose record goes is hashed once more at its next start). Mapped files stay valid
    /// for their readers after deletion.
    ///
    /// # Errors
    /// The directory cannot be listed.
    pub fn gc(&self, keep_n: usize) -> Result<GcReport> {
        let pinned: Vec<String> = [self.current(), self.previous()]
            .into_iter()
            .flatten()
            .map(|k| format!("{}.snap", hex(&k)))
            .collect();
        let mut snaps: Vec<(SystemTime, PathBuf)> = Vec::new();
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| Error::io("cannot list snapshot store", &self.dir, e))?;
        let mut report = GcReport::default();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            if name.starts_with(TEMP_PREFIX) {
                if modified.elapsed().unwrap_or_default() > TEMP_FILE_MAX_AGE {
                    let _ = fs::remove_file(entry.path());
                }
                continue;
            }
            if name.ends_with(".snap") && !pinned.contains(&name) {
                snaps.push((modified, entry.path()));
            } else if name.ends_with(".snap") {
                report.kept += 1;
            }
        }
        snaps.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        for (i, (_, path)) in snaps.into_iter().enumerate() {
            if i < keep_n {
                report.kept += 1;
            } else if fs::remove_file(&path).is_ok() {
                let _ = fs::remove_file(path.with_extension("verified"));
                report.removed.push(path);
            }
        }
        report.records_removed = self.gc_bundle_records();
        Ok(report)
    }

    /// The bundle-record part of [`SnapshotStore::gc`]: how many it deleted.
    fn gc_bundle_records(&self) -> usize {
        let Ok(entries) = fs::read_dir(self.dir.join(BUNDLE_RECORDS)) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let age = entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|t| t.elapsed().unwrap_or_default())
                .unwrap_or_default();
            let old = age > BUNDLE_RECORD_MAX_AGE;
            let stale = if name.starts_with(TEMP_PREFIX) {
                age > TEMP_FILE_MAX_AGE
            } else if name.ends_with(".modules.record") {
                // Unreadable, malformed, or for an entry that is gone.
                let usable = fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| ModuleBundleRecord::decode(&text))
                    .is_some_and(|record| record.entry_path().exists());
                old || !usable
            } else if name.ends_with(".auto.record") || name.ends_with(".script.record") {
                old
            } else {
                // `<hash>.record`: both kinds of script record, before they were told apart.
                name.ends_with(".record")
            };
            if stale && fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}
