//! IsolatePool: dispatch, isolation modes, containment, reload with fallback, restart.

use std::time::{Duration, Instant};

use coldstart::pool::{BuildMode, IsolatePool, Isolation, PoolConfig};
use coldstart::Error;

use crate::common::*;

fn config(dir: &std::path::Path) -> PoolConfig {
    pool_config(dir, Isolation::PerWorker, 16, Duration::from_millis(500))
}

fn render(pool: &IsolatePool, route: &str) -> Result<String, Error> {
    let route = route.to_string();
    pool.execute_blocking(move |iso| iso.render_page(&route, "{}").map(|p| p.body))
}

/// Waits until every worker has its first isolate, noticing it within a fraction of a
/// millisecond (a test times the pool's start with it).
fn wait_ready(pool: &IsolatePool) {
    let started = Instant::now();
    while pool.ready_workers() < pool.config().workers {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "workers never became ready"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// A pool of one worker with room for `queue_per_worker` queued jobs, its isolate up.
fn one_worker_pool(queue_per_worker: usize) -> (tempfile::TempDir, IsolatePool) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let mut cfg = config(dir.path());
    cfg.workers = 1;
    cfg.queue_per_worker = queue_per_worker;
    let pool = IsolatePool::start(&engine(), &bundle, cfg).unwrap();
    wait_ready(&pool);
    (dir, pool)
}

#[test]
fn per_worker_keeps_state_and_per_request_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let mut cfg = config(dir.path());
    cfg.workers = 1;
    let pool = IsolatePool::start(&engine(), &bundle, cfg.clone()).unwrap();
    render(&pool, "/state").unwrap();
    let second = render(&pool, "/state").unwrap();
    assert!(
        second.contains("hits=2"),
        "per-worker reuses the isolate: {second}"
    );
    drop(pool);

    cfg.isolation = Isolation::PerRequest;
    let pool = IsolatePool::start(&engine(), &bundle, cfg).unwrap();
    for _ in 0..3 {
        let body = render(&pool, "/state").unwrap();
        assert!(
            body.contains("hits=1"),
            "per-request starts pristine every time: {body}"
        );
    }
    assert!(
        pool.stats()
            .contexts_reset
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );
}

#[test]
fn an_infinite_loop_times_out_and_others_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    wait_ready(&pool);
    let started = Instant::now();
    let spinning = pool.clone();
    let spin = within(Duration::from_secs(5), "/spin", move || {
        render(&spinning, "/spin")
    })
    .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(spin, Error::Timeout { ref entry, ms: 500 } if entry == "__rex_render_page"),
        "{spin}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "terminated near its deadline, took {elapsed:?}"
    );
    assert!(spin.to_string().contains("timed out after 500 ms"));
    for i in 0..6 {
        assert!(render(&pool, &format!("/ok{i}")).unwrap().contains("v1"));
    }
    assert!(
        pool.stats()
            .isolates_discarded
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
}

#[test]
fn a_heap_bomb_is_contained_without_aborting() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let mut cfg = config(dir.path());
    cfg.ssr.call_timeout = Duration::from_secs(20);
    let pool = IsolatePool::start(&engine(), &bundle, cfg).unwrap();
    let error = render(&pool, "/bomb").unwrap_err();
    assert!(
        matches!(error, Error::HeapLimit { limit_mb: 64, .. }),
        "{error}"
    );
    assert!(render(&pool, "/after").unwrap().contains("v1"));
}

#[test]
fn deep_recursion_is_a_range_error() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    let error = render(&pool, "/recurse").unwrap_err();
    let js = error.as_js().expect("a JS error");
    assert!(
        js.message
            .contains("RangeError: Maximum call stack size exceeded"),
        "{js}"
    );
    assert!(render(&pool, "/after").is_ok());
}

