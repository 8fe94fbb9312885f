__test("MessageChannel delivers cloned messages asynchronously", async () => {
  const { port1, port2 } = new MessageChannel();
  const payload = { list: [1, 2], when: new Date(5) };
  let deliveredDuringPost = null;
  let posting = false;
  const received = new Promise((resolve) => {
    port2.onmessage = (event) => {
      deliveredDuringPost = posting;
      resolve(event);
    };
  });
  posting = true;
  port1.postMessage(payload);
  posting = false;
  const event = await received;
  // Recorded by the handler itself: true if it ran inside postMessage (synchronous delivery).
  assert.equal(deliveredDuringPost, false);
  assert.ok(event instanceof MessageEvent);
  assert.deepEqual(event.data.list, [1, 2]);
  assert.notEqual(event.data, payload);
  assert.equal(event.data.when.getTime(), 5);
});

__test("ports queue messages until started, and stop after close", async () => {
  const { port1, port2 } = new MessageChannel();
  const seen = [];
  port2.addEventListener("message", (e) => seen.push(e.data));
  port1.postMessage("queued");
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, []);
  port2.start();
  assert.deepEqual(seen, ["queued"]);
  port2.close();
  port1.postMessage("dropped");
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, ["queued"]);
});
