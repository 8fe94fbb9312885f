// Entry point bundled into src/js/30_streams.js: installs the web-streams-polyfill ponyfill's
// classes as globals through internals.defineGlobal (`internals` is the parameter of the function
// coldstart wraps every polyfill in; the file is loaded on first use, see src/js/14_lazy.js).
import * as streams from "web-streams-polyfill";

const names = [
  "ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest",
  "ReadableByteStreamController", "ReadableStreamDefaultController", "WritableStream",
  "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
  "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
];
for (const name of names) {
  if (streams[name]) internals.defineGlobal(name, streams[name]);
}
