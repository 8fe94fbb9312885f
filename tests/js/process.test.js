__test("process.env is writable and coerces values to strings", () => {
  process.env.COLDSTART_TEST_VAR = 42;
  assert.equal(process.env.COLDSTART_TEST_VAR, "42");
  Object.defineProperty(process.env, "DEFINED", { value: true, enumerable: true, configurable: true, writable: true });
  assert.equal(process.env.DEFINED, "true");
  delete process.env.COLDSTART_TEST_VAR;
  assert.equal(process.env.COLDSTART_TEST_VAR, undefined);
  delete process.env.DEFINED;
});

__test("process basics; not mistaken for Node", () => {
  assert.equal(typeof process.nextTick, "function");
  assert.equal(process.versions.node, undefined);
  assert.equal(typeof process.versions.v8, "string");
  assert.equal(process.platform, "linux");
  const [s, ns] = process.hrtime();
  assert.ok(s > 0 && ns >= 0 && ns < 1e9);
  assert.equal(typeof process.hrtime.bigint(), "bigint");
  assert.equal(process.cwd(), "/");
});

__test("nextTick passes arguments and runs before timers", async () => {
  const seen = [];
  await new Promise((resolve) => {
    setTimeout(() => {
      seen.push("timer");
      resolve();
    }, 0);
    process.nextTick((a, b) => seen.push(a + b), 1, 2);
  });
  assert.deepEqual(seen, [3, "timer"]);
});
