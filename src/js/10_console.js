"use strict";
// console, and the Node-style inspect/format it prints with (exposed as coldstart.inspect and
// coldstart.format). Output goes to host.log(level, message) -> tracing on the Rust side.

const defineHidden = (object, name, value) =>
  Object.defineProperty(object, name, { value, writable: true, configurable: true, enumerable: false });
// Shared with the later polyfill files (never reachable from user code).
internals.defineGlobal = (name, value) => defineHidden(globalThis, name, value);
internals.defineHidden = defineHidden;

const coldstart = {};
internals.coldstart = coldstart;
internals.defineGlobal("coldstart", coldstart);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayTag = (value) =>
  Reflect.apply(Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, Symbol.toStringTag).get, value, []);

function quote(string) {
  const escaped = string
    .replace(/\\/g, "\\\\")
    .replace(/\n/g, "\\n")
    .replace(/\t/g, "\\t")
    .replace(/\r/g, "\\r")
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));
  if (!escaped.includes("'")) return "'" + escaped + "'";
  if (!escaped.includes('"')) return '"' + escaped + '"';
  if (!escaped.includes("`") && !escaped.includes("${")) return "`" + escaped + "`";
  return "'" + escaped.replace(/'/g, "\\'") + "'";
}

function formatKey(key) {
  if (typeof key === "symbol") return "[" + key.toString() + "]";
  return IDENTIFIER.test(key) ? key : quote(key);
}

function formatNumber(n) {
  return Object.is(n, -0) ? "-0" : String(n);
}

function constructorName(object) {
  let proto = Object.getPrototypeOf(object);
  if (proto === null) return null;
  const ctor = Object.getOwnPropertyDescriptor(proto, "constructor");
  return ctor && typeof ctor.value === "function" && ctor.value.name ? ctor.value.name : "";
}

function functionLabel(fn) {
  const source = Function.prototype.toString.call(fn);
  if (source.startsWith("class")) return "[class " + (fn.name || "(anonymous)") + "]";
  const kind =
    fn.constructor && fn.constructor.name && fn.constructor.name !== "Function" ? fn.constructor.name : "Function";
  return "[" + kind + (fn.name ? ": " + fn.name : " (anonymous)") + "]";
}

function wrap(prefix, entries, open, close, indent) {
  if (entries.length === 0) return prefix + open + close;
  const start = prefix + open;
  const oneLine = start + " " + entries.join(", ") + " " + close;
  if (oneLine.length <= 72 && !entries.some((e) => e.includes("\n"))) return oneLine;
  const pad = " ".repeat(indent + 2);
  return start + "\n" + entries.map((e) => pad + e).join(",\n") + "\n" + " ".repeat(indent) + close;
}

function inspectValue(value, ctx, depth, indent) {
  switch (typeof value) {
    case "string":
      return depth === 0 && ctx.topLevelRaw ? value : quote(value);
    case "number":
      return formatNumber(value);
    case "bigint":
      return value + "n";
    case "boolean":
    case "undefined":
      return String(value);
    case "symbol":
      return value.toString();
    case "function": {
      const label = functionLabel(value);
      const keys = Object.keys(value);
      if (keys.length === 0 || depth > ctx.depth) return label;
      return inspectObjectEntries(value, keys, ctx, depth, indent, label + " ");
    }
  }
  if (value === null) return "null";
  if (ctx.seen.includes(value)) return "[Circular *1]";
  if (depth > ctx.depth) {
    if (Array.isArray(value)) return "[Array]";
    const name = constructorName(value);
    return "[" + (name === null ? "Object: null prototype" : name || "Object") + "]";
  }
  ctx.seen.push(value);
  try {
    return inspectObject(value, ctx, depth, indent);
  } finally {
    ctx.seen.pop();
  }
}

function inspectObjectEntries(value, keys, ctx, depth, indent, prefix) {
  const entries = keys.map((k) => formatKey(k) + ": " + inspectValue(value[k], ctx, depth + 1, indent + 2));
  return wrap(prefix, entries, "{", "}", indent);
}

