const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
const bytes = (s) => new TextEncoder().encode(s);

__test("getRandomValues fills integer arrays and validates input", () => {
  const a = crypto.getRandomValues(new Uint8Array(32));
  assert.equal(a.length, 32);
  assert.ok(a.some((b) => b !== 0));
  const b = crypto.getRandomValues(new Uint8Array(32));
  assert.notEqual(hex(a), hex(b));
  crypto.getRandomValues(new BigUint64Array(2));
  crypto.getRandomValues(new Uint8Array(65536));
  assert.throws(() => crypto.getRandomValues(new Uint8Array(65537)), "QuotaExceededError");
  assert.throws(() => crypto.getRandomValues(new Float32Array(2)), "TypeMismatchError");
  const view = new Uint8Array(16);
  crypto.getRandomValues(view.subarray(4, 8));
  assert.deepEqual(Array.from(view.subarray(0, 4)), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(view.subarray(8)), [0, 0, 0, 0, 0, 0, 0, 0]);
});

__test("randomUUID is v4 and unique", () => {
  const seen = new Set();
  for (let i = 0; i < 200; i++) {
    const id = crypto.randomUUID();
    assert.ok(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
    seen.add(id);
  }
  assert.equal(seen.size, 200);
});

__test("subtle.digest test vectors", async () => {
  assert.equal(hex(await crypto.subtle.digest("SHA-256", bytes(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(hex(await crypto.subtle.digest("SHA-256", bytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(hex(await crypto.subtle.digest("SHA-1", bytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.equal(hex(await crypto.subtle.digest({ name: "sha-384" }, bytes("abc"))), "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  assert.equal(hex(await crypto.subtle.digest("SHA-512", bytes("abc"))), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  assert.equal(hex(await crypto.subtle.digest("SHA-256", bytes("abc").buffer)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  await assert.rejects(crypto.subtle.digest("MD5", bytes("")), "NotSupportedError");
});

__test("HMAC sign/verify (RFC 4231 test cases 1 and 2)", async () => {
  const key1 = await crypto.subtle.importKey("raw", new Uint8Array(20).fill(0x0b), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const sig1 = await crypto.subtle.sign("HMAC", key1, bytes("Hi There"));
  assert.equal(hex(sig1), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  const key2 = await crypto.subtle.importKey("raw", bytes("Jefe"), { name: "HMAC", hash: { name: "SHA-512" } }, true, ["sign", "verify"]);
  const sig2 = await crypto.subtle.sign({ name: "HMAC" }, key2, bytes("what do ya want for nothing?"));
  assert.equal(hex(sig2), "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  assert.equal(await crypto.subtle.verify("HMAC", key2, sig2, bytes("what do ya want for nothing?")), true);
  assert.equal(await crypto.subtle.verify("HMAC", key2, sig2, bytes("tampered")), false);
  assert.equal(hex(await crypto.subtle.exportKey("raw", key2)), hex(bytes("Jefe")));
  await assert.rejects(crypto.subtle.exportKey("raw", key1), "InvalidAccessError");
  const signOnly = await crypto.subtle.importKey("raw", bytes("k"), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  await assert.rejects(crypto.subtle.verify("HMAC", signOnly, new Uint8Array(20), bytes("x")), "InvalidAccessError");
  assert.equal(key1.algorithm.hash.name, "SHA-256");
  assert.equal(key1.type, "secret");
});
