"use strict";
// structuredClone: the HTML structured clone algorithm for the types a server bundle can hold
// (primitives, wrappers, Date, RegExp, ArrayBuffer and views, Map, Set, Error types, arrays,
// plain objects, cycles, Blob/File). Functions, symbols and other platform objects throw
// DataCloneError.

const ERROR_TYPES = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
const TYPED_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];

function dataCloneError(what) {
  return new DOMException(what + " could not be cloned.", "DataCloneError");
}

function clone(value, memory) {
  const type = typeof value;
  if (type === "symbol") throw dataCloneError(String(value));
  if (type === "function") throw dataCloneError(Function.prototype.toString.call(value).slice(0, 60));
  if (type !== "object" || value === null) return value;
  if (memory.has(value)) return memory.get(value);
  const tag = Object.prototype.toString.call(value);
  let out;
  switch (tag) {
    case "[object Boolean]":
      out = Object(Boolean.prototype.valueOf.call(value));
      break;
    case "[object Number]":
      out = Object(Number.prototype.valueOf.call(value));
      break;
    case "[object String]":
      out = Object(String.prototype.valueOf.call(value));
      break;
    case "[object BigInt]":
      out = Object(BigInt.prototype.valueOf.call(value));
      break;
    case "[object Date]":
      out = new Date(Date.prototype.getTime.call(value));
      break;
    case "[object RegExp]":
      out = new RegExp(value.source, value.flags);
      break;
    case "[object ArrayBuffer]":
      out = ArrayBuffer.prototype.slice.call(value, 0);
      break;
    case "[object DataView]": {
      const buffer = clone(value.buffer, memory);
      out = new DataView(buffer, value.byteOffset, value.byteLength);
      break;
    }
    case "[object Map]":
      out = new Map();
      memory.set(value, out);
      for (const [k, v] of Map.prototype.entries.call(value)) out.set(clone(k, memory), clone(v, memory));
      return out;
    case "[object Set]":
      out = new Set();
      memory.set(value, out);
      for (const v of Set.prototype.values.call(value)) out.add(clone(v, memory));
      return out;
    case "[object Error]": {
      const name = value.name;
      const Ctor = Object.prototype.hasOwnProperty.call(ERROR_TYPES, name) ? ERROR_TYPES[name] : Error;
      out = new Ctor();
      memory.set(value, out);
      Object.defineProperty(out, "message", { value: String(value.message ?? ""), writable: true, configurable: true });
      if (typeof value.stack === "string") Object.defineProperty(out, "stack", { value: value.stack, writable: true, configurable: true });
      if ("cause" in value) Object.defineProperty(out, "cause", { value: clone(value.cause, memory), writable: true, configurable: true });
      return out;
    }
    case "[object Array]":
      out = new Array(value.length);
      memory.set(value, out);
      for (const key of Object.keys(value)) out[key] = clone(value[key], memory);
      return out;
    default:
      if (ArrayBuffer.isView(value)) {
        const Ctor = TYPED_ARRAYS.find((T) => value instanceof T);
        const buffer = clone(value.buffer, memory);
        out = new Ctor(buffer, value.byteOffset, value.length);
        break;
      }
      // Read without loading the fetch polyfill: until it is loaded, no Blob can exist.
      const BlobClass = internals.loadedGlobal("Blob");
      const FileClass = internals.loadedGlobal("File");
      if (typeof BlobClass === "function" && value instanceof BlobClass) {
        out = value.slice(0, value.size, value.type);
        if (typeof FileClass === "function" && value instanceof FileClass) out = new File([out], value.name, { type: value.type, lastModified: value.lastModified });
        break;
      }
      if (tag !== "[object Object]" && !(Symbol.toStringTag in value)) throw dataCloneError(tag);
      if (typeof value.then === "function" && value instanceof Promise) throw dataCloneError("#<Promise>");
      if (value instanceof WeakMap || value instanceof WeakSet) throw dataCloneError(tag);
      out = {};
      memory.set(value, out);
      for (const key of Object.keys(value)) out[key] = clone(value[key], memory);
      return out;
  }
  memory.set(value, out);
  return out;
}

internals.defineGlobal("structuredClone", function structuredClone(value, options) {
  if (arguments.length === 0) throw new TypeError('The "value" argument must be specified');
  void options;
  return clone(value, new Map());
});