#[test]
fn a_panicking_job_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let mut cfg = config(dir.path());
    cfg.workers = 1;
    let pool = IsolatePool::start(&engine(), &bundle, cfg).unwrap();
    let result: Result<(), Error> = pool.execute_blocking(|_| panic!("job panics on purpose"));
    assert!(result.unwrap_err().to_string().contains("panicked"));
    assert!(render(&pool, "/after").unwrap().contains("v1"));
    assert_eq!(
        pool.stats()
            .panics
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[test]
fn reload_swaps_and_a_bad_reload_keeps_the_old_snapshot_serving() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    assert!(render(&pool, "/").unwrap().contains("v1"));
    assert_eq!(pool.generation(), 1);

    write_bundle(dir.path(), &pool_app("v2"));
    let report = pool.reload(&bundle).unwrap();
    assert_eq!(report.generation, 2);
    assert!(render(&pool, "/").unwrap().contains("v2"));

    write_bundle(
        dir.path(),
        "function broken() {\n  throw new Error('bad bundle at load');\n}\nbroken();\n",
    );
    let error = pool.reload(&bundle).unwrap_err();
    let js = error.as_js().expect("the JS error of the bad bundle");
    assert!(js.message.contains("bad bundle at load"));
    assert!(
        js.stack.as_deref().unwrap_or("").contains("app.js:2"),
        "{js:?}"
    );
    assert_eq!(pool.generation(), 2);
    for _ in 0..4 {
        assert!(
            render(&pool, "/").unwrap().contains("v2"),
            "the previous snapshot keeps serving"
        );
    }

    // Rollback returns to v1.
    pool.rollback().unwrap();
    assert!(render(&pool, "/").unwrap().contains("v1"));
    assert_eq!(
        pool.stats()
            .reloads_failed
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[test]
fn reload_in_a_child_process() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let mut cfg = config(dir.path());
    cfg.build_mode = BuildMode::ChildProcess {
        exe: env!("CARGO_BIN_EXE_coldstart").into(),
    };
    let pool = IsolatePool::start(&engine(), &bundle, cfg).unwrap();
    write_bundle(dir.path(), &pool_app("v2-child"));
    let report = pool.reload(&bundle).unwrap();
    assert!(!report.cached);
    assert!(render(&pool, "/").unwrap().contains("v2-child"));
    write_bundle(dir.path(), "let = ;");
    let error = pool.reload(&bundle).unwrap_err();
    assert!(error.to_string().contains("app.js:1"), "{error}");
    assert!(render(&pool, "/").unwrap().contains("v2-child"));
}

#[test]
fn a_restarted_pool_resumes_from_the_last_good_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    write_bundle(dir.path(), &pool_app("v2"));
    pool.reload(&bundle).unwrap();
    drop(pool);
    // The bundle on disk is now broken; a restart serves the last good snapshot (v2).
    write_bundle(dir.path(), "throw new Error('broken after deploy')");
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    assert!(render(&pool, "/").unwrap().contains("v2"));
    // Without any good snapshot, start fails with the bundle's error.
    let empty = tempfile::tempdir().unwrap();
    let broken = write_bundle(empty.path(), "throw new Error('never worked')");
    let error = IsolatePool::start(&engine(), &broken, config(empty.path())).unwrap_err();
    assert!(error.to_string().contains("never worked"));
}

/// Workers restore their first isolates one after another; requests sent before all of them are
/// ready go to those that are, and every worker still comes up.
#[test]
fn requests_at_start_up_are_answered_while_workers_come_up_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let mut cfg = config(dir.path());
    cfg.workers = 3;
    let pool = IsolatePool::start(&engine(), &bundle, cfg).unwrap();
    let burst: Vec<_> = (0..12)
        .map(|i| {
            let pool = pool.clone();
            std::thread::spawn(move || render(&pool, &format!("/page{i}")))
        })
        .collect();
    for (i, request) in burst.into_iter().enumerate() {
        let body = request.join().unwrap().unwrap();
        assert!(body.contains(&format!("/page{i}")), "{body}");
    }
    wait_ready(&pool);
    let created = pool
        .stats()
        .isolates_created
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(created, 3);
}

/// Workers restore their first isolates one after another, so the restores' durations never
/// overlap: together they take no longer than the pool took from its start to its last worker
/// being ready. (Restoring side by side, three restores overlap and add up to about three times
/// that.)
#[test]
fn workers_restore_their_first_isolates_one_after_another() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let mut cfg = config(dir.path());
    cfg.workers = 3;
    // The snapshot is built (and stored) by a first pool, so the second only maps it.
    let built = IsolatePool::start(&engine(), &bundle, cfg.clone()).unwrap();
    wait_ready(&built);
    drop(built);
    let started = Instant::now();
    let pool = IsolatePool::start(&engine(), &bundle, cfg).unwrap();
    wait_ready(&pool);
    let until_ready = started.elapsed();
    let restoring = Duration::from_micros(
        pool.stats()
            .isolate_create_micros
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    assert!(
        restoring <= until_ready,
        "three restores took {restoring:?} together within {until_ready:?}: they overlapped"
    );
}

