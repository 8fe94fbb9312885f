// The module-worker platform of src/js/60_worker.js: AsyncLocalStorage across continuations, the
// always-miss Cache API, the built-in registry.
const builtins = globalThis[Symbol.for("coldstart.builtins")];
const { AsyncLocalStorage, AsyncResource } = builtins.async_hooks;

__test("AsyncLocalStorage follows await, timers and queueMicrotask", async () => {
  const als = new AsyncLocalStorage();
  assert.equal(als.getStore(), undefined);
  const seen = await als.run({ id: 1 }, async () => {
    const out = [als.getStore().id];
    await null;
    out.push(als.getStore().id);
    await new Promise((resolve) => setTimeout(resolve, 1));
    out.push(als.getStore().id);
    out.push(await new Promise((resolve) => queueMicrotask(() => resolve(als.getStore().id))));
    out.push(await new Promise((resolve) => setTimeout(() => resolve(als.getStore().id), 1)));
    return out;
  });
  assert.deepEqual(seen, [1, 1, 1, 1, 1]);
  assert.equal(als.getStore(), undefined, "run restores the outer store");
});

__test("AsyncLocalStorage: nested runs, exit, concurrent chains stay apart", async () => {
  const als = new AsyncLocalStorage();
  const other = new AsyncLocalStorage();
  const results = await Promise.all(
    [1, 2, 3].map((n) =>
      als.run(n, async () => {
        await new Promise((resolve) => setTimeout(resolve, 4 - n));
        return other.run("x" + n, async () => {
          await null;
          const inner = [als.getStore(), other.getStore()];
          const outside = als.exit(() => als.getStore());
          return [...inner, outside];
        });
      }),
    ),
  );
  assert.deepEqual(results, [
    [1, "x1", undefined],
    [2, "x2", undefined],
    [3, "x3", undefined],
  ]);
});

__test("AsyncLocalStorage.snapshot and AsyncResource bind the context they were made in", () => {
  const als = new AsyncLocalStorage();
  const snap = als.run("made", () => AsyncLocalStorage.snapshot());
  assert.equal(snap(() => als.getStore()), "made");
  const resource = als.run("resource", () => new AsyncResource("test"));
  assert.equal(resource.runInAsyncScope(() => als.getStore()), "resource");
  const bound = als.run("bound", () => AsyncLocalStorage.bind(() => als.getStore()));
  assert.equal(bound(), "bound");
  assert.equal(als.getStore(), undefined);
});

__test("the Cache API is an always-miss cache", async () => {
  assert.ok(caches.default instanceof Cache);
  const cache = await caches.open("pages");
  assert.equal(await cache.put("http://x.test/", new Response("a")), undefined);
  assert.equal(await cache.match("http://x.test/"), undefined);
  assert.equal(await caches.default.match(new Request("http://x.test/")), undefined);
  assert.equal(await cache.delete("http://x.test/"), false);
  await assert.rejects(() => cache.put("http://x.test/", "not a response"), TypeError);
});

__test("the built-in registry cannot be replaced", () => {
  assert.throws(() => {
    "use strict";
    globalThis[Symbol.for("coldstart.builtins")] = {};
  }, TypeError);
  assert.ok(Object.isFrozen(builtins.cloudflare_workers));
  assert.equal(typeof builtins.cloudflare_workers.WorkerEntrypoint, "function");
});

// A snapshot keeps no compiled regular expression (V8 drops their code when it serialises a
// heap), so one on the path every request takes is compiled again at the first request after
// each restore and in each fresh context: that path uses none. Every regexp use (test, exec,
// replace, split, match) goes through RegExp.prototype.exec once it is replaced.
__test("a request's plumbing (URL, Headers, Request, Response) runs no regular expression", async () => {
  const exec = RegExp.prototype.exec;
  const used = [];
  RegExp.prototype.exec = function (text) {
    used.push(String(this));
    return exec.call(this, text);
  };
  try {
    const request = new Request(" http://Example.test:8080/a/../b?c=d&e=f#g\n", {
      method: "POST",
      headers: [["content-type", "text/plain"], ["x-a", " 1 "], ["cookie", "a=b"]],
      body: "x",
    });
    const url = new URL(request.url);
    assert.equal(url.href, "http://example.test:8080/b?c=d&e=f#g");
    assert.equal(request.headers.get("x-a"), "1");
    assert.equal(await request.text(), "x");
    new URL("https://127.1/").host;
    new URL("http://[::1]/").host;
    const response = new Response("<p>hi</p>", { status: 201, headers: { "content-type": "text/html", "set-cookie": "a=b" } });
    const seen = [];
    response.headers.forEach((value, name) => seen.push(name));
    assert.deepEqual(seen, ["content-type", "set-cookie"]);
    assert.deepEqual(response.headers.getSetCookie(), ["a=b"]);
    assert.equal(await response.text(), "<p>hi</p>");
  } finally {
    RegExp.prototype.exec = exec;
  }
  assert.deepEqual(used, []);
});

__test("header names and values are still checked without regexps", () => {
  assert.throws(() => new Headers([["bad name", "x"]]), TypeError);
  assert.throws(() => new Headers([["x-é", "x"]]), TypeError);
  assert.throws(() => new Headers([["", "x"]]), TypeError);
  assert.throws(() => new Headers([["x", "a\u0000b"]]), TypeError);
  assert.throws(() => new Request("http://a.test/", { method: "GE T" }), TypeError);
  assert.equal(new Headers([["x-ok!#$%&'*+-.^_`|~", " \t v \r\n"]]).get("x-ok!#$%&'*+-.^_`|~"), "v");
  assert.throws(() => new Response("", { statusText: "a\u0001" }), TypeError);
  assert.equal(new Response("", { statusText: "Ok \u00e9" }).statusText, "Ok \u00e9");
});
