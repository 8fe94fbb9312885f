// `node:events` for module workers (nodejs_compat-style built-in module).
//
// A pure-ECMAScript port of Node 20's lib/events.js EventEmitter: the same
// `_events` / `_eventsCount` / `_maxListeners` own-property layout (some npm
// packages poke at them), the same listener ordering, once-wrapper shape
// (`wrapper.listener`), 'newListener'/'removeListener' events, error
// semantics and error codes. EventEmitter is a plain function with a
// prototype, so both `class A extends EventEmitter` and the old
// `EventEmitter.call(this)` + `util.inherits` style work.
// Not included: on() async iterator, EventEmitterAsyncResource, domains,
// getEventListeners()/setMaxListeners() for EventTarget.
// Self-contained: no imports; uses only ECMAScript built-ins and, when
// present, globalThis.process.emitWarning / console.warn.

// ---------------------------------------------------------------------------
// Errors (Node's NodeError shape: a TypeError/RangeError/Error with `code`).

function makeError(Base, code, message) {
  const err = new Base(message);
  Object.defineProperty(err, "code", { value: code, enumerable: true, writable: true, configurable: true });
  return err;
}

function describe(value) {
  if (value == null) return ` Received ${value}`;
  if (typeof value === "function") return ` Received function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") {
    const ctor = value.constructor;
    return ctor && ctor.name ? ` Received an instance of ${ctor.name}` : " Received an object";
  }
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value) + (typeof value === "bigint" ? "n" : "");
  return ` Received type ${typeof value} (${shown})`;
}

const errInvalidArgType = (name, expected, value) =>
  makeError(TypeError, "ERR_INVALID_ARG_TYPE", `The "${name}" argument must be ${expected}.${describe(value)}`);
const errOutOfRange = (name, range, value) =>
  makeError(RangeError, "ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`);

