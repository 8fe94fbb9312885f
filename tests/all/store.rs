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
    let reopened = SnapshotStore::open(&engine(), store.dir()).unwrap();
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
    assert!(coldstart::Snapshot::open(&engine(), store.path_for(&results[0].0)).is_ok());
}

#[test]
fn a_file_holding_another_key_is_a_miss_and_gets_rebuilt() {
    let (_dir, store) = temp_store();
    let a = Bundle::new("a.js", format!("{SMALL_APP}\n// a"));
    let b = Bundle::new("b.js", format!("{SMALL_APP}\n// b"));
    let loaded_a = store.get_or_build(&a, &BuildOptions::default()).unwrap();
    let key_b = coldstart::snapshot::snapshot_key(&engine(), &b, &BuildOptions::default());
    // A's (valid) file under B's name: the store must not hand it out as B.
    std::fs::copy(loaded_a.snapshot.path(), store.path_for(&key_b)).unwrap();
    assert!(
        store.get(&key_b).is_none(),
        "a file holding another key was accepted"
    );
    let loaded_b = store.get_or_build(&b, &BuildOptions::default()).unwrap();
    assert!(!loaded_b.cached);
    assert_eq!(loaded_b.snapshot.key(), key_b);
    assert_eq!(loaded_b.snapshot.header().bundle_name, "b.js");
}

#[test]
fn gc_keeps_the_newest_n_besides_current_and_previous() {
    let (_dir, store) = temp_store();
    let mut keys = Vec::new();
    for i in 0..5 {
        let bundle = Bundle::new("app.js", format!("{SMALL_APP}\n// gc {i}"));
        keys.push(
            store
                .get_or_build(&bundle, &BuildOptions::default())
                .unwrap()
                .snapshot
                .key(),
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Pin the two oldest; of the three others, keep the newest two.
    store.set_current(&keys[1]).unwrap();
    store.set_current(&keys[0]).unwrap();
    let report = store.gc(2).unwrap();
    assert_eq!(report.removed, vec![store.path_for(&keys[2])]);
    assert_eq!(report.kept, 4);
    for key in [keys[0], keys[1], keys[3], keys[4]] {
        assert!(store.path_for(&key).exists());
    }
}

#[test]
fn gc_removes_stale_temp_files_only() {
    let (_dir, store) = temp_store();
    let stale = store.dir().join(".tmp-stale");
    let fresh = store.dir().join(".tmp-fresh");
    for path in [&stale, &fresh] {
        std::fs::write(path, b"partial").unwrap();
    }
    set_age(&stale, std::time::Duration::from_secs(3600));
    store.gc(0).unwrap();
    assert!(
        !stale.exists(),
        "a temp file older than 10 minutes is an abandoned write"
    );
    assert!(
        fresh.exists(),
        "a recent temp file may be a write in progress"
    );
}

#[test]
fn store_files_are_read_only() {
    let (_dir, store) = temp_store();
    let loaded = store
        .get_or_build(&small_app(), &BuildOptions::default())
        .unwrap();
    store.set_current(&loaded.snapshot.key()).unwrap();
    for entry in std::fs::read_dir(store.dir()).unwrap().flatten() {
        let permissions = entry.metadata().unwrap().permissions();
        assert!(permissions.readonly(), "{:?} is writable", entry.path());
    }
}

/// A store records that it hashed a file and trusts that record while the file is untouched; a
/// byte changed in place is caught even with the modification time set back (the change time
/// gives it away), and `VerifyPolicy::Always` hashes every time.
#[test]
fn a_verification_record_stands_only_for_the_untouched_file() {
    use coldstart::snapshot::{MapOptions, Verification, VerifyPolicy};
    use std::io::{Seek, SeekFrom, Write};

    let (_dir, store) = temp_store();
    let loaded = store
        .get_or_build(&small_app(), &BuildOptions::default())
        .unwrap();
    let key = loaded.snapshot.key();
    let path = store.path_for(&key);
    assert_eq!(loaded.snapshot.verification(), Verification::Hashed);
    // Too fresh to record (the file clock's tick): hashed again.
    assert_eq!(
        store.get(&key).unwrap().verification(),
        Verification::Hashed
    );
    std::thread::sleep(std::time::Duration::from_millis(150));
    assert_eq!(
        store.get(&key).unwrap().verification(),
        Verification::Hashed
    );
    assert!(path.with_extension("verified").exists());
    assert_eq!(
        store.get(&key).unwrap().verification(),
        Verification::Recorded
    );
    let always = SnapshotStore::open(&engine(), store.dir())
        .unwrap()
        .with_map_options(MapOptions {
            verify: VerifyPolicy::Always,
            ..MapOptions::default()
        });
    assert_eq!(
        always.get(&key).unwrap().verification(),
        Verification::Hashed
    );

    // A garbled record is ignored (and replaced).
    std::fs::write(
        path.with_extension("verified"),
        "coldstart verified v1 1 2 3",
    )
    .unwrap();
    assert_eq!(
        store.get(&key).unwrap().verification(),
        Verification::Hashed
    );
    assert_eq!(
        store.get(&key).unwrap().verification(),
        Verification::Recorded
    );

    // One payload byte flipped in place, the modification time put back.
    drop(loaded);
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&path, permissions).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1000)).unwrap();
    std::io::Read::read_exact(&mut file, &mut byte).unwrap();
    file.seek(SeekFrom::Start(len - 1000)).unwrap();
    file.write_all(&[byte[0] ^ 0x01]).unwrap();
    file.set_modified(modified).unwrap();
    drop(file);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    assert!(
        store.get(&key).is_none(),
        "the flipped byte must fail the payload hash"
    );
}

