//! ES module bundles: the graph in the snapshot, `import()` from the snapshot, built-in modules,
//! AsyncLocalStorage, the fetch handler and `render(url)` — each from a snapshot and fresh.

use coldstart::worker::{AppKind, WorkerRequest};
use coldstart::{Bundle, Error, SsrConfig, SsrIsolate};

use crate::common::{engine, snapshot_of};

fn get(url: &str) -> WorkerRequest {
    WorkerRequest {
        method: "GET".into(),
        url: url.into(),
        ..Default::default()
    }
}

/// Runs `check` on an isolate restored from a snapshot of `bundle`, then on a fresh one.
fn both(bundle: &Bundle, config: SsrConfig, check: impl Fn(&mut SsrIsolate, &str)) {
    let (_dir, snapshot) = snapshot_of(bundle);
    let mut restored = SsrIsolate::from_snapshot(&snapshot, config.clone()).expect("restore");
    check(&mut restored, "snapshot");
    let mut fresh = SsrIsolate::fresh(&engine(), bundle, config).expect("fresh");
    check(&mut fresh, "fresh");
}

fn graph() -> Bundle {
    Bundle::from_modules(
        "app/worker.js",
        vec![
            (
                "app/worker.js".into(),
                r#"
import { counter, bump } from "../lib/state.js";
import { EventEmitter } from "node:events";
import { AsyncLocalStorage } from "node:async_hooks";
import { env } from "cloudflare:workers";
const als = new AsyncLocalStorage();
const settled = await new Promise((resolve) => resolve("tla"));
export default {
  async fetch(request, workerEnv, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/lazy") {
      const lazy = await import("../lib/lazy.js");
      return new Response(lazy.describe());
    }
    if (url.pathname === "/missing") {
      try { await import("./nope.js"); } catch (e) { return new Response(e.constructor.name + ": " + e.message, { status: 500 }); }
    }
    if (url.pathname === "/als") {
      const seen = await als.run({ id: url.searchParams.get("id") }, async () => {
        await null;
        const a = als.getStore().id;
        await new Promise((r) => setTimeout(r, 1));
        const b = als.getStore().id;
        const c = await new Promise((r) => queueMicrotask(() => r(als.getStore().id)));
        return [a, b, c].join(",");
      });
      return new Response(seen + "|" + String(als.getStore()));
    }
    if (url.pathname === "/post") {
      return new Response(request.method + ":" + (await request.text()), { status: 201, headers: { "x-kind": "echo" } });
    }
    const e = new EventEmitter();
    let heard = "";
    e.on("x", (v) => (heard = v));
    e.emit("x", "event");
    return new Response([bump(), counter(), settled, heard, workerEnv.GREETING, env === workerEnv].join(" "), {
      headers: { "content-type": "text/plain" },
    });
  },
};
"#
                .into(),
            ),
            (
                "lib/state.js".into(),
                "let n = 0; export const bump = () => ++n; export const counter = () => n;".into(),
            ),
            (
                "lib/lazy.js".into(),
                "globalThis.lazyEvaluations = (globalThis.lazyEvaluations || 0) + 1;\n\
                 export const describe = () => 'lazy chunk, evaluated ' + globalThis.lazyEvaluations + 'x';"
                    .into(),
            ),
        ],
    )
    .unwrap()
}

fn config() -> SsrConfig {
    let mut config = SsrConfig::default();
    config.runtime.vars.insert("GREETING".into(), "hi".into());
    config
}

#[test]
fn a_module_graph_serves_fetch_from_a_snapshot_and_fresh() {
    both(&graph(), config(), |iso, how| {
        assert_eq!(iso.app_kind(), AppKind::Fetch, "{how}");
        let response = iso.fetch_collect(&get("http://x.test/")).unwrap();
        assert_eq!(response.status, 200, "{how}");
        assert_eq!(response.header("content-type"), Some("text/plain"));
        assert_eq!(
            String::from_utf8(response.body()).unwrap(),
            "1 1 tla event hi true",
            "{how}"
        );
        let again = iso.fetch_collect(&get("http://x.test/")).unwrap();
        assert!(
            String::from_utf8(again.body()).unwrap().starts_with("2 2 "),
            "{how}: module state persists across requests"
        );
    });
}

