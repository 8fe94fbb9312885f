//! V8 code caches of the polyfills loaded on first use (`// lazy-globals:` in `src/js`), which
//! every snapshot keeps as bytes for the polyfills its build did not use: loading one after a
//! restore then deserialises its compiled code instead of parsing it.
//!
//! V8 will not make a code cache in a snapshot creator, and it stamps each one with the checksum
//! of the read-only part of the blob the making isolate came from, refusing it in an isolate from
//! another blob. Every coldstart blob serialises the same read-only heap (the builder's anchor
//! keeps V8's built-in one alive), but V8's own built-in blob does not carry the same checksum; so
//! the caches are made in an isolate restored from a minimal coldstart blob, once per process.

use std::sync::OnceLock;

use crate::isolate::setup::IsolateCell;
use crate::isolate::{lifecycle_exclusive, lifecycle_shared};
use crate::polyfills::{Polyfill, POLYFILLS};
use crate::runtime;

/// One lazily loaded polyfill and its code cache.
pub(crate) type CodeCache = (&'static Polyfill, Vec<u8>);

/// The code caches of every lazily loaded polyfill (empty if V8 could not make them: loading then
/// parses, which is slower but the same). Call with a plain isolate alive (see
/// [`super::SnapshotBuilder::build`]), so the minimal blob has the same read-only heap as the
/// blob being built.
pub(crate) fn lazy_polyfill_code_caches() -> &'static [CodeCache] {
    static CACHES: OnceLock<Vec<CodeCache>> = OnceLock::new();
    CACHES.get_or_init(make)
}

fn make() -> Vec<CodeCache> {
    let mut creator = {
        let _shared = lifecycle_shared();
        v8::Isolate::snapshot_creator(Some(runtime::external_references()), None)
    };
    {
        let scope = &mut v8::HandleScope::new(&mut creator);
        let context = v8::Context::new(scope, Default::default());
        scope.set_default_context(context);
    }
    let blob = {
        let _exclusive = lifecycle_exclusive();
        creator.create_blob(v8::FunctionCodeHandling::Clear)
    };
    let Some(blob) = blob else {
        tracing::warn!("V8 could not make the blob the polyfill code caches are made in");
        return Vec::new();
    };
    let mut restored = IsolateCell::new(v8::CreateParams::default().snapshot_blob(blob));
    let mut entered = restored.enter();
    let scope = &mut v8::HandleScope::new(&mut *entered);
    let context = v8::Context::new(scope, Default::default());
    let scope = &mut v8::ContextScope::new(scope, context);
    POLYFILLS
        .iter()
        .filter(|polyfill| polyfill.lazy.is_some())
        .filter_map(|polyfill| Some((polyfill, polyfill.code_cache(scope)?)))
        .collect()
}
