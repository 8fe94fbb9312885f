//! Many isolates from one mapping, on several threads.

use std::sync::Arc;

use coldstart::SsrIsolate;

use crate::common::*;

#[test]
fn many_isolates_from_one_mapping_on_several_threads() {
    let (_dir, snapshot) = snapshot_of(&small_app());
    let snapshot = Arc::new(snapshot);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let snapshot = snapshot.clone();
            std::thread::spawn(move || {
                let mut bodies = Vec::new();
                for i in 0..5 {
                    let mut iso = SsrIsolate::from_snapshot(&snapshot, Default::default()).unwrap();
                    let page = iso
                        .render_page(&format!("/t{t}/{i}"), r#"{"items":[1]}"#)
                        .unwrap();
                    bodies.push(page.body);
                }
                bodies
            })
        })
        .collect();
    for (t, handle) in threads.into_iter().enumerate() {
        let bodies = handle.join().expect("thread survived");
        for (i, body) in bodies.iter().enumerate() {
            assert_eq!(body, &format!("<main>/t{t}/{i}:1</main>"));
        }
    }
    assert_eq!(
        snapshot.handle_count(),
        1,
        "every isolate released the mapping"
    );
}

#[test]
fn several_live_isolates_share_one_mapping() {
    let (_dir, snapshot) = snapshot_of(&small_app());
    let mut isolates: Vec<SsrIsolate> = (0..8).map(|_| isolate(&snapshot)).collect();
    assert_eq!(snapshot.handle_count(), 9);
    for (i, iso) in isolates.iter_mut().enumerate() {
        assert!(iso
            .render_page(&format!("/{i}"), "{}")
            .unwrap()
            .body
            .contains(&format!("/{i}")));
    }
    // Any drop order works: runtimes keep their isolates exited between uses.
    let second = isolates.remove(1);
    drop(isolates);
    let mut second = second;
    assert_eq!(
        second.render_page("/still", "{}").unwrap().body,
        "<main>/still:</main>"
    );
    drop(second);
    assert_eq!(snapshot.handle_count(), 1);
}