#[test]
fn dynamic_import_resolves_from_the_snapshot_and_evaluates_once() {
    both(&graph(), config(), |iso, how| {
        for _ in 0..2 {
            let response = iso.fetch_collect(&get("http://x.test/lazy")).unwrap();
            assert_eq!(
                String::from_utf8(response.body()).unwrap(),
                "lazy chunk, evaluated 1x",
                "{how}"
            );
        }
        let missing = iso.fetch_collect(&get("http://x.test/missing")).unwrap();
        let text = String::from_utf8(missing.body()).unwrap();
        assert!(
            text.starts_with("TypeError: Cannot import `./nope.js` from `app/worker.js`"),
            "{how}: {text}"
        );
    });
}

#[test]
fn async_local_storage_follows_await_timers_and_microtasks() {
    both(&graph(), config(), |iso, how| {
        let response = iso.fetch_collect(&get("http://x.test/als?id=7")).unwrap();
        assert_eq!(
            String::from_utf8(response.body()).unwrap(),
            "7,7,7|undefined",
            "{how}"
        );
    });
}

#[test]
fn request_bodies_reach_the_handler() {
    both(&graph(), config(), |iso, how| {
        let response = iso
            .fetch_collect(&WorkerRequest {
                method: "POST".into(),
                url: "http://x.test/post".into(),
                headers: vec![("content-type".into(), "text/plain".into())],
                body: Some(b"payload".to_vec()),
            })
            .unwrap();
        assert_eq!(response.status, 201, "{how}");
        assert_eq!(response.header("x-kind"), Some("echo"));
        assert_eq!(response.body(), b"POST:payload", "{how}");
    });
}

#[test]
fn an_unknown_import_fails_the_build_naming_specifier_and_importer() {
    for specifier in ["node:fs", "react", "../outside.js"] {
        let bundle = Bundle::from_modules(
            "worker.js",
            vec![
                (
                    "worker.js".into(),
                    "import './ok.js'; export default { fetch() {} };".into(),
                ),
                (
                    "ok.js".into(),
                    format!("import x from '{specifier}'; export default x;"),
                ),
            ],
        )
        .unwrap();
        let error = coldstart::SnapshotBuilder::new(&engine(), &bundle)
            .build()
            .unwrap_err();
        match &error {
            Error::UnresolvedImport {
                specifier: s,
                importer,
                ..
            } => {
                assert_eq!(s, specifier);
                assert_eq!(importer, "ok.js");
            }
            other => panic!("{specifier}: expected UnresolvedImport, got {other:?}"),
        }
        assert!(error.to_string().contains(specifier), "{error}");
        let fresh = SsrIsolate::fresh(&engine(), &bundle, SsrConfig::default())
            .err()
            .unwrap();
        assert!(matches!(fresh, Error::UnresolvedImport { .. }), "{fresh:?}");
    }
}

#[test]
fn a_module_without_a_handler_is_refused_at_build() {
    let bundle =
        Bundle::from_modules("m.js", vec![("m.js".into(), "export const x = 1;".into())]).unwrap();
    let error = coldstart::SnapshotBuilder::new(&engine(), &bundle)
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::NoHandler { .. }), "{error:?}");
}

#[test]
fn render_modules_return_html_head_and_status() {
    let bundle = Bundle::from_modules(
        "entry-server.js",
        vec![(
            "entry-server.js".into(),
            "export async function render(url) { await null; \
             return url === '/missing' ? { html: '<p>none</p>', status: 404 } : { html: `<p>${url}</p>`, head: '<title>t</title>' }; }"
                .into(),
        )],
    )
    .unwrap();
    both(&bundle, SsrConfig::default(), |iso, how| {
        assert_eq!(iso.app_kind(), AppKind::Render);
        let page = iso.render_url("/about").unwrap();
        assert_eq!(page.html, "<p>/about</p>", "{how}");
        assert_eq!(page.head.as_deref(), Some("<title>t</title>"));
        assert_eq!(iso.render_url("/missing").unwrap().status, Some(404));
        assert!(matches!(
            iso.fetch_collect(&get("http://x/")),
            Err(Error::NotLoaded { .. })
        ));
    });
}

