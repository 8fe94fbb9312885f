//! `host.fs_*`: synchronous file access sandboxed to a root the embedder chooses in Rust.
//!
//! The sandbox is a `cap_std::fs::Dir` opened on the root; every path resolves beneath it, so
//! `..` components, absolute paths outside the root and symlinks pointing out of it are refused
//! (on Linux by `openat2(RESOLVE_BENEATH)`), including races where a path component is swapped
//! for a symlink. Regular files with more than one hard link are refused too (a hard link inside
//! the root may name a file outside it; the link count is checked on the opened file, so no
//! rename race helps). JS never passes the root. Failures throw an `Error` carrying Node's `code`,
//! `errno`-style message, `syscall` and `path`.

use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use super::{arg_bytes, declare_host_fns, state, throw_error_with, uint8_array_from, HostFn};

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns![
        "fs_read" => fs_read,
        "fs_write" => fs_write,
        "fs_readdir" => fs_readdir,
        "fs_stat" => fs_stat,
        "fs_mkdir" => fs_mkdir,
        "fs_rm" => fs_rm,
        "fs_exists" => fs_exists,
    ]
}

/// A failed fs call, in Node's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsError {
    /// Node error code (`ENOENT`, `EACCES`, ...).
    pub code: &'static str,
    /// Human description (`no such file or directory`).
    pub description: String,
}

impl FsError {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        FsError {
            code,
            description: description.into(),
        }
    }

    fn escape() -> Self {
        FsError::new(
            "EACCES",
            "permission denied (path escapes the sandbox root)",
        )
    }
}

/// Why a file with several hard links is refused (carried inside an `io::Error`).
#[derive(Debug)]
struct HardLinked;

impl std::fmt::Display for HardLinked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("permission denied (the file has several hard links; one may lie outside the sandbox root)")
    }
}

impl std::error::Error for HardLinked {}

/// Refuses `file` when it is a regular file with more than one hard link.
fn refuse_hard_linked(file: &std::fs::File) -> io::Result<()> {
    let meta = file.metadata()?;
    if meta.is_file() && meta.nlink() > 1 {
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, HardLinked));
    }
    Ok(())
}

/// Reads a whole file beneath `dir` (see [`refuse_hard_linked`]).
fn read_file(dir: &cap_std::fs::Dir, path: &Path) -> io::Result<Vec<u8>> {
    let mut file = dir.open(path)?.into_std();
    refuse_hard_linked(&file)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Creates or replaces the contents of a file beneath `dir` (see [`refuse_hard_linked`]):
/// opened without truncation, checked, then truncated.
fn write_file(dir: &cap_std::fs::Dir, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = cap_std::fs::OpenOptions::new();
    options.write(true).create(true);
    let mut file = dir.open_with(path, &options)?.into_std();
    refuse_hard_linked(&file)?;
    file.set_len(0)?;
    file.write_all(bytes)
}

/// Maps an `io::Error` to Node's code and description.
pub fn node_error(e: &io::Error) -> FsError {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<HardLinked>()) {
        return FsError::new("EACCES", inner.to_string());
    }
    if let Some(errno) = e.raw_os_error() {
        let code = match errno {
            libc::ENOENT => "ENOENT",
            libc::EEXIST => "EEXIST",
            libc::ENOTDIR => "ENOTDIR",
            libc::EISDIR => "EISDIR",
            libc::EACCES => "EACCES",
            libc::EPERM => "EPERM",
            libc::ENOTEMPTY => "ENOTEMPTY",
            libc::EINVAL => "EINVAL",
            libc::ELOOP => "ELOOP",
            libc::ENAMETOOLONG => "ENAMETOOLONG",
            libc::EXDEV => "EXDEV",
            libc::ENOSPC => "ENOSPC",
            libc::EROFS => "EROFS",
            libc::EBUSY => "EBUSY",
            libc::EMFILE => "EMFILE",
            _ => "EIO",
        };
        let description = io::Error::from_raw_os_error(errno).to_string();
        // "No such file or directory (os error 2)" → "no such file or directory"
        let description = description
            .split(" (os error")
            .next()
            .unwrap_or(&description)
            .to_lowercase();
        return FsError::new(code, description);
    }
    match e.kind() {
        io::ErrorKind::NotFound => FsError::new("ENOENT", "no such file or directory"),
        io::ErrorKind::AlreadyExists => FsError::new("EEXIST", "file already exists"),
        // cap-std reports a path that would leave the root as PermissionDenied without an errno.
        io::ErrorKind::PermissionDenied => FsError::escape(),
        io::ErrorKind::InvalidInput => FsError::new("EINVAL", e.to_string()),
        _ => FsError::new("EIO", e.to_string()),
    }
}