/// Rewrites `path` in place with `text` (same length expected) and puts its modification time
/// back, as a careless deploy tool or an attacker with write access could.
fn rewrite_keeping_mtime(path: &std::path::Path, text: &str) {
    let modified = std::fs::metadata(path).unwrap().modified().unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    std::io::Write::write_all(&mut &file, text.as_bytes()).unwrap();
    file.set_modified(modified).unwrap();
}

/// A store's record of a bundle file's hash spares reading it while the file is untouched, and
/// stands for nothing else: the same bytes rewritten in place with the modification time put
/// back are read and hashed again.
#[test]
fn a_bundle_record_stands_only_for_the_untouched_file() {
    use coldstart::bundle::BundleFormat;

    let (_dir, store) = temp_store();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("app.js");
    let one = SMALL_APP.replace("<main>", "<MAIN>");
    std::fs::write(&path, &one).unwrap();
    let direct = Bundle::from_file(&path).unwrap();
    let first = store.bundle(&path, BundleFormat::Auto, None).unwrap();
    assert!(!first.hash_from_record(), "too fresh to have a record");
    std::thread::sleep(std::time::Duration::from_millis(150));
    let second = store.bundle(&path, BundleFormat::Auto, None).unwrap();
    assert!(!second.hash_from_record());
    let third = store.bundle(&path, BundleFormat::Auto, None).unwrap();
    assert!(
        third.hash_from_record(),
        "settled and untouched: from the record"
    );
    assert_eq!(third.content_hash(), direct.content_hash());
    assert_eq!(third.name(), "app.js");
    assert_eq!(
        third.source().unwrap(),
        one,
        "the source is still read on demand"
    );

    let two = SMALL_APP.replace("<main>", "<HEAD>");
    assert_eq!(one.len(), two.len());
    rewrite_keeping_mtime(&path, &two);
    let changed = store.bundle(&path, BundleFormat::Auto, None).unwrap();
    assert!(
        !changed.hash_from_record(),
        "the change time gives the rewrite away"
    );
    assert_eq!(
        changed.content_hash(),
        Bundle::from_file(&path).unwrap().content_hash()
    );
    assert_ne!(changed.content_hash(), direct.content_hash());
}

