"use strict";
// File system access, sandboxed by the host to a root the embedder chose in Rust.
// * Rex-compatible globals `__rex_fs_*(root, path, ...)`: the `root` argument is ignored (JS
//   never chooses the sandbox) and failures are returned as "__REX_FS_ERR__{code,message}"
//   strings, which Rex's bundle shim turns into thrown errors.
// * A Node-style API on `coldstart.fs` that throws errors with `code`, `syscall` and `path`.

function encodingOf(options) {
  if (typeof options === "string") return options;
  return options && typeof options === "object" ? options.encoding : undefined;
}
const isUtf8 = (encoding) => encoding === "utf8" || encoding === "utf-8";

class Stats {
  #raw;
  constructor(raw) {
    this.#raw = raw;
    this.size = raw.size;
    this.mtimeMs = raw.mtimeMs;
    this.mtime = new Date(raw.mtimeMs);
  }
  isFile() {
    return this.#raw.isFile;
  }
  isDirectory() {
    return this.#raw.isDirectory;
  }
  isSymbolicLink() {
    return this.#raw.isSymbolicLink;
  }
}

const fs = {
  readFileSync(path, options) {
    const encoding = encodingOf(options);
    if (encoding !== undefined && encoding !== null && !isUtf8(encoding)) {
      throw new TypeError("coldstart.fs supports utf8 or binary reads, not " + encoding);
    }
    return host.fs_read(String(path), isUtf8(encoding));
  },
  writeFileSync(path, data) {
    host.fs_write(String(path), typeof data === "string" || ArrayBuffer.isView(data) || data instanceof ArrayBuffer ? data : String(data));
  },
  readdirSync(path) {
    return host.fs_readdir(String(path));
  },
  statSync(path) {
    return new Stats(host.fs_stat(String(path)));
  },
  mkdirSync(path, options) {
    host.fs_mkdir(String(path), Boolean(options && options.recursive));
  },
  existsSync(path) {
    return host.fs_exists(String(path));
  },
  rmSync(path, options) {
    host.fs_rm(String(path), Boolean(options && options.recursive), Boolean(options && options.force));
  },
  unlinkSync(path) {
    const stat = host.fs_stat(String(path));
    if (stat.isDirectory) {
      const error = new Error(`EISDIR: illegal operation on a directory, unlink '${path}'`);
      Object.assign(error, { code: "EISDIR", syscall: "unlink", path: String(path) });
      throw error;
    }
    host.fs_rm(String(path), false, false);
  },
};
internals.coldstart.fs = fs;

function rexError(error) {
  return "__REX_FS_ERR__" + JSON.stringify({ code: error && error.code ? error.code : "EIO", message: String(error && error.message ? error.message : error) });
}
function rex(fn) {
  return function (root, ...args) {
    try {
      return fn(...args);
    } catch (error) {
      return rexError(error);
    }
  };
}
const rexGlobals = {
  __rex_fs_read_file_sync: rex((path, encoding) => fs.readFileSync(path, encoding)),
  __rex_fs_write_file_sync: rex((path, data) => fs.writeFileSync(path, data)),
  __rex_fs_readdir_sync: rex((path) => JSON.stringify(fs.readdirSync(path))),
  __rex_fs_stat_sync: rex((path) => JSON.stringify(host.fs_stat(String(path)))),
  __rex_fs_mkdir_sync: rex((path, options) => fs.mkdirSync(path, options)),
  __rex_fs_unlink_sync: rex((path) => fs.unlinkSync(path)),
  __rex_fs_rm_sync: rex((path, options) => fs.rmSync(path, options)),
};
for (const [name, fn] of Object.entries(rexGlobals)) internals.defineGlobal(name, fn);
internals.defineGlobal("__rex_fs_exists_sync", (root, path) => fs.existsSync(path));
