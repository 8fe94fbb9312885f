//! Error types.
//!
//! One public [`Error`] enum whose variants carry specific structs, so callers can match on what
//! went wrong (a JS exception, a snapshot that does not fit this engine, a store failure) while
//! `Result<T>` stays small.

use std::fmt;
use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in coldstart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// JavaScript threw (or failed to compile).
    #[error(transparent)]
    Js(Box<JsError>),
    /// A snapshot file was refused before V8 saw it.
    #[error(transparent)]
    Snapshot(Box<SnapshotError>),
    /// The bundle does not define a global the contract requires.
    #[error("bundle `{bundle}` does not define the required global `{global}`")]
    MissingGlobal {
        /// The bundle's name (its file name).
        bundle: String,
        /// The missing global function.
        global: &'static str,
    },
    /// A module of the bundle imports something that is neither a file of the bundle nor a
    /// built-in module (found while linking, at build).
    #[error("cannot resolve `{specifier}` imported by `{importer}`: {reason}")]
    UnresolvedImport {
        /// The import specifier, e.g. `node:fs` or `react`.
        specifier: String,
        /// The importing module (root-relative path).
        importer: String,
        /// Why it does not resolve.
        reason: String,
    },
    /// A module bundle exports neither a default object with `fetch()` nor `render()`, and
    /// defines no Rex globals either.
    #[error("module bundle `{bundle}` has no `export default {{ fetch }}`, no `render` export and no Rex `__rex_*` globals")]
    NoHandler {
        /// The bundle's name.
        bundle: String,
    },
    /// The bundle has no page for this route (Rex's `Page not found` from `__rex_render_page`).
    #[error("no page for route `{route}`")]
    PageNotFound {
        /// The route key.
        route: String,
    },
    /// A name that is not an entry point of the contract.
    #[error("`{name}` is not a contract entry point; expected one of: {}", crate::contract::Entry::ALL.map(|e| e.js_name()).join(", "))]
    UnknownEntry {
        /// The name given.
        name: String,
    },
    /// An optional contract entry point is absent from the bundle.
    #[error("`{entry}` is not loaded: the bundle does not define it")]
    NotLoaded {
        /// The absent entry point.
        entry: &'static str,
    },
    /// The snapshot builder refused the bundle's state (e.g. pending timers).
    #[error("snapshot hygiene: {0}")]
    Hygiene(String),
    /// An entry point did not settle before its deadline.
    #[error("`{entry}` timed out after {ms} ms")]
    Timeout {
        /// The entry point that was running.
        entry: String,
        /// The deadline that passed, in milliseconds.
        ms: u64,
    },
    /// An isolate ran out of heap and was terminated before V8 could abort the process.
    #[error("`{entry}` exceeded the isolate heap limit of {limit_mb} MiB")]
    HeapLimit {
        /// The entry point that was running.
        entry: String,
        /// The configured heap limit.
        limit_mb: usize,
    },
    /// The result of an entry point did not have the contract's shape.
    #[error("`{entry}` returned an unexpected result: {detail}")]
    BadResult {
        /// The entry point.
        entry: String,
        /// What was wrong.
        detail: String,
    },
    /// A promise returned by an entry point can never settle: nothing is pending.
    #[error("`{entry}` returned a promise that can never settle (no timers or I/O pending)")]
    Stalled {
        /// The entry point.
        entry: String,
    },
    /// File-system failure, with the path involved.
    #[error("{context} `{}`: {source}", path.display())]
    Io {
        /// What we were doing.
        context: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid configuration or argument.
    #[error("{0}")]
    Invalid(String),
    /// V8 already runs in this process with other flags (it cannot change them).
    #[error("V8 is already initialised with flags {running}; cannot switch to {wanted} in the same process")]
    EngineFlags {
        /// The flags V8 runs with.
        running: String,
        /// The flags asked for.
        wanted: String,
    },
    /// A snapshot could not be built (by a child build process, or a build that was killed).
    #[error("building {bundle}: {detail}")]
    BuildFailed {
        /// The bundle.
        bundle: String,
        /// What went wrong.
        detail: String,
    },
    /// A reload was asked for while another one is running.
    #[error("a reload is already in progress")]
    ReloadInProgress,
    /// The worker that took a job could not run it (it had no isolate, or it panicked); the
    /// pool replaces it.
    #[error("the worker could not run the job (no isolate, or it panicked); it is being replaced")]
    WorkerLost,
    /// A thread could not be started.
    #[error("cannot spawn the {what}: {source}")]
    Spawn {
        /// Which thread.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A pool could not accept more work.
    #[error("pool overloaded: {0}")]
    Overloaded(String),
    /// An isolate that a timeout, the heap limit or leftover work terminated was used again.
    #[error("this isolate was discarded after {reason}; create a new one")]
    Poisoned {
        /// What terminated it.
        reason: String,
    },
    /// A rollback was asked for but there is no previous snapshot.
    #[error("no previous snapshot to roll back to")]
    NoPreviousSnapshot,
    /// An invariant of the engine itself failed (V8 refused to create a blob, the built-in
    /// polyfills are inconsistent): a bug in coldstart, not in the bundle.
    #[error("internal engine error: {0}")]
    Engine(String),
}

impl Error {
    /// Wraps an I/O error with what we were doing and the path involved.
    pub fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            context,
            path: path.into(),
            source,
        }
    }

    /// The JS exception, when this error is one.
    pub fn as_js(&self) -> Option<&JsError> {
        match self {
            Error::Js(e) => Some(e),
            _ => None,
        }
    }

    /// The snapshot refusal, when this error is one.
    pub fn as_snapshot(&self) -> Option<&SnapshotError> {
        match self {
            Error::Snapshot(e) => Some(e),
            _ => None,
        }
    }
}

