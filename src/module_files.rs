//! The files of an ES module bundle: the entry module and every chunk beside it under one module
//! root, read and hashed together (the snapshot key covers all of them), and how module
//! specifiers resolve among them.
//!
//! Every `.js`/`.mjs` file under the root is part of the bundle, not only the ones the entry
//! imports statically: a run-time `import()` must find its chunk in the snapshot, without file
//! I/O. The root is the entry's folder, widened while relative specifiers (`'../x.js'`) in the
//! files reach above it — how SvelteKit's `_worker.js` reaches `../output/server/`.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::file_identity::FileIdentity;

/// Most files a module root may hold (a guard against pointing at a home directory).
pub const MAX_MODULE_FILES: usize = 10_000;
/// Most bytes the module files together may hold.
pub const MAX_MODULE_BYTES: u64 = 256 * 1024 * 1024;
/// How many folders the root may be widened above the entry's folder.
const MAX_ROOT_CLIMB: usize = 8;

/// How a bundle's source is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BundleFormat {
    /// Decide from the file: `.mjs`, or `import`/`export` statements, make a module.
    #[default]
    Auto,
    /// A classic script (Rex's `__rex_*` globals).
    Script,
    /// An ES module (a worker's `export default { fetch }`, a Vite `render` export, or Rex
    /// globals defined by a module).
    Module,
}

impl BundleFormat {
    /// `auto`, `script` or `module`.
    pub fn as_str(self) -> &'static str {
        match self {
            BundleFormat::Auto => "auto",
            BundleFormat::Script => "script",
            BundleFormat::Module => "module",
        }
    }
}

impl std::str::FromStr for BundleFormat {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        match text {
            "auto" => Ok(BundleFormat::Auto),
            "script" => Ok(BundleFormat::Script),
            "module" | "esm" => Ok(BundleFormat::Module),
            other => Err(Error::Invalid(format!(
                "unknown bundle format `{other}` (auto, script or module)"
            ))),
        }
    }
}

/// One module file: its path relative to the module root (`/`-separated) and its source.
#[derive(Debug, Clone)]
pub struct ModuleFile {
    /// Path relative to the root, e.g. `output/server/index.js`.
    pub path: String,
    /// The JS source.
    pub source: Arc<str>,
}

/// The entry and all module files of a module bundle, sorted by path.
#[derive(Debug, Clone)]
pub struct ModuleFiles {
    /// The module root on disk (empty for bundles from memory).
    pub root: PathBuf,
    /// The entry's path relative to the root.
    pub entry: String,
    /// Every module file, sorted by path (the entry included).
    pub files: Vec<ModuleFile>,
}

