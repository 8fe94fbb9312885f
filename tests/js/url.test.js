// vectors: url.js url-setters.js search-params.js
// Where Node 20 (ada) departs from the URL Standard, coldstart follows the standard.
const KNOWN_NODE_DIVERGENCES = new Set([
  // A relative reference against a base with an opaque path must fail; Node resolves it.
  "x?y#z data:text/plain,x",
]);
const FIELDS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];

__test("URL parsing matches the Node oracle", () => {
  const mismatches = [];
  for (const v of __URL_VECTORS) {
    if (KNOWN_NODE_DIVERGENCES.has(v.input + " " + v.base)) continue;
    let got;
    try {
      const u = v.base === undefined ? new URL(v.input) : new URL(v.input, v.base);
      got = {};
      for (const f of FIELDS) got[f] = u[f];
    } catch (e) {
      got = { failure: true, error: e.name };
    }
    if (v.failure) {
      if (!got.failure) mismatches.push(`${JSON.stringify(v.input)} (base ${v.base}) should fail, got ${got.href}`);
      else if (got.error !== "TypeError") mismatches.push(`${JSON.stringify(v.input)} failed with ${got.error}`);
      continue;
    }
    if (got.failure) {
      mismatches.push(`${JSON.stringify(v.input)} (base ${v.base}) failed, expected ${v.href}`);
      continue;
    }
    for (const f of FIELDS) if (got[f] !== v[f]) mismatches.push(`${JSON.stringify(v.input)} (base ${v.base}) ${f}: expected ${JSON.stringify(v[f])}, got ${JSON.stringify(got[f])}`);
  }
  assert.equal(mismatches.length, 0, mismatches.slice(0, 15).join("\n"));
  assert.ok(__URL_VECTORS.length > 300);
});

__test("a relative reference against an opaque-path base fails (URL Standard)", () => {
  assert.throws(() => new URL("x?y#z", "data:text/plain,x"), TypeError);
  assert.equal(new URL("#f", "data:text/plain,x").href, "data:text/plain,x#f");
});

__test("URL setters match the Node oracle", () => {
  const mismatches = [];
  for (const v of __URL_SETTER_VECTORS) {
    const u = new URL(v.base);
    u[v.setter] = v.value;
    if (u.href !== v.href) mismatches.push(`${v.base} .${v.setter} = ${JSON.stringify(v.value)}: expected ${v.href}, got ${u.href}`);
  }
  assert.equal(mismatches.length, 0, mismatches.slice(0, 15).join("\n"));
});

__test("URLSearchParams parsing matches the Node oracle", () => {
  for (const v of __SEARCH_PARAM_VECTORS) {
    const p = new URLSearchParams(v.input);
    assert.deepEqual([...p], v.entries, "entries of " + v.input);
    assert.equal(p.toString(), v.string, "toString of " + v.input);
  }
});

__test("searchParams stay linked to their URL", () => {
  const u = new URL("https://example.com/p?b=2&a=1#h");
  assert.equal(u.searchParams.get("a"), "1");
  u.searchParams.append("c", "x y");
  assert.equal(u.href, "https://example.com/p?b=2&a=1&c=x+y#h");
  u.searchParams.sort();
  assert.equal(u.search, "?a=1&b=2&c=x+y");
  u.searchParams.delete("b");
  u.searchParams.set("a", "é");
  assert.equal(u.search, "?a=%C3%A9&c=x+y");
  u.search = "?z=26";
  assert.deepEqual([...u.searchParams], [["z", "26"]]);
  u.searchParams.delete("z");
  assert.equal(u.href, "https://example.com/p#h");
  assert.ok(u.searchParams === u.searchParams, "same object every time");
});

__test("URLSearchParams API", () => {
  const p = new URLSearchParams({ a: "1", b: "x" });
  assert.equal(p.size, 2);
  p.append("a", "2");
  assert.deepEqual(p.getAll("a"), ["1", "2"]);
  assert.ok(p.has("a", "2"));
  assert.ok(!p.has("a", "3"));
  p.delete("a", "1");
  assert.deepEqual(p.getAll("a"), ["2"]);
  p.set("b", "y");
  assert.equal(p.get("b"), "y");
  assert.equal(p.get("missing"), null);
  const seen = [];
  p.forEach((value, key) => seen.push(key + "=" + value));
  assert.deepEqual(seen, ["b=y", "a=2"]);
  assert.deepEqual([...p.keys()], ["b", "a"]);
  assert.deepEqual([...p.values()], ["y", "2"]);
  assert.deepEqual(new URLSearchParams([["x", "1"], ["x", "2"]]).getAll("x"), ["1", "2"]);
  assert.equal(new URLSearchParams(new URLSearchParams("q=1")).toString(), "q=1");
  assert.throws(() => new URLSearchParams([["only-one"]]), TypeError);
  const sorted = new URLSearchParams("z=1&a=2&m=3&a=1");
  sorted.sort();
  assert.equal(sorted.toString(), "a=2&a=1&m=3&z=1", "stable sort");
});

__test("URL statics and serialisation", () => {
  assert.ok(URL.canParse("https://x.test"));
  assert.ok(!URL.canParse("no scheme"));
  assert.ok(URL.canParse("/p", "https://x.test"));
  assert.equal(URL.parse("nope"), null);
  assert.equal(URL.parse("/a", "https://x.test/b").href, "https://x.test/a");
  const u = new URL("https://x.test/a");
  assert.equal(JSON.stringify({ u }), '{"u":"https://x.test/a"}');
  assert.equal(String(u), "https://x.test/a");
  assert.throws(() => new URL("/relative"), TypeError);
  assert.throws(() => new URL("x", "not a base"), TypeError);
});
