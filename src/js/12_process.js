"use strict";
// A minimal `process`: env (set by the host after every restore, writable, string-coerced),
// nextTick, versions, platform, hrtime. No `process.versions.node`, and `process.browser` is
// true - the convention of the `process` shim bundlers use for non-Node targets - so that
// libraries with a Node path (TypeScript's `sys`, debug, ...) do not mistake coldstart for Node,
// which it is not: it has no Node built-ins.

function makeEnv(source) {
  const target = {};
  for (const key of Object.keys(source || {})) target[key] = String(source[key]);
  return new Proxy(target, {
    set(object, key, value) {
      if (typeof key === "symbol") return Reflect.set(object, key, value);
      object[key] = String(value);
      return true;
    },
    defineProperty(object, key, descriptor) {
      if ("value" in descriptor && typeof key === "string") descriptor = { ...descriptor, value: String(descriptor.value) };
      return Reflect.defineProperty(object, key, descriptor);
    },
  });
}

const tickQueue = [];
let tickScheduled = false;
function runTicks() {
  tickScheduled = false;
  while (tickQueue.length) {
    const [callback, args] = tickQueue.shift();
    try {
      Reflect.apply(callback, undefined, args);
    } catch (error) {
      internals.reportException(error);
    }
  }
}

function hrtime(previous) {
  const ns = BigInt(Math.round((host.time_origin() + host.now()) * 1e6));
  let seconds = Number(ns / 1000000000n);
  let nanos = Number(ns % 1000000000n);
  if (previous) {
    seconds -= previous[0];
    nanos -= previous[1];
    if (nanos < 0) {
      seconds -= 1;
      nanos += 1e9;
    }
  }
  return [seconds, nanos];
}
hrtime.bigint = () => BigInt(Math.round((host.time_origin() + host.now()) * 1e6));

const process = {
  browser: true,
  env: makeEnv({}),
  argv: [],
  execArgv: [],
  platform: "linux",
  arch: "x64",
  pid: 1,
  title: "coldstart",
  version: "",
  versions: Object.freeze({ v8: host.v8_version(), coldstart: "0.1.0" }),
  release: Object.freeze({ name: "coldstart" }),
  cwd: () => "/",
  nextTick(callback, ...args) {
    if (typeof callback !== "function") throw new TypeError('The "callback" argument must be of type function');
    tickQueue.push([callback, args]);
    if (!tickScheduled) {
      tickScheduled = true;
      host.queue_microtask(runTicks);
    }
  },
  hrtime,
  uptime: () => host.now() / 1000,
  memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }),
  emitWarning(warning) {
    console.warn(typeof warning === "string" ? "Warning: " + warning : warning);
  },
  on() {
    return process;
  },
  off() {
    return process;
  },
  once() {
    return process;
  },
  emit() {
    return false;
  },
  exit(code) {
    throw new Error("process.exit(" + (code ?? "") + ") is not available in coldstart");
  },
};
internals.set_env = (values) => {
  process.env = makeEnv(values);
};
internals.defineGlobal("process", process);
