//! The CPU watchdog itself: JS that never yields to the event loop (a loop in the entry, in a
//! microtask, in a timer callback, in an evaluated script) is terminated near its deadline. Each
//! test runs the call on a helper thread with its own time limit, so a watchdog that never fires
//! fails here within seconds instead of hanging the run.

use std::time::{Duration, Instant};

use coldstart::{Bundle, Error, SsrConfig, SsrIsolate};

use crate::common::*;

const SPIN_APP: &str = r#"
globalThis.__rex_render_page = function (route) {
  if (route === "/sync") { for (;;) {} }
  if (route === "/microtask") { return Promise.resolve().then(() => { for (;;) {} }); }
  if (route === "/timer") { return new Promise(() => setTimeout(() => { for (;;) {} }, 1)); }
  return JSON.stringify({ body: "<p>" + route + "</p>", head: "" });
};
globalThis.__rex_get_server_side_props = function () { return JSON.stringify({ props: {} }); };
globalThis.__rex_get_static_props = function () { return JSON.stringify({ props: {} }); };
"#;

const DEADLINE: Duration = Duration::from_millis(200);
/// Generous for a noisy 2-core machine, yet far below what a missing watchdog would take.
const LATEST: Duration = Duration::from_millis(1500);

fn spin(route: &'static str) {
    let (_dir, snapshot) = snapshot_of(&Bundle::new("spin.js", SPIN_APP));
    let (error, elapsed, poisoned, after) = within(Duration::from_secs(5), route, move || {
        let config = SsrConfig {
            call_timeout: DEADLINE,
            ..SsrConfig::default()
        };
        let mut iso = SsrIsolate::from_snapshot(&snapshot, config).unwrap();
        let started = Instant::now();
        let error = iso.render_page(route, "{}").unwrap_err();
        let elapsed = started.elapsed();
        let poisoned = iso.poisoned().map(str::to_string);
        let after = isolate(&snapshot)
            .render_page("/after", "{}")
            .map(|p| p.body);
        (error, elapsed, poisoned, after)
    });
    assert!(
        matches!(&error, Error::Timeout { entry, ms: 200 } if entry == "__rex_render_page"),
        "{route}: {error}"
    );
    assert!(
        elapsed >= DEADLINE,
        "{route}: terminated early, {elapsed:?}"
    );
    assert!(elapsed < LATEST, "{route}: terminated late, {elapsed:?}");
    assert_eq!(poisoned.as_deref(), Some("a timeout terminated it"));
    assert_eq!(after.unwrap(), "<p>/after</p>");
}

#[test]
fn a_loop_in_the_entry_is_terminated() {
    spin("/sync");
}

#[test]
fn a_loop_in_a_microtask_is_terminated() {
    spin("/microtask");
}

#[test]
fn a_loop_in_a_timer_callback_is_terminated() {
    spin("/timer");
}

#[test]
fn a_loop_in_an_evaluated_script_is_terminated() {
    let (_dir, snapshot) = snapshot_of(&small_app());
    let (result, elapsed) = within(Duration::from_secs(5), "eval", move || {
        let mut iso = isolate(&snapshot);
        let started = Instant::now();
        let result = iso.runtime().eval("for (;;) {}", "spin-eval.js", DEADLINE);
        (result.map_err(|e| e.to_string()), started.elapsed())
    });
    let error = result.unwrap_err();
    assert!(error.contains("timed out after 200 ms"), "{error}");
    assert!(elapsed < LATEST, "{elapsed:?}");
}
