//! The content-addressed store: hits, pointers, gc, corrupt entries, concurrent builders.

use std::sync::{Arc, Barrier};

use coldstart::snapshot::{BuildOptions, SnapshotStore};
use coldstart::Bundle;

use crate::common::*;

#[test]
fn a_store_hit_does_not_rebuild() {
    let bundle = small_app();
    let (_dir, store) = temp_store();
    let first = store
        .get_or_build(&bundle, &BuildOptions::default())
        .unwrap();
    assert!(!first.cached);
    assert!(first.build_ms > 0.0);
    let path = first.snapshot.path().to_path_buf();
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    let second = store
        .get_or_build(&bundle, &BuildOptions::default())
        .unwrap();
    assert!(second.cached);
    assert_eq!(second.build_ms, 0.0);
    assert_eq!(second.snapshot.key(), first.snapshot.key());
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before,
        "file untouched"
    );
    assert_eq!(
        path.file_name().unwrap().to_string_lossy(),
        format!("{}.snap", first.snapshot.key_hex())
    );
}

#[test]
fn a_corrupt_store_entry_is_a_logged_miss_and_gets_rebuilt() {
    let bundle = small_app();
    let (_dir, store) = temp_store();
    let first = store
        .get_or_build(&bundle, &BuildOptions::default())
        .unwrap();
    let path = first.snapshot.path().to_path_buf();
    drop(first);
    let mut bytes = read(&path);
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let again = store
        .get_or_build(&bundle, &BuildOptions::default())
        .unwrap();
    assert!(!again.cached, "corrupt entry must be rebuilt");
    let mut iso = isolate(&again.snapshot);
    assert!(iso.render_page("/", "{}").is_ok());
}

#[test]
fn current_previous_rollback_and_gc() {
    let (_dir, store) = temp_store();
    assert_eq!(store.current(), None);
    let mut keys = Vec::new();
    for i in 0..4 {
        let bundle = Bundle::new("app.js", format!("{SMALL_APP}\n// version {i}"));
        let loaded = store
            .get_or_build(&bundle, &BuildOptions::default())
            .unwrap();
        store.set_current(&loaded.snapshot.key()).unwrap();
        keys.push(loaded.snapshot.key());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(store.current(), Some(keys[3]));
    assert_eq!(store.previous(), Some(keys[2]));
    assert_eq!(store.rollback().unwrap(), keys[2]);
    assert_eq!(store.current(), Some(keys[2]));
    assert_eq!(store.previous(), Some(keys[3]));
    // keep 0 unpinned: only current and previous survive.
    let report = store.gc(0).unwrap();
    assert_eq!(report.removed.len(), 2);
    assert!(store.path_for(&keys[2]).exists());
    assert!(store.path_for(&keys[3]).exists());
    assert!(!store.path_for(&keys[0]).exists());
    // A re-opened store sees the same pointers (they are files).
    let reopened = SnapshotStore::open(store.dir()).unwrap();
    assert_eq!(reopened.current(), Some(keys[2]));
}

#[test]
fn concurrent_get_or_build_of_one_key_is_safe() {
    let bundle = Arc::new(small_app());
    let (_dir, store) = temp_store();
    let threads = 4;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (bundle, store, barrier) = (bundle.clone(), store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let loaded = store
                    .get_or_build(&bundle, &BuildOptions::default())
                    .unwrap();
                let mut iso =
                    coldstart::SsrIsolate::from_snapshot(&loaded.snapshot, Default::default())
                        .unwrap();
                let page = iso.render_page("/c", "{}").unwrap();
                (loaded.snapshot.key(), page.body)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    // Exactly one complete file, no temp files left behind.
    let names: Vec<String> = std::fs::read_dir(store.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(coldstart::Snapshot::open(store.path_for(&results[0].0)).is_ok());
}