impl ModuleFiles {
    pub(crate) fn from_memory(entry: &str, files: Vec<(String, String)>) -> Result<Self> {
        let mut out = Vec::with_capacity(files.len());
        for (path, source) in files {
            let normal = normalize(&path).ok_or_else(|| {
                Error::Invalid(format!(
                    "module path `{path}` must be relative and stay inside the module root"
                ))
            })?;
            out.push(ModuleFile {
                path: normal,
                source: Arc::from(source),
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        let entry = normalize(entry).unwrap_or_default();
        if !out.iter().any(|f| f.path == entry) {
            return Err(Error::Invalid(format!(
                "the entry module `{entry}` is not among the bundle's files"
            )));
        }
        Ok(ModuleFiles {
            root: PathBuf::new(),
            entry,
            files: out,
        })
    }

    pub(crate) fn from_entry_file(entry: &Path, root: Option<&Path>) -> Result<Self> {
        Self::read_traced(entry, root).map(|(files, _)| files)
    }

    /// [`ModuleFiles::from_entry_file`], also returning what the files were on disk while they
    /// were read — `None` when anything changed during the read or too recently to record.
    pub(crate) fn read_traced(
        entry: &Path,
        root: Option<&Path>,
    ) -> Result<(Self, Option<ModuleTree>)> {
        let entry_abs = entry
            .canonicalize()
            .map_err(|e| Error::io("cannot read bundle", entry, e))?;
        if !entry_abs.is_file() {
            return Err(Error::Invalid(format!(
                "bundle `{}` is not a file",
                entry.display()
            )));
        }
        let mut root = match root {
            Some(root) => root
                .canonicalize()
                .map_err(|e| Error::io("cannot open the module root", root, e))?,
            None => entry_abs
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/")),
        };
        if !entry_abs.starts_with(&root) {
            return Err(Error::Invalid(format!(
                "entry `{}` is not inside the module root `{}`",
                entry.display(),
                root.display()
            )));
        }
        // Each step widens the root by one folder and reads it again.
        let mut climbed = 0;
        loop {
            let (files, seen) = collect(&root)?;
            let reach = files
                .iter()
                .map(|f| parent_reach(&f.source).saturating_sub(f.path.matches('/').count()))
                .max()
                .unwrap_or(0);
            let parent = root.parent().map(Path::to_path_buf);
            if reach == 0 || climbed >= MAX_ROOT_CLIMB || parent.is_none() {
                if reach > 0 && parent.is_some() {
                    tracing::warn!(root = %root.display(), "relative imports may reach above the module root");
                }
                let entry = relative_path(&root, &entry_abs);
                let tree = seen.map(|entries| ModuleTree {
                    entry: entry_abs.clone(),
                    root: root.clone(),
                    entries,
                });
                return Ok((ModuleFiles { root, entry, files }, tree));
            }
            root = parent.expect("checked above");
            climbed += 1;
        }
    }

    /// The entry module's source.
    pub fn entry_source(&self) -> &Arc<str> {
        &self
            .files
            .iter()
            .find(|f| f.path == self.entry)
            .expect("the entry is one of the files")
            .source
    }

    /// The bytes of every file together.
    pub fn total_len(&self) -> u64 {
        self.files.iter().map(|f| f.source.len() as u64).sum()
    }

    /// blake3 over the entry path and every file's path and source, in path order.
    pub fn content_hash(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        let mut field = |bytes: &[u8]| {
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(b"coldstart module bundle v1");
        field(self.entry.as_bytes());
        for file in &self.files {
            field(file.path.as_bytes());
            field(file.source.as_bytes());
        }
        *hasher.finalize().as_bytes()
    }

    /// Whether any file names the module `name` as a quoted string — `"node:events"` or, for a
    /// Node built-in, `"events"` (any quote). A module no file names cannot be imported by the
    /// bundle except through a computed specifier.
    pub fn mentions_module(&self, name: &str) -> bool {
        let bare = name.strip_prefix("node:");
        let mut needles = Vec::new();
        for quote in ['"', '\'', '`'] {
            needles.push(format!("{quote}{name}{quote}"));
            if let Some(bare) = bare {
                needles.push(format!("{quote}{bare}{quote}"));
            }
        }
        self.files.iter().any(|file| {
            needles.iter().any(|needle| {
                memchr::memmem::find(file.source.as_bytes(), needle.as_bytes()).is_some()
            })
        })
    }

    /// The file at `path` (relative to the root), if the bundle has it.
    pub fn get(&self, path: &str) -> Option<&ModuleFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }
}

/// How much of a large file's head and tail [`looks_like_module`] reads.
const SNIFF_BYTES: u64 = 64 * 1024;

/// Whether `path` holds an ES module: `.mjs` always, `.cjs` never, otherwise a line that starts
/// with an `import` or `export` statement within the file's first or last 64 KiB (bundlers put
/// imports first and exports last; `--format module` covers the rest). Reading only that much
/// keeps detection off a script's start-up path.
pub(crate) fn looks_like_module(path: &Path) -> Result<bool> {
    use std::io::{Seek, SeekFrom};
    match path.extension().and_then(|e| e.to_str()) {
        Some("mjs") => return Ok(true),
        Some("cjs") => return Ok(false),
        _ => {}
    }
    let fail = |e| Error::io("cannot read bundle", path, e);
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let len = file.metadata().map_err(fail)?.len();
    let mut read_at = |offset: u64, max: u64| -> Result<Vec<u8>> {
        file.seek(SeekFrom::Start(offset)).map_err(fail)?;
        let mut buffer = Vec::with_capacity(max as usize);
        (&mut file)
            .take(max)
            .read_to_end(&mut buffer)
            .map_err(fail)?;
        Ok(buffer)
    };
    let sniff = |bytes: &[u8]| has_module_syntax(&String::from_utf8_lossy(bytes));
    if len <= 2 * SNIFF_BYTES {
        return Ok(sniff(&read_at(0, len)?));
    }
    Ok(sniff(&read_at(0, SNIFF_BYTES)?) || sniff(&read_at(len - SNIFF_BYTES, SNIFF_BYTES)?))
}

/// An `import`/`export` statement: the keyword at the start of a line or right after `;` or
/// `}` (minified bundles end with `;export{…}`), followed by what only a statement has there
/// (not `import(`, `import.meta` or an identifier such as `exports`).
pub(crate) fn has_module_syntax(source: &str) -> bool {
    let bytes = source.as_bytes();
    for keyword in [&b"import"[..], &b"export"[..]] {
        for at in memchr::memmem::find_iter(bytes, keyword) {
            let before = bytes[..at]
                .iter()
                .rev()
                .find(|b| !matches!(b, b' ' | b'\t' | b'\r'))
                .copied();
            if !matches!(before, None | Some(b'\n' | b';' | b'}')) {
                continue;
            }
            let rest = &bytes[at + keyword.len()..];
            let next = rest.iter().position(|b| !matches!(b, b' ' | b'\t'));
            let statement = match next.map(|i| (i, rest[i])) {
                Some((_, b'{' | b'*' | b'"' | b'\'')) => true,
                Some((spaces, c)) => {
                    spaces > 0 && (c.is_ascii_alphabetic() || c == b'_' || c == b'$')
                }
                None => false,
            };
            if statement {
                return true;
            }
        }
    }
    false
}

/// How many folders up the furthest relative specifier in `source` reaches (`'../../x'` → 2).
/// Over-approximates (any quoted string counts), which only widens the root.
fn parent_reach(source: &str) -> usize {
    let bytes = source.as_bytes();
    let mut best = 0;
    for at in memchr::memmem::find_iter(bytes, b"../") {
        // Only the first `../` of a run, right after the quote (or a quote and `./`).
        let before = &bytes[..at];
        let starts = matches!(before.last(), Some(b'"' | b'\'' | b'`'))
            || (before.ends_with(b"./")
                && matches!(
                    before.get(before.len().wrapping_sub(3)),
                    Some(b'"' | b'\'' | b'`')
                ));
        if !starts {
            continue;
        }
        let mut depth = 0;
        let mut rest = &bytes[at..];
        while let Some(after) = rest.strip_prefix(b"../") {
            depth += 1;
            rest = after;
        }
        best = best.max(depth);
    }
    best
}

/// Every `.js`/`.mjs` file under `root` (hidden folders, `node_modules` and symbolic links
/// skipped), sorted by path; with the identity of every folder listed and file read, taken
/// before and after each (`None` when one changed meanwhile or too recently to be recorded).
fn collect(root: &Path) -> Result<(Vec<ModuleFile>, Option<Vec<TreeEntry>>)> {
    let mut files = Vec::new();
    let mut seen = Vec::new();
    let mut stable = true;
    let mut total = 0u64;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let folder_error = |e| Error::io("cannot read module folder", &dir, e);
        let before = std::fs::metadata(&dir).map_err(folder_error)?;
        let entries = std::fs::read_dir(&dir).map_err(folder_error)?;
        for entry in entries {
            let entry = entry.map_err(folder_error)?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let kind = entry.file_type().map_err(folder_error)?;
            if name.starts_with('.') || kind.is_symlink() {
                continue;
            }
            let path = entry.path();
            if kind.is_dir() {
                if name != "node_modules" {
                    stack.push(path);
                }
                continue;
            }
            if !(name.ends_with(".js") || name.ends_with(".mjs")) {
                continue;
            }
            let (bytes, identity) = read_identified(&path)?;
            total += bytes.len() as u64;
            if files.len() >= MAX_MODULE_FILES || total > MAX_MODULE_BYTES {
                return Err(Error::Invalid(format!(
                    "module root `{}` holds more than {MAX_MODULE_FILES} files or {} MiB of JS; \
                     point --module-root at the build's output folder",
                    root.display(),
                    MAX_MODULE_BYTES >> 20
                )));
            }
            let source = String::from_utf8(bytes).map_err(|e| {
                Error::Invalid(format!(
                    "module `{}` is not valid UTF-8: {e}",
                    path.display()
                ))
            })?;
            let relative = relative_path(root, &path);
            match identity {
                Some(identity) => seen.push(TreeEntry {
                    path: relative.clone(),
                    folder: false,
                    identity,
                }),
                None => stable = false,
            }
            files.push(ModuleFile {
                path: relative,
                source: Arc::from(source),
            });
        }
        let after = std::fs::metadata(&dir).map_err(folder_error)?;
        let identity = FileIdentity::of(&before);
        if identity == FileIdentity::of(&after) && identity.settled() {
            seen.push(TreeEntry {
                path: relative_path(root, &dir),
                folder: true,
                identity,
            });
        } else {
            stable = false;
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    seen.sort_by(|a, b| (a.folder, &a.path).cmp(&(b.folder, &b.path)));
    Ok((files, stable.then_some(seen)))
}

/// The bytes of the file at `path`, and its identity when it was the same before and after the
/// read and last changed long enough ago to be recorded.
fn read_identified(path: &Path) -> Result<(Vec<u8>, Option<FileIdentity>)> {
    let fail = |e| Error::io("cannot read module", path, e);
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let before = FileIdentity::of(&file.metadata().map_err(fail)?);
    let mut bytes = Vec::with_capacity(before.len() as usize);
    file.read_to_end(&mut bytes).map_err(fail)?;
    let after = FileIdentity::of(&file.metadata().map_err(fail)?);
    Ok((bytes, (before == after && after.settled()).then_some(after)))
}

/// What a module bundle was on disk when it was read: the entry (resolved), the module root,
/// and the identity of every folder listed and file read under it. While every one of them is
/// unchanged, a read would give the same files — a folder's change time moves when an entry is
/// added, removed or renamed in it, a file's when its content changes (see
/// [`crate::file_identity`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModuleTree {
    /// The entry file, resolved.
    pub entry: PathBuf,
    /// The module root it was read with.
    pub root: PathBuf,
    /// Folders and files, relative to the root.
    pub entries: Vec<TreeEntry>,
}

/// One folder or file of a [`ModuleTree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeEntry {
    /// Relative to the root, `/`-separated (empty for the root itself).
    pub path: String,
    /// A folder (listed) rather than a file (read).
    pub folder: bool,
    /// Its identity then.
    pub identity: FileIdentity,
}

impl ModuleTree {
    /// Whether `entry` still resolves to the recorded entry and every folder and file is as it
    /// was (one `stat` each; nothing is read).
    pub fn unchanged(&self, entry: &Path) -> bool {
        if entry.canonicalize().ok().as_deref() != Some(self.entry.as_path()) {
            return false;
        }
        self.entries.iter().all(|item| {
            std::fs::metadata(self.root.join(&item.path))
                .is_ok_and(|meta| FileIdentity::of(&meta) == item.identity)
        })
    }
}

fn relative_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// `a/./b/../c.js` → `a/c.js`; `None` when the path is absolute or climbs above the root.
pub(crate) fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// Where an import specifier points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A module file of the bundle (path relative to the root) or a built-in (`node:events`).
    Key(String),
    /// A relative specifier that climbs above the module root.
    OutsideRoot,
    /// A bare specifier that names no built-in.
    Unknown,
}

/// Resolves `specifier` imported by the module named `referrer` (a root-relative path, or a
/// built-in name). Bare Node built-in names are accepted with and without `node:`.
pub(crate) fn resolve(
    referrer: &str,
    specifier: &str,
    is_builtin: impl Fn(&str) -> bool,
) -> Resolved {
    if specifier.starts_with("./") || specifier.starts_with("../") || specifier.starts_with('/') {
        if specifier.starts_with('/') || is_builtin(referrer) {
            return Resolved::OutsideRoot;
        }
        let base = match referrer.rfind('/') {
            Some(i) => &referrer[..=i],
            None => "",
        };
        return match normalize(&format!("{base}{specifier}")) {
            Some(key) => Resolved::Key(key),
            None => Resolved::OutsideRoot,
        };
    }
    if is_builtin(specifier) {
        return Resolved::Key(specifier.to_string());
    }
    let prefixed = format!("node:{specifier}");
    if !specifier.contains(':') && is_builtin(&prefixed) {
        return Resolved::Key(prefixed);
    }
    Resolved::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str) -> bool {
        matches!(name, "node:events" | "cloudflare:workers")
    }