/// A store's record of a module bundle spares reading and hashing its files while every file
/// and folder under the module root is untouched: an edited chunk, a chunk added in a
/// subfolder, or an entry that now resolves elsewhere each make it read again. A build from a
/// recorded bundle reads the files then, and refuses them if they no longer match the record.
#[test]
fn a_module_bundle_record_stands_only_for_the_untouched_tree() {
    use coldstart::bundle::BundleFormat;

    let (_dir, store) = temp_store();
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    std::fs::create_dir_all(root.join("chunks")).unwrap();
    let entry = root.join("worker.mjs");
    std::fs::write(
        &entry,
        "import { greet } from './chunks/greet.js';\n\
         export default { fetch: () => new Response(greet()) };\n",
    )
    .unwrap();
    std::fs::write(
        root.join("chunks/greet.js"),
        "export const greet = () => 'hi';\n",
    )
    .unwrap();
    let read = || store.bundle(&entry, BundleFormat::Auto, None).unwrap();
    assert!(!read().hash_from_record(), "too fresh to have a record");
    std::thread::sleep(std::time::Duration::from_millis(150));
    let hashed = read();
    assert!(!hashed.hash_from_record());
    let recorded = read();
    assert!(
        recorded.hash_from_record(),
        "settled and untouched: from the record"
    );
    assert_eq!(recorded.content_hash(), hashed.content_hash());
    assert_eq!(recorded.name(), "worker.mjs");
    assert_eq!(recorded.format(), BundleFormat::Module);
    assert_eq!(recorded.len(), hashed.len());
    assert!(recorded.modules().is_none(), "nothing read yet");
    assert_eq!(recorded.module_root(), hashed.module_root());
    let files = recorded.load_modules().unwrap().expect("a module bundle");
    assert_eq!(files.files.len(), 2);
    assert_eq!(
        recorded.source().unwrap(),
        &**hashed.modules().unwrap().entry_source()
    );
    // `--format script` never takes the module record, and its own record (once the file has
    // been read as a script twice) is not taken by `auto`.
    for _ in 0..3 {
        let script = store.bundle(&entry, BundleFormat::Script, None).unwrap();
        assert_eq!(script.format(), BundleFormat::Script);
    }
    assert!(store
        .bundle(&entry, BundleFormat::Script, None)
        .unwrap()
        .hash_from_record());
    assert_eq!(read().format(), BundleFormat::Module);

    // A build from the recorded bundle (its snapshot gone) reads the files and gives the same key.
    let options = BuildOptions::default();
    let built = store.get_or_build(&hashed, &options).unwrap();
    let key = built.snapshot.key();
    std::fs::remove_file(built.snapshot.path()).unwrap();
    drop(built);
    let recorded = read();
    assert!(recorded.hash_from_record());
    let rebuilt = store.get_or_build(&recorded, &options).unwrap();
    assert!(!rebuilt.cached);
    assert_eq!(rebuilt.snapshot.key(), key);

    // Files changed after the record was trusted: the build refuses them.
    let stale = read();
    assert!(stale.hash_from_record());
    let greet = root.join("chunks/greet.js");
    std::fs::write(&greet, "export const greet = () => 'HI';\n").unwrap();
    let refused = stale.load_modules().unwrap_err().to_string();
    assert!(refused.contains("changed"), "{refused}");

    // An edited chunk (same length, modification time put back) is read again.
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = read();
    assert!(read().hash_from_record());
    rewrite_keeping_mtime(&greet, "export const greet = () => 'ho';\n");
    let edited = read();
    assert!(!edited.hash_from_record(), "the chunk's change time");
    assert_ne!(edited.content_hash(), hashed.content_hash());

    // A chunk added beside the others changes the bundle (every file under the root is in it).
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = read();
    assert!(read().hash_from_record());
    std::fs::write(root.join("chunks/late.js"), "export const late = 1;\n").unwrap();
    let grown = read();
    assert!(!grown.hash_from_record(), "the folder's change time");
    assert_eq!(grown.modules().unwrap().files.len(), 3);

    // The entry path now resolving to another file is read again.
    let other = root.join("other.mjs");
    std::fs::write(
        &other,
        "export default { fetch: () => new Response('other') };\n",
    )
    .unwrap();
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("link.mjs");
    std::os::unix::fs::symlink(&entry, &link).unwrap();
    let through_link = || store.bundle(&link, BundleFormat::Auto, None).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = through_link();
    assert!(through_link().hash_from_record());
    assert_eq!(through_link().name(), "worker.mjs");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&other, &link).unwrap();
    let moved = through_link();
    assert!(!moved.hash_from_record(), "the entry resolves elsewhere");
    assert_eq!(moved.name(), "other.mjs");
}