#[test]
fn a_warmup_request_runs_at_build_and_its_state_is_in_the_snapshot() {
    let bundle = Bundle::from_modules(
        "w.js",
        vec![(
            "w.js".into(),
            "let seen = []; export default { async fetch(request) { \
             seen.push(new URL(request.url).pathname); return new Response(seen.join(',')); } };"
                .into(),
        )],
    )
    .unwrap();
    let options = coldstart::snapshot::BuildOptions {
        warmup: vec![coldstart::snapshot::WarmupCall {
            route: "/warm".into(),
            props_json: "{}".into(),
        }],
        ..Default::default()
    };
    let (_dir, store) = crate::common::temp_store();
    let snapshot = store.get_or_build(&bundle, &options).unwrap().snapshot;
    let mut iso = SsrIsolate::from_snapshot(&snapshot, SsrConfig::default()).unwrap();
    let response = iso.fetch_collect(&get("http://x.test/first")).unwrap();
    assert_eq!(response.body(), b"/warm,/first");
}

#[test]
fn a_fresh_context_per_request_restores_module_state_and_lazy_chunks() {
    let (_dir, snapshot) = snapshot_of(&graph());
    let mut iso = SsrIsolate::from_snapshot(&snapshot, config()).unwrap();
    for _ in 0..3 {
        let response = iso.fetch_collect(&get("http://x.test/")).unwrap();
        assert!(
            String::from_utf8(response.body())
                .unwrap()
                .starts_with("1 1 "),
            "pristine module state"
        );
        let lazy = iso.fetch_collect(&get("http://x.test/lazy")).unwrap();
        assert_eq!(lazy.body(), b"lazy chunk, evaluated 1x");
        iso.reset_context().unwrap();
    }
}

#[test]
fn intl_objects_made_while_building_work_after_restore() {
    let bundle = Bundle::from_modules(
        "w.js",
        vec![(
            "w.js".into(),
            "const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR' });\n\
             const date = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', dateStyle: 'long' });\n\
             const same = money instanceof Intl.NumberFormat;\n\
             export default { fetch: () => new Response([money.format(1234.5), date.format(new Date(0)), same, \
               new Intl.NumberFormat('de-DE').format(1234.5), money.resolvedOptions().currency].join('|')) };"
                .into(),
        )],
    )
    .unwrap();
    both(&bundle, SsrConfig::default(), |iso, how| {
        let response = iso.fetch_collect(&get("http://x.test/")).unwrap();
        assert_eq!(
            String::from_utf8(response.body()).unwrap(),
            "€1,234.50|1 January 1970|true|1.234,5|EUR",
            "{how}"
        );
    });
}

/// Script and module snapshots live side by side in one process, built and restored in every
/// order. (V8 can rehash a script snapshot but never a module snapshot — a module's export table
/// is a plain hash table; with `--rehash-snapshot` this test aborts the process.)
#[test]
fn module_and_script_snapshots_live_side_by_side() {
    let script = crate::common::small_app();
    let worker = Bundle::from_modules(
        "w.js",
        vec![(
            "w.js".into(),
            r#"
const table = {};
for (let i = 0; i < 2000; i++) table["key" + i] = i;
const names = new Map(Object.entries(table));
export default {
  fetch(request) {
    const url = new URL(request.url);
    const k = url.searchParams.get("k");
    return new Response(String(table[k]) + "/" + String(names.get(k)) + "/" + ("key1999" in table));
  },
};
"#
            .into(),
        )],
    )
    .unwrap();
    let (_script_dir, script_snapshot) = snapshot_of(&script);
    let first_script = crate::common::isolate(&script_snapshot);
    // Built while a rehashed isolate is alive, then restored while another one is.
    let (_worker_dir, worker_snapshot) = snapshot_of(&worker);
    drop(first_script);
    let mut second_script = crate::common::isolate(&script_snapshot);
    let mut restored =
        SsrIsolate::from_snapshot(&worker_snapshot, SsrConfig::default()).expect("restore");
    for k in ["key0", "key777", "key1999"] {
        let response = restored
            .fetch_collect(&get(&format!("http://x/?k={k}")))
            .expect("fetch");
        let n = &k[3..];
        assert_eq!(
            String::from_utf8(response.body()).unwrap(),
            format!("{n}/{n}/true"),
            "{k}"
        );
    }
    second_script.render_page("/", "{}").expect("render");
    drop(restored);
    // And the other way round: the module isolate first.
    drop(second_script);
    let mut worker_first =
        SsrIsolate::from_snapshot(&worker_snapshot, SsrConfig::default()).expect("restore");
    let mut script_after = crate::common::isolate(&script_snapshot);
    script_after.render_page("/", "{}").expect("render");
    let response = worker_first
        .fetch_collect(&get("http://x/?k=key42"))
        .expect("fetch");
    assert_eq!(String::from_utf8(response.body()).unwrap(), "42/42/true");
    drop(script_after);
}

