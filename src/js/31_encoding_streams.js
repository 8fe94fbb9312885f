"use strict";
// lazy-globals: TextEncoderStream TextDecoderStream
// TextEncoderStream and TextDecoderStream on top of TransformStream.

class TextEncoderStream {
  #transform;
  constructor() {
    let pendingHigh = "";
    this.#transform = new TransformStream({
      transform(chunk, controller) {
        let text = pendingHigh + String(chunk);
        pendingHigh = "";
        const last = text.charCodeAt(text.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pendingHigh = text.slice(-1);
          text = text.slice(0, -1);
        }
        if (text) controller.enqueue(internals.encodeUtf8(text));
      },
      flush(controller) {
        if (pendingHigh) controller.enqueue(internals.encodeUtf8(pendingHigh));
      },
    });
  }
  get encoding() {
    return "utf-8";
  }
  get readable() {
    return this.#transform.readable;
  }
  get writable() {
    return this.#transform.writable;
  }
  get [Symbol.toStringTag]() {
    return "TextEncoderStream";
  }
}

class TextDecoderStream {
  #transform;
  #decoder;
  constructor(label = "utf-8", options = {}) {
    const decoder = new TextDecoder(label, options);
    this.#decoder = decoder;
    this.#transform = new TransformStream({
      transform(chunk, controller) {
        const text = decoder.decode(chunk, { stream: true });
        if (text) controller.enqueue(text);
      },
      flush(controller) {
        const text = decoder.decode();
        if (text) controller.enqueue(text);
      },
    });
  }
  get encoding() {
    return this.#decoder.encoding;
  }
  get fatal() {
    return this.#decoder.fatal;
  }
  get ignoreBOM() {
    return this.#decoder.ignoreBOM;
  }
  get readable() {
    return this.#transform.readable;
  }
  get writable() {
    return this.#transform.writable;
  }
  get [Symbol.toStringTag]() {
    return "TextDecoderStream";
  }
}

internals.defineGlobal("TextEncoderStream", TextEncoderStream);
internals.defineGlobal("TextDecoderStream", TextDecoderStream);
