// Intl objects cannot be serialised into a V8 snapshot (they hold ICU objects outside the JS
// heap; V8 aborts the process at serialisation). Evaluated by the snapshot builder before the
// user's bundle: while the bundle evaluates at build time, every Intl constructor returns a
// stand-in (a Proxy whose prototype is the real one, so `instanceof` holds) that creates the
// real object when it is used — afresh on each use during the build, once and for good after
// restore. Returns `restore()`, called before the snapshot is taken: it puts the real
// constructors back, so isolates restored from the snapshot create real Intl objects.
(function () {
  "use strict";
  const state = { building: true };
  const originals = [];
  for (const name of Object.getOwnPropertyNames(Intl)) {
    const Original = Intl[name];
    if (typeof Original !== "function" || typeof Original.prototype !== "object") continue;
    const makeStandIn = (args) => {
      let real;
      const materialise = () => {
        if (real) return real;
        const made = Reflect.construct(Original, args);
        if (!state.building) real = made;
        return made;
      };
      const handler = {};
      for (const trap of ["get", "set", "has", "ownKeys", "getOwnPropertyDescriptor", "defineProperty", "deleteProperty"]) {
        handler[trap] = (_target, ...rest) => {
          const target = materialise();
          if (trap === "get") {
            const value = Reflect.get(target, rest[0], target);
            return typeof value === "function" ? value.bind(target) : value;
          }
          return Reflect[trap](target, ...rest);
        };
      }
      return new Proxy(Object.create(Original.prototype), handler);
    };
    const StandIn = function (...args) {
      return makeStandIn(args);
    };
    Object.defineProperty(StandIn, "name", { value: Original.name });
    StandIn.prototype = Original.prototype;
    for (const key of Object.getOwnPropertyNames(Original)) {
      if (key === "prototype" || key === "name" || key === "length") continue;
      Object.defineProperty(StandIn, key, Object.getOwnPropertyDescriptor(Original, key));
    }
    const descriptor = Object.getOwnPropertyDescriptor(Intl, name);
    originals.push([name, descriptor]);
    Object.defineProperty(Intl, name, { ...descriptor, value: StandIn });
  }
  return function restore() {
    state.building = false;
    for (const [name, descriptor] of originals) Object.defineProperty(Intl, name, descriptor);
  };
});
