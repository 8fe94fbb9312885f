"use strict";
// TextEncoder / TextDecoder (WHATWG Encoding: utf-8, utf-16le, windows-1252/latin1), atob, btoa.

function encodeUtf8(input) {
  const string = String(input);
  const out = new Uint8Array(string.length * 3);
  let n = 0;
  for (let i = 0; i < string.length; i++) {
    let c = string.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < string.length) {
      const d = string.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      c = 0xfffd;
    }
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 63);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return out.slice(0, n);
}
internals.encodeUtf8 = encodeUtf8;

class TextEncoder {
  get encoding() {
    return "utf-8";
  }
  encode(input = "") {
    return encodeUtf8(input);
  }
  encodeInto(source, destination) {
    if (!(destination instanceof Uint8Array)) throw new TypeError("encodeInto: destination must be a Uint8Array");
    const string = String(source);
    let read = 0;
    let written = 0;
    for (let i = 0; i < string.length; ) {
      const cp = string.codePointAt(i);
      const units = cp > 0xffff ? 2 : 1;
      const bytes = encodeUtf8(string.slice(i, i + units));
      if (written + bytes.length > destination.length) break;
      destination.set(bytes, written);
      written += bytes.length;
      read += units;
      i += units;
    }
    return { read, written };
  }
  get [Symbol.toStringTag]() {
    return "TextEncoder";
  }
}

const WINDOWS_1252 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const LABELS = new Map();
for (const l of ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"]) LABELS.set(l, "utf-8");
for (const l of ["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"]) LABELS.set(l, "utf-16le");
for (const l of ["ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252"]) {
  LABELS.set(l, "windows-1252");
}

function toBytes(input) {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && input instanceof SharedArrayBuffer)) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError('The "input" argument must be an instance of ArrayBuffer or ArrayBufferView');
}

function codeUnitsToString(units, length) {
  let s = "";
  for (let i = 0; i < length; i += 8192) {
    s += String.fromCharCode.apply(null, units.subarray(i, Math.min(i + 8192, length)));
  }
  return s;
}

