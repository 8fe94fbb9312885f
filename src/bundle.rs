//! A server bundle: one classic script, or an ES module graph (an entry module and the chunk files
//! beside it), named after its entry file.
//!
//! A bundle read from a file is identified by the blake3 of its content, computed while streaming
//! the file through a small buffer; the source text itself is read only when it is needed (to
//! build a snapshot or evaluate fresh). On the hot path — the snapshot is already in the store —
//! the bundle is hashed, never copied into memory as a whole.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::file_identity::{FileIdentity, HashRecord};

pub use crate::module_files::{BundleFormat, ModuleFile, ModuleFiles};

/// The user's server bundle (polyfills are not part of it).
#[derive(Debug, Clone)]
pub struct Bundle {
    name: String,
    len: u64,
    content_hash: [u8; 32],
    source: Arc<OnceLock<Arc<str>>>,
    path: Option<PathBuf>,
    modules: Option<Arc<ModuleFiles>>,
    /// The content hash came from a [`BundleRecord`], not from reading the file.
    recorded: bool,
}

/// A record that a script bundle file was hashed, tied to the file's identity (device, inode,
/// length, modification and change times) at that moment: while the file is untouched, a later
/// process finds the bundle's snapshot without reading it. The safety argument is the one of a
/// store's [`crate::snapshot::VerifiedRecord`]; the source, when a build needs it, is still read
/// and checked against the recorded hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRecord(HashRecord);

impl BundleRecord {
    const MAGIC: &'static str = "coldstart bundle v1";

    /// The record's text form (one line).
    pub fn encode(&self) -> String {
        self.0.encode(Self::MAGIC)
    }

    /// Parses [`BundleRecord::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<BundleRecord> {
        HashRecord::decode(text, Self::MAGIC).map(BundleRecord)
    }
}

/// The name a bundle read from `path` goes by: its file name.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl PartialEq for Bundle {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.content_hash == other.content_hash
    }
}

impl Eq for Bundle {}

impl Bundle {
    /// A bundle from memory. `name` is what stack traces and errors show (e.g. `app.js`).
    pub fn new(name: impl Into<String>, source: impl Into<Arc<str>>) -> Self {
        let source: Arc<str> = source.into();
        let lock = OnceLock::new();
        let content_hash = *blake3::hash(source.as_bytes()).as_bytes();
        let len = source.len() as u64;
        let _ = lock.set(source);
        Bundle {
            name: name.into(),
            len,
            content_hash,
            source: Arc::new(lock),
            path: None,
            modules: None,
            recorded: false,
        }
    }

    /// An ES module bundle from memory: `files` are `(path, source)` pairs with `/`-separated
    /// paths relative to the module root (how modules import each other), `entry` one of them.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `entry` is not among `files` or a path is not relative.
    ///
    /// # Examples
    ///
    /// ```
    /// use coldstart::{Bundle, BundleFormat};
    ///
    /// let bundle = Bundle::from_modules("worker.js", vec![
    ///     ("worker.js".to_string(), "import { greet } from './lib/greet.js';\n\
    ///         export default { fetch: () => new Response(greet()) };".to_string()),
    ///     ("lib/greet.js".to_string(), "export const greet = () => 'hi';".to_string()),
    /// ])?;
    /// assert_eq!(bundle.format(), BundleFormat::Module);
    /// assert_eq!(bundle.modules().unwrap().files.len(), 2);
    /// # Ok::<(), coldstart::Error>(())
    /// ```
    pub fn from_modules(entry: &str, files: Vec<(String, String)>) -> Result<Self> {
        let files = ModuleFiles::from_memory(entry, files)?;
        Ok(Self::from_module_files(files, None))
    }

    fn from_module_files(files: ModuleFiles, path: Option<PathBuf>) -> Self {
        let entry_source = files.entry_source().clone();
        let lock = OnceLock::new();
        let _ = lock.set(entry_source);
        let name = files
            .entry
            .rsplit('/')
            .next()
            .unwrap_or(&files.entry)
            .to_string();
        Bundle {
            name,
            len: files.total_len(),
            content_hash: files.content_hash(),
            source: Arc::new(lock),
            path,
            modules: Some(Arc::new(files)),
            recorded: false,
        }
    }

    /// A bundle file in the given format ([`BundleFormat::Auto`] decides from the file: `.mjs`
    /// or `import`/`export` statements make it a module). For a module, every `.js`/`.mjs` file
    /// under the module root is read and hashed: `root`, or else the entry's folder, widened
    /// while relative imports (`../…`) reach above it.
    ///
    /// # Errors
    /// The file cannot be read; a module root that is too large or not a folder.
    pub fn from_file_as(
        path: impl AsRef<Path>,
        format: BundleFormat,
        root: Option<&Path>,
    ) -> Result<Self> {
        let path = path.as_ref();
        let module = match format {
            BundleFormat::Script => false,
            BundleFormat::Module => true,
            BundleFormat::Auto => crate::module_files::looks_like_module(path)?,
        };
        if !module {
            return Self::from_file(path);
        }
        let files = ModuleFiles::from_entry_file(path, root)?;
        Ok(Self::from_module_files(files, Some(path.to_path_buf())))
    }

