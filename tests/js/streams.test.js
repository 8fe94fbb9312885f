__test("ReadableStream reader loop, tee and pipeThrough", async () => {
  const stream = new ReadableStream({
    start(controller) {
      for (const chunk of ["a", "b", "c"]) controller.enqueue(chunk);
      controller.close();
    },
  });
  const [left, right] = stream.tee();
  const collect = async (s) => {
    const out = [];
    const reader = s.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out;
      out.push(value);
    }
  };
  assert.deepEqual(await collect(left), ["a", "b", "c"]);
  const upper = right.pipeThrough(new TransformStream({ transform: (chunk, c) => c.enqueue(chunk.toUpperCase()) }));
  assert.deepEqual(await collect(upper), ["A", "B", "C"]);
});

__test("WritableStream and pipeTo", async () => {
  const written = [];
  const writable = new WritableStream({ write: (chunk) => written.push(chunk) });
  await new ReadableStream({ start: (c) => { c.enqueue(1); c.enqueue(2); c.close(); } }).pipeTo(writable);
  assert.deepEqual(written, [1, 2]);
});

__test("async pull sources and backpressure", async () => {
  let n = 0;
  const stream = new ReadableStream({
    async pull(controller) {
      await new Promise((r) => setTimeout(r, 1));
      if (++n > 3) controller.close();
      else controller.enqueue(n);
    },
  }, new CountQueuingStrategy({ highWaterMark: 1 }));
  const out = [];
  for (const reader = stream.getReader(); ; ) {
    const { done, value } = await reader.read();
    if (done) break;
    out.push(value);
  }
  assert.deepEqual(out, [1, 2, 3]);
});
