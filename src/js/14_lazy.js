"use strict";
// Polyfills loaded on first use. A file whose leading comment says `// lazy-globals: A B` is not
// evaluated at bootstrap: the Rust side calls internals.defineLazy(file, globals, internalNames)
// instead, which makes each global (and each `internals` function it names in
// `// lazy-internals:`) an accessor that compiles and runs the file when first read
// (host.load_polyfill), then reads what the file defined. Until then its code is neither compiled
// nor part of any snapshot: a snapshot holds the files its build used (the bundle's evaluation,
// a module worker's plumbing warm-up, --warmup calls), and a bundle that only names URL, streams
// or fetch somewhere restores without them. Assigning a lazy global replaces it without loading
// anything, as for any other global. The builder calls internals.keepLazyCodeCache(file, bytes)
// last: each file still unused keeps its V8 code cache in the snapshot (bytes, cheap to restore),
// so loading it after a restore skips parsing.

const { defineProperty, getOwnPropertyDescriptor } = Object;
const defineHidden = internals.defineHidden;
const defineEagerly = internals.defineGlobal;

const lazyGetters = new WeakSet(); // the accessors defineLazy installed on globalThis
const declaredGlobals = new Set();
const loadedFiles = new Set();
const codeCaches = new Map(); // file -> Uint8Array, set at snapshot build
let loading = 0;

const isLazy = (name) => {
  const descriptor = getOwnPropertyDescriptor(globalThis, name);
  return descriptor !== undefined && lazyGetters.has(descriptor.get);
};

function load(file) {
  if (loadedFiles.has(file)) return;
  loadedFiles.add(file);
  const run = host.load_polyfill(file, codeCaches.get(file));
  codeCaches.delete(file);
  loading++;
  try {
    run(host, internals);
  } finally {
    loading--;
  }
}

// While a lazy file runs, it only defines globals still waiting for it: one the user assigned
// (or deleted) in the meantime keeps the user's value.
internals.defineGlobal = (name, value) => {
  if (loading > 0 && declaredGlobals.has(name) && !isLazy(name)) return;
  defineEagerly(name, value);
};

// The value of global `name` if it is there without loading anything (undefined while lazy).
internals.loadedGlobal = (name) => (isLazy(name) ? undefined : globalThis[name]);

internals.keepLazyCodeCache = (file, bytes) => {
  if (!loadedFiles.has(file)) codeCaches.set(file, bytes);
};

internals.defineLazy = (file, globals, internalNames) => {
  for (const name of globals) {
    declaredGlobals.add(name);
    const get = () => {
      load(file);
      if (isLazy(name)) throw new Error(`coldstart: the polyfill ${file} did not define ${name}`);
      return globalThis[name];
    };
    const set = (value) => defineHidden(globalThis, name, value);
    lazyGetters.add(get);
    defineProperty(globalThis, name, { get, set, enumerable: false, configurable: true });
  }
  for (const name of internalNames) {
    const define = (value) =>
      defineProperty(internals, name, { value, writable: true, enumerable: true, configurable: true });
    const get = () => {
      load(file);
      const descriptor = getOwnPropertyDescriptor(internals, name);
      if (descriptor.get === get) throw new Error(`coldstart: the polyfill ${file} did not define internals.${name}`);
      return internals[name];
    };
    defineProperty(internals, name, { get, set: define, enumerable: true, configurable: true });
  }
};
