// A Node 20 `node:cluster` server for a Rex server bundle, the baseline `scripts/bench-serve.sh`
// compares `coldstart serve` against:
//   node scripts/node-cluster-server.mjs BUNDLE [--port P] [--workers N] [--host H]
// (or PORT / WORKERS in the environment; defaults 3000 and 2; port 0 picks a free one). Prints
// `node-cluster serving BUNDLE on http://HOST:PORT (N workers)` once every worker listens.
//
// Each worker evaluates the bundle as a classic script in its own global (vm.runInThisContext,
// as src/cli/node_runner.mjs does) and answers every request with the flow of
// src/server/routing.rs: middleware → /api/* → app route handlers (a 404 falls through) →
// 405 for other methods → getServerSideProps (redirect / notFound) → __rex_render_page, wrapped
// in the same document with __rex_render_document's attributes. Entry points that answer an async
// marker are resolved as node_runner.mjs's `call` does (marker → resolver; pending → finalize),
// except that it waits for the timers the bundle started to finish (the engine runs its event
// loop until idle) rather than for a fixed five turns. One request at a time uses a worker's
// global while an entry is async (as one isolate serves one request at a time); synchronous
// requests run to completion without yielding.
import cluster from "node:cluster";
import http from "node:http";
import { readFileSync } from "node:fs";
import vm from "node:vm";

import { RESOLVERS as MARKERS, PENDING } from "../src/cli/rex_markers.mjs";

function option(name, envName, fallback) {
  const i = process.argv.indexOf(name);
  if (i !== -1 && process.argv[i + 1] !== undefined) return process.argv[i + 1];
  return process.env[envName] ?? fallback;
}
const bundlePath = process.argv.slice(2).find((a, i, all) => !a.startsWith("--") && !(i > 0 && all[i - 1].startsWith("--")));
if (!bundlePath) {
  console.error("usage: node node-cluster-server.mjs BUNDLE [--port P] [--workers N] [--host H]");
  process.exit(2);
}
const workers = Number(option("--workers", "WORKERS", "2"));
const port = Number(option("--port", "PORT", "3000"));
const host = option("--host", "BENCH_HOST", "127.0.0.1");

