"use strict";
// MessageChannel / MessagePort: structured-cloned messages delivered asynchronously (one
// macrotask per message, like a browser), as MessageEvents.

class MessageEvent extends Event {
  #data;
  #ports;
  constructor(type, init = {}) {
    super(type, init);
    this.#data = init && "data" in init ? init.data : null;
    this.#ports = init && init.ports ? Array.from(init.ports) : [];
  }
  get data() {
    return this.#data;
  }
  get ports() {
    return this.#ports;
  }
  get origin() {
    return "";
  }
  get lastEventId() {
    return "";
  }
  get source() {
    return null;
  }
  get [Symbol.toStringTag]() {
    return "MessageEvent";
  }
}

const PORT = Symbol("port");
const CONSTRUCT = Symbol("construct");
class MessagePort extends EventTarget {
  constructor(token) {
    if (token !== CONSTRUCT) throw new TypeError("Illegal constructor");
    super();
    this[PORT] = { other: null, closed: false, started: false, queue: [] };
  }
  postMessage(message) {
    const state = this[PORT];
    if (state.closed || !state.other) return;
    const data = structuredClone(message);
    const target = state.other;
    setImmediate(() => {
      const other = target[PORT];
      if (other.closed) return;
      if (!other.started) {
        other.queue.push(data);
        return;
      }
      target.dispatchEvent(new MessageEvent("message", { data }));
    });
  }
  start() {
    const state = this[PORT];
    if (state.started) return;
    state.started = true;
    const queued = state.queue.splice(0);
    for (const data of queued) this.dispatchEvent(new MessageEvent("message", { data }));
  }
  close() {
    this[PORT].closed = true;
    if (this[PORT].other) this[PORT].other[PORT].other = null;
  }
  get [Symbol.toStringTag]() {
    return "MessagePort";
  }
}
// Setting onmessage starts the port, as in browsers.
internals.defineEventHandler(MessagePort.prototype, "message", function () {
  this.start();
});

class MessageChannel {
  #port1 = new MessagePort(CONSTRUCT);
  #port2 = new MessagePort(CONSTRUCT);
  constructor() {
    this.#port1[PORT].other = this.#port2;
    this.#port2[PORT].other = this.#port1;
  }
  get port1() {
    return this.#port1;
  }
  get port2() {
    return this.#port2;
  }
  get [Symbol.toStringTag]() {
    return "MessageChannel";
  }
}

internals.defineGlobal("MessageEvent", MessageEvent);
internals.defineGlobal("MessagePort", MessagePort);
internals.defineGlobal("MessageChannel", MessageChannel);
