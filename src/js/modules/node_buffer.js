// `node:buffer` for module workers (nodejs_compat-style built-in module).
//
// A pure-ECMAScript port of the commonly used part of Node 20's lib/buffer.js:
// argument handling, coercions, clamping rules and error classes/codes follow
// Node (and its C++ bindings for encode/decode/search/fill) as closely as
// possible. Differences that are intentional:
//   - no 8 KiB allocation pool: every Buffer owns its ArrayBuffer, and
//     allocUnsafe()/allocUnsafeSlow() return zero-filled memory;
//   - no SlowBuffer, transcode(), resolveObjectURL(), deprecation warnings;
//   - error messages are close to Node's but not byte-identical.
// Self-contained: no imports; uses only ECMAScript built-ins plus the
// atob/btoa/Blob/File globals it re-exports.

// ---------------------------------------------------------------------------
// Errors (Node's NodeError shape: a TypeError/RangeError/Error with `code`).

function makeError(Base, code, message) {
  const err = new Base(message);
  Object.defineProperty(err, "code", { value: code, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(err, "toString", {
    value() {
      return `${this.name} [${code}]: ${this.message}`;
    },
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return err;
}

function describe(value) {
  if (value == null) return ` Received ${value}`;
  if (typeof value === "function") return ` Received function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") {
    const ctor = value.constructor;
    if (ctor && ctor.name) return ` Received an instance of ${ctor.name}`;
    return " Received an object";
  }
  let shown = typeof value === "string" ? JSON.stringify(value.length > 28 ? value.slice(0, 25) + "..." : value) : String(value);
  if (typeof value === "bigint") shown += "n";
  return ` Received type ${typeof value} (${shown})`;
}

const errInvalidArgType = (name, expected, value) =>
  makeError(TypeError, "ERR_INVALID_ARG_TYPE", `The "${name}" argument must be ${expected}.${describe(value)}`);
const errOutOfRange = (name, range, value) =>
  makeError(RangeError, "ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`);
const errUnknownEncoding = (encoding) => makeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${String(encoding)}`);
const errBufferOutOfBounds = (name) =>
  makeError(
    RangeError,
    "ERR_BUFFER_OUT_OF_BOUNDS",
    name ? `"${name}" is outside of buffer bounds` : "Attempt to access memory outside buffer bounds",
  );
const errInvalidArgValue = (name, value) =>
  makeError(TypeError, "ERR_INVALID_ARG_VALUE", `The argument '${name}' is invalid. Received ${typeof value === "string" ? `'${value}'` : String(value)}`);
const errInvalidBufferSize = (bits) => makeError(RangeError, "ERR_INVALID_BUFFER_SIZE", `Buffer size must be a multiple of ${bits}`);

// lib/internal/validators.js equivalents.
function validateNumber(value, name, min, max) {
  if (typeof value !== "number") throw errInvalidArgType(name, "of type number", value);
  if ((min != null && value < min) || (max != null && value > max) || ((min != null || max != null) && Number.isNaN(value))) {
    const range = min != null && max != null ? `>= ${min} && <= ${max}` : min != null ? `>= ${min}` : `<= ${max}`;
    throw errOutOfRange(name, range, value);
  }
}

function validateInteger(value, name, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== "number") throw errInvalidArgType(name, "of type number", value);
  if (!Number.isInteger(value)) throw errOutOfRange(name, "an integer", value);
  if (value < min || value > max) throw errOutOfRange(name, `>= ${min} && <= ${max}`, value);
}

const validateOffset = (value, name, min = 0, max = kMaxLength) => validateInteger(value, name, min, max);

// ---------------------------------------------------------------------------
// Type checks that do not depend on the realm (brand checks via getters).

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const getTypedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
const getArrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
const getSharedArrayBufferByteLength =
  typeof SharedArrayBuffer === "function" ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength").get : undefined;

// Buffer.prototype overrides fill/slice, so call the TypedArray originals.
const taFill = TypedArrayPrototype.fill;
const taSubarray = TypedArrayPrototype.subarray;

const isUint8Array = (value) => getTypedArrayTag.call(value) === "Uint8Array";
const isTypedArray = (value) => getTypedArrayTag.call(value) !== undefined;
const isArrayBufferView = (value) => ArrayBuffer.isView(value);

function isAnyArrayBuffer(value) {
  if (value === null || typeof value !== "object") return false;
  try {
    getArrayBufferByteLength.call(value);
    return true;
  } catch {}
  if (getSharedArrayBufferByteLength === undefined) return false;
  try {
    getSharedArrayBufferByteLength.call(value);
    return true;
  } catch {}
  return false;
}

// A Uint8Array over the bytes of any ArrayBufferView.
const bytesOf = (view) => (isUint8Array(view) ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength));

// ---------------------------------------------------------------------------
// Constants.

export const kMaxLength = 2 ** 53 - 1; // V8 >= 12 on 64-bit (Node 22+ reports the same)
export const kStringMaxLength = 2 ** 29 - 24;
export const INSPECT_MAX_BYTES = 50;
export const constants = Object.freeze({ MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength });

// ---------------------------------------------------------------------------
// Codecs. Each takes/returns plain byte arrays; string inputs are UTF-16 code
// units. Where Node's C++ reads a two-byte string through `uint8_t` (hex,
// base64), only the low byte of each code unit is used, like Node.

const CHUNK = 0x2000;
// Shared output buffer for the decoders (they never re-enter each other).
const scratch = new Uint16Array(CHUNK + 8);

function unitsToString(units, start, end) {
  if (end - start <= CHUNK) return String.fromCharCode.apply(null, start === 0 && end === units.length ? units : taSubarray.call(units, start, end));
  let out = "";
  for (let i = start; i < end; i += CHUNK) out += String.fromCharCode.apply(null, taSubarray.call(units, i, Math.min(i + CHUNK, end)));
  return out;
}

function utf8ByteLength(str) {
  let n = str.length;
  for (let i = 0, len = str.length; i < len; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // 4 bytes for 2 units
      i++;
    } else {
      n += 2; // 3 bytes (lone surrogates become U+FFFD)
    }
  }
  return n;
}

// Writes whole characters only (like V8's String::WriteUtf8); returns bytes written.
function utf8Write(bytes, str, offset, max) {
  let p = offset;
  const end = offset + max;
  for (let i = 0, len = str.length; i < len; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      if (p >= end) break;
      bytes[p++] = c;
    } else if (c < 0x800) {
      if (p + 2 > end) break;
      bytes[p++] = 0xc0 | (c >> 6);
      bytes[p++] = 0x80 | (c & 0x3f);
    } else {
      if ((c & 0xf800) === 0xd800) {
        const d = i + 1 < len ? str.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
          if (p + 4 > end) break;
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          bytes[p++] = 0xf0 | (cp >> 18);
          bytes[p++] = 0x80 | ((cp >> 12) & 0x3f);
          bytes[p++] = 0x80 | ((cp >> 6) & 0x3f);
          bytes[p++] = 0x80 | (cp & 0x3f);
          i++;
          continue;
        }
        c = 0xfffd;
      }
      if (p + 3 > end) break;
      bytes[p++] = 0xe0 | (c >> 12);
      bytes[p++] = 0x80 | ((c >> 6) & 0x3f);
      bytes[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - offset;
}

// WHATWG UTF-8 decode (maximal-subpart U+FFFD replacement, BOM kept), which is
// what V8's String::NewFromUtf8 does for Node.
function utf8Slice(bytes, start, end) {
  const u = scratch;
  let out = "";
  let n = 0;
  let i = start;
  while (i < end) {
    if (n >= CHUNK) {
      out += String.fromCharCode.apply(null, u.subarray(0, n));
      n = 0;
    }
    const b = bytes[i];
    if (b < 0x80) {
      u[n++] = b;
      i++;
      continue;
    }
    let need;
    let cp;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
      if (b === 0xe0) lower = 0xa0;
      else if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 0x07;
      if (b === 0xf0) lower = 0x90;
      else if (b === 0xf4) upper = 0x8f;
    } else {
      u[n++] = 0xfffd;
      i++;
      continue;
    }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < need; k++, j++) {
      const c = j < end ? bytes[j] : -1;
      if (c < lower || c > upper) {
        ok = false;
        break;
      }
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (c & 0x3f);
    }
    i = j; // on error, the offending byte (at j) is decoded again
    if (!ok) {
      u[n++] = 0xfffd;
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      u[n++] = 0xd800 | (cp >> 10);
      u[n++] = 0xdc00 | (cp & 0x3ff);
    } else {
      u[n++] = cp;
    }
  }
  return n ? out + String.fromCharCode.apply(null, u.subarray(0, n)) : out;
}

function latin1Write(bytes, str, offset, max) {
  const n = Math.min(str.length, max);
  for (let i = 0; i < n; i++) bytes[offset + i] = str.charCodeAt(i);
  return n;
}

function latin1Slice(bytes, start, end) {
  return unitsToString(bytes, start, end);
}

function asciiSlice(bytes, start, end) {
  const units = new Uint8Array(end - start);
  for (let i = start; i < end; i++) units[i - start] = bytes[i] & 0x7f;
  return unitsToString(units, 0, units.length);
}

function ucs2Write(bytes, str, offset, max) {
  const n = Math.min(str.length, max >>> 1);
  for (let i = 0; i < n; i++) {
    const c = str.charCodeAt(i);
    bytes[offset + 2 * i] = c & 0xff;
    bytes[offset + 2 * i + 1] = c >>> 8;
  }
  return n * 2;
}

function ucs2Slice(bytes, start, end) {
  const n = (end - start) >>> 1;
  const units = new Uint16Array(n);
  for (let i = 0; i < n; i++) units[i] = bytes[start + 2 * i] | (bytes[start + 2 * i + 1] << 8);
  return unitsToString(units, 0, n);
}

const HEX_CODES = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

function hexSlice(bytes, start, end) {
  const u = scratch;
  let out = "";
  let n = 0;
  for (let i = start; i < end; i++) {
    if (n >= CHUNK) {
      out += String.fromCharCode.apply(null, u.subarray(0, n));
      n = 0;
    }
    const b = bytes[i];
    u[n++] = HEX_CODES[b >> 4];
    u[n++] = HEX_CODES[b & 15];
  }
  return n ? out + String.fromCharCode.apply(null, u.subarray(0, n)) : out;
}

function unhex(c) {
  c &= 0xff;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

// Decodes pairs until the first invalid pair; a trailing odd digit is ignored.
function hexWrite(bytes, str, offset, max) {
  let i = 0;
  for (; i < max && i * 2 + 1 < str.length; i++) {
    const a = unhex(str.charCodeAt(i * 2));
    const b = unhex(str.charCodeAt(i * 2 + 1));
    if (a < 0 || b < 0) break;
    bytes[offset + i] = (a << 4) | b;
  }
  return i;
}

const B64_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_STD_CODES = Array.from(B64_STD, (c) => c.charCodeAt(0));
const B64_URL_CODES = Array.from(B64_URL, (c) => c.charCodeAt(0));
// Node's decoder accepts both alphabets for both encodings.
const UNB64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  UNB64[B64_STD.charCodeAt(i)] = i;
  UNB64[B64_URL.charCodeAt(i)] = i;
}

function base64Slice(bytes, start, end, url) {
  const alphabet = url ? B64_URL_CODES : B64_STD_CODES;
  const u = scratch;
  let out = "";
  let n = 0;
  let i = start;
  for (; i + 2 < end; i += 3) {
    if (n >= CHUNK) {
      out += String.fromCharCode.apply(null, u.subarray(0, n));
      n = 0;
    }
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    u[n++] = alphabet[v >> 18];
    u[n++] = alphabet[(v >> 12) & 63];
    u[n++] = alphabet[(v >> 6) & 63];
    u[n++] = alphabet[v & 63];
  }
  const rest = end - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    u[n++] = alphabet[v >> 18];
    u[n++] = alphabet[(v >> 12) & 63];
    if (!url) {
      u[n++] = 61;
      u[n++] = 61;
    }
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    u[n++] = alphabet[v >> 18];
    u[n++] = alphabet[(v >> 12) & 63];
    u[n++] = alphabet[(v >> 6) & 63];
    if (!url) u[n++] = 61;
  }
  return n ? out + String.fromCharCode.apply(null, u.subarray(0, n)) : out;
}

// Node's forgiving decoder: characters outside both alphabets are skipped,
// decoding stops at the first '=', output is truncated to `max` bytes.
function base64Write(bytes, str, offset, max) {
  let k = 0;
  let state = 0;
  let hi = 0;
  for (let i = 0, len = str.length; i < len && k < max; i++) {
    const c = str.charCodeAt(i) & 0xff;
    const v = UNB64[c];
    if (v < 0) {
      if (c === 0x3d) break;
      continue;
    }
    switch (state) {
      case 1:
        bytes[offset + k++] = ((hi & 0x3f) << 2) | ((v & 0x30) >> 4);
        break;
      case 2:
        bytes[offset + k++] = ((hi & 0x0f) << 4) | ((v & 0x3c) >> 2);
        break;
      case 3:
        bytes[offset + k++] = ((hi & 0x03) << 6) | v;
        break;
    }
    hi = v;
    state = (state + 1) & 3;
  }
  return k;
}

function base64ByteLength(str, bytes) {
  if (str.charCodeAt(bytes - 1) === 0x3d) bytes--;
  if (bytes > 1 && str.charCodeAt(bytes - 1) === 0x3d) bytes--;
  return (bytes * 3) >>> 2;
}

// ---------------------------------------------------------------------------
// Search (node_buffer.cc IndexOfString/IndexOfBuffer/IndexOfNumber).

// Start offset for a search, or -1 when no search is needed (IndexOfOffset).
function indexOfOffset(length, offset, needleLength, isForward) {
  if (offset < 0) {
    if (offset + length >= 0) return length + offset;
    if (isForward || needleLength === 0) return 0;
    return -1;
  }
  if (offset + needleLength <= length) return offset;
  if (needleLength === 0) return length;
  if (isForward) return -1;
  return length - 1;
}

// First match at >= start (forward) or last match at <= start (backward);
// returns hayLen when not found (like the C++ SearchString).
function searchString(hay, hayLen, needle, needleLen, start, isForward) {
  if (hayLen < needleLen) return hayLen;
  const diff = hayLen - needleLen;
  const first = needle[0];
  if (isForward) {
    outer: for (let p = start; p <= diff; p++) {
      if (hay[p] !== first) continue;
      for (let j = 1; j < needleLen; j++) if (hay[p + j] !== needle[j]) continue outer;
      return p;
    }
  } else {
    outer: for (let p = Math.min(start, diff); p >= 0; p--) {
      if (hay[p] !== first) continue;
      for (let j = 1; j < needleLen; j++) if (hay[p + j] !== needle[j]) continue outer;
      return p;
    }
  }
  return hayLen;
}

function toUnits(bytes, n) {
  const units = new Uint16Array(n);
  for (let i = 0; i < n; i++) units[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return units;
}

// Shared by string and buffer needles. For UCS-2, Node rounds the haystack
// length down to even only for string needles (`roundHaystack`); with buffer
// needles an odd haystack makes "not found" return length - 1, which is kept.
function indexOfBytes(buffer, needle, offset, isUcs2, isForward, roundHaystack) {
  const haystack = bytesOf(buffer);
  let hayLen = haystack.length;
  if (isUcs2 && roundHaystack) hayLen &= ~1;
  const needleLen = needle.length;
  const opt = indexOfOffset(hayLen, offset, needleLen, isForward);
  if (needleLen === 0) return opt;
  if (hayLen === 0 || opt <= -1) return -1;
  if ((isForward && needleLen + opt > hayLen) || needleLen > hayLen) return -1;
  let result;
  if (isUcs2) {
    if (hayLen < 2 || needleLen < 2) return -1;
    const hayUnits = hayLen >>> 1;
    result = searchString(toUnits(haystack, hayUnits), hayUnits, toUnits(needle, needleLen >>> 1), needleLen >>> 1, opt >>> 1, isForward) * 2;
  } else {
    result = searchString(haystack, hayLen, needle, needleLen, opt, isForward);
  }
  return result === hayLen ? -1 : result;
}

function indexOfNumber(buffer, value, offset, isForward) {
  const bytes = bytesOf(buffer);
  const len = bytes.length;
  const opt = indexOfOffset(len, offset, 1, isForward);
  if (opt <= -1 || len === 0) return -1;
  const needle = value & 0xff;
  if (isForward) {
    for (let i = opt; i < len; i++) if (bytes[i] === needle) return i;
  } else {
    for (let i = opt; i >= 0; i--) if (bytes[i] === needle) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Encoding table (lib/buffer.js encodingOps).

function encodeWith(write, string, size) {
  const bytes = new Uint8Array(size);
  const n = write(bytes, string, 0, size);
  return n === size ? bytes : bytes.subarray(0, n);
}

const stringIndexOf = (encode, isUcs2) => (buf, val, byteOffset, dir) =>
  indexOfBytes(buf, encode(val), byteOffset, isUcs2, dir, true);
const decodedIndexOf = (ops) => (buf, val, byteOffset, dir) => indexOfBytes(buf, ops.encode(val), byteOffset, false, dir, false);

const utf8Ops = {
  encoding: "utf8",
  byteLength: utf8ByteLength,
  write: utf8Write,
  slice: utf8Slice,
  encode: (s) => encodeWith(utf8Write, s, utf8ByteLength(s)),
};
utf8Ops.indexOf = stringIndexOf(utf8Ops.encode, false);

const ucs2Ops = {
  encoding: "utf16le",
  byteLength: (s) => s.length * 2,
  write: ucs2Write,
  slice: ucs2Slice,
  encode: (s) => encodeWith(ucs2Write, s, s.length * 2),
};
ucs2Ops.indexOf = stringIndexOf(ucs2Ops.encode, true);

const latin1Ops = {
  encoding: "latin1",
  byteLength: (s) => s.length,
  write: latin1Write,
  slice: latin1Slice,
  encode: (s) => encodeWith(latin1Write, s, s.length),
};
latin1Ops.indexOf = stringIndexOf(latin1Ops.encode, false);

const asciiOps = {
  encoding: "ascii",
  byteLength: (s) => s.length,
  write: latin1Write, // Node writes 'ascii' exactly like 'latin1'
  slice: asciiSlice,
  encode: latin1Ops.encode,
};
asciiOps.indexOf = decodedIndexOf(asciiOps);

const base64Ops = {
  encoding: "base64",
  byteLength: (s) => base64ByteLength(s, s.length),
  write: base64Write,
  slice: (b, s, e) => base64Slice(b, s, e, false),
  encode: (s) => encodeWith(base64Write, s, base64ByteLength(s, s.length) + 3),
};
base64Ops.indexOf = decodedIndexOf(base64Ops);

const base64urlOps = {
  encoding: "base64url",
  byteLength: base64Ops.byteLength,
  write: base64Write,
  slice: (b, s, e) => base64Slice(b, s, e, true),
  encode: base64Ops.encode,
};
base64urlOps.indexOf = decodedIndexOf(base64urlOps);

const hexOps = {
  encoding: "hex",
  byteLength: (s) => s.length >>> 1,
  write: hexWrite,
  slice: hexSlice,
  encode: (s) => encodeWith(hexWrite, s, s.length >>> 1),
};
hexOps.indexOf = decodedIndexOf(hexOps);

const ENCODINGS = {
  __proto__: null,
  "utf8": utf8Ops,
  "utf-8": utf8Ops,
  "ucs2": ucs2Ops,
  "ucs-2": ucs2Ops,
  "utf16le": ucs2Ops,
  "utf-16le": ucs2Ops,
  "latin1": latin1Ops,
  "binary": latin1Ops,
  "ascii": asciiOps,
  "base64": base64Ops,
  "base64url": base64urlOps,
  "hex": hexOps,
};

// getEncodingOps(): case-insensitive; '' and non-strings are unknown.
function getEncodingOps(encoding) {
  encoding += "";
  return ENCODINGS[encoding] || ENCODINGS[encoding.toLowerCase()];
}

// internal/util normalizeEncoding(): null/undefined/'' mean utf8.
function normalizeEncoding(encoding) {
  if (encoding == null || encoding === "") return "utf8";
  if (typeof encoding !== "string") return undefined;
  const ops = getEncodingOps(encoding);
  return ops === undefined ? undefined : ops.encoding;
}

// ---------------------------------------------------------------------------
// Buffer.

class FastBuffer extends Uint8Array {
  // Same arguments as Uint8Array; kept explicit like Node's FastBuffer.
  constructor(bufferOrLength, byteOffset, length) {
    super(bufferOrLength, byteOffset, length);
  }
}

// Buffer(arg[, encodingOrOffset[, length]]) - deprecated but still widely used
// (with or without `new`); behaves like Buffer.alloc()/Buffer.from().
export function Buffer(arg, encodingOrOffset, length) {
  if (typeof arg === "number") {
    if (typeof encodingOrOffset === "string") throw errInvalidArgType("string", "of type string", arg);
    return Buffer.alloc(arg);
  }
  return Buffer.from(arg, encodingOrOffset, length);
}

Object.defineProperty(Buffer, Symbol.species, {
  enumerable: false,
  configurable: true,
  get() {
    return FastBuffer;
  },
});
FastBuffer.prototype.constructor = Buffer;
Buffer.prototype = FastBuffer.prototype;
Object.setPrototypeOf(Buffer, Uint8Array);

Buffer.poolSize = 8 * 1024;

function fromString(string, encoding) {
  let ops;
  if (typeof encoding !== "string" || encoding.length === 0) {
    if (string.length === 0) return new FastBuffer();
    ops = utf8Ops;
  } else {
    ops = getEncodingOps(encoding);
    if (ops === undefined) throw errUnknownEncoding(encoding);
    if (string.length === 0) return new FastBuffer();
  }
  const bytes = ops.encode(string);
  return new FastBuffer(bytes.buffer, bytes.byteOffset, bytes.length);
}

function fromArrayBuffer(obj, byteOffset, length) {
  if (byteOffset === undefined) {
    byteOffset = 0;
  } else {
    byteOffset = +byteOffset;
    if (Number.isNaN(byteOffset)) byteOffset = 0;
  }
  const maxLength = obj.byteLength - byteOffset;
  if (maxLength < 0) throw errBufferOutOfBounds("offset");
  if (length === undefined) {
    length = maxLength;
  } else {
    length = +length;
    if (length > 0) {
      if (length > maxLength) throw errBufferOutOfBounds("length");
    } else {
      length = 0;
    }
  }
  return new FastBuffer(obj, byteOffset, length);
}

function fromArrayLike(obj) {
  if (obj.length <= 0) return new FastBuffer();
  if (obj.length < Buffer.poolSize >>> 1) {
    const b = new FastBuffer(obj.length);
    b.set(obj, 0);
    return b;
  }
  return new FastBuffer(obj);
}

function fromObject(obj) {
  if (obj.length !== undefined || isAnyArrayBuffer(obj.buffer)) {
    if (typeof obj.length !== "number") return new FastBuffer();
    return fromArrayLike(obj);
  }
  if (obj.type === "Buffer" && Array.isArray(obj.data)) return fromArrayLike(obj.data);
}

const FROM_EXPECTED = "of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object";

Buffer.from = function from(value, encodingOrOffset, length) {
  if (typeof value === "string") return fromString(value, encodingOrOffset);

  if (typeof value === "object" && value !== null) {
    if (isAnyArrayBuffer(value)) return fromArrayBuffer(value, encodingOrOffset, length);

    const valueOf = value.valueOf && value.valueOf();
    if (valueOf != null && valueOf !== value && (typeof valueOf === "string" || typeof valueOf === "object")) {
      return from(valueOf, encodingOrOffset, length);
    }

    const b = fromObject(value);
    if (b) return b;

    if (typeof value[Symbol.toPrimitive] === "function") {
      const primitive = value[Symbol.toPrimitive]("string");
      if (typeof primitive === "string") return fromString(primitive, encodingOrOffset);
    }
  }

  throw errInvalidArgType("first argument", FROM_EXPECTED, value);
};

Buffer.copyBytesFrom = function copyBytesFrom(view, offset, length) {
  if (!isTypedArray(view)) throw errInvalidArgType("view", "an instance of TypedArray", view);
  const viewLength = view.length;
  if (viewLength === 0) return Buffer.alloc(0);
  if (offset !== undefined || length !== undefined) {
    if (offset !== undefined) {
      validateInteger(offset, "offset", 0);
      if (offset >= viewLength) return new FastBuffer();
    } else {
      offset = 0;
    }
    let end;
    if (length !== undefined) {
      validateInteger(length, "length", 0);
      end = offset + length;
    } else {
      end = viewLength;
    }
    view = TypedArrayPrototype.slice.call(view, offset, end);
  }
  return fromArrayLike(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
};

Buffer.of = function of(...items) {
  const b = new FastBuffer(items.length);
  for (let k = 0; k < items.length; k++) b[k] = items[k];
  return b;
};

function assertSize(size) {
  validateNumber(size, "size", 0, kMaxLength);
}

Buffer.alloc = function alloc(size, fill, encoding) {
  assertSize(size);
  if (fill !== undefined && fill !== 0 && size > 0) {
    const buf = new FastBuffer(size);
    return _fill(buf, fill, 0, buf.length, encoding);
  }
  return new FastBuffer(size);
};

// No pool and no uninitialized memory here: both are zero-filled.
Buffer.allocUnsafe = function allocUnsafe(size) {
  assertSize(size);
  return new FastBuffer(size);
};

Buffer.allocUnsafeSlow = function allocUnsafeSlow(size) {
  assertSize(size);
  return new FastBuffer(size);
};

Buffer.isBuffer = function isBuffer(b) {
  return b instanceof Buffer;
};

function compareBytes(a, aStart, aEnd, b, bStart, bEnd) {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const x = a[aStart + i];
    const y = b[bStart + i];
    if (x !== y) return x < y ? -1 : 1;
  }
  const la = aEnd - aStart;
  const lb = bEnd - bStart;
  return la > lb ? 1 : la < lb ? -1 : 0;
}

const _compare = (a, b) => compareBytes(a, 0, a.length, b, 0, b.length);

Buffer.compare = function compare(buf1, buf2) {
  if (!isUint8Array(buf1)) throw errInvalidArgType("buf1", "an instance of Buffer or Uint8Array", buf1);
  if (!isUint8Array(buf2)) throw errInvalidArgType("buf2", "an instance of Buffer or Uint8Array", buf2);
  if (buf1 === buf2) return 0;
  return _compare(buf1, buf2);
};

Buffer.isEncoding = function isEncoding(encoding) {
  return typeof encoding === "string" && encoding.length !== 0 && normalizeEncoding(encoding) !== undefined;
};

function _copyActual(source, target, targetStart, sourceStart, sourceEnd) {
  if (sourceEnd - sourceStart > target.byteLength - targetStart) sourceEnd = sourceStart + target.byteLength - targetStart;
  let nb = sourceEnd - sourceStart;
  const sourceLen = source.byteLength - sourceStart;
  if (nb > sourceLen) nb = sourceLen;
  if (nb <= 0) return 0;
  const src = bytesOf(source);
  bytesOf(target).set(src.subarray(sourceStart, sourceStart + nb), targetStart);
  return nb;
}

Buffer.concat = function concat(list, length) {
  if (!Array.isArray(list)) throw errInvalidArgType("list", "an instance of Array", list);
  if (list.length === 0) return new FastBuffer();

  if (length === undefined) {
    length = 0;
    for (let i = 0; i < list.length; i++) {
      if (list[i].length) length += list[i].length;
    }
  } else {
    validateOffset(length, "length");
  }

  const buffer = Buffer.allocUnsafe(length);
  let pos = 0;
  for (let i = 0; i < list.length; i++) {
    const buf = list[i];
    if (!isUint8Array(buf)) throw errInvalidArgType(`list[${i}]`, "an instance of Buffer or Uint8Array", buf);
    pos += _copyActual(buf, buffer, pos, 0, buf.length);
  }
  if (pos < length) taFill.call(buffer, 0, pos, length);
  return buffer;
};

function byteLength(string, encoding) {
  if (typeof string !== "string") {
    if (isArrayBufferView(string) || isAnyArrayBuffer(string)) return string.byteLength;
    throw errInvalidArgType("string", "of type string or an instance of Buffer or ArrayBuffer", string);
  }
  const len = string.length;
  if (len === 0) return 0;
  if (!encoding || encoding === "utf8") return utf8ByteLength(string);
  if (encoding === "ascii") return len;
  const ops = getEncodingOps(encoding);
  // Node falls back to UTF-8 for unknown encodings here (no throw).
  return ops === undefined ? utf8ByteLength(string) : ops.byteLength(string);
}
Buffer.byteLength = byteLength;

// ---------------------------------------------------------------------------
// Buffer.prototype

const proto = Buffer.prototype;

function defineMethods(target, methods) {
  for (const name of Reflect.ownKeys(methods)) {
    Object.defineProperty(target, name, { value: methods[name], writable: true, enumerable: typeof name === "string", configurable: true });
  }
}

Object.defineProperty(proto, "parent", {
  enumerable: true,
  configurable: true,
  get() {
    return this instanceof Buffer ? this.buffer : undefined;
  },
});
Object.defineProperty(proto, "offset", {
  enumerable: true,
  configurable: true,
  get() {
    return this instanceof Buffer ? this.byteOffset : undefined;
  },
});

function copyImpl(source, target, targetStart, sourceStart, sourceEnd) {
  if (!isUint8Array(source)) throw errInvalidArgType("source", "an instance of Buffer or Uint8Array", source);
  if (!isUint8Array(target)) throw errInvalidArgType("target", "an instance of Buffer or Uint8Array", target);

  if (targetStart === undefined) {
    targetStart = 0;
  } else {
    targetStart = toInteger(targetStart, 0);
    if (targetStart < 0) throw errOutOfRange("targetStart", ">= 0", targetStart);
  }

  if (sourceStart === undefined) {
    sourceStart = 0;
  } else {
    sourceStart = toInteger(sourceStart, 0);
    if (sourceStart < 0 || sourceStart > source.byteLength) {
      throw errOutOfRange("sourceStart", `>= 0 && <= ${source.byteLength}`, sourceStart);
    }
  }

  if (sourceEnd === undefined) {
    sourceEnd = source.byteLength;
  } else {
    sourceEnd = toInteger(sourceEnd, 0);
    if (sourceEnd < 0) throw errOutOfRange("sourceEnd", ">= 0", sourceEnd);
  }

  if (targetStart >= target.byteLength || sourceStart >= sourceEnd) return 0;
  return _copyActual(source, target, targetStart, sourceStart, sourceEnd);
}

function toInteger(n, defaultVal) {
  n = +n;
  if (!Number.isNaN(n) && n >= Number.MIN_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER) {
    return n % 1 === 0 ? n : Math.floor(n);
  }
  return defaultVal;
}

function adjustOffset(offset, length) {
  offset = Math.trunc(offset);
  if (offset === 0 || Number.isNaN(offset)) return 0;
  if (offset < 0) {
    offset += length;
    return offset > 0 ? offset : 0;
  }
  return offset < length ? offset : length;
}

// Finds the first index of `val` at >= byteOffset (dir true), or the last
// index at <= byteOffset (dir false). byteOffset is clamped to int32.
function bidirectionalIndexOf(buffer, val, byteOffset, encoding, dir) {
  if (!isArrayBufferView(buffer)) throw errInvalidArgType("buffer", "an instance of Buffer, TypedArray, or DataView", buffer);

  if (typeof byteOffset === "string") {
    encoding = byteOffset;
    byteOffset = undefined;
  } else if (byteOffset > 0x7fffffff) {
    byteOffset = 0x7fffffff;
  } else if (byteOffset < -0x80000000) {
    byteOffset = -0x80000000;
  }
  byteOffset = +byteOffset;
  if (Number.isNaN(byteOffset)) byteOffset = dir ? 0 : buffer.length || buffer.byteLength;
  byteOffset = Math.trunc(byteOffset);
  dir = !!dir;

  if (typeof val === "number") return indexOfNumber(buffer, val >>> 0, byteOffset, dir);

  const ops = encoding === undefined ? utf8Ops : getEncodingOps(encoding);

  if (typeof val === "string") {
    if (ops === undefined) throw errUnknownEncoding(encoding);
    return ops.indexOf(buffer, val, byteOffset, dir);
  }

  if (isUint8Array(val)) {
    const isUcs2 = ops !== undefined && ops.encoding === "utf16le";
    return indexOfBytes(buffer, val, byteOffset, isUcs2, dir, false);
  }

  throw errInvalidArgType("value", "one of type number or string or an instance of Buffer or Uint8Array", val);
}

// Fill semantics of lib/buffer.js _fill() plus node_buffer.cc Fill().
function _fill(buf, value, offset, end, encoding) {
  if (typeof value === "string") {
    if (offset === undefined || typeof offset === "string") {
      encoding = offset;
      offset = 0;
      end = buf.length;
    } else if (typeof end === "string") {
      encoding = end;
      end = buf.length;
    }

    const normalizedEncoding = normalizeEncoding(encoding);
    if (normalizedEncoding === undefined) {
      if (typeof encoding !== "string") throw errInvalidArgType("encoding", "of type string", encoding);
      throw errUnknownEncoding(encoding);
    }

    if (value.length === 0) {
      value = 0; // an empty string fills with zeroes
    } else if (value.length === 1) {
      if (normalizedEncoding === "utf8") {
        const code = value.charCodeAt(0);
        if (code < 128) value = code;
      } else if (normalizedEncoding === "latin1") {
        value = value.charCodeAt(0);
      }
    }
    encoding = normalizedEncoding;
  } else {
    encoding = undefined;
  }

  if (offset === undefined) {
    offset = 0;
    end = buf.length;
  } else {
    validateOffset(offset, "offset");
    if (end === undefined) {
      end = buf.length;
    } else {
      validateOffset(end, "end", 0, buf.length);
    }
    if (offset >= end) return buf;
  }

  const bytes = bytesOf(buf);
  const fillLength = end - offset;
  if (offset > end || fillLength + offset > bytes.length) throw errBufferOutOfBounds();

  if (typeof value === "number") {
    taFill.call(bytes, value, offset, end);
    return buf;
  }

  let written;
  if (isArrayBufferView(value)) {
    const src = bytesOf(value);
    written = src.length;
    bytes.set(written > fillLength ? src.subarray(0, fillLength) : src, offset);
  } else if (typeof value !== "string") {
    taFill.call(bytes, (+value >>> 0) & 255, offset, end);
    return buf;
  } else if (encoding === "utf8" || encoding === "utf16le") {
    // The whole encoded string is copied, truncated to the range (possibly
    // mid-character), like Node's memcpy.
    const src = ENCODINGS[encoding].encode(value);
    written = src.length;
    bytes.set(written > fillLength ? src.subarray(0, fillLength) : src, offset);
  } else {
    written = ENCODINGS[encoding].write(bytes, value, offset, fillLength);
  }

  if (written >= fillLength) return buf;
  if (written === 0) throw errInvalidArgValue("value", value);
  for (let i = offset + written; i < end; i++) bytes[i] = bytes[i - written];
  return buf;
}

// The *Slice/*Write methods are Node's C++ bindings exposed on the prototype;
// their arguments go through ParseArrayIndex (truncate, negative throws).
function parseArrayIndex(value, defaultValue) {
  if (value === undefined) return defaultValue;
  const n = Math.trunc(+value) || 0;
  if (n < 0) throw makeError(RangeError, "ERR_OUT_OF_RANGE", "Index out of range");
  return n;
}

function nativeWrite(ops) {
  return function (string, offset, length) {
    if (typeof string !== "string") throw errInvalidArgType("argument", "of type string", string);
    offset = parseArrayIndex(offset, 0);
    if (offset > this.length) throw errBufferOutOfBounds("offset");
    const remaining = this.length - offset;
    length = Math.min(remaining, parseArrayIndex(length, remaining));
    if (length === 0) return 0;
    return ops.write(bytesOf(this), string, offset, length);
  };
}

function nativeSlice(ops) {
  return function (start, end) {
    start = parseArrayIndex(start, 0);
    end = parseArrayIndex(end, this.length);
    if (end < start) end = start;
    if (end > this.length) throw makeError(RangeError, "ERR_OUT_OF_RANGE", "Index out of range");
    return ops.slice(bytesOf(this), start, end);
  };
}

defineMethods(proto, {
  asciiSlice: nativeSlice(asciiOps),
  base64Slice: nativeSlice(base64Ops),
  base64urlSlice: nativeSlice(base64urlOps),
  latin1Slice: nativeSlice(latin1Ops),
  hexSlice: nativeSlice(hexOps),
  ucs2Slice: nativeSlice(ucs2Ops),
  utf8Slice: nativeSlice(utf8Ops),
  asciiWrite: nativeWrite(asciiOps),
  base64Write: nativeWrite(base64Ops),
  base64urlWrite: nativeWrite(base64urlOps),
  latin1Write: nativeWrite(latin1Ops),
  hexWrite: nativeWrite(hexOps),
  ucs2Write: nativeWrite(ucs2Ops),
  utf8Write: nativeWrite(utf8Ops),

  copy(target, targetStart, sourceStart, sourceEnd) {
    return copyImpl(this, target, targetStart, sourceStart, sourceEnd);
  },

  toString(encoding, start, end) {
    if (arguments.length === 0) return utf8Slice(this, 0, this.length);

    const len = this.length;
    if (start <= 0) start = 0;
    else if (start >= len) return "";
    else start = Math.trunc(start) || 0;

    if (end === undefined || end > len) end = len;
    else end = Math.trunc(end) || 0;

    if (end <= start) return "";

    if (encoding === undefined) return utf8Slice(this, start, end);

    const ops = getEncodingOps(encoding);
    if (ops === undefined) throw errUnknownEncoding(encoding);
    return ops.slice(bytesOf(this), start, end);
  },

  equals(otherBuffer) {
    if (!isUint8Array(otherBuffer)) throw errInvalidArgType("otherBuffer", "an instance of Buffer or Uint8Array", otherBuffer);
    if (this === otherBuffer) return true;
    const len = this.byteLength;
    if (len !== otherBuffer.byteLength) return false;
    return len === 0 || _compare(this, otherBuffer) === 0;
  },

  compare(target, targetStart, targetEnd, sourceStart, sourceEnd) {
    if (!isUint8Array(target)) throw errInvalidArgType("target", "an instance of Buffer or Uint8Array", target);
    if (arguments.length === 1) return _compare(this, target);

    if (targetStart === undefined) targetStart = 0;
    else validateOffset(targetStart, "targetStart");

    if (targetEnd === undefined) targetEnd = target.length;
    else validateOffset(targetEnd, "targetEnd", 0, target.length);

    if (sourceStart === undefined) sourceStart = 0;
    else validateOffset(sourceStart, "sourceStart");

    if (sourceEnd === undefined) sourceEnd = this.length;
    else validateOffset(sourceEnd, "sourceEnd", 0, this.length);

    if (sourceStart >= sourceEnd) return targetStart >= targetEnd ? 0 : -1;
    if (targetStart >= targetEnd) return 1;

    return compareBytes(this, sourceStart, sourceEnd, target, targetStart, targetEnd);
  },

  indexOf(val, byteOffset, encoding) {
    return bidirectionalIndexOf(this, val, byteOffset, encoding, true);
  },

  lastIndexOf(val, byteOffset, encoding) {
    return bidirectionalIndexOf(this, val, byteOffset, encoding, false);
  },

  includes(val, byteOffset, encoding) {
    return this.indexOf(val, byteOffset, encoding) !== -1;
  },

  // fill(value[, offset[, end]][, encoding])
  fill(value, offset, end, encoding) {
    return _fill(this, value, offset, end, encoding);
  },

  // write(string[, offset[, length]][, encoding])
  write(string, offset, length, encoding) {
    if (offset === undefined) return utf8WriteChecked(this, string, 0, this.length);

    if (length === undefined && typeof offset === "string") {
      encoding = offset;
      length = this.length;
      offset = 0;
    } else {
      validateOffset(offset, "offset", 0, this.length);
      const remaining = this.length - offset;
      if (length === undefined) {
        length = remaining;
      } else if (typeof length === "string") {
        encoding = length;
        length = remaining;
      } else {
        validateOffset(length, "length", 0, this.length);
        if (length > remaining) length = remaining;
      }
    }
    if (!encoding || encoding === "utf8") return utf8WriteChecked(this, string, offset, length);
    if (encoding === "ascii") return writeChecked(asciiOps, this, string, offset, length);

    const ops = getEncodingOps(encoding);
    if (ops === undefined) throw errUnknownEncoding(encoding);
    return writeChecked(ops, this, string, offset, length);
  },

  toJSON() {
    if (this.length > 0) {
      const data = new Array(this.length);
      for (let i = 0; i < this.length; ++i) data[i] = this[i];
      return { type: "Buffer", data };
    }
    return { type: "Buffer", data: [] };
  },

  // Unlike Uint8Array#slice, shares memory (same as subarray).
  slice(start, end) {
    const srcLength = this.length;
    start = adjustOffset(start, srcLength);
    end = end !== undefined ? adjustOffset(end, srcLength) : srcLength;
    const newLength = end > start ? end - start : 0;
    return new FastBuffer(this.buffer, this.byteOffset + start, newLength);
  },

  swap16() {
    const len = this.length;
    if (len % 2 !== 0) throw errInvalidBufferSize("16-bits");
    for (let i = 0; i < len; i += 2) swap(this, i, i + 1);
    return this;
  },

  swap32() {
    const len = this.length;
    if (len % 4 !== 0) throw errInvalidBufferSize("32-bits");
    for (let i = 0; i < len; i += 4) {
      swap(this, i, i + 3);
      swap(this, i + 1, i + 2);
    }
    return this;
  },

  swap64() {
    const len = this.length;
    if (len % 8 !== 0) throw errInvalidBufferSize("64-bits");
    for (let i = 0; i < len; i += 8) {
      swap(this, i, i + 7);
      swap(this, i + 1, i + 6);
      swap(this, i + 2, i + 5);
      swap(this, i + 3, i + 4);
    }
    return this;
  },

  // util.inspect() rendering: <Buffer 61 62 63>
  [Symbol.for("nodejs.util.inspect.custom")]() {
    const max = INSPECT_MAX_BYTES;
    const shown = Math.min(max, this.length);
    let str = hexSlice(this, 0, shown).replace(/(.{2})/g, "$1 ").trim();
    const remaining = this.length - max;
    if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
    return `<${this.constructor.name} ${str}>`;
  },
});
Object.defineProperty(proto, "toLocaleString", { value: proto.toString, writable: true, configurable: true });

function writeChecked(ops, buf, string, offset, length) {
  if (typeof string !== "string") throw errInvalidArgType("argument", "of type string", string);
  if (length === 0) return 0;
  return ops.write(bytesOf(buf), string, offset, length);
}
const utf8WriteChecked = (buf, string, offset, length) => writeChecked(utf8Ops, buf, string, offset, length);

function swap(b, n, m) {
  const i = b[n];
  b[n] = b[m];
  b[m] = i;
}

// ---------------------------------------------------------------------------
// Number reads/writes (lib/internal/buffer.js).

function checkBounds(buf, offset, byteLength) {
  validateNumber(offset, "offset");
  if (buf[offset] === undefined || buf[offset + byteLength] === undefined) boundsError(offset, buf.length - (byteLength + 1));
}

function checkInt(value, min, max, buf, offset, byteLength) {
  if (value > max || value < min) {
    const n = typeof min === "bigint" ? "n" : "";
    let range;
    if (byteLength > 3) {
      if (min === 0 || min === 0n) range = `>= 0${n} and < 2${n} ** ${(byteLength + 1) * 8}${n}`;
      else range = `>= -(2${n} ** ${(byteLength + 1) * 8 - 1}${n}) and < 2 ** ${(byteLength + 1) * 8 - 1}${n}`;
    } else {
      range = `>= ${min}${n} and <= ${max}${n}`;
    }
    throw errOutOfRange("value", range, value);
  }
  checkBounds(buf, offset, byteLength);
}

function boundsError(value, length, type) {
  if (Math.floor(value) !== value) {
    validateNumber(value, type);
    throw errOutOfRange(type || "offset", "an integer", value);
  }
  if (length < 0) throw errBufferOutOfBounds();
  throw errOutOfRange(type || "offset", `>= ${type ? 1 : 0} and <= ${length}`, value);
}

// Reads `n` bytes (1..6) as an unsigned integer; validation as in Node.
function readUnsigned(buf, offset, n, littleEndian) {
  validateNumber(offset, "offset");
  const first = buf[offset];
  const last = buf[offset + n - 1];
  if (first === undefined || last === undefined) boundsError(offset, buf.length - n);
  let val = 0;
  if (littleEndian) for (let i = n - 1; i >= 0; i--) val = val * 256 + buf[offset + i];
  else for (let i = 0; i < n; i++) val = val * 256 + buf[offset + i];
  return val;
}

function readSigned(buf, offset, n, littleEndian) {
  const val = readUnsigned(buf, offset, n, littleEndian);
  const limit = 2 ** (8 * n - 1);
  return val >= limit ? val - limit * 2 : val;
}

function writeInteger(buf, value, offset, n, min, max, littleEndian) {
  value = +value;
  if (n === 1) {
    // Node checks range and offset separately for single bytes.
    validateNumber(offset, "offset");
    if (value > max || value < min) throw errOutOfRange("value", `>= ${min} and <= ${max}`, value);
    if (buf[offset] === undefined) boundsError(offset, buf.length - 1);
    buf[offset] = value;
    return offset + 1;
  }
  checkInt(value, min, max, buf, offset, n - 1);
  // Truncate toward zero and wrap into [0, 2^(8n)) like the byte stores in Node.
  let v = Math.trunc(value);
  if (Number.isNaN(v) || !Number.isFinite(v)) v = 0;
  if (v < 0) v += 2 ** (8 * n);
  for (let i = 0; i < n; i++) {
    const byte = v % 256;
    buf[littleEndian ? offset + i : offset + n - 1 - i] = byte;
    v = (v - byte) / 256;
  }
  return offset + n;
}

const float32Array = new Float32Array(1);
const uInt8Float32Array = new Uint8Array(float32Array.buffer);
const float64Array = new Float64Array(1);
const uInt8Float64Array = new Uint8Array(float64Array.buffer);
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readFloat(buf, offset, n, littleEndian) {
  validateNumber(offset, "offset");
  const first = buf[offset];
  const last = buf[offset + n - 1];
  if (first === undefined || last === undefined) boundsError(offset, buf.length - n);
  const scratch = n === 4 ? uInt8Float32Array : uInt8Float64Array;
  const forwards = littleEndian === hostLittleEndian;
  for (let i = 0; i < n; i++) scratch[forwards ? i : n - 1 - i] = buf[offset + i];
  return n === 4 ? float32Array[0] : float64Array[0];
}

function writeFloat(buf, value, offset, n, littleEndian) {
  value = +value;
  checkBounds(buf, offset, n - 1);
  let scratch;
  if (n === 4) {
    float32Array[0] = value;
    scratch = uInt8Float32Array;
  } else {
    float64Array[0] = value;
    scratch = uInt8Float64Array;
  }
  const forwards = littleEndian === hostLittleEndian;
  for (let i = 0; i < n; i++) buf[offset + i] = scratch[forwards ? i : n - 1 - i];
  return offset + n;
}

function readBig64(buf, offset, littleEndian, signed) {
  validateNumber(offset, "offset");
  const first = buf[offset];
  const last = buf[offset + 7];
  if (first === undefined || last === undefined) boundsError(offset, buf.length - 8);
  let hi;
  let lo;
  if (littleEndian) {
    lo = buf[offset] + buf[offset + 1] * 2 ** 8 + buf[offset + 2] * 2 ** 16 + buf[offset + 3] * 2 ** 24;
    hi = buf[offset + 4] + buf[offset + 5] * 2 ** 8 + buf[offset + 6] * 2 ** 16 + buf[offset + 7] * 2 ** 24;
  } else {
    hi = buf[offset] * 2 ** 24 + buf[offset + 1] * 2 ** 16 + buf[offset + 2] * 2 ** 8 + buf[offset + 3];
    lo = buf[offset + 4] * 2 ** 24 + buf[offset + 5] * 2 ** 16 + buf[offset + 6] * 2 ** 8 + buf[offset + 7];
  }
  const v = (BigInt(hi) << 32n) + BigInt(lo);
  return signed ? BigInt.asIntN(64, v) : v;
}

function writeBig64(buf, value, offset, min, max, littleEndian) {
  checkInt(value, min, max, buf, offset, 7);
  let lo = Number(value & 0xffffffffn);
  let hi = Number((value >> 32n) & 0xffffffffn);
  for (let i = 0; i < 4; i++) {
    buf[littleEndian ? offset + i : offset + 7 - i] = lo;
    lo = lo >> 8;
  }
  for (let i = 4; i < 8; i++) {
    buf[littleEndian ? offset + i : offset + 7 - i] = hi;
    hi = hi >> 8;
  }
  return offset + 8;
}

// Variable-width (1..6 bytes) accessors dispatch on byteLength like Node.
function checkByteLength(byteLength) {
  if (byteLength >= 1 && byteLength <= 6 && Number.isInteger(byteLength)) return;
  boundsError(byteLength, 6, "byteLength");
}

const INT_RANGES = [null, [0x7f, 0xff], [0x7fff, 0xffff], [0x7fffff, 0xffffff], [0x7fffffff, 0xffffffff], [0x7fffffffff, 0xffffffffff], [0x7fffffffffff, 0xffffffffffff]];

const numberMethods = {
  readUInt8(offset = 0) {
    return readUnsigned(this, offset, 1, true);
  },
  readUInt16LE(offset = 0) {
    return readUnsigned(this, offset, 2, true);
  },
  readUInt16BE(offset = 0) {
    return readUnsigned(this, offset, 2, false);
  },
  readUInt32LE(offset = 0) {
    return readUnsigned(this, offset, 4, true);
  },
  readUInt32BE(offset = 0) {
    return readUnsigned(this, offset, 4, false);
  },
  readUIntLE(offset, byteLength) {
    if (offset === undefined) throw errInvalidArgType("offset", "of type number", offset);
    checkByteLength(byteLength);
    return readUnsigned(this, offset, byteLength, true);
  },
  readUIntBE(offset, byteLength) {
    if (offset === undefined) throw errInvalidArgType("offset", "of type number", offset);
    checkByteLength(byteLength);
    return readUnsigned(this, offset, byteLength, false);
  },
  readInt8(offset = 0) {
    return readSigned(this, offset, 1, true);
  },
  readInt16LE(offset = 0) {
    return readSigned(this, offset, 2, true);
  },
  readInt16BE(offset = 0) {
    return readSigned(this, offset, 2, false);
  },
  readInt32LE(offset = 0) {
    return readSigned(this, offset, 4, true);
  },
  readInt32BE(offset = 0) {
    return readSigned(this, offset, 4, false);
  },
  readIntLE(offset, byteLength) {
    if (offset === undefined) throw errInvalidArgType("offset", "of type number", offset);
    checkByteLength(byteLength);
    return readSigned(this, offset, byteLength, true);
  },
  readIntBE(offset, byteLength) {
    if (offset === undefined) throw errInvalidArgType("offset", "of type number", offset);
    checkByteLength(byteLength);
    return readSigned(this, offset, byteLength, false);
  },
  readBigUInt64LE(offset = 0) {
    return readBig64(this, offset, true, false);
  },
  readBigUInt64BE(offset = 0) {
    return readBig64(this, offset, false, false);
  },
  readBigInt64LE(offset = 0) {
    return readBig64(this, offset, true, true);
  },
  readBigInt64BE(offset = 0) {
    return readBig64(this, offset, false, true);
  },
  readFloatLE(offset = 0) {
    return readFloat(this, offset, 4, true);
  },
  readFloatBE(offset = 0) {
    return readFloat(this, offset, 4, false);
  },
  readDoubleLE(offset = 0) {
    return readFloat(this, offset, 8, true);
  },
  readDoubleBE(offset = 0) {
    return readFloat(this, offset, 8, false);
  },

  writeUInt8(value, offset = 0) {
    return writeInteger(this, value, offset, 1, 0, 0xff, true);
  },
  writeUInt16LE(value, offset = 0) {
    return writeInteger(this, value, offset, 2, 0, 0xffff, true);
  },
  writeUInt16BE(value, offset = 0) {
    return writeInteger(this, value, offset, 2, 0, 0xffff, false);
  },
  writeUInt32LE(value, offset = 0) {
    return writeInteger(this, value, offset, 4, 0, 0xffffffff, true);
  },
  writeUInt32BE(value, offset = 0) {
    return writeInteger(this, value, offset, 4, 0, 0xffffffff, false);
  },
  writeUIntLE(value, offset, byteLength) {
    checkByteLength(byteLength);
    return writeInteger(this, value, offset, byteLength, 0, INT_RANGES[byteLength][1], true);
  },
  writeUIntBE(value, offset, byteLength) {
    checkByteLength(byteLength);
    return writeInteger(this, value, offset, byteLength, 0, INT_RANGES[byteLength][1], false);
  },
  writeInt8(value, offset = 0) {
    return writeInteger(this, value, offset, 1, -0x80, 0x7f, true);
  },
  writeInt16LE(value, offset = 0) {
    return writeInteger(this, value, offset, 2, -0x8000, 0x7fff, true);
  },
  writeInt16BE(value, offset = 0) {
    return writeInteger(this, value, offset, 2, -0x8000, 0x7fff, false);
  },
  writeInt32LE(value, offset = 0) {
    return writeInteger(this, value, offset, 4, -0x80000000, 0x7fffffff, true);
  },
  writeInt32BE(value, offset = 0) {
    return writeInteger(this, value, offset, 4, -0x80000000, 0x7fffffff, false);
  },
  writeIntLE(value, offset, byteLength) {
    checkByteLength(byteLength);
    const max = INT_RANGES[byteLength][0];
    return writeInteger(this, value, offset, byteLength, -max - 1, max, true);
  },
  writeIntBE(value, offset, byteLength) {
    checkByteLength(byteLength);
    const max = INT_RANGES[byteLength][0];
    return writeInteger(this, value, offset, byteLength, -max - 1, max, false);
  },
  writeBigUInt64LE(value, offset = 0) {
    return writeBig64(this, value, offset, 0n, 0xffffffffffffffffn, true);
  },
  writeBigUInt64BE(value, offset = 0) {
    return writeBig64(this, value, offset, 0n, 0xffffffffffffffffn, false);
  },
  writeBigInt64LE(value, offset = 0) {
    return writeBig64(this, value, offset, -(2n ** 63n), 2n ** 63n - 1n, true);
  },
  writeBigInt64BE(value, offset = 0) {
    return writeBig64(this, value, offset, -(2n ** 63n), 2n ** 63n - 1n, false);
  },
  writeFloatLE(value, offset = 0) {
    return writeFloat(this, value, offset, 4, true);
  },
  writeFloatBE(value, offset = 0) {
    return writeFloat(this, value, offset, 4, false);
  },
  writeDoubleLE(value, offset = 0) {
    return writeFloat(this, value, offset, 8, true);
  },
  writeDoubleBE(value, offset = 0) {
    return writeFloat(this, value, offset, 8, false);
  },
};
defineMethods(proto, numberMethods);

// Node also exposes the lower-case `Uint` spellings as aliases.
for (const name of Object.keys(numberMethods)) {
  if (name.includes("UInt")) defineMethods(proto, { [name.replace("UInt", "Uint")]: numberMethods[name] });
}

// ---------------------------------------------------------------------------
// Module-level helpers.

function viewBytes(input, name) {
  if (isArrayBufferView(input)) return bytesOf(input);
  if (isAnyArrayBuffer(input)) return new Uint8Array(input);
  throw errInvalidArgType(name, "an instance of ArrayBuffer, Buffer, or TypedArray", input);
}

export function isAscii(input) {
  const bytes = viewBytes(input, "input");
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) return false;
  return true;
}

export function isUtf8(input) {
  const bytes = viewBytes(input, "input");
  const len = bytes.length;
  for (let i = 0; i < len; ) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lower = 0xa0;
      else if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lower = 0x90;
      else if (b === 0xf4) upper = 0x8f;
    } else return false;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < lower || c > upper) return false;
      lower = 0x80;
      upper = 0xbf;
    }
    i += need + 1;
  }
  return true;
}

export const atob = globalThis.atob;
export const btoa = globalThis.btoa;
export const Blob = globalThis.Blob;
export const File = globalThis.File;

export default {
  Buffer,
  kMaxLength,
  kStringMaxLength,
  constants,
  INSPECT_MAX_BYTES,
  isAscii,
  isUtf8,
  atob,
  btoa,
  Blob,
  File,
};