function safeString(value) {
  try {
    if (typeof value === "string") return `'${value}'`;
    if (typeof value === "object" && value !== null) return JSON.stringify(value);
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

// The error `once()` rejects with when its AbortSignal fires.
class AbortError extends Error {
  constructor(message = "The operation was aborted", options = undefined) {
    super(message, options);
    this.code = "ABORT_ERR";
    this.name = "AbortError";
  }
}

function validateFunction(value, name) {
  if (typeof value !== "function") throw errInvalidArgType(name, "of type function", value);
}

function validateNumber(value, name, min) {
  if (typeof value !== "number") throw errInvalidArgType(name, "of type number", value);
  if ((min != null && value < min) || (min != null && Number.isNaN(value))) throw errOutOfRange(name, `>= ${min}`, value);
}

const checkListener = (listener) => validateFunction(listener, "listener");

// ---------------------------------------------------------------------------
// EventEmitter

const kCapture = Symbol("kCapture");
const kErrorMonitor = Symbol("events.errorMonitor");
const kShapeMode = Symbol("shapeMode");
const kRejection = Symbol.for("nodejs.rejection");

let defaultMaxListeners = 10;

export function EventEmitter(opts) {
  EventEmitter.init.call(this, opts);
}

// Shared defaults on the prototype, as in Node.
EventEmitter.prototype._events = undefined;
EventEmitter.prototype._eventsCount = 0;
EventEmitter.prototype._maxListeners = undefined;
EventEmitter.prototype[kCapture] = false;

Object.defineProperties(EventEmitter, {
  captureRejections: {
    enumerable: true,
    get() {
      return EventEmitter.prototype[kCapture];
    },
    set(value) {
      if (typeof value !== "boolean") throw errInvalidArgType("EventEmitter.captureRejections", "of type boolean", value);
      EventEmitter.prototype[kCapture] = value;
    },
  },
  captureRejectionSymbol: { value: kRejection, writable: false, enumerable: true, configurable: true },
  errorMonitor: { value: kErrorMonitor, writable: false, enumerable: true, configurable: true },
  defaultMaxListeners: {
    enumerable: true,
    get() {
      return defaultMaxListeners;
    },
    set(arg) {
      validateNumber(arg, "defaultMaxListeners", 0);
      defaultMaxListeners = arg;
    },
  },
});

EventEmitter.EventEmitter = EventEmitter;
EventEmitter.usingDomains = false;

EventEmitter.init = function init(opts) {
  if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
    this._events = { __proto__: null };
    this._eventsCount = 0;
    this[kShapeMode] = false;
  } else {
    this[kShapeMode] = true;
  }

  this._maxListeners = this._maxListeners || undefined;

  if (opts?.captureRejections) {
    if (typeof opts.captureRejections !== "boolean") {
      throw errInvalidArgType("options.captureRejections", "of type boolean", opts.captureRejections);
    }
    this[kCapture] = Boolean(opts.captureRejections);
  } else {
    this[kCapture] = EventEmitter.prototype[kCapture];
  }
};

// With captureRejections, a listener's rejected promise becomes an 'error'
// event (or a call to emitter[Symbol.for('nodejs.rejection')]).
function addCatch(that, promise, type, args) {
  if (!that[kCapture]) return;
  try {
    const then = promise.then;
    if (typeof then === "function") {
      then.call(promise, undefined, (err) => {
        queueMicrotask(() => emitUnhandledRejectionOrErr(that, err, type, args));
      });
    }
  } catch (err) {
    that.emit("error", err);
  }
}

function emitUnhandledRejectionOrErr(ee, err, type, args) {
  if (typeof ee[kRejection] === "function") {
    ee[kRejection](err, type, ...args);
  } else {
    const prev = ee[kCapture];
    try {
      ee[kCapture] = false;
      ee.emit("error", err);
    } finally {
      ee[kCapture] = prev;
    }
  }
}

EventEmitter.prototype.setMaxListeners = function setMaxListeners(n) {
  validateNumber(n, "setMaxListeners", 0);
  this._maxListeners = n;
  return this;
};

function _getMaxListeners(that) {
  if (that._maxListeners === undefined) return EventEmitter.defaultMaxListeners;
  return that._maxListeners;
}

EventEmitter.prototype.getMaxListeners = function getMaxListeners() {
  return _getMaxListeners(this);
};

EventEmitter.prototype.emit = function emit(type, ...args) {
  let doError = type === "error";

  const events = this._events;
  if (events !== undefined) {
    if (doError && events[kErrorMonitor] !== undefined) this.emit(kErrorMonitor, ...args);
    doError = doError && events.error === undefined;
  } else if (!doError) {
    return false;
  }

  // An 'error' event with no listener throws.
  if (doError) {
    let er;
    if (args.length > 0) er = args[0];
    if (er instanceof Error) throw er; // Unhandled 'error' event
    const err = makeError(Error, "ERR_UNHANDLED_ERROR", er === undefined ? "Unhandled error." : `Unhandled error. (${safeString(er)})`);
    err.context = er;
    throw err; // Unhandled 'error' event
  }

  const handler = events[type];
  if (handler === undefined) return false;

  if (typeof handler === "function") {
    const result = handler.apply(this, args);
    if (result !== undefined && result !== null) addCatch(this, result, type, args);
  } else {
    // Listeners added or removed during emit do not affect this emit.
    const len = handler.length;
    const listeners = handler.slice();
    for (let i = 0; i < len; ++i) {
      const result = listeners[i].apply(this, args);
      if (result !== undefined && result !== null) addCatch(this, result, type, args);
    }
  }
  return true;
};

function warnMaxListeners(target, type, count) {
  const message =
    `Possible EventEmitter memory leak detected. ${count} ${String(type)} listeners added to ` +
    `${target.constructor?.name || "EventEmitter"}. Use emitter.setMaxListeners() to increase limit`;
  const warning = new Error(message);
  warning.name = "MaxListenersExceededWarning";
  warning.emitter = target;
  warning.type = type;
  warning.count = count;
  const proc = globalThis.process;
  if (proc && typeof proc.emitWarning === "function") proc.emitWarning(warning);
  else if (typeof console !== "undefined") console.warn(`${warning.name}: ${message}`);
}

function _addListener(target, type, listener, prepend) {
  checkListener(listener);

  let events = target._events;
  let existing;
  if (events === undefined) {
    events = target._events = { __proto__: null };
    target._eventsCount = 0;
  } else {
    // Emit 'newListener' before adding, so a 'newListener' listener does
    // not see itself.
    if (events.newListener !== undefined) {
      target.emit("newListener", type, listener.listener ?? listener);
      // The handler may have replaced this._events.
      events = target._events;
    }
    existing = events[type];
  }

  if (existing === undefined) {
    // A single listener is stored unwrapped (no array).
    events[type] = listener;
    ++target._eventsCount;
  } else {
    if (typeof existing === "function") {
      existing = events[type] = prepend ? [listener, existing] : [existing, listener];
    } else if (prepend) {
      existing.unshift(listener);
    } else {
      existing.push(listener);
    }

    const m = _getMaxListeners(target);
    if (m > 0 && existing.length > m && !existing.warned) {
      existing.warned = true;
      warnMaxListeners(target, type, existing.length);
    }
  }
  return target;
}

EventEmitter.prototype.addListener = function addListener(type, listener) {
  return _addListener(this, type, listener, false);
};

EventEmitter.prototype.on = EventEmitter.prototype.addListener;

EventEmitter.prototype.prependListener = function prependListener(type, listener) {
  return _addListener(this, type, listener, true);
};

function onceWrapper() {
  if (!this.fired) {
    this.target.removeListener(this.type, this.wrapFn);
    this.fired = true;
    if (arguments.length === 0) return this.listener.call(this.target);
    return this.listener.apply(this.target, arguments);
  }
}

function _onceWrap(target, type, listener) {
  const state = { fired: false, wrapFn: undefined, target, type, listener };
  const wrapped = onceWrapper.bind(state);
  wrapped.listener = listener;
  state.wrapFn = wrapped;
  return wrapped;
}

EventEmitter.prototype.once = function once(type, listener) {
  checkListener(listener);
  this.on(type, _onceWrap(this, type, listener));
  return this;
};

EventEmitter.prototype.prependOnceListener = function prependOnceListener(type, listener) {
  checkListener(listener);
  this.prependListener(type, _onceWrap(this, type, listener));
  return this;
};

EventEmitter.prototype.removeListener = function removeListener(type, listener) {
  checkListener(listener);

  const events = this._events;
  if (events === undefined) return this;

  const list = events[type];
  if (list === undefined) return this;

  if (list === listener || list.listener === listener) {
    this._eventsCount -= 1;
    if (this[kShapeMode]) {
      events[type] = undefined;
    } else if (this._eventsCount === 0) {
      this._events = { __proto__: null };
    } else {
      delete events[type];
      if (events.removeListener) this.emit("removeListener", type, list.listener || listener);
    }
  } else if (typeof list !== "function") {
    let position = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i] === listener || list[i].listener === listener) {
        position = i;
        break;
      }
    }
    if (position < 0) return this;

    if (position === 0) list.shift();
    else list.splice(position, 1);

    if (list.length === 1) events[type] = list[0];

    if (events.removeListener !== undefined) this.emit("removeListener", type, listener);
  }
  return this;
};

