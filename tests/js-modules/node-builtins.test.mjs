// Differential tests: src/js/modules/node_buffer.js and node_events.js against
// Node's own node:buffer and node:events.
//
//   node tests/js-modules/node-builtins.test.mjs
//
// Every case runs the same function once with Node's implementation and once
// with ours, and compares the outcome: return values (Buffers/Uint8Arrays byte
// for byte via Array.from, plus whether the result is a Buffer of that
// implementation), and for throws the error class and `code`. Prints
// "N passed" and exits non-zero on any mismatch.

import assert from "node:assert";
import * as nodeBufferModule from "node:buffer";
import NodeEventEmitter, * as nodeEventsModule from "node:events";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The engine sources are ES modules with a .js extension; copy them to .mjs
// so that Node loads them as modules without a package.json.
const root = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "coldstart-node-builtins-"));
async function loadModule(name) {
  const target = join(scratch, name.replace(/\.js$/, ".mjs"));
  copyFileSync(join(root, "src/js/modules", name), target);
  return import(pathToFileURL(target).href);
}
const ourBufferModule = await loadModule("node_buffer.js");
process.noDeprecation = true; // the cases call Node's Buffer() on purpose
const ourEventsModule = await loadModule("node_events.js");
rmSync(scratch, { recursive: true, force: true });

const NodeBuffer = nodeBufferModule.Buffer;
const OurBuffer = ourBufferModule.Buffer;
const OurEventEmitter = ourEventsModule.default;

let passed = 0;
const failures = [];

// ---------------------------------------------------------------------------
// Outcome normalization and comparison.

