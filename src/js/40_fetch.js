"use strict";
// lazy-globals: Blob File FormData Headers Request Response fetch
// lazy-internals: op_complete bufferedBody
// Blob, File, FormData, Headers, Request, Response and fetch. fetch hands the request to
// host.op_fetch (reqwest on the Rust side, under the embedder's network policy); the Rust event
// loop delivers the outcome through internals.op_complete.

const encoder = new TextEncoder();
const decoder = () => new TextDecoder();

function bytesOf(part) {
  if (part instanceof Uint8Array) return part;
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  if (Object.prototype.toString.call(part) === "[object ArrayBuffer]") return new Uint8Array(part);
  return null;
}

function concat(chunks) {
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Blob and File.

const BLOB = Symbol("blob");
class Blob {
  constructor(parts = [], options = {}) {
    if (parts === null || typeof parts !== "object" || typeof parts[Symbol.iterator] !== "function") {
      throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
    }
    const chunks = [];
    for (const part of parts) {
      if (part instanceof Blob) chunks.push(part[BLOB].bytes);
      else chunks.push(bytesOf(part) || encoder.encode(String(part)));
    }
    const type = options && options.type !== undefined ? String(options.type) : "";
    this[BLOB] = { bytes: concat(chunks), type: /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : "" };
  }
  get size() {
    return this[BLOB].bytes.length;
  }
  get type() {
    return this[BLOB].type;
  }
  slice(start = 0, end = this.size, contentType = "") {
    const size = this.size;
    const clamp = (n) => (n < 0 ? Math.max(size + n, 0) : Math.min(n, size));
    const s = clamp(Math.trunc(Number(start)) || 0);
    const e = clamp(end === undefined ? size : Math.trunc(Number(end)) || 0);
    const blob = new Blob([], { type: contentType });
    blob[BLOB].bytes = this[BLOB].bytes.slice(s, Math.max(s, e));
    return blob;
  }
  async text() {
    return decoder().decode(this[BLOB].bytes);
  }
  async arrayBuffer() {
    return this[BLOB].bytes.slice().buffer;
  }
  async bytes() {
    return this[BLOB].bytes.slice();
  }
  stream() {
    const bytes = this[BLOB].bytes.slice();
    return new ReadableStream({
      start(controller) {
        if (bytes.length) controller.enqueue(bytes);
        controller.close();
      },
    });
  }
  get [Symbol.toStringTag]() {
    return "Blob";
  }
}

class File extends Blob {
  #name;
  #lastModified;
  constructor(parts, name, options = {}) {
    if (arguments.length < 2) throw new TypeError("Failed to construct 'File': 2 arguments required.");
    super(parts, options);
    this.#name = String(name);
    this.#lastModified = options && options.lastModified !== undefined ? Number(options.lastModified) : Date.now();
  }
  get name() {
    return this.#name;
  }
  get lastModified() {
    return this.#lastModified;
  }
  get webkitRelativePath() {
    return "";
  }
  get [Symbol.toStringTag]() {
    return "File";
  }
}

// ---------------------------------------------------------------------------------------------
// FormData.

const ENTRIES = Symbol("entries");
function formValue(value, filename) {
  if (value instanceof Blob) {
    if (!(value instanceof File) || filename !== undefined) {
      return new File([value], filename !== undefined ? String(filename) : value instanceof File ? value.name : "blob", {
        type: value.type,
        lastModified: value instanceof File ? value.lastModified : undefined,
      });
    }
    return value;
  }
  return String(value);
}
class FormData {
  constructor(form) {
    if (form !== undefined) throw new TypeError("FormData: HTML form elements are not supported");
    this[ENTRIES] = [];
  }
  append(name, value, filename) {
    this[ENTRIES].push([String(name), formValue(value, filename)]);
  }
  set(name, value, filename) {
    name = String(name);
    const entry = [name, formValue(value, filename)];
    const index = this[ENTRIES].findIndex(([k]) => k === name);
    if (index < 0) this[ENTRIES].push(entry);
    else {
      this[ENTRIES][index] = entry;
      this[ENTRIES] = this[ENTRIES].filter(([k], i) => k !== name || i === index);
    }
  }
  get(name) {
    const entry = this[ENTRIES].find(([k]) => k === String(name));
    return entry ? entry[1] : null;
  }
  getAll(name) {
    return this[ENTRIES].filter(([k]) => k === String(name)).map(([, v]) => v);
  }
  has(name) {
    return this[ENTRIES].some(([k]) => k === String(name));
  }
  delete(name) {
    this[ENTRIES] = this[ENTRIES].filter(([k]) => k !== String(name));
  }
  forEach(callback, thisArg) {
    for (const [k, v] of this[ENTRIES].slice()) Reflect.apply(callback, thisArg, [v, k, this]);
  }
  *entries() {
    for (const [k, v] of this[ENTRIES].slice()) yield [k, v];
  }
  *keys() {
    for (const [k] of this[ENTRIES].slice()) yield k;
  }
  *values() {
    for (const [, v] of this[ENTRIES].slice()) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  get [Symbol.toStringTag]() {
    return "FormData";
  }
}

function encodeMultipart(form) {
  let boundary = "----coldstartFormBoundary";
  const random = new Uint8Array(12);
  host.random_fill(random);
  for (const b of random) boundary += b.toString(16).padStart(2, "0");
  const escape = (s) => s.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
  const chunks = [];
  for (const [name, value] of form[ENTRIES]) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escape(name)}"`;
    if (value instanceof File) {
      head += `; filename="${escape(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
      chunks.push(encoder.encode(head), value[BLOB].bytes, encoder.encode("\r\n"));
    } else {
      chunks.push(encoder.encode(head + "\r\n\r\n" + value.replace(/\r?\n|\r/g, "\r\n") + "\r\n"));
    }
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  return { bytes: concat(chunks), type: "multipart/form-data; boundary=" + boundary };
}

function parseMultipart(bytes, contentType) {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!match) throw new TypeError("Missing boundary in multipart/form-data content type");
  const boundary = match[1] || match[2];
  const text = new TextDecoder("latin1").decode(bytes);
  const form = new FormData();
  for (const part of text.split("--" + boundary).slice(1)) {
    if (part.startsWith("--")) break;
    const end = part.indexOf("\r\n\r\n");
    if (end < 0) continue;
    const headers = part.slice(2, end);
    let body = part.slice(end + 4);
    if (body.endsWith("\r\n")) body = body.slice(0, -2);
    const name = /name="([^"]*)"/i.exec(headers);
    const filename = /filename="([^"]*)"/i.exec(headers);
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers);
    const raw = Uint8Array.from(body, (c) => c.charCodeAt(0));
    if (!name) continue;
    if (filename) form.append(name[1], new File([raw], filename[1], { type: type ? type[1] : "" }));
    else form.append(name[1], new TextDecoder().decode(raw));
  }
  return form;
}

// ---------------------------------------------------------------------------------------------
// Headers.

const HEADER_LIST = Symbol("headerList");
const GUARD = Symbol("guard");
// Headers are checked on every request, and a snapshot keeps no compiled regular expression
// (see 22_url.js): loops over code units, each equal to the regexp named beside it.
const TOKEN_PUNCTUATION = "!#$%&'*+-.^_`|~";
/** `/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/`: an HTTP token. */
function isToken(text) {
  if (text === "") return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const alphanumeric = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alphanumeric && (c > 0x7e || !TOKEN_PUNCTUATION.includes(text[i]))) return false;
  }
  return true;
}
const isHttpWhitespace = (c) => c === 0x09 || c === 0x0a || c === 0x0d || c === 0x20;
/** `String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "")`. */
function normalizeValue(value) {
  const text = String(value);
  let start = 0;
  let end = text.length;
  while (start < end && isHttpWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
function checkHeader(name, value) {
  if (!isToken(name)) throw new TypeError(`Header name must be a valid HTTP token ["${name}"]`);
  // `/[\0\r\n]/.test(value)`
  if (value.includes("\0") || value.includes("\r") || value.includes("\n")) {
    throw new TypeError(`Invalid value for header "${name}"`);
  }
}

class Headers {
  constructor(init) {
    this[HEADER_LIST] = [];
    this[GUARD] = "none";
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      for (const [k, v] of init[HEADER_LIST]) this.append(k, v);
    } else if (typeof init === "object" && typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        const entry = Array.from(pair);
        if (entry.length !== 2) throw new TypeError("Headers constructor: expected name/value pair to be length 2");
        this.append(entry[0], entry[1]);
      }
    } else if (typeof init === "object") {
      for (const key of Object.keys(init)) this.append(key, init[key]);
    } else {
      throw new TypeError("Headers constructor: invalid init");
    }
  }
  #mutable() {
    if (this[GUARD] === "immutable") throw new TypeError("Headers are immutable");
  }
  append(name, value) {
    this.#mutable();
    name = String(name);
    value = normalizeValue(value);
    checkHeader(name, value);
    this[HEADER_LIST].push([name.toLowerCase(), value]);
  }
  delete(name) {
    this.#mutable();
    name = String(name).toLowerCase();
    this[HEADER_LIST] = this[HEADER_LIST].filter(([k]) => k !== name);
  }
  get(name) {
    name = String(name).toLowerCase();
    const values = this[HEADER_LIST].filter(([k]) => k === name).map(([, v]) => v);
    return values.length ? values.join(", ") : null;
  }
  getSetCookie() {
    return this[HEADER_LIST].filter(([k]) => k === "set-cookie").map(([, v]) => v);
  }
  has(name) {
    name = String(name).toLowerCase();
    return this[HEADER_LIST].some(([k]) => k === name);
  }
  set(name, value) {
    this.#mutable();
    name = String(name);
    value = normalizeValue(value);
    checkHeader(name, value);
    const lower = name.toLowerCase();
    const index = this[HEADER_LIST].findIndex(([k]) => k === lower);
    if (index < 0) this[HEADER_LIST].push([lower, value]);
    else {
      this[HEADER_LIST][index] = [lower, value];
      this[HEADER_LIST] = this[HEADER_LIST].filter(([k], i) => k !== lower || i === index);
    }
  }
  #sorted() {
    const names = [...new Set(this[HEADER_LIST].map(([k]) => k))].sort();
    const out = [];
    for (const name of names) {
      if (name === "set-cookie") for (const v of this.getSetCookie()) out.push([name, v]);
      else out.push([name, this.get(name)]);
    }
    return out;
  }
  forEach(callback, thisArg) {
    for (const [k, v] of this.#sorted()) Reflect.apply(callback, thisArg, [v, k, this]);
  }
  *entries() {
    yield* this.#sorted();
  }
  *keys() {
    for (const [k] of this.#sorted()) yield k;
  }
  *values() {
    for (const [, v] of this.#sorted()) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  get [Symbol.toStringTag]() {
    return "Headers";
  }
}

// ---------------------------------------------------------------------------------------------
// Bodies.

const BODY = Symbol("body");
function extractBody(init) {
  if (init === null || init === undefined) return { source: null, type: null };
  if (typeof init === "string") return { source: encoder.encode(init), type: "text/plain;charset=UTF-8" };
  if (init instanceof URLSearchParams) return { source: encoder.encode(init.toString()), type: "application/x-www-form-urlencoded;charset=UTF-8" };
  if (init instanceof Blob) return { source: init[BLOB].bytes.slice(), type: init.type || null };
  if (init instanceof FormData) {
    const { bytes, type } = encodeMultipart(init);
    return { source: bytes, type };
  }
  if (init instanceof ReadableStream) return { source: init, type: null };
  const bytes = bytesOf(init);
  if (bytes) return { source: bytes.slice(), type: null };
  return { source: encoder.encode(String(init)), type: "text/plain;charset=UTF-8" };
}

function initBody(object, init, headers) {
  const { source, type } = extractBody(init);
  object[BODY] = { source, stream: null, used: false };
  if (type && !headers.has("content-type")) headers.set("content-type", type);
}

async function consumeBody(object) {
  const body = object[BODY];
  if (body.used) throw new TypeError("Body is unusable: Body has already been read");
  body.used = true;
  if (body.stream) {
    if (body.stream.locked) throw new TypeError("Body is unusable: the body stream is locked");
    return readAll(body.stream);
  }
  if (body.source === null) return new Uint8Array(0);
  if (body.source instanceof ReadableStream) return readAll(body.source);
  return body.source;
}

async function readAll(stream) {
  const reader = stream.getReader();
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const bytes = bytesOf(value);
    if (!bytes) throw new TypeError("Body stream chunks must be Uint8Array");
    chunks.push(bytes);
  }
  return concat(chunks);
}

const BodyMixin = {
  get body() {
    const body = this[BODY];
    if (body.source === null) return null;
    if (!body.stream) {
      if (body.source instanceof ReadableStream) body.stream = body.source;
      else {
        const bytes = body.source;
        body.stream = new ReadableStream({
          start(controller) {
            if (bytes.length) controller.enqueue(bytes);
            controller.close();
          },
        });
      }
    }
    return body.stream;
  },
  get bodyUsed() {
    return this[BODY].used;
  },
  async arrayBuffer() {
    const bytes = await consumeBody(this);
    return bytes.slice().buffer;
  },
  async bytes() {
    return (await consumeBody(this)).slice();
  },
  async text() {
    return decoder().decode(await consumeBody(this));
  },
  async json() {
    return JSON.parse(decoder().decode(await consumeBody(this)));
  },
  async blob() {
    const bytes = await consumeBody(this);
    return new Blob([bytes], { type: this.headers.get("content-type") || "" });
  },
  async formData() {
    const type = this.headers.get("content-type") || "";
    const bytes = await consumeBody(this);
    if (/^application\/x-www-form-urlencoded/i.test(type)) {
      const form = new FormData();
      for (const [k, v] of internals.parseForm(decoder().decode(bytes))) form.append(k, v);
      return form;
    }
    if (/^multipart\/form-data/i.test(type)) return parseMultipart(bytes, type);
    throw new TypeError("Could not parse content as FormData.");
  },
};

function mixBody(Class) {
  for (const key of Object.getOwnPropertyNames(BodyMixin)) {
    Object.defineProperty(Class.prototype, key, Object.getOwnPropertyDescriptor(BodyMixin, key));
  }
}

function cloneBody(object) {
  const body = object[BODY];
  if (body.used) throw new TypeError("Body has already been consumed.");
  if (body.source instanceof ReadableStream || body.stream) {
    const [a, b] = (body.stream || body.source).tee();
    body.source = a;
    body.stream = null;
    return b;
  }
  return body.source === null ? null : body.source.slice();
}

// ---------------------------------------------------------------------------------------------
// Request.

const REQUEST = Symbol("request");
// Normalised to upper case (PATCH is deliberately not, per the Fetch standard).
const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
function normalizeMethod(method) {
  method = String(method);
  if (!isToken(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = method.toUpperCase();
  if (["CONNECT", "TRACE", "TRACK"].includes(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return METHODS.includes(upper) ? upper : method;
}

class Request {
  constructor(input, init = {}) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Request': 1 argument required");
    init = init || {};
    const from = input instanceof Request ? input : null;
    let url;
    if (from) url = from.url;
    else {
      try {
        url = new URL(String(input)).href;
      } catch {
        throw new TypeError("Failed to parse URL from " + String(input));
      }
    }
    const parsed = new URL(url);
    if (parsed.username || parsed.password) throw new TypeError("Request cannot be constructed from a URL that includes credentials: " + url);
    const method = init.method !== undefined ? normalizeMethod(init.method) : from ? from.method : "GET";
    const headers = new Headers(init.headers !== undefined ? init.headers : from ? from.headers : undefined);
    const body = init.body !== undefined ? init.body : from ? cloneBody(from) : null;
    if ((method === "GET" || method === "HEAD") && body !== null && body !== undefined) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    this[REQUEST] = {
      method,
      url,
      headers,
      redirect: init.redirect !== undefined ? String(init.redirect) : from ? from.redirect : "follow",
      signal: init.signal !== undefined && init.signal !== null ? init.signal : from ? from.signal : new AbortController().signal,
      credentials: init.credentials !== undefined ? String(init.credentials) : "same-origin",
      mode: init.mode !== undefined ? String(init.mode) : "cors",
      cache: init.cache !== undefined ? String(init.cache) : "default",
      referrer: init.referrer !== undefined ? String(init.referrer) : "about:client",
      referrerPolicy: init.referrerPolicy !== undefined ? String(init.referrerPolicy) : "",
      integrity: init.integrity !== undefined ? String(init.integrity) : "",
      keepalive: Boolean(init.keepalive),
      duplex: init.duplex,
    };
    if (!["follow", "error", "manual"].includes(this[REQUEST].redirect)) {
      throw new TypeError(`'${this[REQUEST].redirect}' is not a valid redirect mode.`);
    }
    initBody(this, body, headers);
  }
  get method() {
    return this[REQUEST].method;
  }
  get url() {
    return this[REQUEST].url;
  }
  get headers() {
    return this[REQUEST].headers;
  }
  get redirect() {
    return this[REQUEST].redirect;
  }
  get signal() {
    return this[REQUEST].signal;
  }
  get credentials() {
    return this[REQUEST].credentials;
  }
  get mode() {
    return this[REQUEST].mode;
  }
  get cache() {
    return this[REQUEST].cache;
  }
  get referrer() {
    return this[REQUEST].referrer;
  }
  get referrerPolicy() {
    return this[REQUEST].referrerPolicy;
  }
  get integrity() {
    return this[REQUEST].integrity;
  }
  get keepalive() {
    return this[REQUEST].keepalive;
  }
  get destination() {
    return "";
  }
  get duplex() {
    return "half";
  }
  clone() {
    return new Request(this);
  }
  get [Symbol.toStringTag]() {
    return "Request";
  }
}
mixBody(Request);

// ---------------------------------------------------------------------------------------------
// Response.

const RESPONSE = Symbol("response");
const NETWORK = Symbol("network");
const NULL_BODY_STATUS = [101, 103, 204, 205, 304];
class Response {
  constructor(body = null, init = {}, network) {
    init = init || {};
    const status = init.status !== undefined ? Number(init.status) : 200;
    if (network !== NETWORK && (!Number.isInteger(status) || status < 200 || status > 599)) {
      throw new RangeError(`Failed to construct 'Response': The status provided (${init.status}) is outside the range [200, 599].`);
    }
    const statusText = init.statusText !== undefined ? String(init.statusText) : "";
    if (statusText !== "" && /[^\t\x20-\x7e\x80-\xff]/.test(statusText)) throw new TypeError("Invalid statusText");
    const headers = new Headers(init.headers);
    if (body !== null && body !== undefined && NULL_BODY_STATUS.includes(status)) {
      throw new TypeError("Response with null body status cannot have body");
    }
    this[RESPONSE] = { status, statusText, headers, type: "default", url: "", redirected: false };
    initBody(this, body, headers);
  }
  static error() {
    const response = new Response(null, { status: 0 }, NETWORK);
    response[RESPONSE].type = "error";
    response[RESPONSE].headers[GUARD] = "immutable";
    return response;
  }
  static redirect(url, status = 302) {
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError("Invalid status code " + status);
    const location = new URL(String(url)).href;
    const response = new Response(null, { status, headers: { location } });
    response[RESPONSE].headers[GUARD] = "immutable";
    return response;
  }
  static json(data, init = {}) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Value is not JSON serializable");
    const headers = new Headers(init && init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(text, { ...(init || {}), headers });
  }
  get status() {
    return this[RESPONSE].status;
  }
  get statusText() {
    return this[RESPONSE].statusText;
  }
  get ok() {
    return this[RESPONSE].status >= 200 && this[RESPONSE].status <= 299;
  }
  get headers() {
    return this[RESPONSE].headers;
  }
  get type() {
    return this[RESPONSE].type;
  }
  get url() {
    return this[RESPONSE].url;
  }
  get redirected() {
    return this[RESPONSE].redirected;
  }
  clone() {
    const copy = new Response(cloneBody(this), { status: this.status, statusText: this.statusText, headers: this.headers }, NETWORK);
    Object.assign(copy[RESPONSE], { type: this.type, url: this.url, redirected: this.redirected });
    return copy;
  }
  get [Symbol.toStringTag]() {
    return "Response";
  }
}
mixBody(Response);

// ---------------------------------------------------------------------------------------------
// fetch.

const pending = new Map();
let nextOp = 1;

internals.op_complete = (id, error, value) => {
  const op = pending.get(id);
  if (!op) return;
  pending.delete(id);
  op.cleanup();
  if (error) {
    const message = String(error.message);
    op.reject(error.name === "TypeError" ? new TypeError(message) : new DOMException(message, String(error.name)));
    return;
  }
  let response;
  try {
    const body = value.body && value.body.length && !NULL_BODY_STATUS.includes(value.status) ? value.body : null;
    response = new Response(body, { status: value.status, statusText: value.statusText, headers: value.headers }, NETWORK);
  } catch (cause) {
    op.reject(new TypeError("fetch failed: invalid response (" + cause.message + ")"));
    return;
  }
  response[RESPONSE].type = "basic";
  response[RESPONSE].url = value.url;
  response[RESPONSE].redirected = Boolean(value.redirected);
  response[RESPONSE].headers[GUARD] = "immutable";
  op.resolve(response);
};

function fetch(input, init) {
  return new Promise((resolve, reject) => {
    const request = new Request(input, init);
    const signal = request.signal;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const id = nextOp++;
    const onAbort = () => {
      if (!pending.has(id)) return;
      pending.delete(id);
      host.op_cancel(id);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    pending.set(id, { resolve, reject, cleanup: () => signal.removeEventListener("abort", onAbort) });
    const start = (bytes) => {
      if (!pending.has(id)) return;
      host.op_fetch(id, {
        method: request.method,
        url: request.url,
        headers: request.headers[HEADER_LIST].map(([k, v]) => [k, v]),
        body: bytes,
        redirect: request.redirect,
      });
    };
    if (request[BODY].source === null) start(null);
    else
      consumeBody(request).then(start, (error) => {
        pending.delete(id);
        reject(error);
      });
  });
}

internals.defineGlobal("Blob", Blob);
internals.defineGlobal("File", File);
internals.defineGlobal("FormData", FormData);
internals.defineGlobal("Headers", Headers);
internals.defineGlobal("Request", Request);
internals.defineGlobal("Response", Response);
internals.defineGlobal("fetch", fetch);

// The bytes of a body that was given whole (string, bytes, Blob...) and not read yet, marking it
// used; `undefined` for a stream body. Lets the server send such a response without a stream.
internals.bufferedBody = (object) => {
  const body = object[BODY];
  if (body.used || body.stream || body.source instanceof ReadableStream) return undefined;
  body.used = true;
  return body.source === null ? null : body.source;
};
