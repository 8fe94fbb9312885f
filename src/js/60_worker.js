"use strict";
// What ES module workers and Vite SSR modules meet: AsyncLocalStorage (on V8's
// continuation-preserved embedder data, which follows promise reactions; timers carry it in
// 11_timers.js), an always-miss Cache API, the worker `env` object (the same object the fetch
// handler receives and `cloudflare:workers` exports), the `ASSETS` binding, the registry the
// built-in modules (`node:async_hooks`, `cloudflare:workers`) read, and the functions the Rust
// side calls to dispatch a request to the module.

// ---------------------------------------------------------------------------------------------
// AsyncLocalStorage. The current frame is a Map from storage to store, replaced (never mutated)
// by run/exit/enterWith, so a continuation keeps the frame it captured.

function currentFrame() {
  const frame = host.cped_get();
  return frame instanceof Map ? frame : undefined;
}

function withFrame(frame, callback, args) {
  const previous = host.cped_get();
  host.cped_set(frame);
  try {
    return Reflect.apply(callback, undefined, args);
  } finally {
    host.cped_set(previous);
  }
}

class AsyncLocalStorage {
  #enabled = true;
  static bind(fn) {
    return AsyncLocalStorage.snapshot().bind(undefined, fn);
  }
  static snapshot() {
    const frame = currentFrame();
    return function runInAsyncScope(fn, ...args) {
      return withFrame(frame, fn, args);
    };
  }
  run(store, callback, ...args) {
    const frame = new Map(currentFrame());
    frame.set(this, store);
    this.#enabled = true;
    return withFrame(frame, callback, args);
  }
  exit(callback, ...args) {
    const frame = new Map(currentFrame());
    frame.delete(this);
    return withFrame(frame, callback, args);
  }
  getStore() {
    if (!this.#enabled) return undefined;
    return currentFrame()?.get(this);
  }
  enterWith(store) {
    const frame = new Map(currentFrame());
    frame.set(this, store);
    this.#enabled = true;
    host.cped_set(frame);
  }
  disable() {
    this.#enabled = false;
  }
}

class AsyncResource {
  #frame;
  constructor(type) {
    this.type = type;
    this.#frame = currentFrame();
  }
  static bind(fn, type, thisArg) {
    return new AsyncResource(type || fn.name || "bound-anonymous-fn").bind(fn, thisArg);
  }
  bind(fn, thisArg) {
    const resource = this;
    return function bound(...args) {
      return resource.runInAsyncScope(fn, thisArg === undefined ? this : thisArg, ...args);
    };
  }
  runInAsyncScope(fn, thisArg, ...args) {
    return withFrame(this.#frame, () => Reflect.apply(fn, thisArg, args), []);
  }
  emitDestroy() {
    return this;
  }
  asyncId() {
    return 0;
  }
  triggerAsyncId() {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The Cache API, as an always-miss cache: nothing is stored, every lookup misses (what a worker
// sees on a zone without cache; frameworks call it on every request).

class Cache {
  async match() {
    return undefined;
  }
  async matchAll() {
    return [];
  }
  async put(request, response) {
    if (!(response instanceof Response)) throw new TypeError("Cache.put: the response must be a Response");
    return undefined;
  }
  async add() {
    return undefined;
  }
  async addAll() {
    return undefined;
  }
  async delete() {
    return false;
  }
  async keys() {
    return [];
  }
}

class CacheStorage {
  #default = new Cache();
  get default() {
    return this.#default;
  }
  async open() {
    return new Cache();
  }
  async has() {
    return false;
  }
  async delete() {
    return false;
  }
  async keys() {
    return [];
  }
  async match() {
    return undefined;
  }
}
internals.defineGlobal("Cache", Cache);
internals.defineGlobal("CacheStorage", CacheStorage);
internals.defineGlobal("caches", new CacheStorage());

// ---------------------------------------------------------------------------------------------
// The worker's env: one object for the whole life of the context, filled after creation or
// restore (`--var`, `--env`, and ASSETS when an assets folder is given).

const workerEnv = {};

const CONTENT_TYPES = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  woff: "font/woff",
  woff2: "font/woff2",
  wasm: "application/wasm",
  xml: "application/xml",
  map: "application/json",
};

// env.ASSETS: serves the files of the assets folder (404 when absent), like a `disk` service.
const assetsBinding = {
  async fetch(input, init) {
    const request = input instanceof Request && init === undefined ? input : new Request(input, init);
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    let path;
    try {
      path = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return new Response(null, { status: 400 });
    }
    const bytes = host.asset_read(path);
    if (bytes === null) return new Response(null, { status: 404 });
    const dot = path.lastIndexOf(".");
    const type = CONTENT_TYPES[dot >= 0 ? path.slice(dot + 1).toLowerCase() : ""] || "application/octet-stream";
    return new Response(method === "HEAD" ? null : bytes, {
      status: 200,
      headers: { "content-type": type, "content-length": String(bytes.length) },
    });
  },
};

internals.set_worker_env = (values, assets) => {
  for (const key of Object.keys(workerEnv)) delete workerEnv[key];
  Object.assign(workerEnv, values);
  if (assets) workerEnv.ASSETS = assetsBinding;
};

// ---------------------------------------------------------------------------------------------
// The registry built-in modules read (src/js/modules/*.js): not writable, not configurable.

class WorkerEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}
class DurableObject {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}
class RpcTarget {}
class WorkflowEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

Object.defineProperty(globalThis, Symbol.for("coldstart.builtins"), {
  value: Object.freeze({
    async_hooks: Object.freeze({ AsyncLocalStorage, AsyncResource }),
    cloudflare_workers: Object.freeze({
      env: workerEnv,
      WorkerEntrypoint,
      DurableObject,
      RpcTarget,
      WorkflowEntrypoint,
      waitUntil(promise) {
        currentWaits?.push(Promise.resolve(promise).then(undefined, (e) => internals.reportException(e)));
      },
    }),
  }),
  enumerable: false,
  writable: false,
  configurable: false,
});

// ---------------------------------------------------------------------------------------------
// Dispatch from Rust.

// The promise of a dynamically imported module, resolved with its namespace once evaluated.
internals.module_loaded = (evaluation, namespace) => evaluation.then(() => namespace);

// Describes the evaluated entry module; kept on `internals` (and so in the snapshot).
// Returns "fetch", "render" or "none".
internals.install_app = (namespace) => {
  const main = namespace.default;
  const worker = main !== null && (typeof main === "object" || typeof main === "function") && typeof main.fetch === "function" ? main : undefined;
  const render = typeof namespace.render === "function" ? namespace.render : undefined;
  internals.app = { namespace, worker, render };
  return worker ? "fetch" : render ? "render" : "none";
};

let currentWaits = null;

// Calls the default export's fetch(request, env, ctx), then streams the response to the host:
// host.response_head(status, [name, value, ...]), host.response_chunk(bytes)..., host.response_end().
// Resolves once the body is sent and every ctx.waitUntil promise has settled.
internals.worker_fetch = async (method, url, headerList, body) => {
  const worker = internals.app?.worker;
  if (!worker) throw new TypeError("the module has no default export with a fetch() method");
  const headers = [];
  for (let i = 0; i < headerList.length; i += 2) headers.push([headerList[i], headerList[i + 1]]);
  const init = { method, headers };
  if (body !== null && method !== "GET" && method !== "HEAD") init.body = body;
  const request = new Request(url, init);
  const waits = [];
  const ctx = {
    waitUntil(promise) {
      waits.push(Promise.resolve(promise).then(undefined, (e) => internals.reportException(e)));
    },
    passThroughOnException() {},
    props: {},
  };
  currentWaits = waits;
  let response;
  try {
    response = await worker.fetch(request, workerEnv, ctx);
  } finally {
    currentWaits = null;
  }
  if (!(response instanceof Response)) {
    throw new TypeError(`the fetch handler returned ${internals.inspect(response)} instead of a Response`);
  }
  const out = [];
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") out.push(name, value);
  });
  for (const cookie of response.headers.getSetCookie()) out.push("set-cookie", cookie);
  host.response_head(response.status, out);
  if (method !== "HEAD") {
    const whole = internals.bufferedBody(response);
    if (whole !== undefined) {
      if (whole !== null && whole.length) host.response_chunk(whole);
    } else {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!(value instanceof Uint8Array)) {
          throw new TypeError("the response body stream yielded a chunk that is not a Uint8Array");
        }
        if (value.length) host.response_chunk(value);
      }
    }
  }
  host.response_end();
  await Promise.all(waits);
};

