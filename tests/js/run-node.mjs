// Runs the polyfills + harness + test files in a bare `vm` context (no Node globals), with a
// JS stand-in for the Rust `host`, wrapped and ordered exactly as the engine does it:
//   node tests/js/run-node.mjs [file.test.js ...]      (default: every *.test.js)
// The same test files run inside coldstart itself (tests/all/js.rs), against the real host, so
// they must not depend on this stand-in's details.
//
// The stand-in mirrors the Rust event loop (src/event_loop.rs): one turn delivers the I/O
// completions that are ready, then fires every timer due at the turn's start in (due time,
// arming order), draining microtasks after each callback. Exceptions thrown by
// internals.fire_timer / internals.op_complete are reported, never rethrown (as in Rust).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, lstatSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, isAbsolute, sep } from "node:path";
import { createHash, createHmac, randomFillSync, randomUUID } from "node:crypto";
import vm from "node:vm";
import { AsyncLocalStorage } from "node:async_hooks";

const continuationData = new AsyncLocalStorage();

const here = new URL(".", import.meta.url).pathname;
const jsDir = here + "../../src/js/";
const verbose = Boolean(process.env.COLDSTART_JS_LOG);

// Like Rust, an unhandled rejection is reported, not fatal.
process.on("unhandledRejection", (reason) => {
  if (verbose) console.error("[unhandled rejection]", reason);
});

const HASHES = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };
const toArrayBuffer = (buf) => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);

function fsError(code, description, syscall, path) {
  const error = new Error(`${code}: ${description}, ${syscall} '${path}'`);
  Object.assign(error, { code, syscall, path });
  return error;
}

// The fs sandbox: like runtime/fs.rs, relative paths are taken from the root, absolute paths must
// lie under it, and `..` may not climb above it.
function makeFs(root) {
  function resolve(path, syscall) {
    path = String(path);
    if (path === "") throw fsError("ENOENT", "no such file or directory", syscall, path);
    if (path.includes("\0")) throw fsError("EINVAL", "path must not contain NUL bytes", syscall, path);
    let relative = path;
    if (isAbsolute(path)) {
      if (path !== root && !path.startsWith(root + sep)) throw fsError("EACCES", "permission denied (path escapes the sandbox root)", syscall, path);
      relative = path.slice(root.length + 1);
    }
    const parts = [];
    for (const part of relative.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (!parts.length) throw fsError("EACCES", "permission denied (path escapes the sandbox root)", syscall, path);
        parts.pop();
      } else parts.push(part);
    }
    return join(root, ...parts);
  }
  function run(syscall, path, op) {
    const full = resolve(path, syscall);
    try {
      return op(full);
    } catch (error) {
      if (error && typeof error.code === "string" && error.code.startsWith("E")) {
        const description = String(error.message).replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "");
        throw fsError(error.code, description, syscall, String(path));
      }
      throw error;
    }
  }
  return {
    fs_read: (path, utf8) =>
      run("open", path, (p) => {
        const bytes = readFileSync(p);
        return utf8 ? new TextDecoder().decode(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      }),
    fs_write: (path, data) =>
      run("open", path, (p) => {
        if (ArrayBuffer.isView(data)) data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        else if (Object.prototype.toString.call(data) === "[object ArrayBuffer]") data = new Uint8Array(data);
        else data = String(data);
        writeFileSync(p, data);
      }),
    fs_readdir: (path) => run("scandir", path, (p) => readdirSync(p).sort()),
    fs_stat: (path) =>
      run("stat", path, (p) => {
        const link = lstatSync(p);
        const s = statSync(p);
        return { isFile: s.isFile(), isDirectory: s.isDirectory(), isSymbolicLink: link.isSymbolicLink(), size: s.size, mtimeMs: s.mtimeMs };
      }),
    fs_mkdir: (path, recursive) => run("mkdir", path, (p) => void mkdirSync(p, { recursive: Boolean(recursive) })),
    fs_rm: (path, recursive, force) =>
      run("rm", path, (p) => {
        let s;
        try {
          s = lstatSync(p);
        } catch (error) {
          if (force && error.code === "ENOENT") return;
          throw error;
        }
        if (s.isDirectory() && !recursive) throw Object.assign(new Error("EISDIR: is a directory"), { code: "EISDIR" });
        rmSync(p, { recursive: Boolean(recursive) });
      }),
    fs_exists: (path) => {
      try {
        return existsSync(resolve(path, "access"));
      } catch {
        return false;
      }
    },
  };
}

