// A tiny test harness shared by the engine (tests/all/js.rs) and Node (run-node.mjs).
// Test files call __test(name, fn); __run_tests() runs them in order and resolves to a JSON
// report {"passed": n, "failed": [{"name", "message"}]}.
(function () {
  "use strict";
  const tests = [];
  globalThis.__test = (name, fn) => tests.push({ name, fn });
  function fail(message) {
    throw new Error(message);
  }
  const show = (v) => {
    try {
      return typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? v + "n" : JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  };
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
      const a = show(actual);
      const b = show(expected);
      if (a !== b) fail((message ? message + ": " : "") + "expected " + b + ", got " + a);
    },
    throws(fn, check, message) {
      let threw = false;
      try {
        fn();
      } catch (error) {
        threw = true;
        if (typeof check === "function" && !(error instanceof check)) fail((message || "wrong error type") + ": " + error);
        if (typeof check === "string" && error.name !== check) fail((message || "wrong error name") + ": expected " + check + ", got " + error.name);
        if (check instanceof RegExp && !check.test(String(error && error.message))) fail((message || "wrong error message") + ": " + error);
      }
      if (!threw) fail(message || "expected an exception");
    },
    async rejects(promise, check, message) {
      let threw = false;
      try {
        await promise;
      } catch (error) {
        threw = true;
        if (typeof check === "function" && !(error instanceof check)) fail((message || "wrong rejection type") + ": " + error);
        if (typeof check === "string" && error.name !== check) fail((message || "wrong rejection name") + ": expected " + check + ", got " + error.name);
        if (check instanceof RegExp && !check.test(String(error && error.message))) fail((message || "wrong rejection message") + ": " + error);
      }
      if (!threw) fail(message || "expected a rejection");
    },
  };
  globalThis.__run_tests = async function () {
    const report = { passed: 0, failed: [] };
    for (const { name, fn } of tests) {
      try {
        await fn();
        report.passed++;
      } catch (error) {
        report.failed.push({ name, message: String(error && error.stack ? error.stack : error) });
      }
    }
    tests.length = 0;
    return JSON.stringify(report);
  };
})();