    #[test]
    fn specifiers_resolve_inside_the_root() {
        assert_eq!(
            resolve(
                "cloudflare/_worker.js",
                "../output/server/index.js",
                builtin
            ),
            Resolved::Key("output/server/index.js".into())
        );
        assert_eq!(
            resolve("a.js", "./b/c.js", builtin),
            Resolved::Key("b/c.js".into())
        );
        assert_eq!(resolve("a.js", "../x.js", builtin), Resolved::OutsideRoot);
        assert_eq!(
            resolve("a.js", "/etc/passwd", builtin),
            Resolved::OutsideRoot
        );
        assert_eq!(
            resolve("a.js", "events", builtin),
            Resolved::Key("node:events".into())
        );
        assert_eq!(
            resolve("a.js", "node:events", builtin),
            Resolved::Key("node:events".into())
        );
        assert_eq!(
            resolve("a.js", "cloudflare:workers", builtin),
            Resolved::Key("cloudflare:workers".into())
        );
        assert_eq!(resolve("a.js", "react", builtin), Resolved::Unknown);
        assert_eq!(resolve("a.js", "node:fs", builtin), Resolved::Unknown);
        assert_eq!(
            resolve("node:events", "./x.js", builtin),
            Resolved::OutsideRoot
        );
    }

    #[test]
    fn parent_reach_counts_the_deepest_relative_specifier() {
        assert_eq!(parent_reach("import a from './a.js'"), 0);
        assert_eq!(parent_reach("import a from '../a.js'"), 1);
        assert_eq!(parent_reach("x = import(\"./../../b.js\")"), 2);
        assert_eq!(parent_reach("`../../../c`; '../d'"), 3);
        assert_eq!(
            parent_reach("a/../b"),
            0,
            "only specifiers that start a string count"
        );
    }

