__test("Headers: case-insensitive, combined values, sorted iteration, set-cookie", () => {
  const h = new Headers({ "Content-Type": "text/html", "X-A": "1" });
  h.append("x-a", "2");
  h.append("Set-Cookie", "a=1");
  h.append("set-cookie", "b=2");
  assert.equal(h.get("CONTENT-TYPE"), "text/html");
  assert.equal(h.get("x-a"), "1, 2");
  assert.deepEqual(h.getSetCookie(), ["a=1", "b=2"]);
  assert.deepEqual([...h], [["content-type", "text/html"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-a", "1, 2"]]);
  h.set("x-a", " 3 ");
  assert.equal(h.get("x-a"), "3");
  h.delete("X-A");
  assert.equal(h.has("x-a"), false);
  assert.throws(() => h.set("bad name", "v"), TypeError);
  assert.throws(() => h.set("x", "a\nb"), TypeError);
  assert.deepEqual([...new Headers([["a", "1"]]).keys()], ["a"]);
});

__test("Request: method, headers, body, clone, signal", async () => {
  const r = new Request("https://example.test/path?q=1", { method: "post", headers: { "x-y": "z" }, body: "hello" });
  assert.equal(r.method, "POST");
  assert.equal(r.url, "https://example.test/path?q=1");
  assert.equal(r.headers.get("content-type"), "text/plain;charset=UTF-8");
  const copy = r.clone();
  assert.equal(await r.text(), "hello");
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), TypeError);
  assert.equal(await copy.text(), "hello");
  assert.throws(() => new Request("https://x.test", { method: "GET", body: "no" }), TypeError);
  assert.throws(() => new Request("/relative"), TypeError);
  assert.throws(() => new Request("https://x.test", { method: "CONNECT" }), TypeError);
  assert.equal(new Request("https://x.test").signal.aborted, false);
  assert.equal(new Request("https://x.test", { method: "patch" }).method, "patch");
});

__test("Response: status, json, redirect, body readers", async () => {
  const r = new Response("body text", { status: 201, statusText: "Created", headers: { "x-a": "b" } });
  assert.equal(r.status, 201);
  assert.equal(r.ok, true);
  assert.equal(r.statusText, "Created");
  assert.equal(await r.text(), "body text");
  const j = Response.json({ a: [1, 2] }, { status: 418 });
  assert.equal(j.headers.get("content-type"), "application/json");
  assert.deepEqual(await j.json(), { a: [1, 2] });
  const redirect = Response.redirect("https://x.test/next", 307);
  assert.equal(redirect.headers.get("location"), "https://x.test/next");
  assert.throws(() => Response.redirect("https://x.test", 200), RangeError);
  assert.throws(() => new Response("x", { status: 99 }), RangeError);
  assert.throws(() => new Response("x", { status: 204 }), TypeError);
  assert.equal(Response.error().type, "error");
  const bytes = await new Response(new Uint8Array([1, 2, 3])).arrayBuffer();
  assert.deepEqual(Array.from(new Uint8Array(bytes)), [1, 2, 3]);
  assert.equal(new Response(null).body, null);
  const streamed = new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("s1")); c.enqueue(new TextEncoder().encode("s2")); c.close(); } }));
  assert.equal(await streamed.text(), "s1s2");
  const blob = await new Response("abc", { headers: { "content-type": "text/x" } }).blob();
  assert.equal(blob.type, "text/x");
  assert.equal(blob.size, 3);
});

__test("Blob and File", async () => {
  const b = new Blob(["ab", new Uint8Array([0x63]), new Blob(["d"])], { type: "Text/Plain" });
  assert.equal(b.size, 4);
  assert.equal(b.type, "text/plain");
  assert.equal(await b.text(), "abcd");
  assert.equal(await b.slice(1, -1).text(), "bc");
  assert.equal(await b.slice(-2).text(), "cd");
  const f = new File(["x"], "name.txt", { type: "text/plain", lastModified: 42 });
  assert.equal(f.name, "name.txt");
  assert.equal(f.lastModified, 42);
  assert.ok(f instanceof Blob);
  const reader = b.stream().getReader();
  const { value } = await reader.read();
  assert.equal(new TextDecoder().decode(value), "abcd");
});

__test("FormData, urlencoded and multipart round trips", async () => {
  const form = new FormData();
  form.append("a", "1");
  form.append("a", "2");
  form.append("file", new Blob(["content"], { type: "text/plain" }), "f.txt");
  form.set("b", "x");
  assert.deepEqual(form.getAll("a"), ["1", "2"]);
  assert.equal(form.get("file").name, "f.txt");
  const request = new Request("https://x.test/upload", { method: "POST", body: form });
  assert.ok(request.headers.get("content-type").startsWith("multipart/form-data; boundary="));
  const parsed = await request.formData();
  assert.deepEqual(parsed.getAll("a"), ["1", "2"]);
  assert.equal(await parsed.get("file").text(), "content");
  const urlencoded = await new Response(new URLSearchParams("x=1&y=%20")).formData();
  assert.equal(urlencoded.get("y"), " ");
});

__test("fetch rejects bad input with TypeError and honours aborted signals", async () => {
  await assert.rejects(fetch("not a url"), TypeError);
  await assert.rejects(fetch("ftp://example.test/file"), TypeError);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(fetch("https://example.test", { signal: controller.signal }), "AbortError");
});
