#!/usr/bin/env node
// Cold-start benchmark for the ES-module worker fixtures (fixtures/workers/*): how long from
// spawning a runtime until the first byte / the end of the response to the fixture's main request.
//
//   node scripts/bench-workers.mjs [--runs N] [--fixtures a,b] [--coldstart "CMD TEMPLATE"] [--json OUT]
//
// Runtimes, per fixture:
//   workerd    the pinned workerd from fixtures/workers/tools (config written by tools/oracle.mjs,
//              exactly as the oracle runs it)
//   node       this Node (>= 20) running tools/node-host.mjs FIXTURE_DIR PORT
//   coldstart  only with --coldstart: the template is split into words (single/double quotes
//              group), these placeholders are filled in per run, and it is spawned without a shell:
//                {entry}    absolute path of the fixture's entry module
//                {port}     the port to listen on (127.0.0.1)
//                {assets}   absolute assets folder, or empty
//                {template} absolute template path (render fixtures), or empty
//                {dir}      absolute fixture folder
//              A word that is only a placeholder and comes out empty is dropped, together with
//              the option right before it (so `--assets {assets}` disappears for fixtures
//              without assets). Example:
//                --coldstart "target/release/coldstart serve {entry} --port {port} --store /tmp/cs-store --assets {assets}"
//
// Per fixture, every runtime first runs once untimed (warm-up: page cache, coldstart's snapshot
// store; 120 s limit; its answer to the main request is compared with expected.json — a status
// mismatch is a warning, body differences are only noted), then N timed runs, interleaved
// (workerd, node, coldstart, workerd, …). A run: free port → t0 just before spawn → every 1 ms try
// to connect to 127.0.0.1:port and send the main request (raw HTTP/1.1, Host from the fixture's
// origin, Connection: close) until an answer arrives → first byte = first response byte,
// complete = the server closed the connection → SIGKILL (the process group) → wait for exit and
// for the port to be bindable again. The answer must be 200; anything else, no answer within
// 20 s, or the process exiting is a failure (reported; the benchmark goes on).
//
// Prints a markdown table (min / median / max ms, and ratios of the medians); --json OUT writes
// everything including every sample.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORKERS = path.join(REPO, 'fixtures', 'workers');
const TOOLS = path.join(WORKERS, 'tools');
const NODE_HOST = path.join(TOOLS, 'node-host.mjs');
const ALL = ['hono', 'react-stream', 'sveltekit', 'astro', 'vue-vite'];
const START_TIMEOUT_MS = 20000;
const WARMUP_TIMEOUT_MS = 120000;
const PAUSE_MS = 100; // between runs, so one runtime's teardown does not overlap the next start

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- arguments ------------------------------------------------------------------------------

