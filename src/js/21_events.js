"use strict";
// Event, EventTarget, CustomEvent, AbortController, AbortSignal (abort, timeout, any).

const EVENT = Symbol("event");
class Event {
  constructor(type, init = {}) {
    if (arguments.length === 0) throw new TypeError('The "type" argument must be specified');
    this[EVENT] = {
      type: String(type),
      bubbles: Boolean(init && init.bubbles),
      cancelable: Boolean(init && init.cancelable),
      composed: Boolean(init && init.composed),
      defaultPrevented: false,
      stop: false,
      stopImmediate: false,
      target: null,
      currentTarget: null,
      phase: 0,
      timeStamp: host.now(),
    };
  }
  get type() {
    return this[EVENT].type;
  }
  get bubbles() {
    return this[EVENT].bubbles;
  }
  get cancelable() {
    return this[EVENT].cancelable;
  }
  get composed() {
    return this[EVENT].composed;
  }
  get defaultPrevented() {
    return this[EVENT].defaultPrevented;
  }
  get returnValue() {
    return !this[EVENT].defaultPrevented;
  }
  get target() {
    return this[EVENT].target;
  }
  get srcElement() {
    return this[EVENT].target;
  }
  get currentTarget() {
    return this[EVENT].currentTarget;
  }
  get eventPhase() {
    return this[EVENT].phase;
  }
  get timeStamp() {
    return this[EVENT].timeStamp;
  }
  get isTrusted() {
    return false;
  }
  get cancelBubble() {
    return this[EVENT].stop;
  }
  set cancelBubble(value) {
    if (value) this[EVENT].stop = true;
  }
  preventDefault() {
    if (this[EVENT].cancelable) this[EVENT].defaultPrevented = true;
  }
  stopPropagation() {
    this[EVENT].stop = true;
  }
  stopImmediatePropagation() {
    this[EVENT].stop = true;
    this[EVENT].stopImmediate = true;
  }
  composedPath() {
    return this[EVENT].currentTarget ? [this[EVENT].currentTarget] : [];
  }
  get [Symbol.toStringTag]() {
    return "Event";
  }
}
Object.assign(Event, { NONE: 0, CAPTURING_PHASE: 1, AT_TARGET: 2, BUBBLING_PHASE: 3 });

class CustomEvent extends Event {
  #detail;
  constructor(type, init = {}) {
    super(type, init);
    this.#detail = init && init.detail !== undefined ? init.detail : null;
  }
  get detail() {
    return this.#detail;
  }
  get [Symbol.toStringTag]() {
    return "CustomEvent";
  }
}

const LISTENERS = Symbol("listeners");
function normalizeOptions(options) {
  if (typeof options === "boolean") return { capture: options, once: false, passive: false, signal: undefined };
  options = options || {};
  return { capture: Boolean(options.capture), once: Boolean(options.once), passive: Boolean(options.passive), signal: options.signal };
}

class EventTarget {
  constructor() {
    Object.defineProperty(this, LISTENERS, { value: new Map() });
  }
  addEventListener(type, listener, options) {
    if (listener === null || listener === undefined) return;
    const { capture, once, passive, signal } = normalizeOptions(options);
    if (signal && signal.aborted) return;
    const list = this[LISTENERS].get(String(type)) || [];
    if (list.some((l) => l.listener === listener && l.capture === capture)) return;
    const record = { listener, capture, once, passive, removed: false };
    list.push(record);
    this[LISTENERS].set(String(type), list);
    if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, listener, { capture }), { once: true });
  }
  removeEventListener(type, listener, options) {
    const { capture } = normalizeOptions(options);
    const list = this[LISTENERS].get(String(type));
    if (!list) return;
    const index = list.findIndex((l) => l.listener === listener && l.capture === capture);
    if (index >= 0) {
      list[index].removed = true;
      list.splice(index, 1);
    }
  }
  dispatchEvent(event) {
    if (!(event instanceof Event)) throw new TypeError('The "event" argument must be an instance of Event');
    const state = event[EVENT];
    state.target = this;
    state.currentTarget = this;
    state.phase = 2;
    const list = (this[LISTENERS].get(state.type) || []).slice();
    for (const record of list) {
      if (record.removed) continue;
      if (record.once) this.removeEventListener(state.type, record.listener, { capture: record.capture });
      try {
        if (typeof record.listener === "function") Reflect.apply(record.listener, this, [event]);
        else if (record.listener && typeof record.listener.handleEvent === "function") record.listener.handleEvent(event);
      } catch (error) {
        internals.reportException(error);
      }
      if (state.stopImmediate) break;
    }
    state.currentTarget = null;
    state.phase = 0;
    return !state.defaultPrevented;
  }
  get [Symbol.toStringTag]() {
    return "EventTarget";
  }
}