#[test]
fn a_full_pool_reports_overload_instead_of_blocking() {
    let (_dir, pool) = one_worker_pool(1);
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let blocker = pool.clone();
    let held = std::thread::spawn(move || {
        blocker.execute_blocking(move |_| {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok(())
        })
    });
    started_rx.recv().unwrap();
    let queued = pool.clone();
    let waiting = std::thread::spawn(move || queued.execute_blocking(|_| Ok(())));
    std::thread::sleep(Duration::from_millis(50));
    let refused = pool.execute_blocking(|_| Ok(())).unwrap_err();
    assert!(matches!(refused, Error::Overloaded(_)), "{refused}");
    release_tx.send(()).unwrap();
    held.join().unwrap().unwrap();
    waiting.join().unwrap().unwrap();
}

#[test]
fn rollback_without_a_previous_snapshot_is_an_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    let error = pool.rollback().unwrap_err();
    assert!(matches!(error, Error::NoPreviousSnapshot), "{error}");
    assert_eq!(pool.generation(), 1);
    assert!(render(&pool, "/r").unwrap().contains("v1 /r"));
}

#[test]
fn a_restart_whose_current_snapshot_is_corrupt_never_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    let current = pool.current().snapshot.path().to_path_buf();
    drop(pool);
    // Corrupt the file CURRENT points at (one payload byte).
    let mut bytes = read(&current);
    let middle = bytes.len() - 100;
    bytes[middle] ^= 0xff;
    // Replaced by rename: the dropped pool's workers may still have the old file mapped.
    let damaged = dir.path().join("damaged.snap");
    std::fs::write(&damaged, &bytes).unwrap();
    std::fs::rename(&damaged, &current).unwrap();

    // With a bundle that no longer builds, there is nothing good to fall back on: a clear error.
    std::fs::write(&bundle, "this is not javascript (").unwrap();
    let error = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap_err();
    assert!(matches!(error, Error::Js(_)), "{error}");
    assert!(error.to_string().contains("app.js"), "{error}");

    // With the good bundle back, the corrupt file is rebuilt, not served.
    std::fs::write(&bundle, pool_app("v1")).unwrap();
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    assert!(render(&pool, "/back").unwrap().contains("v1 /back"));
    assert!(
        coldstart::Snapshot::open(&engine(), &current).is_ok(),
        "rebuilt in place"
    );
}

#[test]
fn a_restart_falls_back_to_current_when_the_bundle_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &pool_app("v1"));
    drop(IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap());
    std::fs::write(&bundle, "throw new Error('broken at load');").unwrap();
    let pool = IsolatePool::start(&engine(), &bundle, config(dir.path())).unwrap();
    assert!(render(&pool, "/fallback").unwrap().contains("v1 /fallback"));
}

#[test]
fn a_submitted_job_answers_through_its_own_channel_and_a_lost_one_closes_it() {
    let (_dir, pool) = one_worker_pool(1);
    let wait = Duration::from_secs(10);

    let (tx, rx) = std::sync::mpsc::channel();
    pool.submit(move |iso| {
        let _ = tx.send(iso.render_page("/s", "{}").map(|p| p.body));
    })
    .unwrap();
    assert!(rx.recv_timeout(wait).unwrap().unwrap().contains("v1"));

    // A job that panics is dropped with its sender: the receiver sees the channel close.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    pool.submit(move |_| {
        let _keep = &tx;
        panic!("job panics on purpose");
    })
    .unwrap();
    assert_eq!(
        rx.recv_timeout(wait),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
    );

    // With the worker busy and its queue full, submit refuses at once and drops the job unrun.
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    pool.submit(move |_| {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(Duration::from_secs(10));
    })
    .unwrap();
    started_rx.recv_timeout(wait).unwrap();
    let (queued_tx, queued_rx) = std::sync::mpsc::channel::<&str>();
    pool.submit(move |_| queued_tx.send("queued ran").unwrap())
        .unwrap();
    let (refused_tx, refused_rx) = std::sync::mpsc::channel::<&str>();
    let refused = pool
        .submit(move |_| refused_tx.send("refused ran").unwrap())
        .unwrap_err();
    assert!(matches!(refused, Error::Overloaded(_)), "{refused}");
    assert_eq!(
        refused_rx.recv_timeout(Duration::from_millis(100)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
    );
    release_tx.send(()).unwrap();
    assert_eq!(queued_rx.recv_timeout(wait), Ok("queued ran"));
    assert!(render(&pool, "/after").unwrap().contains("v1"));
}