function makeHost(internals, root) {
  const started = performance.now();
  const origin = Date.now();
  const now = () => performance.now() - started;
  // id → { due, seq }: the armed timers. Re-arming an id replaces its previous arming.
  const timers = new Map();
  let seq = 0;
  const completions = [];
  const fetches = new Set();
  let pumping = false;
  let wake = null;

  const report = (what, error) => {
    if (verbose) console.error(`[uncaught exception in ${what}]`, internals.report_error ? internals.report_error(error) : error);
  };
  // Lets the microtasks queued so far (the context shares Node's microtask queue) run.
  const drain = () => new Promise((resolve) => setImmediate(resolve));

  function schedule() {
    if (pumping) return;
    if (wake) clearTimeout(wake);
    wake = null;
    if (completions.length) {
      wake = setTimeout(pump, 0);
      return;
    }
    let next = Infinity;
    for (const t of timers.values()) next = Math.min(next, t.due);
    if (next !== Infinity) wake = setTimeout(pump, Math.max(0, Math.ceil(next - now())));
  }

  async function pump() {
    wake = null;
    pumping = true;
    try {
      for (;;) {
        await drain();
        let progressed = false;
        while (completions.length) {
          const [id, error, value] = completions.shift();
          try {
            internals.op_complete(id, error, value);
          } catch (e) {
            report("op_complete", e);
          }
          await drain();
          progressed = true;
        }
        const turn = now();
        for (;;) {
          let best = null;
          for (const [id, t] of timers) {
            if (t.due > turn) continue;
            if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = { id, ...t };
          }
          if (!best) break;
          timers.delete(best.id);
          try {
            internals.fire_timer(best.id);
          } catch (e) {
            report("a timer", e);
          }
          await drain();
          progressed = true;
        }
        if (!progressed) break;
      }
    } finally {
      pumping = false;
      schedule();
    }
  }

  return {
    log: (level, message) => {
      if (!["debug", "info", "warn", "error"].includes(level)) throw new TypeError("bad log level " + level);
      if (typeof message !== "string") throw new TypeError("log message must be a string");
      if (verbose) console.error(`[${level}] ${message}`);
    },
    now,
    time_origin: () => origin,
    queue_microtask: (fn) => queueMicrotask(fn),
    // V8's continuation-preserved embedder data, as Node exposes it: a store that follows
    // promise continuations (AsyncLocalStorage, 60_worker.js).
    cped_get: () => continuationData.getStore(),
    cped_set: (value) => continuationData.enterWith(value),
    // A module worker's response parts and ASSETS only exist inside coldstart's server.
    response_head: () => {
      throw new TypeError("no request is being answered");
    },
    response_chunk: () => {
      throw new TypeError("no request is being answered");
    },
    response_end: () => {
      throw new TypeError("no request is being answered");
    },
    asset_read: () => null,
    timer_start: (id, delay) => {
      if (!Number.isInteger(id) || id <= 0) throw new TypeError("timer id must be a positive integer");
      timers.set(id, { due: now() + Math.max(0, Number(delay) || 0), seq: ++seq });
      schedule();
    },
    timer_clear: (id) => {
      timers.delete(id);
      schedule();
    },
    random_fill: (view) => {
      randomFillSync(view);
      return view;
    },
    random_uuid: () => randomUUID(),
    digest: (name, bytes) => {
      if (!HASHES[name]) throw new TypeError("unsupported digest " + name);
      return toArrayBuffer(createHash(HASHES[name]).update(bytes).digest());
    },
    hmac: (name, key, bytes) => {
      if (!HASHES[name]) throw new TypeError("unsupported hash " + name);
      return toArrayBuffer(createHmac(HASHES[name], key).update(bytes).digest());
    },
    // No network in tests: every request fails like an unreachable host.
    op_fetch: (id, request) => {
      if (!Number.isInteger(id) || id <= 0) throw new TypeError("op_fetch: id must be an integer");
      if (!request || typeof request.url !== "string" || typeof request.method !== "string" || !Array.isArray(request.headers)) {
        throw new TypeError("op_fetch: malformed request");
      }
      fetches.add(id);
      setTimeout(() => {
        if (!fetches.delete(id)) return;
        completions.push([id, { name: "TypeError", message: "fetch failed: no network in the Node test host (" + request.url + ")" }, null]);
        schedule();
      }, 1);
    },
    op_cancel: (id) => {
      fetches.delete(id);
    },
    ...makeFs(root),
    v8_version: () => process.versions.v8,
    pending: () => timers.size + fetches.size + completions.length,
  };
}