/// A module worker's first request after a restore runs coldstart's request plumbing —
/// `worker_fetch` and the `ctx` it hands out, the `Request`/`Response`/`Headers`/`URL`
/// accessors, request-scoped storage, timers, byte streams — without compiling any of it: the
/// build runs it once through a stand-in handler (`internals.warm_worker_plumbing`), so its
/// bytecode is in the snapshot. Checked with V8's own log of function events: no bytecode
/// compile (`function,interpreter`) in any of coldstart's scripts during the restored run.
/// (Before, `worker_fetch` and a handful of accessors compiled at every cold start: 0.4 ms, and
/// the first use of V8's parser and compiler in the process.)
#[test]
fn a_restored_worker_s_first_request_compiles_none_of_the_plumbing() {
    use crate::bin::{run_within, stdout, HANG};
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("worker.mjs"),
        r#"export default {
            async fetch(request, env, ctx) {
                const url = new URL(request.url);
                ctx.waitUntil(Promise.resolve());
                const seen = request.headers.get("accept") + " " + url.searchParams.get("q");
                await new Promise((resolve) => setTimeout(resolve, 0));
                const body = new ReadableStream({
                    type: "bytes",
                    pull(controller) {
                        controller.enqueue(new TextEncoder().encode(`${request.method} ${url.pathname} ${seen}`));
                        controller.close();
                    },
                }, { highWaterMark: 0 });
                return new Response(body, { status: 201, headers: { "content-type": "text/plain" } });
            },
        };"#,
    )
    .expect("write the worker");
    let log = dir.path().join("v8.log");
    let flags = format!(
        "--log-function-events --no-logfile-per-isolate --logfile={}",
        log.display()
    );
    let args = [
        "--v8-flags",
        flags.as_str(),
        "call",
        "worker.mjs",
        "--request",
        "GET /page?q=1",
        "--header",
        "accept: text/plain",
        "--store",
        "store",
    ];
    // The first run builds the snapshot; the second restores it, with a log of its own.
    let built = run_within(dir.path(), &args, HANG);
    assert!(built.status.success(), "{built:?}");
    std::fs::remove_file(&log).expect("the first run wrote a V8 log");
    let restored = run_within(dir.path(), &args, HANG);
    assert!(restored.status.success(), "{restored:?}");
    assert!(stdout(&restored).contains("HTTP 201"), "{restored:?}");
    assert!(
        stdout(&restored).ends_with("GET /page text/plain 1"),
        "{restored:?}"
    );

    let text = std::fs::read_to_string(&log).expect("V8 log of the restored run");
    assert!(
        text.contains("function,first-execution,"),
        "an empty log: {text}"
    );
    // script-details,ID,NAME,...: coldstart's scripts are the polyfills (NN_name.js) and the
    // built-in modules (node:…, cloudflare:…).
    let ours: std::collections::HashSet<&str> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            (fields.next()? == "script-details").then_some(())?;
            let (id, name) = (fields.next()?, fields.next()?);
            let polyfill = name.len() > 3
                && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
                && name.as_bytes()[2] == b'_';
            (polyfill || name.contains(':')).then_some(id)
        })
        .collect();
    assert!(ours.len() > 5, "no polyfill scripts in the log: {text}");
    // function,interpreter,SCRIPT_ID,START,END,MS,TIMESTAMP,NAME: a bytecode compile.
    let compiled: Vec<&str> = text
        .lines()
        .filter(|line| {
            let mut fields = line.split(',');
            fields.next() == Some("function")
                && fields.next() == Some("interpreter")
                && fields.next().is_some_and(|id| ours.contains(id))
        })
        .collect();
    assert!(
        compiled.is_empty(),
        "the first request compiled coldstart's own functions:\n{}",
        compiled.join("\n")
    );
}