// Calls the module's render(url) (Vite SSR convention) and returns its result as JSON:
// {"html", "head"?, "status"?}. A string result is the HTML.
internals.worker_render = async (url) => {
  const render = internals.app?.render;
  if (!render) throw new TypeError("the module has no render() export");
  const result = await render(url);
  if (typeof result === "string") return JSON.stringify({ html: result });
  if (result === null || typeof result !== "object") {
    throw new TypeError(`render() returned ${internals.inspect(result)}; expected a string or { html }`);
  }
  const html = typeof result.html === "string" ? result.html : "";
  const head = typeof result.head === "string" ? result.head : undefined;
  const status = Number.isInteger(result.status) ? result.status : undefined;
  return JSON.stringify({ html, head, status });
};

// Runs the request/response plumbing once at build time (the snapshot builder calls it for
// module bundles): the polyfills' own code - URL, Headers, Request, Response, body reading,
// streams, encoding - gets compiled and its bytecode kept in the snapshot, so the first request
// after a restore does not pay for compiling it. No user code runs here.
internals.warm_worker_plumbing = async () => {
  const request = new Request("http://warm.test/a/b?c=d&e=f#g", {
    method: "POST",
    headers: [["content-type", "text/plain"], ["x-a", "1"], ["cookie", "a=b"]],
    body: new TextEncoder().encode("body"),
  });
  const url = new URL(request.url);
  url.searchParams.get("c");
  [...url.searchParams];
  request.headers.get("content-type");
  request.headers.has("x-a");
  await request.text();
  new Request("http://warm.test/", { method: "GET", headers: [["host", "warm.test"]] }).headers.get("host");
  const responses = [
    new Response("<p>warm</p>", { status: 200, headers: { "content-type": "text/html", "set-cookie": "a=b" } }),
    Response.json({ warm: true }),
    new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("x")); c.close(); } })),
  ];
  for (const response of responses) {
    response.headers.forEach(() => {});
    response.headers.getSetCookie();
    const whole = internals.bufferedBody(response);
    if (whole === undefined) {
      const reader = response.body.getReader();
      while (!(await reader.read()).done);
    }
  }
  new TextDecoder().decode(new TextEncoder().encode("warm"));
  // Every accessor of the request/response classes (a framework reads `request.method`,
  // `url.pathname`, `response.status`... on every request), on one instance each.
  const instances = [
    [Request, new Request("http://warm.test/p?q=1", { method: "GET" })],
    [Response, new Response("warm", { status: 201, statusText: "Created" })],
    [Headers, new Headers([["x-a", "1"]])],
    [URL, new URL("http://user:pw@warm.test:8080/p?q=1#h")],
    [URLSearchParams, new URLSearchParams("a=1&b=2")],
  ];
  for (const [type, instance] of instances) {
    for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(type.prototype))) {
      if (typeof descriptor.get !== "function") continue;
      try {
        Reflect.apply(descriptor.get, instance, []);
      } catch {}
    }
  }
  // What the frameworks' request handlers call besides (SvelteKit, Astro, React streaming:
  // request-scoped storage, the Cache API, clocks, timers, random bytes, base64, URL strings,
  // byte streams, a lazily imported chunk). The clock through the prototype: the build's
  // hygiene probe counts the bundle's reads of `performance.now` on the instance, and this is
  // not the bundle.
  const storage = new AsyncLocalStorage();
  storage.run(1, () => storage.getStore());
  AsyncLocalStorage.snapshot()(() => undefined);
  await caches.default.match(instances[0][1]);
  await caches.open("warm");
  Reflect.apply(Object.getPrototypeOf(performance).now, performance, []);
  queueMicrotask(() => {});
  clearTimeout(setTimeout(() => {}, 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  let pulls = 0;
  const bytes = new ReadableStream(
    {
      type: "bytes",
      pull(controller) {
        if (pulls++) return controller.close();
        // Two chunks: the first answers the pending read, the second waits in the queue.
        controller.enqueue(new Uint8Array([1]));
        controller.enqueue(new Uint8Array([2]));
      },
      cancel() {},
    },
    { highWaterMark: 0 },
  ).getReader();
  while (!(await bytes.read()).done);
  crypto.getRandomValues(new Uint8Array(4));
  crypto.randomUUID();
  atob(btoa("warm"));
  String(instances[3][1]);
  JSON.stringify(instances[3][1]);
  await internals.module_loaded(Promise.resolve(), {});
  // worker_fetch itself (and the ctx it hands out), through a stand-in for the module's default
  // export, then worker_render through a stand-in `render`: `install_app` puts the module's own
  // in place after this. The host's response sink is a no-op while this runs.
  const app = internals.app;
  internals.app = {
    worker: {
      fetch(request, env, ctx) {
        ctx.waitUntil(Promise.resolve());
        ctx.passThroughOnException();
        return new Response(request.method, { headers: [["x-a", "1"], ["set-cookie", "a=b"]] });
      },
    },
  };
  try {
    await internals.worker_fetch("GET", "http://warm.test/", ["accept", "*/*"], null);
    // worker_render likewise, for Vite `render(url)` modules.
    internals.app = { render: async (url) => ({ html: url, head: "", status: 200 }) };
    await internals.worker_render("/");
  } finally {
    internals.app = app;
  }
};
