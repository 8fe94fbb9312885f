// cloudflare:workers - the worker's env (the object fetch handlers receive), waitUntil, and the
// entrypoint base classes (src/js/60_worker.js).
const builtins = globalThis[Symbol.for("coldstart.builtins")].cloudflare_workers;
export const { env, waitUntil, WorkerEntrypoint, DurableObject, RpcTarget, WorkflowEntrypoint } = builtins;
export default builtins;