    #[test]
    fn large_files_are_sniffed_at_head_and_tail() {
        let dir = tempfile::tempdir().unwrap();
        let filler = "var x = 1;\n".repeat(20_000);
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let tail = write(
            "tail.js",
            format!("{filler}function r() {{}}\nexport {{ r as render }};\n"),
        );
        let head = write(
            "head.js",
            format!("import {{ a }} from './a.js';\n{filler}"),
        );
        let script = write(
            "script.js",
            format!("{filler}globalThis.__rex_render_page = () => '';\n"),
        );
        assert!(looks_like_module(&tail).unwrap());
        assert!(looks_like_module(&head).unwrap());
        assert!(!looks_like_module(&script).unwrap());
        assert!(looks_like_module(&write("m.mjs", "x".into())).unwrap());
        assert!(!looks_like_module(&write("c.cjs", "export {}".into())).unwrap());
    }

    #[test]
    fn module_syntax_is_detected_by_statements() {
        assert!(has_module_syntax("import { a } from './a.js';"));
        assert!(has_module_syntax("const x = 1;\nexport default x;"));
        assert!(has_module_syntax("import './side-effect.js'"));
        assert!(!has_module_syntax("const m = import('./lazy.js');"));
        assert!(!has_module_syntax(
            "globalThis.__rex_render_page = () => 'export default';"
        ));
    }

