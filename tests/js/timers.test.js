__test("timers, immediates, microtasks and nextTick run in order", async () => {
  const order = [];
  await new Promise((resolve) => {
    setTimeout(() => order.push("timeout 10"), 10);
    setTimeout(() => order.push("timeout 0"), 0);
    setImmediate(() => order.push("immediate"));
    Promise.resolve().then(() => order.push("promise"));
    queueMicrotask(() => order.push("microtask"));
    process.nextTick(() => order.push("tick"));
    order.push("sync");
    setTimeout(resolve, 30);
  });
  assert.deepEqual(order.slice(1, 4).sort(), ["microtask", "promise", "tick"]);
  assert.equal(order[0], "sync");
  assert.ok(order.indexOf("promise") < order.indexOf("immediate"), "microtasks before macrotasks");
  assert.ok(order.indexOf("tick") < order.indexOf("immediate"));
  assert.ok(order.indexOf("timeout 0") < order.indexOf("timeout 10"));
  assert.ok(order.indexOf("immediate") < order.indexOf("timeout 10"));
});

__test("timers with equal delays fire in creation order; microtasks run between them", async () => {
  const order = [];
  await new Promise((resolve) => {
    for (let i = 0; i < 5; i++) {
      setTimeout(() => {
        order.push("t" + i);
        Promise.resolve().then(() => order.push("m" + i));
      }, 5);
    }
    setTimeout(resolve, 20);
  });
  assert.deepEqual(order, ["t0", "m0", "t1", "m1", "t2", "m2", "t3", "m3", "t4", "m4"]);
});

__test("delays are honoured", async () => {
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 25));
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 24, "waited " + elapsed + " ms");
});

__test("clearTimeout, extra arguments, nested timers", async () => {
  const seen = [];
  const id = setTimeout(() => seen.push("cleared"), 1);
  clearTimeout(id);
  clearTimeout(undefined);
  clearTimeout(123456);
  await new Promise((resolve) =>
    setTimeout(
      (a, b) => {
        seen.push(a + b);
        setTimeout(() => {
          seen.push("nested");
          resolve();
        }, 1);
      },
      1,
      "x",
      "y",
    ),
  );
  assert.deepEqual(seen, ["xy", "nested"]);
  assert.equal(typeof id, "number");
});

__test("setInterval repeats until cleared", async () => {
  let ticks = 0;
  await new Promise((resolve) => {
    const id = setInterval(() => {
      ticks++;
      if (ticks === 4) {
        clearInterval(id);
        setTimeout(resolve, 15);
      }
    }, 2);
  });
  assert.equal(ticks, 4);
});

__test("timer callbacks must be functions", () => {
  assert.throws(() => setTimeout("code", 1), TypeError);
  assert.throws(() => queueMicrotask(null), TypeError);
});

__test("an exception in a timer does not stop the others", async () => {
  const seen = [];
  await new Promise((resolve) => {
    setTimeout(() => {
      throw new Error("timer throws on purpose");
    }, 1);
    setTimeout(() => {
      seen.push("after");
      resolve();
    }, 3);
  });
  assert.deepEqual(seen, ["after"]);
});

__test("performance clock", () => {
  const a = performance.now();
  const b = performance.now();
  assert.ok(b >= a && a >= 0);
  assert.ok(Math.abs(performance.timeOrigin + performance.now() - Date.now()) < 1000, "timeOrigin is wall clock");
});
