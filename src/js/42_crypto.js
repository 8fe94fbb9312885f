"use strict";
// crypto.getRandomValues / randomUUID (OS RNG via the host), crypto.subtle.digest and HMAC
// importKey/sign/verify/exportKey. The Rust side computes; JS validates like WebCrypto.

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
const DIGESTS = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const HASH_BLOCK = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };

function normalizeName(algorithm) {
  const name = typeof algorithm === "string" ? algorithm : algorithm && algorithm.name;
  if (typeof name !== "string") throw new TypeError("Algorithm: name is missing");
  return name.toUpperCase();
}

function bufferSource(data, what) {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Object.prototype.toString.call(data) === "[object ArrayBuffer]") return new Uint8Array(data);
  throw new TypeError(`${what} must be an ArrayBuffer or ArrayBufferView`);
}

function notSupported(name) {
  return new DOMException("Unrecognized algorithm name: " + name, "NotSupportedError");
}

const KEY = Symbol("key");
class CryptoKey {
  constructor(token) {
    if (token !== KEY) throw new TypeError("Illegal constructor");
  }
  get type() {
    return this[KEY].type;
  }
  get extractable() {
    return this[KEY].extractable;
  }
  get algorithm() {
    return this[KEY].algorithm;
  }
  get usages() {
    return this[KEY].usages.slice();
  }
  get [Symbol.toStringTag]() {
    return "CryptoKey";
  }
}

class SubtleCrypto {
  async digest(algorithm, data) {
    const name = normalizeName(algorithm);
    if (!DIGESTS.includes(name)) throw notSupported(name);
    return host.digest(name, bufferSource(data, "data"));
  }
  async importKey(format, keyData, algorithm, extractable, usages) {
    const name = normalizeName(algorithm);
    if (name !== "HMAC") throw notSupported(name);
    if (format !== "raw") throw new DOMException("Unsupported key format: " + format, "NotSupportedError");
    const hash = normalizeName(algorithm.hash);
    if (!DIGESTS.includes(hash)) throw notSupported(hash);
    const bytes = bufferSource(keyData, "keyData").slice();
    if (bytes.length === 0) throw new DOMException("HMAC key must not be empty", "DataError");
    for (const usage of usages || []) {
      if (usage !== "sign" && usage !== "verify") throw new SyntaxError("Unsupported key usage for HMAC: " + usage);
    }
    const key = new CryptoKey(KEY);
    key[KEY] = {
      type: "secret",
      extractable: Boolean(extractable),
      algorithm: { name: "HMAC", hash: { name: hash }, length: algorithm.length || bytes.length * 8 || HASH_BLOCK[hash] },
      usages: Array.from(usages || []),
      bytes,
    };
    return key;
  }
  async exportKey(format, key) {
    if (!(key instanceof CryptoKey)) throw new TypeError("key must be a CryptoKey");
    if (!key[KEY].extractable) throw new DOMException("key is not extractable", "InvalidAccessError");
    if (format !== "raw") throw new DOMException("Unsupported key format: " + format, "NotSupportedError");
    return key[KEY].bytes.slice().buffer;
  }
  async sign(algorithm, key, data) {
    const k = checkKey(algorithm, key, "sign");
    return host.hmac(k.algorithm.hash.name, k.bytes, bufferSource(data, "data"));
  }
  async verify(algorithm, key, signature, data) {
    const k = checkKey(algorithm, key, "verify");
    const expected = new Uint8Array(host.hmac(k.algorithm.hash.name, k.bytes, bufferSource(data, "data")));
    const actual = bufferSource(signature, "signature");
    if (expected.length !== actual.length) return false;
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff |= expected[i] ^ actual[i];
    return diff === 0;
  }
  get [Symbol.toStringTag]() {
    return "SubtleCrypto";
  }
}

function checkKey(algorithm, key, usage) {
  const name = normalizeName(algorithm);
  if (name !== "HMAC") throw notSupported(name);
  if (!(key instanceof CryptoKey)) throw new TypeError("key must be a CryptoKey");
  if (key[KEY].algorithm.name !== "HMAC") throw new DOMException("key algorithm mismatch", "InvalidAccessError");
  if (!key[KEY].usages.includes(usage)) throw new DOMException(`key does not support the '${usage}' operation`, "InvalidAccessError");
  return key[KEY];
}

const subtle = new SubtleCrypto();
class Crypto {
  get subtle() {
    return subtle;
  }
  getRandomValues(array) {
    if (!INTEGER_ARRAYS.some((T) => array instanceof T)) {
      throw new DOMException("The data argument must be an integer-type TypedArray", "TypeMismatchError");
    }
    if (array.byteLength > 65536) {
      throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, "QuotaExceededError");
    }
    host.random_fill(array);
    return array;
  }
  randomUUID() {
    return host.random_uuid();
  }
  get [Symbol.toStringTag]() {
    return "Crypto";
  }
}

internals.defineGlobal("CryptoKey", CryptoKey);
internals.defineGlobal("SubtleCrypto", SubtleCrypto);
internals.defineGlobal("Crypto", Crypto);
internals.defineGlobal("crypto", new Crypto());
