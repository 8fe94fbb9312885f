"use strict";
// setTimeout/setInterval/setImmediate and their clear* counterparts, queueMicrotask,
// performance. JS keeps the callbacks; Rust keeps (due time, arming order, id) and calls
// internals.fire_timer(id) when a timer is due. Ids are plain numbers, as in browsers.

const TIMEOUT_MAX = 2147483647;
const timers = new Map();
let nextId = 1;

function checkCallback(callback, name) {
  if (typeof callback !== "function") {
    throw new TypeError(`The "callback" argument of ${name} must be of type function. Received ${internals.inspect(callback)}`);
  }
}

function normalizeDelay(delay) {
  const ms = Number(delay);
  // Node: NaN, < 1 and > TIMEOUT_MAX become 1 ms.
  return ms >= 1 && ms <= TIMEOUT_MAX ? ms : 1;
}

function arm(callback, args, delay, repeat) {
  const id = nextId++;
  // The AsyncLocalStorage frame current when armed is current when it fires (60_worker.js).
  timers.set(id, { callback, args, interval: delay, repeat, frame: host.cped_get() });
  host.timer_start(id, delay);
  return id;
}

function clear(id) {
  const key = typeof id === "object" && id !== null ? Number(id) : id;
  if (typeof key !== "number" || !timers.has(key)) return;
  timers.delete(key);
  host.timer_clear(key);
}

internals.fire_timer = (id) => {
  const timer = timers.get(id);
  if (!timer) return;
  if (timer.repeat) {
    host.timer_start(id, timer.interval);
  } else {
    timers.delete(id);
  }
  const previous = host.cped_get();
  host.cped_set(timer.frame);
  try {
    Reflect.apply(timer.callback, globalThis, timer.args);
  } catch (error) {
    internals.reportException(error);
  } finally {
    host.cped_set(previous);
  }
};
internals.clear_timers = () => timers.clear();
internals.pendingTimers = () => timers.size;

internals.defineGlobal("setTimeout", function setTimeout(callback, delay, ...args) {
  checkCallback(callback, "setTimeout");
  return arm(callback, args, normalizeDelay(delay), false);
});
internals.defineGlobal("setInterval", function setInterval(callback, delay, ...args) {
  checkCallback(callback, "setInterval");
  return arm(callback, args, normalizeDelay(delay), true);
});
internals.defineGlobal("setImmediate", function setImmediate(callback, ...args) {
  checkCallback(callback, "setImmediate");
  return arm(callback, args, 0, false);
});
internals.defineGlobal("clearTimeout", function clearTimeout(id) {
  clear(id);
});
internals.defineGlobal("clearInterval", function clearInterval(id) {
  clear(id);
});
internals.defineGlobal("clearImmediate", function clearImmediate(id) {
  clear(id);
});

internals.defineGlobal("queueMicrotask", function queueMicrotask(callback) {
  checkCallback(callback, "queueMicrotask");
  const frame = host.cped_get();
  host.queue_microtask(() => {
    const previous = host.cped_get();
    host.cped_set(frame);
    try {
      callback();
    } catch (error) {
      internals.reportException(error);
    } finally {
      host.cped_set(previous);
    }
  });
});

// performance: now() and timeOrigin are read from the host on every call, so a restored isolate
// reports its own clock, never the one frozen at snapshot time.
const marks = new Map();
class Performance {
  now() {
    return host.now();
  }
  get timeOrigin() {
    return host.time_origin();
  }
  mark(name) {
    marks.set(String(name), host.now());
    return { name: String(name), entryType: "mark", startTime: marks.get(String(name)), duration: 0 };
  }
  measure(name, start, end) {
    const s = start === undefined ? 0 : marks.get(String(start)) ?? 0;
    const e = end === undefined ? host.now() : marks.get(String(end)) ?? host.now();
    return { name: String(name), entryType: "measure", startTime: s, duration: e - s };
  }
  clearMarks(name) {
    if (name === undefined) marks.clear();
    else marks.delete(String(name));
  }
  toJSON() {
    return { timeOrigin: this.timeOrigin };
  }
  get [Symbol.toStringTag]() {
    return "Performance";
  }
}
internals.defineGlobal("Performance", Performance);
internals.defineGlobal("performance", new Performance());