function inspectObject(value, ctx, depth, indent) {
  if (value instanceof Error || Object.prototype.toString.call(value) === "[object Error]") {
    const text = typeof value.stack === "string" && value.stack ? value.stack : Error.prototype.toString.call(value);
    const extra = Object.keys(value).filter((k) => k !== "stack" && k !== "message");
    if (extra.length === 0) return depth === 0 ? text : "[" + text.split("\n")[0] + "]";
    return inspectObjectEntries(value, extra, ctx, depth, indent, text + " ");
  }
  if (Array.isArray(value)) {
    const entries = [];
    const limit = Math.min(value.length, 100);
    let holes = 0;
    for (let i = 0; i < limit; i++) {
      if (!(i in value)) {
        holes++;
        continue;
      }
      if (holes) {
        entries.push("<" + holes + " empty item" + (holes > 1 ? "s" : "") + ">");
        holes = 0;
      }
      entries.push(inspectValue(value[i], ctx, depth + 1, indent + 2));
    }
    if (holes) entries.push("<" + holes + " empty item" + (holes > 1 ? "s" : "") + ">");
    if (value.length > limit) entries.push("... " + (value.length - limit) + " more items");
    for (const key of Object.keys(value)) {
      if (!/^\d+$/.test(key)) entries.push(formatKey(key) + ": " + inspectValue(value[key], ctx, depth + 1, indent + 2));
    }
    const name = constructorName(value);
    const prefix = name && name !== "Array" ? name + "(" + value.length + ") " : "";
    return wrap(prefix, entries, "[", "]", indent);
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value.subarray(0, 100), (v) => (typeof v === "bigint" ? v + "n" : formatNumber(v)));
    if (value.length > 100) items.push("... " + (value.length - 100) + " more items");
    return wrap(typedArrayTag(value) + "(" + value.length + ") ", items, "[", "]", indent);
  }
  if (value instanceof ArrayBuffer) {
    const bytes = Array.from(new Uint8Array(value, 0, Math.min(value.byteLength, 50)), (b) =>
      b.toString(16).padStart(2, "0"),
    );
    const contents = "<" + bytes.join(" ") + (value.byteLength > 50 ? " ... " + (value.byteLength - 50) + " more bytes" : "") + ">";
    return "ArrayBuffer { [Uint8Contents]: " + contents + ", byteLength: " + value.byteLength + " }";
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  if (value instanceof RegExp) return RegExp.prototype.toString.call(value);
  if (value instanceof Map) {
    const entries = [];
    for (const [k, v] of value) {
      entries.push(inspectValue(k, ctx, depth + 1, indent + 2) + " => " + inspectValue(v, ctx, depth + 1, indent + 2));
    }
    return wrap("Map(" + value.size + ") ", entries, "{", "}", indent);
  }
  if (value instanceof Set) {
    const entries = [];
    for (const v of value) entries.push(inspectValue(v, ctx, depth + 1, indent + 2));
    return wrap("Set(" + value.size + ") ", entries, "{", "}", indent);
  }
  if (value instanceof Promise) return "Promise { <unknown> }";
  if (value instanceof WeakMap) return "WeakMap { <items unknown> }";
  if (value instanceof WeakSet) return "WeakSet { <items unknown> }";
  for (const [Wrapper, label] of [
    [Number, "Number"],
    [String, "String"],
    [Boolean, "Boolean"],
  ]) {
    if (value instanceof Wrapper) return "[" + label + ": " + inspectValue(value.valueOf(), ctx, depth + 1, indent) + "]";
  }
  const name = constructorName(value);
  const keys = [...Object.keys(value), ...Object.getOwnPropertySymbols(value).filter((s) => Object.prototype.propertyIsEnumerable.call(value, s))];
  const tag = value[Symbol.toStringTag];
  let prefix = name === null ? "[Object: null prototype] " : name && name !== "Object" ? name + " " : "";
  if (typeof tag === "string" && tag && tag !== name) prefix = (name || "Object") + " [" + tag + "] ";
  return inspectObjectEntries(value, keys, ctx, depth, indent, prefix);
}

/** Node-style `util.inspect` (depth 2 by default). */
function inspect(value, options) {
  const depth = options && typeof options.depth === "number" ? options.depth : options && options.depth === null ? Infinity : 2;
  return inspectValue(value, { depth, seen: [], topLevelRaw: false }, 0, 0);
}

