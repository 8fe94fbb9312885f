__test("structuredClone copies the supported types", () => {
  const date = new Date(86400000);
  const source = {
    n: 1, s: "x", b: true, u: undefined, nil: null, big: 10n, neg0: -0,
    date, re: /a+b/gi, map: new Map([[1, { x: 1 }]]), set: new Set(["a"]),
    arr: [1, , 3], bytes: new Uint8Array([1, 2, 3]), buf: new ArrayBuffer(4), err: new RangeError("r"),
    nested: { deep: { deeper: [1] } }, boxed: new Number(5),
  };
  const copy = structuredClone(source);
  assert.notEqual(copy, source);
  assert.equal(copy.n, 1);
  assert.ok(Object.is(copy.neg0, -0));
  assert.equal(copy.big, 10n);
  assert.notEqual(copy.date, date);
  assert.equal(copy.date.getTime(), 86400000);
  assert.equal(copy.re.source, "a+b");
  assert.equal(copy.re.flags, "gi");
  assert.equal(copy.map.get(1).x, 1);
  assert.ok(copy.set.has("a"));
  assert.equal(copy.arr.length, 3);
  assert.ok(!(1 in copy.arr));
  assert.deepEqual(Array.from(copy.bytes), [1, 2, 3]);
  assert.notEqual(copy.bytes.buffer, source.bytes.buffer);
  assert.equal(copy.buf.byteLength, 4);
  assert.ok(copy.err instanceof RangeError);
  assert.equal(copy.err.message, "r");
  assert.deepEqual(copy.nested, source.nested);
  assert.equal(copy.boxed.valueOf(), 5);
  assert.ok("u" in copy);
});

__test("structuredClone keeps cycles and shared references", () => {
  const a = { name: "a" };
  a.self = a;
  const shared = { v: 1 };
  const copy = structuredClone({ a, x: shared, y: shared });
  assert.equal(copy.a.self, copy.a);
  assert.equal(copy.x, copy.y);
});

__test("structuredClone refuses functions and symbols with DataCloneError", () => {
  assert.throws(() => structuredClone(() => 1), "DataCloneError");
  assert.throws(() => structuredClone({ f() {} }), "DataCloneError");
  assert.throws(() => structuredClone(Symbol("s")), "DataCloneError");
  assert.throws(() => structuredClone(), TypeError);
});