function normalize(value, B, seen = new Set()) {
  if (value instanceof Uint8Array || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    const kind = B && value instanceof B ? "Buffer" : value.constructor.name;
    return { kind, bytes: Array.from(value instanceof Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (value instanceof ArrayBuffer) return { kind: "ArrayBuffer", bytes: Array.from(new Uint8Array(value)) };
  if (typeof value === "number") return Object.is(value, -0) ? "number:-0" : `number:${value}`;
  if (typeof value === "bigint") return `bigint:${value}`;
  if (typeof value === "symbol") return `symbol:${value.description}`;
  if (typeof value === "function") return `function:${value.name}`;
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => normalize(v, B, seen));
  const out = {};
  for (const key of Object.keys(value)) out[key] = normalize(value[key], B, seen);
  return out;
}

function errorClass(e) {
  if (e instanceof RangeError) return "RangeError";
  if (e instanceof TypeError) return "TypeError";
  if (e instanceof Error) return "Error";
  return typeof e;
}

function outcome(fn, B) {
  try {
    return { ok: true, value: normalize(fn(B), B) };
  } catch (e) {
    return { ok: false, error: errorClass(e), code: e?.code };
  }
}

function record(label, expected, actual) {
  try {
    assert.deepStrictEqual(actual, expected);
    passed++;
  } catch {
    failures.push({ label, expected, actual });
  }
}

// Runs fn(Buffer) with both implementations.
function same(label, fn) {
  record(label, outcome(fn, NodeBuffer), outcome(fn, OurBuffer));
}

// A small deterministic PRNG so failures are reproducible.
let seed = 0x2545f491;
function rand(n) {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const randomBytes = (n, pool) => Array.from({ length: n }, () => (pool ? pool[rand(pool.length)] : rand(256)));
const show = (v) => (typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}n` : Array.isArray(v) ? `[${v.map(show)}]` : String(v));

// ---------------------------------------------------------------------------
// Buffer: inputs.

const ENCODINGS = ["utf8", "utf-8", "UTF8", "ucs2", "ucs-2", "utf16le", "utf-16le", "latin1", "binary", "ascii", "base64", "base64url", "hex", "Hex", "BASE64"];
const DECODE_ENCODINGS = ["utf8", "ucs2", "utf16le", "latin1", "binary", "ascii", "base64", "base64url", "hex"];

const STRINGS = [
  "",
  "hello",
  "héllo wörld",
  "€",
  "😀",
  "a😀b",
  "\ud800",
  "\udc00",
  "a\ud800b",
  "\ud83d\ude00\ud83d",
  "\udc00\ud800",
  "\u0000\u0001\u007f\u0080\u00ff",
  "\u0100\u0141\u0161\uffff",
  "\ufeffBOM",
  "日本語テキスト",
  "deadBEEF",
  "abc",
  "zz",
  "0g12",
  " 12",
  "12 34",
  "\u01300",
  "aGVsbG8=",
  "aGVsbG8",
  "aGV sbG8=\n",
  "aGVs\r\nbG8gd29y\tbGQ=",
  "a-_b",
  "+/+/",
  "-_-_",
  "QQ==QQ==",
  "====",
  "=QUJD",
  "Q",
  "QQ",
  "QQQ",
  "QQQQ",
  "QQQQQ",
  "QUJD=",
  "QUJDRA===",
  "\u0151UJD",
  "Q\u013dQUJD",
  "!!!QUJD",
  "a".repeat(5000),
  "é".repeat(3000),
  "😀".repeat(1500) + "x",
];
// Random strings mixing ASCII, Latin-1, BMP, astral and lone surrogates.
const CODE_POOL = [0x41, 0x61, 0x30, 0x2b, 0x2f, 0x3d, 0x20, 0xe9, 0xff, 0x100, 0x7ff, 0x800, 0xfeff, 0xfffd, 0xd800, 0xdbff, 0xdc00, 0xdfff];
for (let i = 0; i < 25; i++) {
  let s = "";
  const n = 1 + rand(20);
  for (let j = 0; j < n; j++) s += rand(6) === 0 ? "\u{1f600}" : String.fromCharCode(CODE_POOL[rand(CODE_POOL.length)]);
  STRINGS.push(s);
}

const BYTE_INPUTS = [
  [],
  [0x41],
  [0x80],
  [0xbf],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xc2],
  [0xc2, 0x41],
  [0xc2, 0xa9],
  [0xe0, 0x80, 0x80],
  [0xe0, 0xa0],
  [0xe0, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xe2, 0x82, 0xac],
  [0xed, 0xa0, 0x80],
  [0xed, 0x9f, 0xbf],
  [0xef, 0xbb, 0xbf, 0x41],
  [0xef, 0xbf, 0xbf],
  [0xf0, 0x80, 0x80, 0x80],
  [0xf0, 0x90, 0x80, 0x80],
  [0xf0, 0x9f, 0x98],
  [0xf0, 0x9f, 0x98, 0x80],
  [0xf4, 0x8f, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
  [0xfe, 0xff],
  [0xff, 0xfe, 0x41, 0x00],
  [0x41, 0xe2, 0x28, 0xa1, 0x42],
  [0xf0, 0x28, 0x8c, 0xbc],
  [0xe1, 0x80, 0xe1, 0x80, 0x80],
];
const UTF8_POOL = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
for (let i = 0; i < 60; i++) BYTE_INPUTS.push(randomBytes(1 + rand(12), UTF8_POOL));
for (let i = 0; i < 20; i++) BYTE_INPUTS.push(randomBytes(1 + rand(40)));
BYTE_INPUTS.push(randomBytes(20000));

// ---------------------------------------------------------------------------
// Buffer: encode / decode.

for (const s of STRINGS) {
  for (const enc of ENCODINGS) {
    same(`from(${show(s.slice(0, 20))}, ${enc})`, (B) => B.from(s, enc));
    same(`byteLength(${show(s.slice(0, 20))}, ${enc})`, (B) => B.byteLength(s, enc));
  }
  same(`from(${show(s.slice(0, 20))})`, (B) => B.from(s));
  same(`byteLength(${show(s.slice(0, 20))})`, (B) => B.byteLength(s));
  same(`from(${show(s.slice(0, 20))}, bogus)`, (B) => B.from(s, "bogus"));
  same(`from(${show(s.slice(0, 20))}, '')`, (B) => B.from(s, ""));
  same(`byteLength(${show(s.slice(0, 20))}, bogus)`, (B) => B.byteLength(s, "bogus"));
  same(`from(new String(${show(s.slice(0, 20))}), hex)`, (B) => B.from(new String(s), "hex"));
}

for (const bytes of BYTE_INPUTS) {
  const label = bytes.length > 16 ? `bytes(len ${bytes.length})` : `bytes[${bytes.map((b) => b.toString(16))}]`;
  same(`${label}.toString()`, (B) => B.from(bytes).toString());
  for (const enc of DECODE_ENCODINGS) same(`${label}.toString(${enc})`, (B) => B.from(bytes).toString(enc));
  // Round trip: decode with enc, encode again.
  for (const enc of ["utf8", "latin1", "base64", "base64url", "hex", "ucs2"]) {
    same(`${label} round trip ${enc}`, (B) => B.from(B.from(bytes).toString(enc), enc));
  }
}

// toString(encoding, start, end) clamping and coercion.
const RANGE_VALUES = [undefined, null, -1, 0, 1, 2.5, 3, 7, 100, NaN, "1", "x", Infinity, -Infinity, 2 ** 32 + 1, true];
{
  const bytes = [0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0xe2, 0x82, 0xac];
  for (const start of RANGE_VALUES) {
    for (const end of RANGE_VALUES) {
      same(`toString(utf8, ${show(start)}, ${show(end)})`, (B) => B.from(bytes).toString("utf8", start, end));
    }
  }
  for (const enc of [undefined, null, "", "UTF-8", "Latin1", "bogus", 5, {}]) {
    same(`toString(${show(enc)})`, (B) => B.from(bytes).toString(enc));
    same(`toString(${show(enc)}, 1, 4)`, (B) => B.from(bytes).toString(enc, 1, 4));
  }
  for (const enc of ["hex", "base64", "ucs2", "ascii"]) {
    for (const [s, e] of [[0, 9], [1, 8], [1, 2], [3, 3], [8, 9]]) same(`toString(${enc}, ${s}, ${e})`, (B) => B.from(bytes).toString(enc, s, e));
  }
}

// isEncoding
for (const enc of [...ENCODINGS, "", "bogus", "utf16", "UCS-2", "Utf-16LE", "base-64", "BINARY", null, undefined, 1, "utf8 ", ["hex"]]) {
  same(`isEncoding(${show(enc)})`, (B) => B.isEncoding(enc));
}

// byteLength for non-strings.
for (const [name, make] of [
  ["Buffer", (B) => B.from("abcd")],
  ["Uint16Array", () => new Uint16Array(3)],
  ["DataView", () => new DataView(new ArrayBuffer(5))],
  ["ArrayBuffer", () => new ArrayBuffer(7)],
  ["SharedArrayBuffer", () => new SharedArrayBuffer(6)],
  ["number", () => 5],
  ["null", () => null],
  ["array", () => [1, 2]],
  ["object", () => ({ length: 3 })],
]) {
  same(`byteLength(${name})`, (B) => B.byteLength(make(B)));
}

// ---------------------------------------------------------------------------
// Buffer.from non-strings, alloc*, concat.

const FROM_VALUES = [
  ["array", () => [1, 2, 3, 255, 256, -1, 1.5, "7", null, "x"]],
  ["empty array", () => []],
  ["Uint8Array", () => new Uint8Array([5, 6, 7])],
  ["Uint16Array", () => new Uint16Array([1, 258, 65535])],
  ["Float32Array", () => new Float32Array([1.5, 300, -1])],
  ["Buffer", (B) => B.from("xyz")],
  ["array-like", () => ({ length: 3, 0: 9, 1: 8 })],
  ["array-like bad length", () => ({ length: "3", 0: 1 })],
  ["array-like NaN length", () => ({ length: NaN })],
  ["JSON shape", () => ({ type: "Buffer", data: [1, 2, 3] })],
  ["JSON shape bad", () => ({ type: "Buffer", data: "abc" })],
  ["String object", () => new String("abc")],
  ["Number object", () => new Number(5)],
  ["toPrimitive", () => ({ [Symbol.toPrimitive]: () => "prim" })],
  ["valueOf string", () => ({ valueOf: () => "val" })],
  ["DataView", () => new DataView(new ArrayBuffer(4))],
  ["number", () => 5],
  ["null", () => null],
  ["undefined", () => undefined],
  ["boolean", () => true],
  ["symbol", () => Symbol("s")],
  ["function", () => function f() {}],
  ["plain object", () => ({ a: 1 })],
  ["large array", () => Array.from({ length: 5000 }, (_, i) => i)],
];
for (const [name, make] of FROM_VALUES) {
  same(`from(${name})`, (B) => B.from(make(B)));
  same(`from(${name}, hex)`, (B) => B.from(make(B), "hex"));
}

for (const [off, len] of [
  [undefined, undefined],
  [0, undefined],
  [2, undefined],
  [2, 3],
  [8, undefined],
  [9, undefined],
  [-1, undefined],
  [2, 7],
  [2, 6],
  [2, -1],
  [2, 0],
  ["2", "3"],
  [NaN, NaN],
  [1.5, 2.5],
  [null, null],
  ["x", undefined],
]) {
  same(`from(ArrayBuffer, ${show(off)}, ${show(len)})`, (B) => {
    const ab = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer;
    const b = B.from(ab, off, len);
    b[0] = 99; // shares memory
    return [b, new Uint8Array(ab)];
  });
}
same("from(SharedArrayBuffer)", (B) => B.from(new SharedArrayBuffer(4), 1));

for (const size of [0, 1, 5, 2.5, -1, NaN, "5", null, undefined, Infinity, 2 ** 53]) {
  same(`alloc(${show(size)})`, (B) => B.alloc(size));
  same(`allocUnsafe(${show(size)}).length`, (B) => B.allocUnsafe(size).length);
  same(`allocUnsafeSlow(${show(size)}).length`, (B) => B.allocUnsafeSlow(size).length);
}

const FILL_VALUES = [0, 1, 255, 256, -1, 1.5, NaN, "a", "ab", "é", "€", "😀", "", "zz", "abc", "aGk=", "\u0141", true, null, {}, [7], new Uint8Array([1, 2]), new Uint8Array(0), new Uint16Array([0x102])];
const FILL_ENCODINGS = [undefined, "utf8", "hex", "base64", "latin1", "ascii", "ucs2", "bogus", null, 5];
for (const value of FILL_VALUES) {
  for (const enc of FILL_ENCODINGS) {
    same(`alloc(7, ${show(value)}, ${show(enc)})`, (B) => B.alloc(7, value, enc));
  }
}
for (const value of ["ab", "é€", 7, "abc", new Uint8Array([1, 2, 3])]) {
  for (const [o, e] of [
    [undefined, undefined],
    [1, undefined],
    [1, 4],
    [4, 1],
    [0, 8],
    [0, 9],
    [-1, 3],
    [1.5, 3],
    ["utf8", undefined],
    [2, "hex"],
    ["1", 3],
    [0, 0],
    [3, 3],
  ]) {
    same(`fill(${show(value)}, ${show(o)}, ${show(e)})`, (B) => B.alloc(8, 0x2e).fill(value, o, e));
    same(`fill(${show(value)}, ${show(o)}, ${show(e)}, latin1)`, (B) => B.alloc(8, 0x2e).fill(value, o, e, "latin1"));
  }
}
same("fill(1n)", (B) => B.alloc(3).fill(1n));
same("fill(symbol)", (B) => B.alloc(3).fill(Symbol("x")));

for (const [name, make] of [
  ["two", (B) => [[B.from("ab"), new Uint8Array([1, 2, 3])], undefined]],
  ["empty", () => [[], undefined]],
  ["empty with length", () => [[], 5]],
  ["short length", (B) => [[B.from("abcd"), B.from("efgh")], 6]],
  ["long length", (B) => [[B.from("ab")], 5]],
  ["zero length", (B) => [[B.from("ab")], 0]],
  ["negative length", (B) => [[B.from("ab")], -1]],
  ["fractional length", (B) => [[B.from("ab")], 1.5]],
  ["string length", (B) => [[B.from("ab")], "2"]],
  ["not array", (B) => [B.from("ab"), undefined]],
  ["string item", () => [["ab"], undefined]],
  ["array item", () => [[[1, 2]], undefined]],
  ["null item", () => [[null], undefined]],
  ["Uint16Array item", () => [[new Uint16Array([1, 2])], undefined]],
  ["Uint16Array item with length", () => [[new Uint16Array([1, 2])], 4]],
]) {
  same(`concat(${name})`, (B) => {
    const [list, length] = make(B);
    return B.concat(list, length);
  });
}

// ---------------------------------------------------------------------------
// write()

const WRITE_STRINGS = ["abc", "héllo", "😀😀", "a😀", "\ud800x", "deadbeef", "QUJDREVG", "QUJD\nREVG", "\u0141\u00e9", "", "abcdefghijklmnop"];
const WRITE_ARGS = [
  [],
  [2],
  [0, 3],
  [1, 2],
  [9],
  [10],
  [11],
  [-1],
  [1.5],
  ["2"],
  [NaN],
  [2, 100],
  [2, -1],
  [2, 1.5],
  [0, 0],
  [3, 4],
  ["hex"],
  [undefined, "hex"],
  [1, "latin1"],
  [1, 3, "ucs2"],
  [0, 10, "base64"],
  [0, 4, "base64url"],
  [0, 10, "ascii"],
  [0, 10, "bogus"],
  ["bogus"],
  [0, 10, null],
  [0, 10, ""],
  [2, undefined, "hex"],
  [0, 5, "utf8"],
  [1, 7, "utf-8"],
  [0, 3, "UCS2"],
];
for (const s of WRITE_STRINGS) {
  for (const args of WRITE_ARGS) {
    same(`write(${show(s)}, ${args.map(show).join(", ")})`, (B) => {
      const b = B.alloc(10, 0x2e);
      const r = b.write(s, ...args);
      return [r, b];
    });
  }
}
for (const bad of [5, null, undefined, {}, ["a"]]) {
  same(`write(${show(bad)})`, (B) => B.alloc(4).write(bad));
  same(`write(${show(bad)}, 0, hex)`, (B) => B.alloc(4).write(bad, 0, "hex"));
}
// Partial characters are never written.
for (let cap = 0; cap <= 9; cap++) {
  for (const s of ["😀😀", "aé€😀", "\ud800\ud800", "€€€"]) {
    same(`write(${show(s)}) into ${cap}`, (B) => {
      const b = B.alloc(cap, 0x2e);
      return [b.write(s), b];
    });
    same(`write(${show(s)}, 1, ${cap}, ucs2)`, (B) => {
      const b = B.alloc(10, 0x2e);
      return [b.write(s, 1, cap, "ucs2"), b];
    });
  }
}

// The binding-style helpers Node exposes on Buffer.prototype.
for (const enc of ["utf8", "latin1", "hex", "ascii", "ucs2", "base64", "base64url"]) {
  for (const args of [[], [1, 3], [3, 1], [-1], [1, 10], [10], [1.5, 3.5], ["1", "3"], [null, 2], [6, 6]]) {
    same(`${enc}Slice(${args.map(show).join(", ")})`, (B) => B.from("abcdef")[`${enc}Slice`](...args));
  }
  for (const args of [["ab"], ["ab", 1], ["ab", 1, 1], ["ab", -1], ["ab", 7], ["ab", 6], ["ab", 2, -1], ["ab", 2, 10], [5], ["QUJD", 0, 2]]) {
    same(`${enc}Write(${args.map(show).join(", ")})`, (B) => {
      const b = B.from("abcdef");
      return [b[`${enc}Write`](...args), b];
    });
  }
}

// ---------------------------------------------------------------------------
// slice / subarray / toJSON / equals / compare / copy

for (const [s, e] of [
  [undefined, undefined],
  [1, undefined],
  [1, 3],
  [-2, undefined],
  [-10, 2],
  [3, 1],
  [1.7, 3.2],
  ["1", "3"],
  [NaN, 2],
  [2, 100],
  [null, -1],
  [Infinity, undefined],
]) {
  same(`slice(${show(s)}, ${show(e)})`, (B) => {
    const b = B.from("abcdef");
    const c = b.slice(s, e);
    if (c.length) c[0] = 0x5a; // must share memory
    return [c, b, c.byteOffset - b.byteOffset >= 0];
  });
  same(`subarray(${show(s)}, ${show(e)})`, (B) => {
    const b = B.from("abcdef");
    const c = b.subarray(s, e);
    if (c.length) c[0] = 0x5a;
    return [c, b];
  });
}
same("map() returns Buffer", (B) => B.from([1, 2, 3]).map((x) => x * 2));
same("filter() returns Buffer", (B) => B.from([1, 2, 3]).filter((x) => x > 1));
same("Uint8Array#slice copies", (B) => {
  const b = B.from("abc");
  const c = Uint8Array.prototype.slice.call(b, 0, 2);
  c[0] = 0;
  return [b, c];
});
same("toJSON", (B) => B.from("hi").toJSON());
same("toJSON empty", (B) => B.alloc(0).toJSON());
same("JSON.stringify", (B) => JSON.stringify({ b: B.from([1, 2]) }));
same("from(toJSON())", (B) => B.from(JSON.parse(JSON.stringify(B.from("round")))));
same("isBuffer(buffer)", (B) => B.isBuffer(B.alloc(1)));
same("isBuffer(Uint8Array)", (B) => B.isBuffer(new Uint8Array(1)));
same("isBuffer(string)", (B) => B.isBuffer("x"));
same("instanceof Uint8Array", (B) => B.alloc(1) instanceof Uint8Array);
same("Buffer() without new", (B) => B("abc"));
same("new Buffer(3)", (B) => new B(3));
same("Buffer(3, 'utf8')", (B) => B(3, "utf8"));
same("new Buffer('6869', 'hex')", (B) => new B("6869", "hex"));
same("Buffer.of", (B) => B.of(1, 2, 300));
same("copyBytesFrom", (B) => B.copyBytesFrom(new Uint16Array([1, 2, 3]), 1, 1));
same("copyBytesFrom(bad)", (B) => B.copyBytesFrom([1, 2]));
same("parent/offset", (B) => {
  const b = B.from("abc");
  return [b.parent === b.buffer, b.offset === b.byteOffset];
});

const CMP = [[], [1], [1, 2], [1, 3], [2], [1, 2, 3], [0, 255], [255]];
for (const a of CMP) {
  for (const b of CMP) {
    same(`compare(${show(a)}, ${show(b)})`, (B) => [B.compare(B.from(a), B.from(b)), B.from(a).compare(B.from(b)), B.from(a).equals(B.from(b))]);
  }
}
same("compare(Uint8Array)", (B) => [B.compare(new Uint8Array([1]), new Uint8Array([2])), B.from([1]).equals(new Uint8Array([1]))]);
for (const bad of ["x", [1], null, new Uint16Array(1), new Uint8ClampedArray(1)]) {
  same(`Buffer.compare(${show(bad)})`, (B) => B.compare(B.alloc(1), bad));
  same(`buf.compare(${show(bad)})`, (B) => B.alloc(1).compare(bad));
  same(`buf.equals(${show(bad)})`, (B) => B.alloc(1).equals(bad));
}
for (const args of [
  [0, 2],
  [0, 2, 0, 2],
  [1, 3, 1, 3],
  [2, 2],
  [0, 0, 1, 1],
  [0, 0, 0, 2],
  [0, 2, 1, 1],
  [5],
  [0, 5],
  [-1],
  [0, 2, -1],
  [0, 2, 0, 5],
  [1.5],
  ["1"],
  [undefined, undefined, 1],
  [0, 4, 0, 4],
  [1, 4, 0, 3],
]) {
  same(`compare(target, ${args.map(show).join(", ")})`, (B) => B.from([1, 2, 3, 4]).compare(B.from([1, 2, 4, 4]), ...args));
}

for (const args of [
  [],
  [0],
  [2],
  [0, 1],
  [0, 1, 3],
  [5],
  [6],
  [-1],
  [0, -1],
  [0, 7],
  [0, 6],
  [0, 0, -1],
  [0, 0, 100],
  [1.5, 0.5, 2.5],
  ["2", "1", "3"],
  [NaN, NaN, NaN],
  [null, null, null],
  [0, 3, 1],
  [Infinity],
  [0, 0, Infinity],
]) {
  same(`copy(${args.map(show).join(", ")})`, (B) => {
    const src = B.from([1, 2, 3, 4, 5, 6]);
    const dst = B.alloc(6, 0x2e);
    const r = src.copy(dst, ...args);
    return [r, dst];
  });
}
same("copy overlapping forward", (B) => {
  const b = B.from([1, 2, 3, 4, 5, 6]);
  return [b.copy(b, 2, 0, 4), b];
});
same("copy overlapping backward", (B) => {
  const b = B.from([1, 2, 3, 4, 5, 6]);
  return [b.copy(b, 0, 2), b];
});
same("copy into Uint16Array", (B) => {
  const t = new Uint16Array(3);
  return [B.from([1, 2, 3, 4, 5]).copy(t, 1), t];
});
same("copy into non-view", (B) => B.from([1]).copy([0]));
same("copy from Uint8Array source", (B) => {
  const t = B.alloc(4);
  return [B.prototype.copy.call(new Uint8Array([7, 8]), t, 1), t];
});
same("copy from Uint16Array source", (B) => B.prototype.copy.call(new Uint16Array([7, 8]), B.alloc(4)));

// ---------------------------------------------------------------------------
// indexOf / lastIndexOf / includes

const HAYSTACKS = [
  "abcabc",
  "héllo héllo",
  "aaaa",
  "",
  "a\u0000b\u0000c\u0000",
  "😀x😀",
];
const NEEDLES = ["", "a", "b", "abc", "bc", "é", "héllo", "l", "aa", "x", "😀", "\u0000", "zzzz", "b\u0000", "\ud83d"];
const OFFSETS = [undefined, 0, 1, 2, -1, -3, -100, 100, 5, 1.5, -1.5, "2", NaN, null, 2 ** 40, -(2 ** 40), Infinity];
for (const h of HAYSTACKS) {
  for (const n of NEEDLES) {
    for (const off of OFFSETS) {
      same(`${show(h)}.indexOf(${show(n)}, ${show(off)})`, (B) => {
        const b = B.from(h);
        return [b.indexOf(n, off), b.lastIndexOf(n, off), b.includes(n, off)];
      });
    }
    for (const enc of ["utf8", "latin1", "ucs2", "hex", "base64", "ascii", "bogus"]) {
      same(`${show(h)}.indexOf(${show(n)}, 0, ${enc})`, (B) => {
        const b = B.from(h, enc === "ucs2" ? "ucs2" : "utf8");
        return [b.indexOf(n, 0, enc), b.lastIndexOf(n, undefined, enc), b.indexOf(n, enc), b.lastIndexOf(n, enc)];
      });
    }
  }
}
for (const needle of [0x61, 0x62, 97 + 256, -159, 0, 1.9, 255, -1, 300]) {
  for (const off of [undefined, 0, 2, -2, 10, -10, NaN]) {
    same(`indexOf(number ${needle}, ${show(off)})`, (B) => {
      const b = B.from([0x61, 0x62, 0x61, 0x00, 0xff, 0x62]);
      return [b.indexOf(needle, off), b.lastIndexOf(needle, off), b.indexOf(needle, off, "bogus")];
    });
  }
}
for (const [h, n] of [
  [[1, 2, 3, 1, 2], [1, 2]],
  [[1, 2, 3, 1, 2], []],
  [[1, 2, 3], [9, 9]],
  [[1, 2, 3, 4], [3, 4]],
  [[1, 2, 3, 4, 5], [2, 3]],
  [[], [1]],
  [[1, 2], [1, 2, 3]],
]) {
  for (const enc of [undefined, "ucs2", "latin1", "bogus"]) {
    for (const off of [undefined, 0, 1, -1, 10]) {
      same(`${show(h)}.indexOf(buffer ${show(n)}, ${show(off)}, ${enc})`, (B) => {
        const b = B.from(h);
        return [b.indexOf(B.from(n), off, enc), b.lastIndexOf(new Uint8Array(n), off, enc), b.includes(B.from(n), off, enc)];
      });
    }
  }
}
for (const bad of [null, undefined, {}, [1], true, new Uint16Array([1]), 1n]) {
  same(`indexOf(${show(bad)})`, (B) => B.from("abc").indexOf(bad));
}
same("indexOf(string, unknown encoding)", (B) => B.from("abc").indexOf("a", 0, "bogus"));

// ---------------------------------------------------------------------------
// Numeric reads and writes.

const READS = [
  ["readUInt8", 1],
  ["readUInt16LE", 2],
  ["readUInt16BE", 2],
  ["readUInt32LE", 4],
  ["readUInt32BE", 4],
  ["readInt8", 1],
  ["readInt16LE", 2],
  ["readInt16BE", 2],
  ["readInt32LE", 4],
  ["readInt32BE", 4],
  ["readBigUInt64LE", 8],
  ["readBigUInt64BE", 8],
  ["readBigInt64LE", 8],
  ["readBigInt64BE", 8],
  ["readFloatLE", 4],
  ["readFloatBE", 4],
  ["readDoubleLE", 8],
  ["readDoubleBE", 8],
  ["readUint8", 1],
  ["readUint32BE", 4],
  ["readBigUint64LE", 8],
];
const READ_OFFSETS = [undefined, 0, 1, 2, 3, 4, 6, 8, 9, 10, -1, 1.5, "1", NaN, null, Infinity, 2 ** 32];
const READ_DATA = [
  [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a],
  [0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7, 0xf6],
  [0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x7f, 0xff],
  [0x00, 0x00, 0xc0, 0x7f, 0x00, 0x00, 0xf8, 0x7f, 0x01, 0x80],
];
for (const [method] of READS) {
  for (const data of READ_DATA) {
    for (const off of READ_OFFSETS) {
      same(`${method}(${show(off)}) of ${show(data.slice(0, 3))}`, (B) => B.from(data)[method](off));
    }
  }
  same(`${method}() on short buffer`, (B) => B.alloc(0)[method]());
  same(`${method}(0) on 3 bytes`, (B) => B.alloc(3)[method](0));
}
for (const method of ["readUIntLE", "readUIntBE", "readIntLE", "readIntBE"]) {
  for (const byteLength of [1, 2, 3, 4, 5, 6, 0, 7, 1.5, "2", undefined, null]) {
    for (const off of [0, 1, 2, 4, undefined, -1]) {
      same(`${method}(${show(off)}, ${show(byteLength)})`, (B) => B.from([0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8])[method](off, byteLength));
    }
  }
}

const WRITES = [
  ["writeUInt8", 1, [0, 255, 256, -1, 1.5, 127.9, NaN, "12", null, true]],
  ["writeUInt16LE", 2, [0, 65535, 65536, -1, 0x1234, 1.5, NaN]],
  ["writeUInt16BE", 2, [0, 65535, 65536, 0x1234]],
  ["writeUInt32LE", 4, [0, 2 ** 32 - 1, 2 ** 32, -1, 0x12345678, 1.5]],
  ["writeUInt32BE", 4, [0, 2 ** 32 - 1, 0x12345678, -0.5]],
  ["writeInt8", 1, [0, 127, 128, -128, -129, -1, -1.5]],
  ["writeInt16LE", 2, [0, 32767, 32768, -32768, -32769, -1, -2.5]],
  ["writeInt16BE", 2, [0, 32767, -32768, -1]],
  ["writeInt32LE", 4, [0, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, -1]],
  ["writeInt32BE", 4, [0, 2 ** 31 - 1, -(2 ** 31), -1, -123456]],
  ["writeFloatLE", 4, [0, -0, 1.5, -1.5, 3.4e38, 1e40, NaN, Infinity, 1e-46, "2"]],
  ["writeFloatBE", 4, [0, 1.5, -1.5, 1e40, NaN]],
  ["writeDoubleLE", 8, [0, -0, Math.PI, -1e308, NaN, -Infinity, 5e-324]],
  ["writeDoubleBE", 8, [0, Math.PI, -1e308, NaN]],
  ["writeBigUInt64LE", 8, [0n, 1n, 2n ** 64n - 1n, 2n ** 64n, -1n, 0x0102030405060708n, 5]],
  ["writeBigUInt64BE", 8, [0n, 2n ** 64n - 1n, 0x0102030405060708n, -1n]],
  ["writeBigInt64LE", 8, [0n, -1n, 2n ** 63n - 1n, 2n ** 63n, -(2n ** 63n), -(2n ** 63n) - 1n, -0x0102030405060708n]],
  ["writeBigInt64BE", 8, [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]],
  ["writeUint16LE", 2, [0x1234]],
  ["writeBigUint64BE", 8, [7n]],
];
for (const [method, size, values] of WRITES) {
  for (const value of values) {
    for (const off of [undefined, 0, 1, 10 - size, 11 - size, -1, 1.5, "1", NaN]) {
      same(`${method}(${show(value)}, ${show(off)})`, (B) => {
        const b = B.alloc(10, 0x2e);
        const r = b[method](value, off);
        return [r, b];
      });
    }
  }
  same(`${method} round trip`, (B) => {
    const b = B.alloc(size);
    b[method](values[values.length > 1 ? 1 : 0], 0);
    return b[method.replace("write", "read")](0);
  });
}
for (const method of ["writeUIntLE", "writeUIntBE", "writeIntLE", "writeIntBE"]) {
  for (const byteLength of [1, 2, 3, 4, 5, 6, 0, 7, "2", undefined]) {
    for (const value of [0, 1, -1, 0x7f, 0x80, 0xff, 0x1234, -0x1234, 0x123456, 0x12345678, -0x12345678, 0x123456789a, 0x7fffffffffff, 2 ** 48 - 1, -(2 ** 47), 2 ** 48, 1.5, -2.5]) {
      for (const off of [0, 2, 5]) {
        same(`${method}(${show(value)}, ${off}, ${show(byteLength)})`, (B) => {
          const b = B.alloc(8, 0x2e);
          const r = b[method](value, off, byteLength);
          return [r, b];
        });
      }
    }
    same(`${method}(1, undefined, ${show(byteLength)})`, (B) => B.alloc(8)[method](1, undefined, byteLength));
  }
}

// ---------------------------------------------------------------------------
// swap16/32/64

for (let len = 0; len <= 17; len++) {
  for (const method of ["swap16", "swap32", "swap64"]) {
    same(`${method}() on ${len} bytes`, (B) => {
      const b = B.from(Array.from({ length: len }, (_, i) => i + 1));
      const r = b[method]();
      return [r === b, b];
    });
  }
}
same("swap16 on a large buffer", (B) => B.from(Array.from({ length: 512 }, (_, i) => i & 255)).swap16());

// ---------------------------------------------------------------------------
// Module exports.

// Compares a function of the whole module (not just Buffer).
function sameModule(label, fn) {
  record(label, outcome(() => fn(nodeBufferModule)), outcome(() => fn(ourBufferModule)));
}
{
  sameModule("module exports (named)", (m) => [typeof m.Buffer, typeof m.kMaxLength, typeof m.constants.MAX_LENGTH, m.atob === globalThis.atob, m.btoa === globalThis.btoa, m.Blob === globalThis.Blob, m.INSPECT_MAX_BYTES]);
  record("default export has Buffer", true, ourBufferModule.default.Buffer === OurBuffer && ourBufferModule.default.kMaxLength === ourBufferModule.kMaxLength);
  record("Buffer.prototype.constructor", true, OurBuffer.prototype.constructor === OurBuffer && Object.getPrototypeOf(OurBuffer) === Uint8Array);
  record("Buffer[Symbol.species]", NodeBuffer[Symbol.species].name, OurBuffer[Symbol.species].name);
  for (const fn of ["isUtf8", "isAscii"]) {
    for (const bytes of BYTE_INPUTS.slice(0, 60)) {
      sameModule(`${fn}(${show(bytes)})`, (m) => m[fn](new Uint8Array(bytes)));
    }
    sameModule(`${fn}(string)`, (m) => m[fn]("x"));
    sameModule(`${fn}(ArrayBuffer)`, (m) => m[fn](new Uint8Array([0x61, 0xc3, 0xa9]).buffer));
  }
}

// ---------------------------------------------------------------------------
// EventEmitter: scenarios run against both implementations; each returns a
// log of observable effects.

function sameEvents(label, scenario) {
  record(label, outcome(() => scenario(NodeEventEmitter)), outcome(() => scenario(OurEventEmitter)));
}

function tracer(log, name) {
  const f = function (...args) {
    log.push([name, this === undefined ? "undefined" : typeof this, ...args.map((a) => (typeof a === "function" ? `fn:${a.tag ?? a.name}` : a))]);
  };
  f.tag = name;
  return f;
}

const tags = (list) => list.map((f) => f.tag ?? f.listener?.tag ?? (typeof f === "function" ? "wrapped" : f));

sameEvents("on/emit order and return value", (EE) => {
  const log = [];
  const e = new EE();
  e.on("a", tracer(log, "1"));
  e.on("a", tracer(log, "2"));
  e.prependListener("a", tracer(log, "0"));
  log.push(e.emit("a", 1, 2));
  log.push(e.emit("b"));
  return [log, e.listenerCount("a"), e.eventNames()];
});

sameEvents("once and prependOnceListener", (EE) => {
  const log = [];
  const e = new EE();
  e.once("x", tracer(log, "once"));
  e.prependOnceListener("x", tracer(log, "pre"));
  e.on("x", tracer(log, "on"));
  e.emit("x", "first");
  e.emit("x", "second");
  return [log, tags(e.listeners("x")), e.rawListeners("x").length];
});

sameEvents("once wrapper in rawListeners", (EE) => {
  const log = [];
  const e = new EE();
  const f = tracer(log, "f");
  e.once("x", f);
  const raw = e.rawListeners("x");
  const listeners = e.listeners("x");
  raw[0]("via raw");
  return [log, raw[0] !== f, raw[0].listener === f, listeners[0] === f, e.listenerCount("x"), e.emit("x")];
});

sameEvents("newListener/removeListener events", (EE) => {
  const log = [];
  const e = new EE();
  e.on("newListener", tracer(log, "newListener"));
  e.on("removeListener", tracer(log, "removeListener"));
  const a = tracer(log, "a");
  const b = tracer(log, "b");
  e.on("x", a);
  e.once("x", b);
  e.emit("x");
  e.off("x", a);
  e.removeListener("x", a);
  return [log, e.eventNames()];
});

sameEvents("newListener does not see itself", (EE) => {
  const log = [];
  const e = new EE();
  e.on("newListener", function (type) {
    log.push(["new", type]);
    if (type === "x") this.on("x", tracer(log, "added-in-newListener"));
  });
  e.on("x", tracer(log, "x"));
  e.emit("x");
  return log;
});

sameEvents("removeAllListeners", (EE) => {
  const log = [];
  const e = new EE();
  e.on("removeListener", (type, fn) => log.push(["removed", type, fn.tag]));
  e.on("a", tracer(log, "a1"));
  e.on("a", tracer(log, "a2"));
  e.on("b", tracer(log, "b1"));
  e.removeAllListeners("a");
  log.push(e.eventNames());
  e.on("c", tracer(log, "c1"));
  e.removeAllListeners();
  log.push(e.eventNames());
  return [log, e.listenerCount("removeListener")];
});

sameEvents("removeAllListeners without removeListener listener", (EE) => {
  const e = new EE();
  e.on("a", () => {});
  e.on("b", () => {});
  e.removeAllListeners("a");
  const names = e.eventNames();
  e.removeAllListeners("zzz");
  e.removeAllListeners();
  return [names, e.eventNames(), e.removeAllListeners() === e];
});

sameEvents("remove during emit does not affect current emit", (EE) => {
  const log = [];
  const e = new EE();
  const b = tracer(log, "b");
  e.on("x", () => {
    log.push("a");
    e.removeListener("x", b);
    e.on("x", tracer(log, "late"));
  });
  e.on("x", b);
  e.emit("x");
  e.emit("x");
  return log;
});

sameEvents("remove the most recently added duplicate", (EE) => {
  const log = [];
  const e = new EE();
  const f = tracer(log, "f");
  const g = tracer(log, "g");
  e.on("x", f);
  e.on("x", g);
  e.on("x", f);
  e.removeListener("x", f);
  e.emit("x");
  return [log, tags(e.listeners("x"))];
});

sameEvents("error without listener throws the error", (EE) => {
  const e = new EE();
  const err = new Error("boom");
  try {
    e.emit("error", err);
  } catch (caught) {
    return caught === err;
  }
  return "no throw";
});

for (const [name, value] of [
  ["string", "oops"],
  ["undefined", undefined],
  ["number", 42],
  ["object", { a: 1 }],
  ["null", null],
]) {
  sameEvents(`error without listener (${name})`, (EE) => {
    const e = new EE();
    try {
      e.emit("error", value);
    } catch (caught) {
      return [errorClass(caught), caught.code, caught.context === value];
    }
    return "no throw";
  });
}
sameEvents("error with no args", (EE) => {
  try {
    new EE().emit("error");
  } catch (caught) {
    return [errorClass(caught), caught.code];
  }
});

sameEvents("error with listener and errorMonitor", (EE) => {
  const log = [];
  const e = new EE();
  e.on(EE.errorMonitor, (err) => log.push(["monitor", err.message]));
  e.on("error", (err) => log.push(["handler", err.message]));
  log.push(e.emit("error", new Error("m")));
  return log;
});

sameEvents("errorMonitor does not prevent throw", (EE) => {
  const log = [];
  const e = new EE();
  e.on(EE.errorMonitor, (err) => log.push(["monitor", err.message]));
  try {
    e.emit("error", new Error("m"));
  } catch (err) {
    log.push(["thrown", err.message]);
  }
  return log;
});

for (const bad of [null, undefined, "x", 1, {}]) {
  for (const method of ["on", "addListener", "prependListener", "once", "prependOnceListener", "off", "removeListener"]) {
    sameEvents(`${method}(type, ${show(bad)})`, (EE) => new EE()[method]("x", bad) && "ok");
  }
}

for (const n of [0, 1, 5, Infinity, -1, NaN, "3", null]) {
  sameEvents(`setMaxListeners(${show(n)})`, (EE) => {
    const e = new EE();
    const r = e.setMaxListeners(n);
    return [r === e, e.getMaxListeners()];
  });
}

sameEvents("defaultMaxListeners", (EE) => [EE.defaultMaxListeners, new EE().getMaxListeners()]);
for (const v of [-1, NaN, "5"]) {
  sameEvents(`defaultMaxListeners = ${show(v)}`, (EE) => {
    EE.defaultMaxListeners = v;
    return EE.defaultMaxListeners;
  });
}
sameEvents("defaultMaxListeners = 20 then back", (EE) => {
  EE.defaultMaxListeners = 20;
  const r = new EE().getMaxListeners();
  EE.defaultMaxListeners = 10;
  return r;
});

sameEvents("max listeners warning flag", (EE) => {
  const e = new EE();
  e.setMaxListeners(2);
  const originalEmitWarning = process.emitWarning;
  const originalWarn = console.warn;
  let warnings = 0;
  process.emitWarning = () => warnings++;
  console.warn = () => warnings++;
  try {
    for (let i = 0; i < 5; i++) e.on("x", () => {});
  } finally {
    process.emitWarning = originalEmitWarning;
    console.warn = originalWarn;
  }
  return [warnings > 0, e.rawListeners("x").length, e.listenerCount("x")];
});

sameEvents("listener this and arguments", (EE) => {
  const e = new EE();
  let self;
  let args;
  e.on("x", function (...a) {
    self = this;
    args = a;
  });
  e.emit("x", 1, "two", null);
  let onceSelf;
  e.once("y", function () {
    onceSelf = this;
  });
  e.emit("y");
  return [self === e, args, onceSelf === e];
});

sameEvents("symbols as event names", (EE) => {
  const log = [];
  const e = new EE();
  const s = Symbol("sym");
  e.on(s, tracer(log, "s"));
  e.on("str", tracer(log, "str"));
  e.emit(s, 1);
  return [log, e.eventNames().map(String)];
});

sameEvents("listenerCount with listener argument", (EE) => {
  const e = new EE();
  const f = () => {};
  const g = () => {};
  e.on("x", f);
  e.once("x", f);
  e.on("x", g);
  return [e.listenerCount("x"), e.listenerCount("x", f), e.listenerCount("x", g), e.listenerCount("y"), EE.listenerCount(e, "x")];
});

sameEvents("class extends EventEmitter", (EE) => {
  class Child extends EE {
    constructor() {
      super();
      this.value = 1;
    }
  }
  const c = new Child();
  const log = [];
  c.on("x", function () {
    log.push(this.value, this instanceof Child, this instanceof EE);
  });
  c.emit("x");
  return [log, Object.keys(c).sort()];
});

sameEvents("EventEmitter.call(this) old-style inheritance", (EE) => {
  function Old(name) {
    EE.call(this);
    this.name = name;
  }
  Object.setPrototypeOf(Old.prototype, EE.prototype);
  const o = new Old("n");
  const log = [];
  o.on("x", function (v) {
    log.push([this.name, v]);
  });
  o.emit("x", 5);
  const p = new Old("p");
  return [log, p.listenerCount("x"), o instanceof EE, typeof o._events, o._eventsCount];
});

sameEvents("EventEmitter.call on plain object with prototype chain", (EE) => {
  const o = Object.create(EE.prototype);
  EE.call(o);
  const log = [];
  o.once("x", (v) => log.push(v));
  o.emit("x", 1);
  o.emit("x", 2);
  return [log, o.eventNames()];
});

sameEvents("emitter without init (prototype-only)", (EE) => {
  const o = Object.create(EE.prototype);
  const log = [];
  log.push(o.emit("x"), o.listenerCount("x"), o.listeners("x"), o.eventNames());
  o.on("x", () => log.push("called"));
  o.emit("x");
  return log;
});

sameEvents("_events set before init (shape mode)", (EE) => {
  const o = Object.create(EE.prototype);
  o._events = { __proto__: null };
  EE.call(o);
  const f = () => {};
  o.on("a", f);
  o.on("b", f);
  o.removeListener("a", f);
  return [o.listenerCount("a"), o._eventsCount];
});

sameEvents("static exports", (EE) => [
  typeof EE.EventEmitter === "function" && EE.EventEmitter === EE,
  typeof EE.once,
  typeof EE.errorMonitor,
  EE.errorMonitor.toString(),
  EE.captureRejections,
  EE.defaultMaxListeners,
  typeof EE.prototype.on,
  EE.prototype.on === EE.prototype.addListener,
  EE.prototype.off === EE.prototype.removeListener,
]);

sameEvents("captureRejections option", (EE) => {
  const e = new EE({ captureRejections: true });
  return typeof e.on;
});
sameEvents("captureRejections bad option", (EE) => new EE({ captureRejections: "yes" }));
sameEvents("captureRejections setter validation", (EE) => {
  EE.captureRejections = "yes";
});

record(
  "named exports",
  ["EventEmitter", "once", "errorMonitor", "defaultMaxListeners", "getEventListeners"].map((k) => [k, typeof nodeEventsModule[k]]),
  ["EventEmitter", "once", "errorMonitor", "defaultMaxListeners", "getEventListeners"].map((k) => [k, typeof ourEventsModule[k]]),
);
record("errorMonitor named === static", true, ourEventsModule.errorMonitor === OurEventEmitter.errorMonitor && ourEventsModule.EventEmitter === OurEventEmitter);
record("defaultMaxListeners named", nodeEventsModule.defaultMaxListeners, ourEventsModule.defaultMaxListeners);

sameEvents("getEventListeners", (EE) => {
  const ge = EE === NodeEventEmitter ? nodeEventsModule.getEventListeners : ourEventsModule.getEventListeners;
  const e = new EE();
  const f = () => {};
  f.tag = "f";
  e.on("x", f);
  e.once("x", f);
  const list = ge(e, "x");
  return [tags(list), list[1] === f, ge(e, "none")];
});
sameEvents("getEventListeners(bad)", (EE) => {
  const ge = EE === NodeEventEmitter ? nodeEventsModule.getEventListeners : ourEventsModule.getEventListeners;
  return ge({}, "x");
});

// once() is asynchronous: compare settled outcomes.
async function settle(promiseFactory) {
  try {
    const value = await promiseFactory();
    return { ok: true, value: normalize(value) };
  } catch (e) {
    return { ok: false, error: errorClass(e), name: e?.name, code: e?.code, message: e?.code ? undefined : e?.message };
  }
}

async function sameAsync(label, scenario) {
  const expected = await settle(() => scenario(NodeEventEmitter, nodeEventsModule.once));
  const actual = await settle(() => scenario(OurEventEmitter, ourEventsModule.once));
  record(label, expected, actual);
}

await sameAsync("once resolves with args", async (EE, once) => {
  const e = new EE();
  const p = once(e, "x");
  e.emit("x", 1, 2);
  return [await p, e.listenerCount("x"), e.listenerCount("error")];
});
await sameAsync("once rejects on error", async (EE, once) => {
  const e = new EE();
  const p = once(e, "x");
  e.emit("error", new Error("bad"));
  try {
    await p;
  } catch (err) {
    return [err.message, e.listenerCount("x"), e.listenerCount("error")];
  }
});
await sameAsync("once('error') resolves", async (EE, once) => {
  const e = new EE();
  const p = once(e, "error");
  e.emit("error", new Error("as value"));
  const [err] = await p;
  return err.message;
});
await sameAsync("static once on EventEmitter", async (EE) => {
  const e = new EE();
  const p = EE.once(e, "x");
  e.emit("x", "v");
  return p;
});
await sameAsync("once with EventTarget", async (EE, once) => {
  const t = new EventTarget();
  const p = once(t, "ping");
  const ev = new Event("ping");
  t.dispatchEvent(ev);
  const [got] = await p;
  return [got === ev, got.type];
});
await sameAsync("once with already-aborted signal", async (EE, once) => {
  const e = new EE();
  return once(e, "x", { signal: AbortSignal.abort("why") });
});
await sameAsync("once aborted later", async (EE, once) => {
  const e = new EE();
  const ac = new AbortController();
  const p = once(e, "x", { signal: ac.signal });
  ac.abort();
  try {
    await p;
  } catch (err) {
    return [err.name, err.code, e.listenerCount("x"), e.listenerCount("error")];
  }
});
await sameAsync("once with EventTarget and signal", async (EE, once) => {
  const t = new EventTarget();
  const ac = new AbortController();
  const p = once(t, "ping", { signal: ac.signal });
  ac.abort();
  return p;
});
await sameAsync("once bad signal", async (EE, once) => once(new EE(), "x", { signal: {} }));
for (const options of [null, 5, [], {}]) {
  await sameAsync(`once options ${show(options)}`, async (EE, once) => {
    const e = new EE();
    const p = once(e, "x", options);
    e.emit("x", 1);
    return p;
  });
}
await sameAsync("once bad emitter", async (EE, once) => once({}, "x"));
await sameAsync("captureRejections routes rejections to error", async (EE) => {
  const e = new EE({ captureRejections: true });
  const seen = new Promise((resolve) => e.on("error", (err) => resolve(err.message)));
  e.on("x", async () => {
    throw new Error("rejected");
  });
  e.emit("x");
  return seen;
});

// ---------------------------------------------------------------------------
// Report.

// Failures grouped by the label's leading word, then a few in full.
const groups = new Map();
for (const f of failures) {
  const key = f.label.split(/[(. ]/)[0];
  groups.set(key, (groups.get(key) || 0) + 1);
}
for (const [key, count] of groups) console.log(`FAIL group ${key}: ${count}`);
for (const f of failures.slice(0, 40)) {
  console.log(`FAIL ${f.label}\n  node: ${JSON.stringify(f.expected)}\n  ours: ${JSON.stringify(f.actual)}`);
}
if (failures.length > 40) console.log(`... and ${failures.length - 40} more failures`);
console.log(`${passed} passed, ${failures.length} failed`);
process.exitCode = failures.length ? 1 : 0;
