// A tiny test harness shared by the engine (tests/all/js.rs) and Node (run-node.mjs).
// Test files call __test(name, fn) (fn may be async); __run_tests() runs them one after the
// other and resolves to a JSON report {"passed": n, "failed": [{"name", "message"}]}.
// Every exception, rejection and timeout of a test is caught and reported as a failure.
(function () {
  "use strict";
  const tests = [];
  const TEST_TIMEOUT_MS = 20000;
  globalThis.__test = (name, fn) => {
    if (typeof fn !== "function") throw new TypeError("__test(" + name + "): fn must be a function");
    tests.push({ name: String(name), fn });
  };

  class AssertionError extends Error {}
  AssertionError.prototype.name = "AssertionError";
  function fail(message) {
    throw new AssertionError(message);
  }

  function show(v, depth = 0) {
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "bigint") return v + "n";
    if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
    if (typeof v === "symbol" || typeof v === "function" || v === undefined || v === null) return String(v);
    if (depth > 3) return "…";
    try {
      if (Array.isArray(v)) return "[" + v.map((x) => show(x, depth + 1)).join(", ") + "]";
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return v.constructor.name + "[" + Array.from(v, (x) => show(x, depth + 1)).join(", ") + "]";
      if (v instanceof Map) return "Map{" + Array.from(v, ([k, x]) => show(k, depth + 1) + " => " + show(x, depth + 1)).join(", ") + "}";
      if (v instanceof Set) return "Set{" + Array.from(v, (x) => show(x, depth + 1)).join(", ") + "}";
      if (v instanceof Date) return "Date(" + v.getTime() + ")";
      if (v instanceof Error) return v.name + ": " + v.message;
      return "{" + Object.keys(v).map((k) => JSON.stringify(k) + ": " + show(v[k], depth + 1)).join(", ") + "}";
    } catch {
      return Object.prototype.toString.call(v);
    }
  }

  // Structural equality: same prototype, same own enumerable keys, NaN equals NaN.
  function equal(a, b, seen) {
    if (Object.is(a, b)) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (seen.some(([x, y]) => x === a && y === b)) return true;
    seen = seen.concat([[a, b]]);
    if (a instanceof Date) return Object.is(a.getTime(), b.getTime());
    if (a instanceof RegExp) return a.source === b.source && a.flags === b.flags;
    if (a instanceof ArrayBuffer) return equal(new Uint8Array(a), new Uint8Array(b), seen);
    if (ArrayBuffer.isView(a)) {
      if (a instanceof DataView) return equal(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), new Uint8Array(b.buffer, b.byteOffset, b.byteLength), seen);
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
      return true;
    }
    if (a instanceof Map) {
      if (a.size !== b.size) return false;
      const bEntries = Array.from(b);
      let i = 0;
      for (const [k, v] of a) {
        if (!equal(k, bEntries[i][0], seen) || !equal(v, bEntries[i][1], seen)) return false;
        i++;
      }
      return true;
    }
    if (a instanceof Set) return equal(Array.from(a), Array.from(b), seen);
    if (a instanceof Error && (a.name !== b.name || a.message !== b.message)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    if (Array.isArray(a) && a.length !== b.length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
      if (!equal(a[k], b[k], seen)) return false;
    }
    return true;
  }

  function checkError(error, check, message) {
    const label = message ? message + ": " : "";
    if (typeof check === "function" && !(error instanceof check)) fail(label + "expected " + check.name + ", got " + show(error));
    if (typeof check === "string" && (error === null || typeof error !== "object" || error.name !== check)) {
      fail(label + "expected an error named " + check + ", got " + show(error));
    }
    if (check instanceof RegExp && !check.test(String(error && error.message !== undefined ? error.message : error))) fail(label + "wrong error: " + show(error));
  }

  globalThis.assert = {
    ok(value, message) {
      if (!value) fail(message || "expected a truthy value, got " + show(value));
    },
    equal(actual, expected, message) {
      if (!Object.is(actual, expected)) fail((message ? message + ": " : "") + "expected " + show(expected) + ", got " + show(actual));
    },
    notEqual(actual, expected, message) {
      if (Object.is(actual, expected)) fail((message ? message + ": " : "") + "did not expect " + show(actual));
    },
    deepEqual(actual, expected, message) {
      if (!equal(actual, expected, [])) fail((message ? message + ": " : "") + "expected " + show(expected) + ", got " + show(actual));
    },
    match(actual, regexp, message) {
      if (typeof actual !== "string" || !regexp.test(actual)) fail((message ? message + ": " : "") + show(actual) + " does not match " + regexp);
    },
    throws(fn, check, message) {
      let threw = false;
      try {
        fn();
      } catch (error) {
        threw = true;
        checkError(error, check, message);
      }
      if (!threw) fail(message || "expected an exception");
    },
    async rejects(promiseOrFn, check, message) {
      let threw = false;
      try {
        await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
      } catch (error) {
        threw = true;
        checkError(error, check, message);
      }
      if (!threw) fail(message || "expected a rejection");
    },
  };

  function withTimeout(promise, name) {
    if (typeof setTimeout !== "function") return promise;
    let id;
    const timeout = new Promise((_, reject) => {
      id = setTimeout(() => reject(new Error("test " + JSON.stringify(name) + " timed out after " + TEST_TIMEOUT_MS + " ms")), TEST_TIMEOUT_MS);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(id));
  }

  globalThis.__run_tests = async function () {
    const report = { passed: 0, failed: [] };
    const queue = tests.splice(0);
    for (const { name, fn } of queue) {
      try {
        await withTimeout(Promise.resolve().then(fn), name);
        report.passed++;
      } catch (error) {
        let message;
        try {
          message = error && typeof error === "object" && error.stack ? String(error.stack) : "thrown: " + show(error);
        } catch {
          message = "thrown: (unprintable)";
        }
        report.failed.push({ name, message });
      }
    }
    return JSON.stringify(report);
  };
})();