function usage(msg) {
  if (msg) console.error(`bench-workers: ${msg}`);
  console.error('usage: node scripts/bench-workers.mjs [--runs N] [--fixtures a,b] [--coldstart "CMD TEMPLATE"] [--json OUT]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { runs: 10, fixtures: ALL, coldstart: null, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [key, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) usage(`${key} needs a value`);
      return argv[++i];
    };
    if (key === '--runs') {
      opts.runs = Number(value());
      if (!Number.isInteger(opts.runs) || opts.runs < 1) usage('--runs must be a positive integer');
    } else if (key === '--fixtures') {
      opts.fixtures = value().split(',').map((s) => s.trim()).filter(Boolean);
      for (const f of opts.fixtures) if (!ALL.includes(f)) usage(`unknown fixture ${f} (known: ${ALL.join(', ')})`);
    } else if (key === '--coldstart') opts.coldstart = value();
    else if (key === '--json') opts.json = value();
    else if (key === '-h' || key === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

// ---- tools/ (workerd) -----------------------------------------------------------------------

function ensureTools() {
  const bin = path.join(TOOLS, 'node_modules', 'workerd', 'bin', 'workerd');
  const deps = ['acorn', 'acorn-walk', 'periscopic'].map((d) => path.join(TOOLS, 'node_modules', d));
  if (fs.existsSync(bin) && deps.every((d) => fs.existsSync(d))) return;
  console.error('bench-workers: fixtures/workers/tools/node_modules is missing or incomplete;');
  console.error('bench-workers: running `npm ci --prefix fixtures/workers/tools` (pinned workerd, from the npm registry)…');
  const r = spawnSync('npm', ['ci', '--prefix', TOOLS, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.error || r.status !== 0 || !fs.existsSync(bin)) {
    const why = r.error ? r.error.message : `exit status ${r.status}`;
    console.error(`bench-workers: could not install workerd: npm ci failed (${why}).`);
    console.error('bench-workers: is the npm registry reachable (check network / proxy / `npm config get registry`)?');
    console.error('bench-workers: install it by hand with `npm ci --prefix fixtures/workers/tools`, then re-run.');
    process.exit(1);
  }
}

// ---- HTTP over a raw socket -----------------------------------------------------------------

function requestBytes(fx, req) {
  const host = fx.fixture.origin ? new URL(fx.fixture.origin).host : 'fixture.test';
  const body = req.body == null ? null : Buffer.from(req.body, 'utf8');
  let head = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of Object.entries(req.headers ?? {})) head += `${k}: ${v}\r\n`;
  if (body) head += `Content-Length: ${body.length}\r\n`;
  head += 'Connection: close\r\n\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** Status, headers (lower-cased) and de-chunked body of a complete raw HTTP/1.1 response. */
function parseResponse(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return { status: null, error: 'no complete header block' };
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return { status: null, error: `bad status line ${JSON.stringify(lines[0].slice(0, 80))}` };
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = buf.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    let p = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', p);
      if (eol < 0) break;
      const size = parseInt(body.subarray(p, eol).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      p = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status: Number(m[1]), headers, body };
}

/**
 * One attempt: connect, send, collect. Resolves { ok: true, firstByte, complete, data } once the
 * server closed a connection on which something arrived, { ok: false, error } otherwise.
 */
function attempt(port, bytes, deadline) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.setNoDelay(true);
    const chunks = [];
    let firstByte = null;
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      const t = performance.now();
      clearTimeout(timer);
      sock.destroy();
      if (firstByte !== null) resolve({ ok: true, firstByte, complete: t, data: Buffer.concat(chunks), error });
      else resolve({ ok: false, error: error ?? new Error('closed without answering') });
    };
    const timer = setTimeout(() => finish(new Error('timed out')), Math.max(1, deadline - performance.now()));
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d) => {
      if (firstByte === null) firstByte = performance.now();
      chunks.push(d);
    });
    sock.on('end', () => finish());
    sock.on('close', () => finish());
    sock.on('error', (e) => finish(e));
  });
}

async function waitPortFree(port, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const free = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free || Date.now() > until) return free;
    await sleep(5);
  }
}

// ---- runtimes -------------------------------------------------------------------------------

function splitWords(s) {
  const words = [];
  let cur = null;
  let quote = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur ??= '';
    } else if (/\s/.test(c)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else if (c === '\\' && i + 1 < s.length) cur = (cur ?? '') + s[++i];
    else cur = (cur ?? '') + c;
  }
  if (quote) usage('--coldstart: unbalanced quote');
  if (cur !== null) words.push(cur);
  return words;
}

function coldstartArgv(template, values) {
  const out = [];
  for (const w of splitWords(template)) {
    const filled = w.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
    if (filled === '' && /^\{\w+\}$/.test(w)) {
      // Placeholder with no value: drop it and the option it belongs to.
      if (out.length && /^-/.test(out.at(-1)) && !out.at(-1).includes('=')) out.pop();
      continue;
    }
    out.push(filled);
  }
  if (!out.length) usage('--coldstart: empty command');
  return out;
}