/// `gc` deletes bundle records that stand for nothing any more — a module record whose entry is
/// gone or that does not parse, a record in the format no binary reads now, one older than the maximum age, an
/// abandoned temp file — and keeps the others (losing one only costs a re-hash).
#[test]
fn gc_removes_bundle_records_that_stand_for_nothing() {
    use coldstart::bundle::BundleFormat;
    use coldstart::snapshot::store::BUNDLE_RECORD_MAX_AGE;

    let (_dir, store) = temp_store();
    let folder = tempfile::tempdir().unwrap();
    let kept_entry = folder.path().join("kept/worker.mjs");
    let gone_entry = folder.path().join("gone/worker.mjs");
    let script = folder.path().join("app.js");
    for entry in [&kept_entry, &gone_entry] {
        std::fs::create_dir_all(entry.parent().unwrap()).unwrap();
        std::fs::write(
            entry,
            "export default { fetch: () => new Response('x') };\n",
        )
        .unwrap();
    }
    std::fs::write(&script, SMALL_APP).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    for (path, format) in [
        (&kept_entry, BundleFormat::Auto),
        (&gone_entry, BundleFormat::Auto),
        (&script, BundleFormat::Auto),
    ] {
        store.bundle(path, format, None).unwrap();
    }
    let records = store.dir().join("bundles");
    let names = || -> std::collections::BTreeSet<String> {
        std::fs::read_dir(&records)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names().len(), 3, "{:?}", names());
    let legacy = records.join(format!("{}.record", "ab".repeat(32)));
    std::fs::write(&legacy, "coldstart bundle v1 1 2 3 4 5 00").unwrap();
    let malformed = records.join(format!("{}.modules.record", "cd".repeat(32)));
    std::fs::write(&malformed, "coldstart module bundle v1 garbage").unwrap();
    let abandoned = records.join(".tmp-abandoned");
    std::fs::write(&abandoned, "partial").unwrap();
    set_age(&abandoned, std::time::Duration::from_secs(3600));
    std::fs::remove_dir_all(gone_entry.parent().unwrap()).unwrap();
    let script_record = names()
        .into_iter()
        .find(|n| n.ends_with(".auto.record"))
        .unwrap();
    let before = names();

    let report = store.gc(0).unwrap();
    assert_eq!(report.records_removed, 4, "{:?} -> {:?}", before, names());
    let after = names();
    assert!(!legacy.exists() && !abandoned.exists() && !malformed.exists());
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.contains(&script_record));
    assert!(store
        .bundle(&kept_entry, BundleFormat::Auto, None)
        .unwrap()
        .hash_from_record());

    // A record past the maximum age goes too.
    set_age(
        &records.join(&script_record),
        BUNDLE_RECORD_MAX_AGE + std::time::Duration::from_secs(60),
    );
    assert_eq!(store.gc(0).unwrap().records_removed, 1);
    assert!(!records.join(&script_record).exists());
}

/// Sets `path`'s modification time `age` in the past.
fn set_age(path: &std::path::Path, age: std::time::Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - age)
        .unwrap();
}