/// Turns a JS path into a path relative to the sandbox root.
///
/// Relative paths are taken from the root. Absolute paths are accepted only when they lie under
/// the root's own absolute path. `..` is resolved lexically and refused if it would climb above
/// the root; symlinks are then checked by cap-std at open time.
pub fn sandbox_relative(root: &Path, requested: &str) -> Result<PathBuf, FsError> {
    if requested.is_empty() {
        return Err(FsError::new("ENOENT", "no such file or directory"));
    }
    if requested.contains('\0') {
        return Err(FsError::new("EINVAL", "path must not contain NUL bytes"));
    }
    let requested = Path::new(requested);
    let relative = if requested.is_absolute() {
        requested
            .strip_prefix(root)
            .map_err(|_| FsError::escape())?
    } else {
        requested
    };
    let mut clean = PathBuf::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !clean.pop() {
                    return Err(FsError::escape());
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(FsError::escape()),
        }
    }
    if clean.as_os_str().is_empty() {
        clean.push(".");
    }
    Ok(clean)
}

/// Runs `op` on the sandbox, or throws the Node-style error for `syscall`/`path`.
fn with_sandbox<T>(
    scope: &mut v8::HandleScope,
    syscall: &str,
    path: &str,
    op: impl FnOnce(&cap_std::fs::Dir, &Path) -> io::Result<T>,
) -> Option<T> {
    let state = state::get(scope);
    let result = {
        let state = state.borrow();
        match (&state.fs_root, &state.fs_root_path) {
            (Some(dir), Some(root)) => sandbox_relative(root, path)
                .and_then(|relative| op(dir, &relative).map_err(|e| node_error(&e))),
            _ => Err(FsError::new(
                "EACCES",
                "permission denied (no fs sandbox is configured)",
            )),
        }
    };
    match result {
        Ok(value) => Some(value),
        Err(err) => {
            let message = format!("{}: {}, {} '{}'", err.code, err.description, syscall, path);
            throw_error_with(
                scope,
                &message,
                &[("code", err.code), ("syscall", syscall), ("path", path)],
            );
            None
        }
    }
}

fn path_arg(scope: &mut v8::HandleScope, args: &v8::FunctionCallbackArguments) -> String {
    args.get(0).to_rust_string_lossy(scope)
}

fn fs_read(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let path = path_arg(scope, &args);
    let utf8 = args.get(1).boolean_value(scope);
    let Some(bytes) = with_sandbox(scope, "open", &path, read_file) else {
        return;
    };
    if utf8 {
        let text = String::from_utf8_lossy(&bytes);
        if let Some(s) = v8::String::new(scope, &text) {
            rv.set(s.into());
        }
    } else if let Some(array) = uint8_array_from(scope, bytes) {
        rv.set(array.into());
    }
}

fn fs_write(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let path = path_arg(scope, &args);
    let data = args.get(1);
    let bytes = match arg_bytes(data) {
        Some(bytes) => bytes,
        None => data.to_rust_string_lossy(scope).into_bytes(),
    };
    with_sandbox(scope, "open", &path, |dir, p| write_file(dir, p, &bytes));
}

fn fs_readdir(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let path = path_arg(scope, &args);
    let Some(mut names) = with_sandbox(scope, "scandir", &path, |dir, p| {
        dir.read_dir(p)?
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<Vec<String>>>()
    }) else {
        return;
    };
    names.sort();
    let elements: Vec<v8::Local<v8::Value>> = names
        .iter()
        .filter_map(|n| v8::String::new(scope, n).map(Into::into))
        .collect();
    rv.set(v8::Array::new_with_elements(scope, &elements).into());
}