    /// Whether this is a classic script or an ES module graph.
    pub fn format(&self) -> BundleFormat {
        if self.modules.is_some() {
            BundleFormat::Module
        } else {
            BundleFormat::Script
        }
    }

    /// The module graph's files, for an ES module bundle.
    pub fn modules(&self) -> Option<&ModuleFiles> {
        self.modules.as_deref()
    }

    /// A classic-script bundle file; its name is the file name. The content is hashed now and
    /// read when first needed. (See [`Bundle::from_file_as`] for ES modules.)
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut file =
            std::fs::File::open(path).map_err(|e| Error::io("cannot read bundle", path, e))?;
        let mut hasher = blake3::Hasher::new();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut len = 0u64;
        loop {
            let n = file
                .read(&mut buffer)
                .map_err(|e| Error::io("cannot read bundle", path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            len += n as u64;
        }
        Ok(Bundle {
            name: file_name(path),
            len,
            content_hash: *hasher.finalize().as_bytes(),
            source: Arc::new(OnceLock::new()),
            path: Some(path.to_path_buf()),
            modules: None,
            recorded: false,
        })
    }

    /// [`Bundle::from_file_as`] that trusts `record`: a script file whose identity still matches
    /// it is neither read nor hashed (its source is read, and checked against the recorded hash,
    /// only if a build needs it). Also returns a record to keep when it had to hash a script file
    /// that has not changed in the last 100 ms (none for module bundles, which are always read).
    ///
    /// # Errors
    /// As [`Bundle::from_file_as`].
    pub fn from_file_recorded(
        path: impl AsRef<Path>,
        format: BundleFormat,
        root: Option<&Path>,
        record: Option<&BundleRecord>,
    ) -> Result<(Self, Option<BundleRecord>)> {
        let path = path.as_ref();
        let identity = || std::fs::metadata(path).ok().map(|m| FileIdentity::of(&m));
        let before = identity();
        if let (Some(record), Some(now)) = (record, before) {
            if format != BundleFormat::Module && record.0.identity == now {
                let bundle = Bundle {
                    name: file_name(path),
                    len: now.len(),
                    content_hash: record.0.hash,
                    source: Arc::new(OnceLock::new()),
                    path: Some(path.to_path_buf()),
                    modules: None,
                    recorded: true,
                };
                return Ok((bundle, None));
            }
        }
        let bundle = Self::from_file_as(path, format, root)?;
        let fresh = match (before, identity()) {
            (Some(before), Some(after))
                if before == after && after.settled() && bundle.modules.is_none() =>
            {
                Some(BundleRecord(HashRecord {
                    identity: after,
                    hash: bundle.content_hash,
                }))
            }
            _ => None,
        };
        Ok((bundle, fresh))
    }

    /// Whether the content hash came from a [`BundleRecord`] instead of reading the file.
    pub fn hash_from_record(&self) -> bool {
        self.recorded
    }

    /// The file it was read from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The name stack traces and errors show (the file name for a bundle read from a file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// blake3 of the source — of every file of the graph with its path, for a module bundle (part
    /// of the snapshot key).
    pub fn content_hash(&self) -> [u8; 32] {
        self.content_hash
    }

    /// The JS source (of the entry module, for a module bundle), read from the file on first use.
    ///
    /// # Errors
    /// The file cannot be read, is not UTF-8, or changed since it was hashed.
    pub fn source(&self) -> Result<&str> {
        if let Some(source) = self.source.get() {
            return Ok(source);
        }
        let path = self
            .path
            .as_deref()
            .expect("in-memory bundles always hold their source");
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read bundle", path, e))?;
        if *blake3::hash(&bytes).as_bytes() != self.content_hash {
            return Err(Error::Invalid(format!(
                "bundle `{}` changed while it was being loaded; retry",
                path.display()
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::Invalid(format!(
                "bundle `{}` is not valid UTF-8: {e}",
                path.display()
            ))
        })?;
        let _ = self.source.set(Arc::from(text));
        Ok(self.source.get().expect("just set"))
    }

    /// Size of the source in bytes (all files, for a module bundle).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for an empty source.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_bundles_hash_like_memory_bundles_and_read_lazily() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.js");
        std::fs::write(&path, "globalThis.x = 'é';").unwrap();
        let from_file = Bundle::from_file(&path).unwrap();
        let in_memory = Bundle::new("app.js", "globalThis.x = 'é';");
        assert_eq!(from_file, in_memory);
        assert_eq!(from_file.len(), "globalThis.x = 'é';".len());
        assert_eq!(from_file.source().unwrap(), "globalThis.x = 'é';");
    }

    #[test]
    fn a_bundle_edited_after_hashing_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.js");
        std::fs::write(&path, "1").unwrap();
        let bundle = Bundle::from_file(&path).unwrap();
        std::fs::write(&path, "2").unwrap();
        assert!(bundle.source().unwrap_err().to_string().contains("changed"));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.js");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let bundle = Bundle::from_file(&path).unwrap();
        assert!(bundle.source().unwrap_err().to_string().contains("UTF-8"));
    }
}
