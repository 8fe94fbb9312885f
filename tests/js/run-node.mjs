// Runs the polyfills + harness + test files in a bare `vm` context (no Node globals), with a
// JS stand-in for the Rust `host`, exactly as the engine wraps them:
//   node tests/js/run-node.mjs [file.test.js ...]      (default: every *.test.js)
// The same test files run inside coldstart itself in tests/all/js.rs.
import { readFileSync, readdirSync } from "node:fs";
import { createHash, createHmac, randomFillSync, randomUUID } from "node:crypto";
import vm from "node:vm";

const here = new URL(".", import.meta.url).pathname;
const jsDir = here + "../../src/js/";

function makeHost(internals) {
  const started = performance.now();
  const origin = Date.now();
  const timers = new Map();
  return {
    log: (level, message) => {
      if (process.env.COLDSTART_JS_LOG) console.error(`[${level}] ${message}`);
    },
    now: () => performance.now() - started,
    time_origin: () => origin,
    queue_microtask: (fn) => queueMicrotask(fn),
    timer_start: (id, delay) => {
      clearTimeout(timers.get(id));
      timers.set(id, setTimeout(() => {
        timers.delete(id);
        internals.fire_timer(id);
      }, delay));
    },
    timer_clear: (id) => {
      clearTimeout(timers.get(id));
      timers.delete(id);
    },
    random_fill: (view) => {
      randomFillSync(view);
      return view;
    },
    random_uuid: () => randomUUID(),
    digest: (name, bytes) => {
      const algorithm = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" }[name.toUpperCase()];
      const out = createHash(algorithm).update(bytes).digest();
      return out.buffer.slice(out.byteOffset, out.byteOffset + out.length);
    },
    hmac: (name, key, bytes) => {
      const algorithm = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" }[name.toUpperCase()];
      const out = createHmac(algorithm, key).update(bytes).digest();
      return out.buffer.slice(out.byteOffset, out.byteOffset + out.length);
    },
    op_fetch: (id, request) => {
      setTimeout(() => internals.op_complete(id, { name: "TypeError", message: "fetch is not available in the Node test host (" + request.url + ")" }, null), 0);
    },
    op_cancel: () => {},
    fs_read: () => fsUnavailable(),
    fs_write: () => fsUnavailable(),
    fs_readdir: () => fsUnavailable(),
    fs_stat: () => fsUnavailable(),
    fs_mkdir: () => fsUnavailable(),
    fs_rm: () => fsUnavailable(),
    fs_exists: () => false,
    v8_version: () => process.versions.v8,
  };
}
function fsUnavailable() {
  const error = new Error("EACCES: permission denied (no fs sandbox in the Node test host)");
  error.code = "EACCES";
  throw error;
}

async function runFile(file) {
  const context = vm.createContext({});
  const internals = {};
  const host = makeHost(internals);
  for (const name of readdirSync(jsDir).filter((n) => /^\d\d_.*\.js$/.test(n)).sort()) {
    const wrapped = "(function (host, internals) {" + readFileSync(jsDir + name, "utf8") + "\n})";
    vm.runInContext(wrapped, context, { filename: name })(host, internals);
  }
  internals.set_env({});
  vm.runInContext(readFileSync(here + "harness.js", "utf8"), context, { filename: "harness.js" });
  const source = readFileSync(here + file, "utf8");
  const vectors = /^\/\/ vectors: (.*)$/m.exec(source);
  for (const v of vectors ? vectors[1].trim().split(/\s+/) : []) {
    vm.runInContext(readFileSync(here + "vectors/" + v, "utf8"), context, { filename: v });
  }
  vm.runInContext(source, context, { filename: file });
  return JSON.parse(await vm.runInContext("__run_tests()", context));
}

const files = process.argv.slice(2).length ? process.argv.slice(2) : readdirSync(here).filter((n) => n.endsWith(".test.js")).sort();
let failed = 0;
for (const file of files) {
  const report = await runFile(file);
  failed += report.failed.length;
  console.log(`${report.failed.length ? "FAIL" : "ok  "} ${file}: ${report.passed} passed, ${report.failed.length} failed`);
  for (const f of report.failed) console.log(`  - ${f.name}\n    ${f.message.split("\n").slice(0, 6).join("\n    ")}`);
}
process.exit(failed ? 1 : 0);