impl From<JsError> for Error {
    fn from(e: JsError) -> Self {
        Error::Js(Box::new(e))
    }
}

impl From<SnapshotError> for Error {
    fn from(e: SnapshotError) -> Self {
        Error::Snapshot(Box::new(e))
    }
}

/// A JavaScript exception, with where it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsError {
    /// What was running: "evaluating react-app.js", "`__rex_render_page`", ...
    pub during: String,
    /// The exception message (`Uncaught Error: boom`).
    pub message: String,
    /// Script resource name (file name) where it was thrown, if known.
    pub file: Option<String>,
    /// 1-based line, if known.
    pub line: Option<usize>,
    /// 1-based column, if known.
    pub column: Option<usize>,
    /// The JS stack (`error.stack`), if any.
    pub stack: Option<String>,
}

impl fmt::Display for JsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.during.is_empty() {
            write!(f, "{}: ", self.during)?;
        }
        f.write_str(&self.message)?;
        if let Some(file) = &self.file {
            write!(f, " at {file}")?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(col) = self.column {
                    write!(f, ":{col}")?;
                }
            }
        }
        if let Some(stack) = &self.stack {
            // The first stack line repeats the message; print only the frames.
            let frames: Vec<&str> = stack
                .lines()
                .filter(|l| l.trim_start().starts_with("at "))
                .collect();
            if !frames.is_empty() {
                write!(f, "\n{}", frames.join("\n"))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for JsError {}

/// Why a snapshot file was refused. Every check happens before V8 sees a byte of the payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The file is shorter than its header says.
    #[error("snapshot `{path}` is truncated: {detail}")]
    Truncated {
        /// The file.
        path: String,
        /// Expected vs found lengths.
        detail: String,
    },
    /// Not a coldstart snapshot at all.
    #[error("`{path}` is not a coldstart snapshot (bad magic)")]
    BadMagic {
        /// The file.
        path: String,
    },
    /// Written by another version of the file format.
    #[error("snapshot `{path}` has format version {found}, this engine reads {expected}")]
    FormatVersion {
        /// The file.
        path: String,
        /// Version in the file.
        found: u32,
        /// Version this engine reads.
        expected: u32,
    },
    /// Built by another version of coldstart.
    #[error("snapshot `{path}` was built by coldstart {found}, this is {expected}")]
    EngineVersion {
        /// The file.
        path: String,
        /// Version in the file.
        found: String,
        /// This engine's version.
        expected: String,
    },
    /// Built by another V8: V8 would abort the process on it.
    #[error("snapshot `{path}` was built by V8 {found}, this engine runs V8 {expected}")]
    V8Version {
        /// The file.
        path: String,
        /// Version in the file.
        found: String,
        /// This engine's V8.
        expected: String,
    },
    /// Built with other V8 flags.
    #[error("snapshot `{path}` was built with other V8 flags (hash {found}, expected {expected})")]
    Flags {
        /// The file.
        path: String,
        /// Flags hash in the file.
        found: String,
        /// Flags hash of this engine.
        expected: String,
    },
    /// Built against another native-function table: callbacks would bind to the wrong functions.
    #[error(
        "snapshot `{path}` was built against another native function table (fingerprint {found}, expected {expected})"
    )]
    ExternalReferences {
        /// The file.
        path: String,
        /// Fingerprint in the file.
        found: String,
        /// This engine's fingerprint.
        expected: String,
    },
    /// The header does not match its own checksum.
    #[error("snapshot `{path}` has a corrupt header (checksum mismatch)")]
    HeaderChecksum {
        /// The file.
        path: String,
    },
    /// The V8 payload does not match its checksum.
    #[error("snapshot `{path}` payload is corrupt (blake3 mismatch: expected {expected}, found {found})")]
    PayloadChecksum {
        /// The file.
        path: String,
        /// Hash recorded in the header.
        expected: String,
        /// Hash of the bytes on disk.
        found: String,
    },
    /// The header is internally inconsistent.
    #[error("snapshot `{path}` has a malformed header: {detail}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The bundle sources stored after the V8 blob are not laid out as written.
    #[error("snapshot `{path}` has a malformed source section: {detail}")]
    SourceSection {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The file is longer than its header says (bytes appended after the payload).
    #[error("snapshot `{path}` has a length mismatch: {detail}")]
    LengthMismatch {
        /// The file.
        path: String,
        /// Expected vs found lengths.
        detail: String,
    },
    /// The mapped file changed on disk after it was verified (truncated, rewritten in place):
    /// V8 must not read it again.
    #[error("snapshot `{path}` changed on disk after it was verified ({detail}); refusing to restore from it")]
    ChangedOnDisk {
        /// The file.
        path: String,
        /// What changed.
        detail: String,
    },
    /// The snapshot's heap does not fit the isolate's heap limit: V8 would abort while
    /// deserialising it.
    #[error("snapshot `{path}` needs about {needed_mb} MiB of heap to restore, more than the heap limit of {limit_mb} MiB")]
    HeapTooSmall {
        /// The file.
        path: String,
        /// Heap the snapshot needs, with headroom, in MiB.
        needed_mb: usize,
        /// The isolate's heap limit in MiB.
        limit_mb: usize,
    },
    /// The snapshot's key is not the one asked for.
    #[error("snapshot `{path}` holds key {found}, expected {expected}")]
    KeyMismatch {
        /// The file.
        path: String,
        /// Key in the file.
        found: String,
        /// Key requested.
        expected: String,
    },
}