/** Node-style `util.format`. */
function format(...args) {
  if (args.length === 0) return "";
  const first = args[0];
  const parts = [];
  let rest = 1;
  if (typeof first === "string") {
    let out = "";
    let last = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first[i] !== "%") continue;
      const spec = first[i + 1];
      if (spec === "%") {
        out += first.slice(last, i) + "%";
        last = i + 2;
        i++;
        continue;
      }
      if (!"sdifjoOc".includes(spec)) continue;
      if (rest >= args.length) continue;
      const arg = args[rest++];
      let text;
      switch (spec) {
        case "s":
          text =
            typeof arg === "bigint"
              ? arg + "n"
              : typeof arg === "symbol"
                ? arg.toString()
                : typeof arg === "object" && arg !== null
                  ? inspect(arg, { depth: 1 })
                  : typeof arg === "number"
                    ? formatNumber(arg)
                    : String(arg);
          break;
        case "d":
          text = typeof arg === "bigint" ? arg + "n" : typeof arg === "object" && arg !== null ? "NaN" : formatNumber(Number(arg));
          break;
        case "i":
          text = typeof arg === "bigint" ? arg + "n" : typeof arg === "object" && arg !== null ? "NaN" : formatNumber(parseInt(arg, 10));
          break;
        case "f":
          text = typeof arg === "symbol" ? "NaN" : formatNumber(parseFloat(arg));
          break;
        case "j":
          try {
            text = JSON.stringify(arg);
          } catch (e) {
            text = "[Circular]";
          }
          break;
        case "o":
        case "O":
          text = inspect(arg, spec === "o" ? { depth: 4 } : undefined);
          break;
        case "c":
          text = "";
          break;
      }
      out += first.slice(last, i) + text;
      last = i + 2;
      i++;
    }
    parts.push(out + first.slice(last));
  } else {
    rest = 0;
  }
  for (let i = rest; i < args.length; i++) {
    const arg = args[i];
    parts.push(typeof arg === "string" ? arg : inspect(arg));
  }
  return parts.join(" ");
}

coldstart.inspect = inspect;
coldstart.format = format;
internals.inspect = inspect;
internals.format = format;

let groupIndent = "";
const counts = new Map();
const timers = new Map();
function emit(level, args) {
  let message = format(...args);
  if (groupIndent) message = message.split("\n").map((line) => groupIndent + line).join("\n");
  host.log(level, message);
}

const console = {
  log: (...args) => emit("info", args),
  info: (...args) => emit("info", args),
  debug: (...args) => emit("debug", args),
  warn: (...args) => emit("warn", args),
  error: (...args) => emit("error", args),
  trace: (...args) => {
    const stack = new Error().stack.split("\n").slice(2).join("\n");
    emit("error", ["Trace" + (args.length ? ": " + format(...args) : "") + "\n" + stack]);
  },
  dir: (value, options) => emit("info", [inspect(value, options)]),
  dirxml: (...args) => emit("info", args),
  table: (data) => emit("info", [data]),
  assert: (condition, ...args) => {
    if (!condition) emit("error", args.length ? ["Assertion failed:", ...args] : ["Assertion failed"]);
  },
  count: (label = "default") => {
    const n = (counts.get(String(label)) || 0) + 1;
    counts.set(String(label), n);
    emit("info", [String(label) + ": " + n]);
  },
  countReset: (label = "default") => counts.delete(String(label)),
  group: (...args) => {
    if (args.length) emit("info", args);
    groupIndent += "  ";
  },
  groupEnd: () => {
    groupIndent = groupIndent.slice(2);
  },
  time: (label = "default") => timers.set(String(label), host.now()),
  timeLog: (label = "default", ...args) => {
    const start = timers.get(String(label));
    if (start === undefined) return emit("warn", ["No such label '" + label + "' for console.timeLog()"]);
    emit("info", [String(label) + ": " + (host.now() - start).toFixed(3) + "ms", ...args]);
  },
  timeEnd: (label = "default") => {
    const start = timers.get(String(label));
    if (start === undefined) return emit("warn", ["No such label '" + label + "' for console.timeEnd()"]);
    timers.delete(String(label));
    emit("info", [String(label) + ": " + (host.now() - start).toFixed(3) + "ms"]);
  },
};
console.groupCollapsed = console.group;
internals.defineGlobal("console", console);

// Uncaught errors from callbacks (timers, microtasks, listeners) are reported, never thrown into
// the host; `internals.report_error` formats one for the Rust side.
internals.report_error = (error) => inspect(error);
internals.reportException = (error) => emit("error", ["Uncaught", error]);
internals.defineGlobal("reportError", (error) => internals.reportException(error));
