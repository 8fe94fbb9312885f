// Entry point bundled into src/js/30_streams.js: installs the web-streams-polyfill ponyfill's
// classes as globals (only those not already present).
import * as streams from "web-streams-polyfill";

const names = [
  "ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest",
  "ReadableByteStreamController", "ReadableStreamDefaultController", "WritableStream",
  "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
  "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
];
for (const name of names) {
  if (streams[name] && !(name in globalThis)) {
    Object.defineProperty(globalThis, name, { value: streams[name], writable: true, configurable: true, enumerable: false });
  }
}