function runtimesFor(fx, oracle, opts) {
  const list = [
    {
      name: 'workerd',
      command(port) {
        const { tmp, file } = oracle.writeConfig(fx, port);
        return { cmd: oracle.WORKERD, args: ['serve', file], cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
      },
    },
    {
      name: 'node',
      command: (port) => ({ cmd: process.execPath, args: [NODE_HOST, fx.dir, String(port)] }),
    },
  ];
  if (opts.coldstart) {
    list.push({
      name: 'coldstart',
      command(port) {
        const f = fx.fixture;
        const [cmd, ...args] = coldstartArgv(opts.coldstart, {
          entry: path.join(fx.dir, f.entry),
          port: String(port),
          assets: f.assets ? path.join(fx.dir, f.assets) : '',
          template: f.template ? path.join(fx.dir, f.template) : '',
          dir: fx.dir,
        });
        return { cmd, args };
      },
    });
  }
  return list;
}

/** One cold start: spawn, poll with the main request, kill. */
async function runOnce(rt, fx, reqBytes, timeoutMs) {
  const port = await oracle.freePort();
  const { cmd, args, cleanup } = rt.command(port);
  let log = '';
  let exited = null;
  const t0 = performance.now();
  let child;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (e) {
    cleanup?.();
    return { ok: false, error: `spawn failed: ${e.message}` };
  }
  const onOut = (d) => { if (log.length < 20000) log += d; };
  child.stdout.on('data', onOut);
  child.stderr.on('data', onOut);
  const exitP = new Promise((resolve) => {
    child.once('error', (e) => { exited ??= `spawn error: ${e.message}`; resolve(); });
    child.once('exit', (code, sig) => { exited ??= `exited (${sig ?? `code ${code}`})`; resolve(); });
  });
  const deadline = t0 + timeoutMs;
  let result;
  try {
    for (;;) {
      if (exited) {
        result = { ok: false, error: `${rt.name} ${exited} before answering` };
        break;
      }
      if (performance.now() > deadline) {
        result = { ok: false, error: `no answer within ${timeoutMs / 1000} s` };
        break;
      }
      const a = await attempt(port, reqBytes, deadline);
      if (a.ok) {
        const res = parseResponse(a.data);
        result = {
          ok: res.status === 200,
          first_byte_ms: a.firstByte - t0,
          complete_ms: a.complete - t0,
          status: res.status,
          response: res,
        };
        if (!result.ok) result.error = res.status === null ? res.error : `status ${res.status}`;
        break;
      }
      await sleep(1);
    }
  } finally {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // its own process group (detached): children too
      } catch {
        try { child.kill('SIGKILL'); } catch {}
      }
    }
    await exitP;
    const free = await waitPortFree(port);
    cleanup?.();
    if (!free) console.error(`bench-workers: warning: port ${port} still busy after ${rt.name} exited`);
  }
  if (!result.ok) {
    const tail = log.trim().split('\n').slice(-15).join('\n');
    if (tail) result.error += `\n${tail.replace(/^/gm, '    | ')}`;
  }
  return result;
}

// ---- statistics and output ------------------------------------------------------------------

const r1 = (x) => (x == null ? null : Math.round(x * 10) / 10);

function stats(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: r1(s[0]), median: r1(median), max: r1(s.at(-1)) };
}

const fmt = (st) => (st ? `${st.min} / **${st.median}** / ${st.max}` : '—');
const ratio = (a, b) => (a && b && b.median > 0 ? Math.round((a.median / b.median) * 100) / 100 : null);

function compareWithExpected(fx, res) {
  const want = fx.expected.find((e) => e.name === fx.fixture.main_request);
  if (!want || !res.response || res.response.status == null) return null;
  const notes = { status_matches: res.response.status === want.status, body_identical: null };
  if (want.body != null) notes.body_identical = res.response.body.equals(Buffer.from(want.body, 'utf8'));
  notes.expected_status = want.status;
  notes.body_bytes = res.response.body.length;
  notes.expected_body_bytes = want.body != null ? Buffer.byteLength(want.body) : null;
  return notes;
}

// ---- main -----------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
if (Number(process.versions.node.split('.')[0]) < 20) {
  console.error(`bench-workers: needs Node >= 20 (this is ${process.version})`);
  process.exit(1);
}
ensureTools();
const oracle = await import(pathToFileURL(path.join(TOOLS, 'oracle.mjs')).href);
const workerdVersion = JSON.parse(fs.readFileSync(path.join(TOOLS, 'node_modules', 'workerd', 'package.json'), 'utf8')).version;