// The names after `// NAME:` in a polyfill's leading comment lines (as build.rs reads them).
function directive(source, name) {
  for (const line of source.split("\n")) {
    if (!line.startsWith("//") && !line.startsWith('"use strict"')) break;
    if (line.startsWith(`// ${name}:`)) return line.slice(name.length + 4).split(/\s+/).filter(Boolean);
  }
  return undefined;
}

function loadPolyfills(context, host, internals) {
  // Same wrapping as src/polyfills.rs: the file's first line stays on line 1.
  const compile = (name) =>
    vm.runInContext("(function (host, internals) {" + readFileSync(jsDir + name, "utf8") + "\n})", context, { filename: name });
  const lazy = new Set();
  host.load_polyfill = (name) => {
    if (!lazy.has(name)) throw new TypeError(`no lazily loaded polyfill is called ${JSON.stringify(name)}`);
    return compile(name);
  };
  for (const name of readdirSync(jsDir).filter((n) => /^\d\d_.*\.js$/.test(n)).sort()) {
    const source = readFileSync(jsDir + name, "utf8");
    const globals = directive(source, "lazy-globals");
    if (globals === undefined) {
      compile(name)(host, internals);
    } else {
      lazy.add(name);
      internals.defineLazy(name, globals, directive(source, "lazy-internals") ?? []);
    }
  }
}

async function runSources(sources) {
  const context = vm.createContext({});
  const internals = {};
  const root = mkdtempSync(join(tmpdir(), "coldstart-js-"));
  const host = makeHost(internals, root);
  try {
    loadPolyfills(context, host, internals);
    // Like a restore: Rust clears the timers of the snapshot build and sets the env.
    internals.clear_timers();
    internals.set_env({ COLDSTART_JS_TEST: "1" });
    vm.runInContext(readFileSync(here + "harness.js", "utf8"), context, { filename: "harness.js" });
    for (const [name, source] of sources) vm.runInContext(source, context, { filename: name });
    const keepAlive = setInterval(() => {}, 1000);
    try {
      const result = vm.runInContext("__run_tests()", context);
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("the test file did not finish in 120 s")), 120000).unref());
      return JSON.parse(await Promise.race([result, timeout]));
    } finally {
      clearInterval(keepAlive);
      internals.clear_timers();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function runFile(file) {
  const source = readFileSync(here + file, "utf8");
  const sources = [];
  const vectors = /^\/\/ vectors: (.*)$/m.exec(source);
  for (const v of vectors ? vectors[1].trim().split(/\s+/) : []) sources.push([v, readFileSync(here + "vectors/" + v, "utf8")]);
  sources.push([file, source]);
  return runSources(sources);
}

// The harness must be able to fail: a failing test, a rejected async test and a thrown
// non-Error are all reported as failures.
async function selfCheck() {
  const report = await runSources([
    [
      "self-check.js",
      `__test("passes", () => assert.equal(1, 1));
       __test("fails", () => assert.equal(1, 2));
       __test("rejects", async () => { await null; throw "plain string"; });
       __test("deep", () => assert.deepEqual(new Map([[1, 2]]), new Map([[1, 3]])));`,
    ],
  ]);
  const names = report.failed.map((f) => f.name).join(",");
  if (report.passed !== 1 || names !== "fails,rejects,deep") {
    throw new Error("harness self-check failed: " + JSON.stringify(report));
  }
}

const args = process.argv.slice(2);
const files = args.length ? args.map((f) => f.replace(/^.*\//, "")) : readdirSync(here).filter((n) => n.endsWith(".test.js")).sort();
await selfCheck();
let passed = 0;
let failed = 0;
for (const file of files) {
  let report;
  try {
    report = await runFile(file);
  } catch (error) {
    report = { passed: 0, failed: [{ name: "(loading " + file + ")", message: String(error && error.stack ? error.stack : error) }] };
  }
  passed += report.passed;
  failed += report.failed.length;
  console.log(`${report.failed.length ? "FAIL" : "ok  "} ${file}: ${report.passed} passed, ${report.failed.length} failed`);
  for (const f of report.failed) console.log(`  - ${f.name}\n    ${f.message.split("\n").slice(0, 8).join("\n    ")}`);
}
console.log(`js: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
