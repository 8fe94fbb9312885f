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
use crate::hex::{hex, parse_key};
use crate::module_files::{ModuleTree, TreeEntry};

pub use crate::module_files::{BundleFormat, ModuleFile, ModuleFiles};

/// The user's server bundle (polyfills are not part of it).
#[derive(Debug, Clone)]
pub struct Bundle {
    name: String,
    len: u64,
    content_hash: [u8; 32],
    source: Arc<OnceLock<Arc<str>>>,
    path: Option<PathBuf>,
    /// A module bundle's files: read with the bundle, or on first need for one found through a
    /// [`ModuleBundleRecord`].
    modules: Arc<OnceLock<Arc<ModuleFiles>>>,
    /// How to read a module bundle whose files are not read yet.
    unread: Option<UnreadModules>,
    /// The content hash came from a record, not from reading the file(s).
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

/// Where a module bundle found through a record reads its files when they are needed.
#[derive(Debug, Clone)]
struct UnreadModules {
    /// The module root the bundle was asked for (`None`: the entry's folder, widened).
    requested_root: Option<PathBuf>,
    /// The module root that gave (resolved and widened).
    root: PathBuf,
}

/// A record [`Bundle::from_file_with_records`] made of what it read, for the store to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreshRecord {
    /// Of a script bundle.
    Script(BundleRecord),
    /// Of a module bundle.
    Modules(ModuleBundleRecord),
}

/// A record that a module bundle was read and hashed, tied to the identity of every folder
/// listed and file read under its module root at that moment (see
/// [`crate::module_files`]): while none of them changed, a later process finds the bundle's
/// snapshot with one `stat` per file and folder instead of reading and hashing them all. The
/// files, when a build needs them, are read again and checked against the recorded hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleBundleRecord {
    hash: [u8; 32],
    len: u64,
    entry: String,
    tree: ModuleTree,
}

impl ModuleBundleRecord {
    const MAGIC: &'static str = "coldstart module bundle v1";

    /// The record's text form: a header line, the entry and root lines, then one line per folder
    /// (`d`) and file (`f`). `None` when a path cannot be written on one line.
    pub fn encode(&self) -> Option<String> {
        let line = |text: &str| (!text.contains('\n')).then_some(());
        let entry = self.tree.entry.to_str()?;
        let root = self.tree.root.to_str()?;
        line(entry)?;
        line(root)?;
        line(&self.entry)?;
        let mut out = format!(
            "{} {} {}\nentry {entry}\nroot {root}\nrelative {}\n",
            Self::MAGIC,
            hex(&self.hash),
            self.len,
            self.entry
        );
        for item in &self.tree.entries {
            line(&item.path)?;
            let kind = if item.folder { 'd' } else { 'f' };
            out.push_str(&format!(
                "{kind} {} {}\n",
                item.identity.encode(),
                item.path
            ));
        }
        Some(out)
    }

    /// The entry file the record was made for (resolved).
    pub fn entry_path(&self) -> &Path {
        &self.tree.entry
    }