EventEmitter.prototype.off = EventEmitter.prototype.removeListener;

EventEmitter.prototype.removeAllListeners = function removeAllListeners(type) {
  const events = this._events;
  if (events === undefined) return this;

  // Not listening for removeListener, no need to emit.
  if (events.removeListener === undefined) {
    if (arguments.length === 0) {
      this._events = { __proto__: null };
      this._eventsCount = 0;
    } else if (events[type] !== undefined) {
      if (--this._eventsCount === 0) this._events = { __proto__: null };
      else delete events[type];
    }
    this[kShapeMode] = false;
    return this;
  }

  // Emit removeListener for all listeners on all events.
  if (arguments.length === 0) {
    for (const key of Reflect.ownKeys(events)) {
      if (key === "removeListener") continue;
      this.removeAllListeners(key);
    }
    this.removeAllListeners("removeListener");
    this._events = { __proto__: null };
    this._eventsCount = 0;
    this[kShapeMode] = false;
    return this;
  }

  const listeners = events[type];
  if (typeof listeners === "function") {
    this.removeListener(type, listeners);
  } else if (listeners !== undefined) {
    // LIFO order
    for (let i = listeners.length - 1; i >= 0; i--) this.removeListener(type, listeners[i]);
  }
  return this;
};

function unwrapListeners(arr) {
  const ret = arr.slice();
  for (let i = 0; i < ret.length; ++i) {
    const orig = ret[i].listener;
    if (typeof orig === "function") ret[i] = orig;
  }
  return ret;
}

function _listeners(target, type, unwrap) {
  const events = target._events;
  if (events === undefined) return [];
  const evlistener = events[type];
  if (evlistener === undefined) return [];
  if (typeof evlistener === "function") return unwrap ? [evlistener.listener || evlistener] : [evlistener];
  return unwrap ? unwrapListeners(evlistener) : evlistener.slice();
}

EventEmitter.prototype.listeners = function listeners(type) {
  return _listeners(this, type, true);
};

EventEmitter.prototype.rawListeners = function rawListeners(type) {
  return _listeners(this, type, false);
};

function listenerCountMethod(type, listener) {
  const events = this._events;
  if (events !== undefined) {
    const evlistener = events[type];
    if (typeof evlistener === "function") {
      if (listener != null) return listener === evlistener || listener === evlistener.listener ? 1 : 0;
      return 1;
    } else if (evlistener !== undefined) {
      if (listener != null) {
        let matching = 0;
        for (let i = 0, l = evlistener.length; i < l; i++) {
          if (evlistener[i] === listener || evlistener[i].listener === listener) matching++;
        }
        return matching;
      }
      return evlistener.length;
    }
  }
  return 0;
}

EventEmitter.prototype.listenerCount = listenerCountMethod;

EventEmitter.prototype.eventNames = function eventNames() {
  return this._eventsCount > 0 ? Reflect.ownKeys(this._events) : [];
};