// `on<event>` handler attributes, as an event listener registered once per target. `onSet` runs
// after every assignment (MessagePort starts itself when `onmessage` is set).
function defineEventHandler(prototype, type, onSet) {
  const slot = Symbol("on" + type);
  Object.defineProperty(prototype, "on" + type, {
    configurable: true,
    enumerable: true,
    get() {
      return this[slot] ? this[slot].handler : null;
    },
    set(handler) {
      if (!this[slot]) {
        const record = { handler: null };
        this[slot] = record;
        this.addEventListener(type, (event) => {
          if (typeof record.handler === "function") Reflect.apply(record.handler, this, [event]);
        });
      }
      this[slot].handler = typeof handler === "function" ? handler : null;
      if (onSet) onSet.call(this);
    },
  });
}
internals.defineEventHandler = defineEventHandler;

const SIGNAL = Symbol("signal");
const CONSTRUCT = Symbol("construct");
class AbortSignal extends EventTarget {
  constructor(token) {
    if (token !== CONSTRUCT) throw new TypeError("Illegal constructor");
    super();
    this[SIGNAL] = { aborted: false, reason: undefined };
  }
  get aborted() {
    return this[SIGNAL].aborted;
  }
  get reason() {
    return this[SIGNAL].reason;
  }
  throwIfAborted() {
    if (this[SIGNAL].aborted) throw this[SIGNAL].reason;
  }
  static abort(reason) {
    const signal = new AbortSignal(CONSTRUCT);
    abortSignal(signal, reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason);
    return signal;
  }
  static timeout(ms) {
    const delay = Number(ms);
    if (!Number.isFinite(delay) || delay < 0) throw new RangeError('The "delay" argument must be a non-negative number');
    const signal = new AbortSignal(CONSTRUCT);
    setTimeout(() => abortSignal(signal, new DOMException("The operation was aborted due to timeout", "TimeoutError")), delay);
    return signal;
  }
  static any(signals) {
    const signal = new AbortSignal(CONSTRUCT);
    for (const source of signals) {
      if (source.aborted) {
        abortSignal(signal, source.reason);
        return signal;
      }
    }
    for (const source of signals) {
      source.addEventListener("abort", () => abortSignal(signal, source.reason), { once: true });
    }
    return signal;
  }
  get [Symbol.toStringTag]() {
    return "AbortSignal";
  }
}
defineEventHandler(AbortSignal.prototype, "abort");

function abortSignal(signal, reason) {
  const state = signal[SIGNAL];
  if (state.aborted) return;
  state.aborted = true;
  state.reason = reason;
  signal.dispatchEvent(new Event("abort"));
}

class AbortController {
  #signal = new AbortSignal(CONSTRUCT);
  get signal() {
    return this.#signal;
  }
  abort(reason) {
    abortSignal(this.#signal, reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason);
  }
  get [Symbol.toStringTag]() {
    return "AbortController";
  }
}

internals.defineGlobal("Event", Event);
internals.defineGlobal("CustomEvent", CustomEvent);
internals.defineGlobal("EventTarget", EventTarget);
internals.defineGlobal("AbortSignal", AbortSignal);
internals.defineGlobal("AbortController", AbortController);