    /// Parses [`ModuleBundleRecord::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<ModuleBundleRecord> {
        let mut lines = text.lines();
        let head = lines.next()?.strip_prefix(Self::MAGIC)?.trim();
        let (hash, len) = head.split_once(' ')?;
        let entry = lines.next()?.strip_prefix("entry ")?;
        let root = lines.next()?.strip_prefix("root ")?;
        let relative = lines.next()?.strip_prefix("relative ")?;
        let mut entries = Vec::new();
        for line in lines {
            let fields: Vec<&str> = line.splitn(7, ' ').collect();
            let [kind, identity @ .., path] = fields.as_slice() else {
                return None;
            };
            let folder = match *kind {
                "d" => true,
                "f" => false,
                _ => return None,
            };
            entries.push(TreeEntry {
                path: path.to_string(),
                folder,
                identity: FileIdentity::decode(identity)?,
            });
        }
        Some(ModuleBundleRecord {
            hash: parse_key(hash)?,
            len: len.parse().ok()?,
            entry: relative.to_string(),
            tree: ModuleTree {
                entry: PathBuf::from(entry),
                root: PathBuf::from(root),
                entries,
            },
        })
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
            modules: Arc::new(OnceLock::new()),
            unread: None,
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
            modules: Arc::new(OnceLock::from(Arc::new(files))),
            unread: None,
            recorded: false,
        }
    }

    /// A module bundle as `record` saw it, when the entry at `path` and every file and folder
    /// the record names are unchanged; `None` otherwise. `root` is the module root asked for
    /// (as for [`Bundle::from_file_as`]), which the files are read with when they are needed.
    pub fn from_module_record(
        path: &Path,
        root: Option<&Path>,
        record: &ModuleBundleRecord,
    ) -> Option<Self> {
        if !record.tree.unchanged(path) {
            return None;
        }
        let name = record.entry.rsplit('/').next().unwrap_or(&record.entry);
        Some(Bundle {
            name: name.to_string(),
            len: record.len,
            content_hash: record.hash,
            source: Arc::new(OnceLock::new()),
            path: Some(path.to_path_buf()),
            modules: Arc::new(OnceLock::new()),
            unread: Some(UnreadModules {
                requested_root: root.map(Path::to_path_buf),
                root: record.tree.root.clone(),
            }),
            recorded: true,
        })
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

    /// A module bundle file, with the record of what was read when nothing changed meanwhile.
    fn from_module_file_traced(
        path: &Path,
        root: Option<&Path>,
    ) -> Result<(Self, Option<ModuleBundleRecord>)> {
        let (files, tree) = ModuleFiles::read_traced(path, root)?;
        let bundle = Self::from_module_files(files, Some(path.to_path_buf()));
        let record = tree.map(|tree| ModuleBundleRecord {
            hash: bundle.content_hash,
            len: bundle.len,
            entry: bundle
                .modules()
                .map(|m| m.entry.clone())
                .unwrap_or_default(),
            tree,
        });
        Ok((bundle, record))
    }

    /// Whether this is a classic script or an ES module graph.
    pub fn format(&self) -> BundleFormat {
        if self.modules.get().is_some() || self.unread.is_some() {
            BundleFormat::Module
        } else {
            BundleFormat::Script
        }
    }

    /// The module graph's files, for an ES module bundle whose files are read (every bundle
    /// but one found through a [`ModuleBundleRecord`]: see [`Bundle::load_modules`]).
    pub fn modules(&self) -> Option<&ModuleFiles> {
        self.modules.get().map(|files| &**files)
    }

    /// The module graph's files, read now if the bundle came from a record (and checked against
    /// its recorded hash); `None` for a classic script.
    ///
    /// # Errors
    /// A file cannot be read, or the files changed since they were recorded.
    pub fn load_modules(&self) -> Result<Option<&ModuleFiles>> {
        if let Some(files) = self.modules() {
            return Ok(Some(files));
        }
        let (Some(unread), Some(path)) = (&self.unread, &self.path) else {
            return Ok(None);
        };
        let files = ModuleFiles::from_entry_file(path, unread.requested_root.as_deref())?;
        if files.content_hash() != self.content_hash {
            return Err(Error::Invalid(format!(
                "bundle `{}` changed while it was being loaded; retry",
                path.display()
            )));
        }
        let _ = self.modules.set(Arc::new(files));
        Ok(self.modules())
    }

    /// The module root of a module bundle read from files.
    pub fn module_root(&self) -> Option<&Path> {
        match self.modules() {
            Some(files) if !files.root.as_os_str().is_empty() => Some(&files.root),
            Some(_) => None,
            None => self.unread.as_ref().map(|unread| unread.root.as_path()),
        }
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
        Ok(Self::script_file(
            path,
            len,
            *hasher.finalize().as_bytes(),
            false,
        ))
    }

    /// A classic-script bundle file of `len` bytes hashing to `content_hash`, its source read on
    /// first need; `recorded` when the hash came from a [`BundleRecord`].
    fn script_file(path: &Path, len: u64, content_hash: [u8; 32], recorded: bool) -> Self {
        Bundle {
            name: file_name(path),
            len,
            content_hash,
            source: Arc::new(OnceLock::new()),
            path: Some(path.to_path_buf()),
            modules: Arc::new(OnceLock::new()),
            unread: None,
            recorded,
        }
    }

    /// [`Bundle::from_file_as`] that trusts `record`: a script file whose identity still matches
    /// it is neither read nor hashed (its source is read, and checked against the recorded hash,
    /// only if a build needs it). Also returns a record to keep when it had to hash a script file
    /// that has not changed in the last 100 ms (none for module bundles: see
    /// [`Bundle::from_file_with_records`]).
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
        if format != BundleFormat::Module {
            if let Some(bundle) = record.and_then(|record| Self::from_script_record(path, record)) {
                return Ok((bundle, None));
            }
        }
        let bundle = Self::from_file_as(path, format, root)?;
        let fresh = match (before, identity()) {
            (Some(before), Some(after))
                if before == after
                    && after.settled()
                    && bundle.format() == BundleFormat::Script =>
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

    /// The script bundle `record` stands for, when the file at `path` is still the one it saw;
    /// `None` otherwise.
    fn from_script_record(path: &Path, record: &BundleRecord) -> Option<Self> {
        let now = FileIdentity::of(&std::fs::metadata(path).ok()?);
        (record.0.identity == now).then(|| Self::script_file(path, now.len(), record.0.hash, true))
    }

    /// A bundle file through the records a store keeps of it: a module bundle whose
    /// [`ModuleBundleRecord`] still holds, a script whose [`BundleRecord`] does — neither read —
    /// or else the file(s) read and hashed, with the record to keep of them (when nothing changed
    /// during the read and long enough before it).
    ///
    /// # Errors
    /// As [`Bundle::from_file_as`].
    pub fn from_file_with_records(
        path: &Path,
        format: BundleFormat,
        root: Option<&Path>,
        module_record: Option<&ModuleBundleRecord>,
        script_record: Option<&BundleRecord>,
    ) -> Result<(Self, Option<FreshRecord>)> {
        if format != BundleFormat::Script {
            if let Some(bundle) =
                module_record.and_then(|r| Self::from_module_record(path, root, r))
            {
                return Ok((bundle, None));
            }
        }
        if format != BundleFormat::Module {
            // A script whose record holds is neither sniffed nor read.
            if let Some(bundle) = script_record.and_then(|r| Self::from_script_record(path, r)) {
                return Ok((bundle, None));
            }
        }
        let module = match format {
            BundleFormat::Script => false,
            BundleFormat::Module => true,
            BundleFormat::Auto => crate::module_files::looks_like_module(path)?,
        };
        if module {
            let (bundle, fresh) = Self::from_module_file_traced(path, root)?;
            return Ok((bundle, fresh.map(FreshRecord::Modules)));
        }
        // Its record (if any) did not hold: read and hash.
        let (bundle, fresh) = Self::from_file_recorded(path, BundleFormat::Script, root, None)?;
        Ok((bundle, fresh.map(FreshRecord::Script)))
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
        if let Some(files) = self.load_modules()? {
            let _ = self.source.set(files.entry_source().clone());
            return Ok(self.source.get().expect("just set"));
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
    fn module_records_round_trip_and_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub dir")).unwrap();
        std::fs::write(dir.path().join("entry.mjs"), "import './sub dir/a.js';").unwrap();
        std::fs::write(dir.path().join("sub dir/a.js"), "export {};").unwrap();
        let meta = std::fs::metadata(dir.path()).unwrap();
        let identity = FileIdentity::of(&meta);
        let record = ModuleBundleRecord {
            hash: [0xcd; 32],
            len: 33,
            entry: "entry.mjs".to_string(),
            tree: ModuleTree {
                entry: dir.path().join("entry.mjs"),
                root: dir.path().to_path_buf(),
                entries: vec![
                    TreeEntry {
                        path: String::new(),
                        folder: true,
                        identity,
                    },
                    TreeEntry {
                        path: "sub dir/a.js".to_string(),
                        folder: false,
                        identity,
                    },
                ],
            },
        };
        let text = record.encode().unwrap();
        assert_eq!(ModuleBundleRecord::decode(&text), Some(record.clone()));
        assert_eq!(
            ModuleBundleRecord::decode(&text.replace("module bundle v1", "bundle v1")),
            None
        );
        assert_eq!(
            ModuleBundleRecord::decode(&text.replace("\nf ", "\nx ")),
            None
        );
        assert_eq!(
            ModuleBundleRecord::decode(&(text.clone() + "f 1 2 3\n")),
            None
        );
        let mut newline = record;
        newline.tree.entries[1].path = "a\nb.js".to_string();
        assert_eq!(
            newline.encode(),
            None,
            "a path that needs two lines is not recorded"
        );
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