fn fs_stat(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let path = path_arg(scope, &args);
    let Some((meta, is_symlink)) = with_sandbox(scope, "stat", &path, |dir, p| {
        let link = dir.symlink_metadata(p)?;
        let meta = dir.metadata(p)?;
        Ok((meta, link.file_type().is_symlink()))
    }) else {
        return;
    };
    let mtime_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    let object = v8::Object::new(scope);
    let fields: [(&str, v8::Local<v8::Value>); 5] = [
        ("isFile", v8::Boolean::new(scope, meta.is_file()).into()),
        ("isDirectory", v8::Boolean::new(scope, meta.is_dir()).into()),
        ("isSymbolicLink", v8::Boolean::new(scope, is_symlink).into()),
        ("size", v8::Number::new(scope, meta.len() as f64).into()),
        ("mtimeMs", v8::Number::new(scope, mtime_ms).into()),
    ];
    for (key, value) in fields {
        if let Some(k) = v8::String::new(scope, key) {
            object.set(scope, k.into(), value);
        }
    }
    rv.set(object.into());
}

fn fs_mkdir(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let path = path_arg(scope, &args);
    let recursive = args.get(1).boolean_value(scope);
    with_sandbox(scope, "mkdir", &path, |dir, p| {
        if recursive {
            dir.create_dir_all(p)
        } else {
            dir.create_dir(p)
        }
    });
}

fn fs_rm(scope: &mut v8::HandleScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let path = path_arg(scope, &args);
    let recursive = args.get(1).boolean_value(scope);
    let force = args.get(2).boolean_value(scope);
    with_sandbox(scope, "rm", &path, |dir, p| {
        let meta = match dir.symlink_metadata(p) {
            Ok(meta) => meta,
            Err(e) if force && e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if meta.is_dir() {
            if recursive {
                dir.remove_dir_all(p)
            } else {
                Err(io::Error::from_raw_os_error(libc::EISDIR))
            }
        } else {
            dir.remove_file(p)
        }
    });
}

fn fs_exists(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let path = path_arg(scope, &args);
    let state = state::get(scope);
    let exists = {
        let state = state.borrow();
        match (&state.fs_root, &state.fs_root_path) {
            (Some(dir), Some(root)) => sandbox_relative(root, &path)
                .map(|p| dir.metadata(p).is_ok())
                .unwrap_or(false),
            _ => false,
        }
    };
    rv.set(v8::Boolean::new(scope, exists).into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_beneath_the_root() {
        let root = Path::new("/srv/app");
        assert_eq!(
            sandbox_relative(root, "a/b.txt").unwrap(),
            PathBuf::from("a/b.txt")
        );
        assert_eq!(
            sandbox_relative(root, "./a/../b").unwrap(),
            PathBuf::from("b")
        );
        assert_eq!(sandbox_relative(root, ".").unwrap(), PathBuf::from("."));
        assert_eq!(
            sandbox_relative(root, "/srv/app/x").unwrap(),
            PathBuf::from("x")
        );
        assert_eq!(
            sandbox_relative(root, "../etc/passwd").unwrap_err().code,
            "EACCES"
        );
        assert_eq!(
            sandbox_relative(root, "a/../../x").unwrap_err().code,
            "EACCES"
        );
        assert_eq!(
            sandbox_relative(root, "/etc/passwd").unwrap_err().code,
            "EACCES"
        );
        assert_eq!(
            sandbox_relative(root, "/srv/application").unwrap_err().code,
            "EACCES"
        );
        assert_eq!(sandbox_relative(root, "").unwrap_err().code, "ENOENT");
    }

    #[test]
    fn errno_maps_to_node_codes() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(
            node_error(&e),
            FsError::new("ENOENT", "no such file or directory")
        );
        assert_eq!(
            node_error(&io::Error::from_raw_os_error(libc::ENOTEMPTY)).code,
            "ENOTEMPTY"
        );
    }
}
