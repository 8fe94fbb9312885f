// node:async_hooks - AsyncLocalStorage and AsyncResource (src/js/60_worker.js).
const { AsyncLocalStorage, AsyncResource } = globalThis[Symbol.for("coldstart.builtins")].async_hooks;
export { AsyncLocalStorage, AsyncResource };
export default { AsyncLocalStorage, AsyncResource };
