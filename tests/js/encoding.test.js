// vectors: encoding.js
__test("TextEncoder matches the Node oracle", () => {
  for (const v of __ENCODING_VECTORS.encode) {
    assert.deepEqual(Array.from(new TextEncoder().encode(v.input)), v.bytes, JSON.stringify(v.input));
  }
  assert.equal(new TextEncoder().encoding, "utf-8");
  assert.equal(new TextEncoder().encode().length, 0);
});

__test("TextDecoder matches the Node oracle (replacement, fatal, BOM, streaming)", () => {
  const cps = (s) => Array.from(s, (c) => c.codePointAt(0));
  for (const v of __ENCODING_VECTORS.decode) {
    const bytes = new Uint8Array(v.bytes);
    assert.deepEqual(cps(new TextDecoder().decode(bytes)), v.text, "decode " + v.bytes);
    let fatal = "ok";
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (e) {
      fatal = e.name;
    }
    assert.equal(fatal, v.fatal, "fatal " + v.bytes);
    assert.deepEqual(cps(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)), v.ignoreBOM, "ignoreBOM " + v.bytes);
    const d = new TextDecoder();
    let streamed = "";
    for (const b of v.bytes) streamed += d.decode(new Uint8Array([b]), { stream: true });
    streamed += d.decode();
    assert.deepEqual(cps(streamed), v.streamed, "streamed " + v.bytes);
  }
});

__test("other encodings and labels", () => {
  for (const v of __ENCODING_VECTORS.other) {
    const d = new TextDecoder(v.label);
    assert.equal(d.encoding, v.encoding);
    assert.deepEqual(Array.from(d.decode(new Uint8Array(v.bytes)), (c) => c.codePointAt(0)), v.text, v.label);
  }
  // Encoding Standard: latin1/ascii/iso-8859-1 are windows-1252 (Node decodes them as ISO-8859-1).
  for (const label of ["latin1", "ascii", "iso-8859-1", "windows-1252"]) {
    const d = new TextDecoder(label);
    assert.equal(d.encoding, "windows-1252");
    assert.equal(d.decode(new Uint8Array([0x41, 0x80, 0x9f, 0xe9, 0x81])), "A\u20ac\u0178\u00e9\u0081", label);
  }
  assert.throws(() => new TextDecoder("klingon"), RangeError);
  assert.equal(new TextDecoder(" UTF8 ").encoding, "utf-8");
});

__test("a 4-byte character split across stream chunks", () => {
  const bytes = new TextEncoder().encode("a😀b");
  const d = new TextDecoder();
  const out = d.decode(bytes.subarray(0, 3), { stream: true }) + d.decode(bytes.subarray(3, 5), { stream: true }) + d.decode(bytes.subarray(5));
  assert.equal(out, "a😀b");
});

__test("encodeInto respects the destination size", () => {
  const dest = new Uint8Array(5);
  const { read, written } = new TextEncoder().encodeInto("aé😀", dest);
  assert.equal(read, 2);
  assert.equal(written, 3);
  assert.deepEqual(Array.from(dest.subarray(0, 3)), [0x61, 0xc3, 0xa9]);
});

__test("decode accepts ArrayBuffer, views and DataView", () => {
  const bytes = new TextEncoder().encode("xyz");
  assert.equal(new TextDecoder().decode(bytes.buffer), "xyz");
  assert.equal(new TextDecoder().decode(new DataView(bytes.buffer, 1)), "yz");
  assert.equal(new TextDecoder().decode(), "");
  assert.throws(() => new TextDecoder().decode("not bytes"), TypeError);
});

__test("atob and btoa", () => {
  assert.equal(btoa("hello"), "aGVsbG8=");
  assert.equal(btoa(""), "");
  assert.equal(btoa("\u00ff\u00fe"), "//4=");
  assert.equal(atob("aGVsbG8="), "hello");
  assert.equal(atob(" aGVs bG8 "), "hello");
  assert.equal(atob("aGVsbG8"), "hello");
  assert.throws(() => btoa("€"), "InvalidCharacterError");
  assert.throws(() => atob("a"), "InvalidCharacterError");
  assert.throws(() => atob("a=b="), "InvalidCharacterError");
  let error;
  try {
    btoa("€");
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof DOMException);
  assert.equal(error.code, 5);
});

__test("TextEncoderStream and TextDecoderStream", async () => {
  const stream = new Blob(["héllo ", "wörld"]).stream().pipeThrough(new TextDecoderStream()).pipeThrough(new TextEncoderStream()).pipeThrough(new TextDecoderStream());
  let text = "";
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  assert.equal(text, "héllo wörld");
});
