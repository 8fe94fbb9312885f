const { inspect, format } = coldstart;

__test("inspect prints like Node", () => {
  assert.equal(inspect({ a: 1, b: "x" }), "{ a: 1, b: 'x' }");
  assert.equal(inspect([1, 2, 3]), "[ 1, 2, 3 ]");
  assert.equal(inspect([]), "[]");
  assert.equal(inspect({}), "{}");
  assert.equal(inspect("str"), "'str'");
  assert.equal(inspect("it's"), '"it\'s"');
  assert.equal(inspect(-0), "-0");
  assert.equal(inspect(10n), "10n");
  assert.equal(inspect(null), "null");
  assert.equal(inspect(undefined), "undefined");
  assert.equal(inspect(Symbol("s")), "Symbol(s)");
  assert.equal(inspect(function named() {}), "[Function: named]");
  assert.equal(inspect(() => 1), "[Function (anonymous)]");
  assert.equal(inspect(class Foo {}), "[class Foo]");
  assert.equal(inspect(new Map([["a", 1]])), "Map(1) { 'a' => 1 }");
  assert.equal(inspect(new Set([1, "b"])), "Set(2) { 1, 'b' }");
  assert.equal(inspect({ "a-b": 1, [Symbol("k")]: 2 }), "{ 'a-b': 1, [Symbol(k)]: 2 }");
  assert.equal(inspect({ a: { b: { c: { d: 1 } } } }), "{ a: { b: { c: [Object] } } }");
  assert.equal(inspect(new Uint8Array([1, 2])), "Uint8Array(2) [ 1, 2 ]");
  assert.equal(inspect([1, , 3]), "[ 1, <1 empty item>, 3 ]");
  assert.equal(inspect(new Date(0)), "1970-01-01T00:00:00.000Z");
  assert.equal(inspect(/x/g), "/x/g");
  class Point {
    constructor() {
      this.x = 1;
    }
  }
  assert.equal(inspect(new Point()), "Point { x: 1 }");
  assert.equal(inspect(Object.create(null)), "[Object: null prototype] {}");
  const cycle = { name: "c" };
  cycle.self = cycle;
  assert.equal(inspect(cycle), "{ name: 'c', self: [Circular *1] }");
  assert.ok(inspect(new Error("boom")).startsWith("Error: boom\n    at "));
  const long = inspect({ alpha: "aaaaaaaaaaaaaaaa", beta: "bbbbbbbbbbbbbbbbbbbb", gamma: "cccccccccccccccccccccc" });
  assert.equal(long, "{\n  alpha: 'aaaaaaaaaaaaaaaa',\n  beta: 'bbbbbbbbbbbbbbbbbbbb',\n  gamma: 'cccccccccccccccccccccc'\n}");
});

__test("format handles Node's specifiers", () => {
  assert.equal(format("%s is %d years", "Ada", 36), "Ada is 36 years");
  assert.equal(format("%i %f", "42.9px", "1.5"), "42 1.5");
  assert.equal(format("%j", { a: [1] }), '{"a":[1]}');
  assert.equal(format("%o", [1]), "[ 1 ]");
  assert.equal(format("%O", { a: 1 }), "{ a: 1 }");
  assert.equal(format("100%% %c", "color: red"), "100% ");
  assert.equal(format("%s", { a: 1 }), "{ a: 1 }");
  assert.equal(format("no args %s"), "no args %s");
  assert.equal(format("a", "b", 1, { c: 2 }), "a b 1 { c: 2 }");
  assert.equal(format(1, "x"), "1 x");
  assert.equal(format("%d", "abc"), "NaN");
  assert.equal(format(), "");
});

__test("console methods exist and do not throw", () => {
  for (const method of ["log", "info", "debug", "warn", "error", "trace", "dir", "table", "assert", "count", "countReset", "group", "groupEnd", "time", "timeEnd", "timeLog"]) {
    assert.equal(typeof console[method], "function", method);
  }
  console.group("group");
  console.count();
  console.time("t");
  console.timeEnd("t");
  console.assert(true, "not printed");
  console.groupEnd();
});