// ---------------------------------------------------------------------------
// Module functions.

function isEventTarget(obj) {
  return obj != null && typeof obj.addEventListener === "function" && typeof obj.removeEventListener === "function";
}

function eventTargetAgnosticAddListener(emitter, name, listener, flags) {
  if (typeof emitter.on === "function") {
    if (flags?.once) emitter.once(name, listener);
    else emitter.on(name, listener);
  } else if (typeof emitter.addEventListener === "function") {
    emitter.addEventListener(name, listener, flags);
  } else {
    throw errInvalidArgType("emitter", "an instance of EventEmitter or EventTarget", emitter);
  }
}

function eventTargetAgnosticRemoveListener(emitter, name, listener, flags) {
  if (typeof emitter.removeListener === "function") {
    emitter.removeListener(name, listener);
  } else if (typeof emitter.removeEventListener === "function") {
    emitter.removeEventListener(name, listener, flags);
  } else {
    throw errInvalidArgType("emitter", "an instance of EventEmitter or EventTarget", emitter);
  }
}

// once(emitter, name[, { signal }]) -> Promise<args[]>. Rejects on 'error'
// (EventEmitters only) or when the signal aborts. For an EventTarget the
// promise resolves with [event].
export async function once(emitter, name, options = {}) {
  const signal = options?.signal;
  if (signal !== undefined && (signal === null || typeof signal !== "object" || !("aborted" in signal))) {
    throw errInvalidArgType("options.signal", "an instance of AbortSignal", signal);
  }
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });

  return new Promise((resolve, reject) => {
    const errorListener = (err) => {
      emitter.removeListener(name, resolver);
      if (signal != null) eventTargetAgnosticRemoveListener(signal, "abort", abortListener);
      reject(err);
    };
    const resolver = (...args) => {
      if (typeof emitter.removeListener === "function") emitter.removeListener("error", errorListener);
      if (signal != null) eventTargetAgnosticRemoveListener(signal, "abort", abortListener);
      resolve(args);
    };
    eventTargetAgnosticAddListener(emitter, name, resolver, { once: true });
    if (name !== "error" && typeof emitter.once === "function") {
      // EventTargets have no 'error' semantics; only EventEmitters do.
      emitter.once("error", errorListener);
    }
    function abortListener() {
      eventTargetAgnosticRemoveListener(emitter, name, resolver);
      eventTargetAgnosticRemoveListener(emitter, "error", errorListener);
      reject(new AbortError(undefined, { cause: signal?.reason }));
    }
    if (signal != null) eventTargetAgnosticAddListener(signal, "abort", abortListener, { once: true });
  });
}

// getEventListeners(emitter, name): a copy of the (unwrapped) listeners.
export function getEventListeners(emitterOrTarget, type) {
  if (emitterOrTarget != null && typeof emitterOrTarget.listeners === "function") return emitterOrTarget.listeners(type);
  if (isEventTarget(emitterOrTarget)) {
    throw makeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "getEventListeners() is not supported for EventTarget in this runtime");
  }
  throw errInvalidArgType("emitter", "an instance of EventEmitter or EventTarget", emitterOrTarget);
}

// getMaxListeners(emitter) / setMaxListeners(n, ...emitters) (EventEmitters only).
export function getMaxListeners(emitterOrTarget) {
  if (emitterOrTarget != null && typeof emitterOrTarget.getMaxListeners === "function") return _getMaxListeners(emitterOrTarget);
  throw errInvalidArgType("emitter", "an instance of EventEmitter or EventTarget", emitterOrTarget);
}

export function setMaxListeners(n = defaultMaxListeners, ...eventTargets) {
  validateNumber(n, "n", 0);
  if (eventTargets.length === 0) {
    defaultMaxListeners = n;
    return;
  }
  for (const target of eventTargets) {
    if (target != null && typeof target.setMaxListeners === "function") target.setMaxListeners(n);
    else throw errInvalidArgType("eventTargets", "an instance of EventEmitter or EventTarget", target);
  }
}

// Deprecated static form: EventEmitter.listenerCount(emitter, type).
export function listenerCount(emitter, type) {
  if (typeof emitter.listenerCount === "function") return emitter.listenerCount(type);
  return listenerCountMethod.call(emitter, type);
}

EventEmitter.listenerCount = listenerCount;
EventEmitter.once = once;
EventEmitter.getEventListeners = getEventListeners;
EventEmitter.getMaxListeners = getMaxListeners;
EventEmitter.setMaxListeners = setMaxListeners;

export const errorMonitor = kErrorMonitor;
export const captureRejectionSymbol = kRejection;
// A live binding: follows EventEmitter.defaultMaxListeners / setMaxListeners(n).
export { defaultMaxListeners };

export default EventEmitter;