if (cluster.isPrimary) {
  let listening = 0;
  let address = null;
  cluster.on("listening", (_worker, addr) => {
    address = addr;
    if (++listening === workers) {
      console.log(`node-cluster serving ${bundlePath} on http://${host}:${address.port} (${workers} workers)`);
    }
  });
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) {
      console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
      process.exit(1);
    }
  });
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers)) worker.kill();
      process.exit(0);
    });
  }
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  // Timers the bundle starts, so an async entry can wait until they have run (the engine's
  // event loop runs until idle). Node's own modules take their timers from node:timers.
  let pendingTimers = 0;
  const { setTimeout: st, clearTimeout: ct, setImmediate: si, clearImmediate: ci } = globalThis;
  const live = new Set();
  globalThis.setTimeout = (fn, ms, ...args) => {
    pendingTimers++;
    const t = st(() => { if (live.delete(t)) pendingTimers--; fn(...args); }, ms);
    live.add(t);
    return t;
  };
  globalThis.clearTimeout = (t) => { if (live.delete(t)) pendingTimers--; ct(t); };
  globalThis.setImmediate = (fn, ...args) => {
    pendingTimers++;
    const t = si(() => { if (live.delete(t)) pendingTimers--; fn(...args); });
    live.add(t);
    return t;
  };
  globalThis.clearImmediate = (t) => { if (live.delete(t)) pendingTimers--; ci(t); };

  process.browser = true; // as in coldstart: no Node-only paths in browser-platform bundles
  vm.runInThisContext(readFileSync(bundlePath, "utf8"), { filename: bundlePath.split("/").pop() });

  const turn = () => new Promise((resolve) => si(resolve));
  const idle = async () => {
    do await turn(); while (pendingTimers > 0);
  };

  class PageNotFound extends Error {}

  // An entry's string result: returned as is when the entry answered synchronously, else a
  // Promise (and `state.async` is set, so the worker holds other requests back meanwhile).
  function call(state, entry, ...args) {
    let result;
    try {
      result = globalThis[entry](...args);
    } catch (e) {
      if (entry === "__rex_render_page" && /^(Error: )?Page not found/.test(String(e?.message ?? e))) {
        throw new PageNotFound(String(e.message));
      }
      throw e;
    }
    if (typeof result === "string" && !MARKERS[result] && !PENDING[result]) return result;
    state.async = true;
    return (async () => {
      result = await result;
      if (typeof result === "string" && MARKERS[result]) {
        await idle();
        result = await globalThis[MARKERS[result]]();
      } else if (typeof result === "string" && PENDING[result]) {
        const [pending, finalize] = PENDING[result];
        while (globalThis[pending]() !== "done") await new Promise((r) => st(r, 1));
        result = globalThis[finalize]();
      }
      return String(result);
    })();
  }
  const has = (entry) => typeof globalThis[entry] === "function";

  function escapeAttr(value) {
    return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function attrs(value) {
    if (!value || typeof value !== "object" || Array.isArray(value)) return "";
    let out = "";
    for (const [k, v] of Object.entries(value)) {
      out += ` ${escapeAttr(k)}="${escapeAttr(typeof v === "string" ? v : JSON.stringify(v))}"`;
    }
    return out;
  }
  function headersOf(value) {
    const out = [];
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) {
        for (const item of Array.isArray(v) ? v : [v]) {
          out.push([k.toLowerCase(), typeof item === "string" ? item : JSON.stringify(item)]);
        }
      }
    }
    return out;
  }
  const html = (status, body) => ({ status, headers: [["content-type", "text/html; charset=utf-8"]], body });
  const text = (status, body) => ({ status, headers: [["content-type", "text/plain; charset=utf-8"]], body });
  const NOT_FOUND =
    "<!DOCTYPE html><html><head><title>404: Not Found</title></head><body><h1>404</h1><p>This page could not be found.</p></body></html>";
  const redirect = (status, location) => {
    const reply = text(status, `Redirecting to ${location}`);
    reply.headers.push(["location", location]);
    return reply;
  };
  function handlerReply(value) {
    value = JSON.parse(value);
    const headers = headersOf(value.headers);
    let body = value.body;
    if (body === undefined || body === null) body = "";
    else if (typeof body !== "string") {
      if (!headers.some(([k]) => k === "content-type")) headers.push(["content-type", "application/json"]);
      body = JSON.stringify(body);
    }
    if (!headers.some(([k]) => k === "content-type")) headers.push(["content-type", "text/plain; charset=utf-8"]);
    return { status: value.statusCode ?? 200, headers, body };
  }
  // `step(value, next)`: `next(value)` now, or once value resolves when it is a Promise.
  const step = (value, next) => (typeof value?.then === "function" ? value.then(next) : next(value));

  // The request flow of routing.rs, synchronous while every entry answers synchronously.
  function route(state, req) {
    const mwReq = { method: req.method, url: req.url, pathname: req.path, headers: req.headers, cookies: req.cookies };
    const afterMiddleware = (action) => {
      let extra = [];
      if (action !== null) {
        action = JSON.parse(action);
        extra = headersOf(action.response_headers);
        for (const [k, v] of headersOf(action.request_headers)) req.headers[k] = v;
        if (action.action === "redirect") {
          const reply = redirect(action.status ?? 307, action.url ?? "/");
          reply.headers.push(...extra);
          return reply;
        }
        if (action.action === "rewrite" && typeof action.url === "string") {
          const [path, query] = action.url.split(/\?(.*)/s);
          try {
            req.path = new URL(action.url).pathname;
          } catch {
            req.path = path;
          }
          if (query !== undefined) Object.assign(req.query, Object.fromEntries(new URLSearchParams(query)));
        }
      }
      return step(pages(state, req), (reply) => {
        reply.headers.push(...extra);
        return reply;
      });
    };
    return step(has("__rex_run_middleware") ? call(state, "__rex_run_middleware", JSON.stringify(mwReq)) : null, afterMiddleware);
  }
  function pages(state, req) {
    if (req.path === "/api" || req.path.startsWith("/api/")) {
      if (!has("__rex_call_api_handler")) return html(404, NOT_FOUND);
      const apiReq = { method: req.method, url: req.url, headers: req.headers, query: req.query, body: req.body, cookies: req.cookies };
      return step(call(state, "__rex_call_api_handler", req.path, JSON.stringify(apiReq)), handlerReply);
    }
    const afterAppRoute = (reply) => {
      if (reply && reply.status !== 404) return reply;
      if (req.method !== "GET" && req.method !== "HEAD") {
        const r = text(405, "Method Not Allowed");
        r.headers.push(["allow", "GET, HEAD"]);
        return r;
      }
      const context = { params: {}, query: req.query, headers: req.headers, cookies: req.cookies, resolvedUrl: req.url };
      return step(call(state, "__rex_get_server_side_props", req.path, JSON.stringify(context)), (gssp) => {
        gssp = JSON.parse(gssp);
        if (gssp.redirect) {
          const status = gssp.redirect.statusCode ?? (gssp.redirect.permanent ? 308 : 307);
          return redirect(status, gssp.redirect.destination ?? "/");
        }
        if (gssp.notFound) return html(404, NOT_FOUND);
        let page;
        try {
          page = call(state, "__rex_render_page", req.path, JSON.stringify(gssp.props ?? {}));
        } catch (e) {
          if (e instanceof PageNotFound) return html(404, NOT_FOUND);
          throw e;
        }
        return step(page, (page) => {
          page = JSON.parse(page);
          return step(has("__rex_render_document") ? call(state, "__rex_render_document") : "{}", (doc) => {
            doc = JSON.parse(doc);
            return html(
              200,
              `<!DOCTYPE html><html${attrs(doc.htmlAttrs)}><head><meta charset="utf-8">${doc.headContent ?? ""}${page.head}</head><body${attrs(doc.bodyAttrs)}><div id="__rex">${page.body}</div></body></html>`,
            );
          });
        });
      });
    };
    if (!has("__rex_call_app_route_handler")) return afterAppRoute(null);
    const appReq = { method: req.method, url: req.url, headers: req.headers, query: req.query, params: {}, body: req.body };
    return step(call(state, "__rex_call_app_route_handler", req.path, JSON.stringify(appReq)), (t) => afterAppRoute(handlerReply(t)));
  }

  function send(res, reply) {
    const body = Buffer.from(reply.body);
    res.statusCode = reply.status;
    for (const [k, v] of reply.headers) res.appendHeader(k, v);
    res.setHeader("content-length", body.length);
    res.end(body);
  }
  function fail(res, error) {
    console.error(error);
    if (!res.headersSent) send(res, text(500, "Internal Server Error\n"));
  }

  function serve(req, res, body) {
    const url = new URL(req.url, "http://localhost");
    const headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      headers[name] = Object.hasOwn(headers, name) ? `${headers[name]}, ${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
    }
    const cookies = {};
    for (const pair of (headers.cookie ?? "").split(";")) {
      const eq = pair.indexOf("=");
      if (eq === -1) continue;
      const v = pair.slice(eq + 1).trim();
      try {
        cookies[pair.slice(0, eq).trim()] = decodeURIComponent(v);
      } catch {
        cookies[pair.slice(0, eq).trim()] = v;
      }
    }
    const request = {
      method: req.method, url: req.url, path: url.pathname,
      query: Object.fromEntries(url.searchParams), headers, cookies, body,
    };
    const state = { async: false };
    globalThis.__rex_request_headers = headers;
    globalThis.__rex_request_cookies = cookies;
    const done = () => {
      delete globalThis.__rex_request_headers;
      delete globalThis.__rex_request_cookies;
    };
    let reply;
    try {
      reply = route(state, request);
    } catch (e) {
      done();
      return fail(res, e);
    }
    if (!state.async) {
      done();
      return send(res, reply);
    }
    return Promise.resolve(reply).then(
      (r) => { done(); send(res, r); },
      (e) => { done(); fail(res, e); },
    );
  }

  // While an async entry runs, later requests wait (the request globals belong to it).
  let busy = null;
  function dispatch(req, res, body) {
    if (busy) {
      busy.then(() => dispatch(req, res, body));
      return;
    }
    const pending = serve(req, res, body);
    if (pending) busy = pending.finally(() => { busy = null; });
  }
  const server = http.createServer((req, res) => {
    if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) {
      req.resume();
      return dispatch(req, res, "");
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => dispatch(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  server.listen(port, host);
}