    #[test]
    fn the_root_widens_to_reach_parent_imports() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist/cloudflare")).unwrap();
        std::fs::create_dir_all(dir.path().join("dist/output/server")).unwrap();
        std::fs::write(
            dir.path().join("dist/cloudflare/_worker.js"),
            "import { s } from './../output/server/index.js'; export default { fetch() {} };",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("dist/output/server/index.js"),
            "export const s = 1;",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("dist/output/server/notes.txt"),
            "not a module",
        )
        .unwrap();
        let files =
            ModuleFiles::from_entry_file(&dir.path().join("dist/cloudflare/_worker.js"), None)
                .unwrap();
        assert_eq!(files.root, dir.path().join("dist").canonicalize().unwrap());
        assert_eq!(files.entry, "cloudflare/_worker.js");
        let paths: Vec<&str> = files.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["cloudflare/_worker.js", "output/server/index.js"]);
        let before = files.content_hash();
        std::fs::write(
            dir.path().join("dist/output/server/index.js"),
            "export const s = 2;",
        )
        .unwrap();
        let after =
            ModuleFiles::from_entry_file(&dir.path().join("dist/cloudflare/_worker.js"), None)
                .unwrap();
        assert_ne!(
            before,
            after.content_hash(),
            "the key covers every file of the graph"
        );
    }
}