const report = {
  what: 'ms from spawning the runtime to the first byte / the end (server closed the connection) of the 200 response to the fixture main request',
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at start`,
  node: process.version,
  workerd: workerdVersion,
  coldstart_command: opts.coldstart,
  runs: opts.runs,
  fixtures: {},
};
console.log(`bench-workers: ${opts.fixtures.join(', ')}; ${opts.runs} runs each; workerd ${workerdVersion}, node ${process.version}` +
  `${opts.coldstart ? `, coldstart: ${opts.coldstart}` : ''}; ${report.machine}`);

for (const name of opts.fixtures) {
  const fx = oracle.loadFixture(name);
  fx.expected = JSON.parse(fs.readFileSync(path.join(fx.dir, 'expected.json'), 'utf8'));
  oracle.prepare(fx); // writes oracle-worker.js for "render" fixtures (the module workerd runs)
  const main = fx.requests.find((r) => r.name === fx.fixture.main_request);
  if (!main) throw new Error(`${name}: main_request ${fx.fixture.main_request} not in requests.json`);
  const reqBytes = requestBytes(fx, main);
  const runtimes = runtimesFor(fx, oracle, opts);
  const out = { request: `${main.method} ${main.path}`, runtimes: {} };
  report.fixtures[name] = out;

  for (const rt of runtimes) {
    const entry = (out.runtimes[rt.name] = { warmup: null, runs: [], failures: [] });
    const w = await runOnce(rt, fx, reqBytes, WARMUP_TIMEOUT_MS);
    const check = compareWithExpected(fx, w);
    entry.warmup = { ok: w.ok, ms: r1(w.complete_ms), error: w.error, vs_expected: check };
    if (!w.ok) console.log(`${name}/${rt.name}: warm-up FAILED: ${w.error}`);
    else console.log(`${name}/${rt.name}: warm-up ok (${r1(w.complete_ms)} ms)` +
      (check ? `, body ${check.body_identical ? 'identical to' : `differs from`} expected.json` +
        (check.body_identical ? '' : ` (${check.body_bytes} vs ${check.expected_body_bytes} bytes)`) : ''));
    if (check && !check.status_matches) {
      console.log(`${name}/${rt.name}: WARNING: status ${w.response.status}, expected.json has ${check.expected_status}`);
    }
    await sleep(PAUSE_MS);
  }

  const active = runtimes.filter((rt) => out.runtimes[rt.name].warmup.ok);
  for (const rt of runtimes) if (!active.includes(rt)) out.runtimes[rt.name].failures.push('skipped: warm-up failed');
  for (let i = 0; i < opts.runs; i++) {
    for (const rt of active) {
      const entry = out.runtimes[rt.name];
      const r = await runOnce(rt, fx, reqBytes, START_TIMEOUT_MS);
      if (r.ok) entry.runs.push({ first_byte_ms: r1(r.first_byte_ms), complete_ms: r1(r.complete_ms) });
      else {
        entry.failures.push(`run ${i + 1}: ${r.error}`);
        console.log(`${name}/${rt.name}: run ${i + 1} FAILED: ${r.error}`);
      }
      await sleep(PAUSE_MS);
    }
  }
  for (const rt of runtimes) {
    const e = out.runtimes[rt.name];
    e.first_byte = stats(e.runs.map((r) => r.first_byte_ms));
    e.complete = stats(e.runs.map((r) => r.complete_ms));
    console.log(`${name}/${rt.name}: ${e.runs.length}/${opts.runs} ok; first byte ${fmt(e.first_byte).replace(/\*/g, '')} ms; complete ${fmt(e.complete).replace(/\*/g, '')} ms`);
  }
  const R = out.runtimes;
  out.ratios = {};
  const pairs = opts.coldstart ? [['workerd', 'coldstart'], ['node', 'coldstart']] : [['node', 'workerd']];
  for (const [a, b] of pairs) {
    out.ratios[`${a}/${b}`] = {
      first_byte: ratio(R[a]?.first_byte, R[b]?.first_byte),
      complete: ratio(R[a]?.complete, R[b]?.complete),
    };
  }
}

// Markdown
const runtimeNames = ['workerd', 'node', ...(opts.coldstart ? ['coldstart'] : [])];
const lines = [];
lines.push('', `Cold start, ms from spawn (min / **median** / max over ${opts.runs} runs); main request per fixture; ${report.machine}.`, '');
lines.push('| fixture | runtime | ok | first byte (ms) | complete (ms) |', '|---|---|---|---|---|');
for (const [name, f] of Object.entries(report.fixtures)) {
  for (const rt of runtimeNames) {
    const e = f.runtimes[rt];
    lines.push(`| ${name} | ${rt} | ${e.runs.length}/${opts.runs} | ${fmt(e.first_byte)} | ${fmt(e.complete)} |`);
  }
}
const pairNames = Object.keys(Object.values(report.fixtures)[0]?.ratios ?? {});
if (pairNames.length) {
  lines.push('', 'Ratios of the medians (first byte / complete):', '');
  lines.push(`| fixture | ${pairNames.join(' | ')} |`, `|---|${pairNames.map(() => '---|').join('')}`);
  for (const [name, f] of Object.entries(report.fixtures)) {
    const cells = pairNames.map((p) => `${f.ratios[p].first_byte ?? '—'} / ${f.ratios[p].complete ?? '—'}`);
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
}
const failures = Object.entries(report.fixtures).flatMap(([name, f]) =>
  Object.entries(f.runtimes).flatMap(([rt, e]) => [
    ...(e.warmup.ok ? [] : [`${name}/${rt} warm-up: ${e.warmup.error}`]),
    ...e.failures.map((x) => `${name}/${rt} ${x}`),
  ]),
);
if (failures.length) lines.push('', 'Failures:', '', ...failures.map((f) => `- ${f.split('\n')[0]}`));
console.log(lines.join('\n'));

if (opts.json) {
  fs.writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nbench-workers: wrote ${opts.json}`);
}
process.exitCode = failures.length ? 1 : 0;
