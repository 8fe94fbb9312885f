// Runs one contract entry point of a server bundle in Node, the way `coldstart call` does in V8:
//   node node_runner.mjs BUNDLE ENTRY [ARG...]          → prints the entry's result
//   node node_runner.mjs --steady SECONDS BUNDLE ROUTE PROPS → prints renders per second
// Used by `coldstart bench --compare-node`. The bundle is evaluated as a classic script.
import { readFileSync } from "node:fs";
import vm from "node:vm";

import { RESOLVERS as MARKERS, PENDING } from "./rex_markers.mjs";

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function call(entry, args) {
  let result = await globalThis[entry](...args);
  if (typeof result === "string" && MARKERS[result]) {
    for (let i = 0; i < 5; i++) await turn();
    result = await globalThis[MARKERS[result]]();
  } else if (typeof result === "string" && PENDING[result]) {
    const [pending, finalize] = PENDING[result];
    while (globalThis[pending]() !== "done") await new Promise((r) => setTimeout(r, 1));
    result = globalThis[finalize]();
  }
  return String(result);
}

const argv = process.argv.slice(2);
let steady = 0;
if (argv[0] === "--steady") {
  steady = Number(argv[1]);
  argv.splice(0, 2);
}
const [bundlePath, ...rest] = argv;
// As in coldstart (and in fixtures/expected.mjs): libraries with a Node path (TypeScript's
// compiler) must not take it, since these browser-platform bundles do not carry Node's built-ins.
process.browser = true;
vm.runInThisContext(readFileSync(bundlePath, "utf8"), { filename: bundlePath.split("/").pop() });
if (steady > 0) {
  const [route, props] = rest;
  for (let i = 0; i < 20; i++) globalThis.__rex_render_page(route, props);
  const start = performance.now();
  let renders = 0;
  while (performance.now() - start < steady * 1000) {
    await globalThis.__rex_render_page(route, props);
    renders++;
  }
  process.stdout.write(String(renders / ((performance.now() - start) / 1000)) + "\n");
} else {
  const [entry, ...args] = rest;
  process.stdout.write((await call(entry, args)) + "\n");
}
// Timers or message ports the bundle left behind must not keep the process alive.
process.exit(0);