const STATE = Symbol("state");
class TextDecoder {
  constructor(label = "utf-8", options = {}) {
    const encoding = LABELS.get(String(label).trim().toLowerCase());
    if (!encoding) throw new RangeError(`The "${label}" encoding is not supported`);
    this[STATE] = {
      encoding,
      fatal: Boolean(options && options.fatal),
      ignoreBOM: Boolean(options && options.ignoreBOM),
      pending: [],
      bomSeen: false,
    };
  }
  get encoding() {
    return this[STATE].encoding;
  }
  get fatal() {
    return this[STATE].fatal;
  }
  get ignoreBOM() {
    return this[STATE].ignoreBOM;
  }
  decode(input, options = {}) {
    const state = this[STATE];
    const stream = Boolean(options && options.stream);
    let bytes = toBytes(input);
    if (state.pending.length) {
      const merged = new Uint8Array(state.pending.length + bytes.length);
      merged.set(state.pending);
      merged.set(bytes, state.pending.length);
      bytes = merged;
      state.pending = [];
    }
    let text;
    if (state.encoding === "utf-8") text = this.#utf8(bytes, stream);
    else if (state.encoding === "utf-16le") text = this.#utf16(bytes, stream);
    else {
      const units = new Uint16Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) units[i] = bytes[i] >= 0x80 && bytes[i] < 0xa0 ? WINDOWS_1252[bytes[i] - 0x80] : bytes[i];
      text = codeUnitsToString(units, units.length);
    }
    if (!state.ignoreBOM && !state.bomSeen && text.length) {
      if (text.charCodeAt(0) === 0xfeff && state.encoding !== "windows-1252") text = text.slice(1);
      state.bomSeen = true;
    }
    if (!stream) state.bomSeen = false;
    return text;
  }
  #fail(units, n) {
    if (this[STATE].fatal) throw new TypeError(`The encoded data was not valid for encoding ${this[STATE].encoding}`);
    units[n] = 0xfffd;
    return n + 1;
  }
  #utf8(bytes, stream) {
    const units = new Uint16Array(bytes.length + 1);
    let n = 0;
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i];
      if (b < 0x80) {
        units[n++] = b;
        i++;
        continue;
      }
      let needed = 0;
      let cp = 0;
      let lower = 0x80;
      let upper = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) {
        needed = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        needed = 2;
        cp = b & 0xf;
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        needed = 3;
        cp = b & 0x7;
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
      } else {
        n = this.#fail(units, n);
        i++;
        continue;
      }
      let j = 1;
      let valid = true;
      for (; j <= needed; j++) {
        if (i + j >= bytes.length) break;
        const c = bytes[i + j];
        if (c < lower || c > upper) {
          valid = false;
          break;
        }
        lower = 0x80;
        upper = 0xbf;
        cp = (cp << 6) | (c & 0x3f);
      }
      if (valid && j <= needed) {
        // Truncated sequence at the end of the input.
        if (stream) {
          this[STATE].pending = Array.from(bytes.subarray(i));
          break;
        }
        n = this.#fail(units, n);
        break;
      }
      if (!valid) {
        n = this.#fail(units, n);
        i += j;
        continue;
      }
      if (cp >= 0x10000) {
        if (n + 2 > units.length) break;
        cp -= 0x10000;
        units[n++] = 0xd800 + (cp >> 10);
        units[n++] = 0xdc00 + (cp & 0x3ff);
      } else {
        units[n++] = cp;
      }
      i += needed + 1;
    }
    return codeUnitsToString(units, n);
  }
  #utf16(bytes, stream) {
    let length = bytes.length - (bytes.length % 2);
    const units = new Uint16Array(length / 2 + 1);
    let n = 0;
    for (let i = 0; i < length; i += 2) units[n++] = bytes[i] | (bytes[i + 1] << 8);
    if (stream && n && units[n - 1] >= 0xd800 && units[n - 1] <= 0xdbff) {
      n--;
      length -= 2;
    }
    if (length < bytes.length) {
      if (stream) this[STATE].pending = Array.from(bytes.subarray(length));
      else n = this.#fail(units, n);
    }
    let text = "";
    for (let k = 0; k < n; k++) {
      const u = units[k];
      if (u >= 0xd800 && u <= 0xdbff) {
        const next = units[k + 1];
        if (k + 1 < n && next >= 0xdc00 && next <= 0xdfff) {
          text += String.fromCharCode(u, next);
          k++;
          continue;
        }
        if (this[STATE].fatal) throw new TypeError("The encoded data was not valid for encoding utf-16le");
        text += "\ufffd";
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        if (this[STATE].fatal) throw new TypeError("The encoded data was not valid for encoding utf-16le");
        text += "\ufffd";
      } else {
        text += String.fromCharCode(u);
      }
    }
    return text;
  }
  get [Symbol.toStringTag]() {
    return "TextDecoder";
  }
}

internals.defineGlobal("TextEncoder", TextEncoder);
internals.defineGlobal("TextDecoder", TextDecoder);

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) BASE64_INDEX[BASE64.charCodeAt(i)] = i;

function invalidCharacter(message) {
  return new DOMException(message, "InvalidCharacterError");
}

function btoa(data) {
  if (arguments.length === 0) throw new TypeError('The "data" argument must be specified');
  const s = String(data);
  let out = "";
  for (let i = 0; i < s.length; i += 3) {
    const a = s.charCodeAt(i);
    const b = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    const c = i + 2 < s.length ? s.charCodeAt(i + 2) : 0;
    if (a > 255 || b > 255 || c > 255) throw invalidCharacter("Invalid character");
    const n = (a << 16) | (b << 8) | c;
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63];
    out += i + 1 < s.length ? BASE64[(n >> 6) & 63] : "=";
    out += i + 2 < s.length ? BASE64[n & 63] : "=";
  }
  return out;
}

function atob(data) {
  if (arguments.length === 0) throw new TypeError('The "data" argument must be specified');
  let s = String(data).replace(/[\t\n\f\r ]/g, "");
  if (s.length % 4 === 0) s = s.replace(/={1,2}$/, "");
  if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw invalidCharacter("The string to be decoded is not correctly encoded.");
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    buffer = (buffer << 6) | BASE64_INDEX[s.charCodeAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((buffer >> bits) & 0xff);
    }
  }
  return out;
}
internals.defineGlobal("btoa", btoa);
internals.defineGlobal("atob", atob);
