// Snapshot hygiene probe. Evaluated by the snapshot builder right before the user's bundle and
// removed right after it: it counts reads of the clock (Date, performance), the RNG and
// process.env, whose values
// would be frozen into the snapshot and replayed by every isolate restored from it.
// Called as a function with one argument, `report`; returns `restore()`.
(function (report) {
  "use strict";
  report.date_now_reads = 0;
  report.new_date_reads = 0;
  report.math_random_calls = 0;
  report.performance_reads = 0;
  report.env_reads = [];
  let active = true;
  const OriginalDate = Date;
  const originalNow = Date.now;
  const originalRandom = Math.random;
  const process = globalThis.process;
  const originalEnv = process && process.env;

  const now = function now() {
    if (active) report.date_now_reads++;
    return Reflect.apply(originalNow, OriginalDate, []);
  };
  const random = function random() {
    if (active) report.math_random_calls++;
    return Reflect.apply(originalRandom, Math, []);
  };
  const DateProxy = new Proxy(OriginalDate, {
    construct(target, args, newTarget) {
      if (active && args.length === 0) report.new_date_reads++;
      return Reflect.construct(target, args, newTarget === DateProxy ? target : newTarget);
    },
    apply(target, thisArg, args) {
      // Date() called as a function returns the current time as a string.
      if (active) report.new_date_reads++;
      return Reflect.apply(target, thisArg, args);
    },
  });
  // performance.now(), mark() and measure() read the clock too: wrapped on the instance (own
  // properties over the prototype's methods), removed again by restore().
  const perf = globalThis.performance;
  const perfWrapped = [];
  if (perf && typeof perf === "object") {
    for (const name of ["now", "mark", "measure"]) {
      const original = perf[name];
      if (typeof original !== "function") continue;
      const own = Object.prototype.hasOwnProperty.call(perf, name);
      const wrapper = {
        [name](...args) {
          if (active) report.performance_reads++;
          return Reflect.apply(original, this, args);
        },
      }[name];
      perf[name] = wrapper;
      perfWrapped.push({ name, original, own, wrapper });
    }
  }
  OriginalDate.now = now;
  Math.random = random;
  globalThis.Date = DateProxy;
  if (originalEnv && typeof originalEnv === "object") {
    process.env = new Proxy(originalEnv, {
      get(target, key, receiver) {
        if (active && typeof key === "string" && !report.env_reads.includes(key) && report.env_reads.length < 64) {
          report.env_reads.push(key);
        }
        return Reflect.get(target, key, receiver);
      },
      has(target, key) {
        if (active && typeof key === "string" && !report.env_reads.includes(key) && report.env_reads.length < 64) {
          report.env_reads.push(key);
        }
        return Reflect.has(target, key);
      },
    });
  }

  return function restore() {
    active = false;
    if (OriginalDate.now === now) OriginalDate.now = originalNow;
    if (Math.random === random) Math.random = originalRandom;
    if (globalThis.Date === DateProxy) globalThis.Date = OriginalDate;
    if (process && originalEnv) process.env = originalEnv;
    for (const { name, original, own, wrapper } of perfWrapped) {
      if (perf[name] !== wrapper) continue;
      if (own) perf[name] = original;
      else delete perf[name];
    }
  };
})
