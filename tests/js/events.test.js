__test("EventTarget dispatch, once, removal, handleEvent, stopImmediatePropagation", () => {
  const target = new EventTarget();
  const seen = [];
  const a = (e) => seen.push("a:" + e.type);
  target.addEventListener("ping", a);
  target.addEventListener("ping", a); // duplicate ignored
  target.addEventListener("ping", { handleEvent: (e) => seen.push("obj:" + (e.target === target)) });
  target.addEventListener("ping", () => seen.push("once"), { once: true });
  assert.equal(target.dispatchEvent(new Event("ping")), true);
  target.dispatchEvent(new Event("ping"));
  target.removeEventListener("ping", a);
  target.dispatchEvent(new Event("ping"));
  assert.deepEqual(seen, ["a:ping", "obj:true", "once", "a:ping", "obj:true", "obj:true"]);
  const stopper = new EventTarget();
  const order = [];
  stopper.addEventListener("x", (e) => {
    order.push(1);
    e.stopImmediatePropagation();
  });
  stopper.addEventListener("x", () => order.push(2));
  stopper.dispatchEvent(new Event("x"));
  assert.deepEqual(order, [1]);
});

__test("preventDefault only on cancelable events; CustomEvent detail", () => {
  const t = new EventTarget();
  t.addEventListener("c", (e) => e.preventDefault());
  assert.equal(t.dispatchEvent(new Event("c", { cancelable: true })), false);
  assert.equal(t.dispatchEvent(new Event("c")), true);
  const e = new CustomEvent("d", { detail: { n: 1 } });
  assert.equal(e.detail.n, 1);
  assert.ok(e instanceof Event);
  assert.throws(() => new Event(), TypeError);
});

__test("AbortController and AbortSignal", () => {
  const controller = new AbortController();
  const seen = [];
  controller.signal.addEventListener("abort", () => seen.push("listener"));
  controller.signal.onabort = () => seen.push("onabort");
  assert.equal(controller.signal.aborted, false);
  controller.abort();
  assert.equal(controller.signal.aborted, true);
  assert.equal(controller.signal.reason.name, "AbortError");
  assert.ok(controller.signal.reason instanceof DOMException);
  controller.abort("again");
  assert.deepEqual(seen, ["listener", "onabort"]);
  assert.throws(() => controller.signal.throwIfAborted(), "AbortError");
  const custom = AbortSignal.abort("why");
  assert.equal(custom.reason, "why");
  assert.throws(() => new AbortSignal(), TypeError);
});

__test("AbortSignal.timeout and AbortSignal.any", async () => {
  const signal = AbortSignal.timeout(5);
  await new Promise((resolve) => signal.addEventListener("abort", resolve));
  assert.equal(signal.reason.name, "TimeoutError");
  const c = new AbortController();
  const any = AbortSignal.any([new AbortController().signal, c.signal]);
  c.abort("first");
  assert.equal(any.aborted, true);
  assert.equal(any.reason, "first");
});

__test("a signal passed to addEventListener removes the listener", () => {
  const c = new AbortController();
  const t = new EventTarget();
  let n = 0;
  t.addEventListener("e", () => n++, { signal: c.signal });
  t.dispatchEvent(new Event("e"));
  c.abort();
  t.dispatchEvent(new Event("e"));
  assert.equal(n, 1);
});

__test("DOMException", () => {
  const e = new DOMException("nope", "NotFoundError");
  assert.equal(e.name, "NotFoundError");
  assert.equal(e.message, "nope");
  assert.equal(e.code, 8);
  assert.ok(e instanceof Error);
  assert.equal(DOMException.ABORT_ERR, 20);
  assert.equal(new DOMException().name, "Error");
  assert.equal(new DOMException("m", { name: "DataCloneError", cause: 1 }).cause, 1);
});
