//! Native host functions, declared once.
//!
//! Every native callback JS can reach is declared in exactly one place — a `declarations()` list in
//! its host-API module, pairing its JS name with its Rust fn. Three things are derived from the
//! concatenation of those lists, in this file's fixed module order:
//!
//! * installing the functions on the private `host` object handed to the polyfills;
//! * the V8 external-reference table (one slot per function, null-terminated), which V8 needs to
//!   re-bind the callbacks when it deserialises a snapshot;
//! * the table's fingerprint (blake3 of the ordered names), written into every snapshot header, so
//!   a snapshot built against another table is refused instead of calling the wrong function.
//!
//! Per-isolate state a callback needs (timers, sandbox root, fetch policy, env) lives in an
//! isolate slot ([`state`]) set after the isolate is created or restored — never in the snapshot.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::polyfills::{BUILTIN_MODULES, POLYFILLS};

pub(crate) mod clock;
pub mod console;
pub mod crypto;
pub mod fetch;
pub mod fs;
pub mod http_client;
pub mod info;
mod lazy_polyfills;
pub mod net_policy;
pub(crate) mod ops;
pub mod state;
pub(crate) mod timer_queue;
pub mod timers;
pub mod worker;

pub use state::{IsolateState, RuntimeOptions};

/// One native function reachable from JS as `host.<name>` inside the polyfills.
#[derive(Clone, Copy)]
pub struct HostFn {
    /// Property name on the private `host` object.
    pub name: &'static str,
    /// The V8 callback (an `extern "C"` trampoline around the Rust fn).
    pub callback: v8::FunctionCallback,
}

impl std::fmt::Debug for HostFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostFn").field("name", &self.name).finish()
    }
}

/// Declares a module's host functions: `declare_host_fns!["name" => rust_fn, ...]`.
macro_rules! declare_host_fns {
    ($($name:literal => $f:path),* $(,)?) => {
        vec![$($crate::runtime::HostFn {
            name: $name,
            callback: v8::MapFnTo::<v8::FunctionCallback>::map_fn_to($f),
        }),*]
    };
}
pub(crate) use declare_host_fns;

/// The host-API modules, in table order. Appending keeps old indices; any change to the list
/// changes the fingerprint, which invalidates older snapshots (by design).
/// A host-API module: its name and its declaration list.
type Module = (&'static str, fn() -> Vec<HostFn>);

const MODULES: &[Module] = &[
    ("console", console::declarations),
    ("timers", timers::declarations),
    ("crypto", crypto::declarations),
    ("info", info::declarations),
    ("fs", fs::declarations),
    ("fetch", fetch::declarations),
    ("worker", worker::declarations),
    ("lazy_polyfills", lazy_polyfills::declarations),
];

/// Every host function, in table order.
pub fn host_fns() -> &'static [HostFn] {
    static TABLE: OnceLock<Vec<HostFn>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let table: Vec<HostFn> = MODULES.iter().flat_map(|(_, decl)| decl()).collect();
        let mut names: Vec<&str> = table.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), table.len(), "duplicate host function name");
        table
    })
}

/// The V8 external-reference table derived from [`host_fns`] and the polyfills: one slot per
/// function, then one per polyfill and built-in module source, in order, null-terminated. The
/// same table must be given to the snapshot creator and to every isolate restored from its
/// snapshot.
pub fn external_references() -> Cow<'static, [v8::ExternalReference]> {
    external_references_with(std::iter::empty())
}

/// [`external_references`] with `more` after the host functions and the built-in sources (a
/// snapshot's bundle sources, which must be at the same indices when it is built and when it is
/// restored).
pub(crate) fn external_references_with(
    more: impl Iterator<Item = v8::ExternalReference>,
) -> Cow<'static, [v8::ExternalReference]> {
    let built_in_sources = built_in_sources().map(|(_, code)| v8::ExternalReference {
        pointer: std::ptr::from_ref::<v8::OneByteConst>(code)
            .cast_mut()
            .cast(),
    });
    let mut refs: Vec<v8::ExternalReference> = host_fns()
        .iter()
        .map(|f| v8::ExternalReference {
            function: f.callback,
        })
        .chain(built_in_sources)
        .chain(more)
        .collect();
    refs.push(v8::ExternalReference {
        pointer: std::ptr::null_mut(),
    });
    Cow::Owned(refs)
}

/// The polyfills' and built-in modules' sources (name, static resource), in table order: the
/// one order both [`external_references_with`] and [`fingerprint`] follow.
fn built_in_sources() -> impl Iterator<Item = (&'static str, &'static v8::OneByteConst)> {
    POLYFILLS
        .iter()
        .map(|polyfill| (polyfill.name, polyfill.code))
        .chain(
            BUILTIN_MODULES
                .iter()
                .map(|builtin| (builtin.name, builtin.code)),
        )
}

/// blake3 over the ordered `module.name` list of the table and the built-in source names.
pub fn fingerprint() -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"coldstart external references v1\n");
    for (module, decl) in MODULES {
        for f in decl() {
            hasher.update(module.as_bytes());
            hasher.update(b".");
            hasher.update(f.name.as_bytes());
            hasher.update(b"\n");
        }
    }
    for (name, _) in built_in_sources() {
        hasher.update(b"source ");
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
    }
    *hasher.finalize().as_bytes()
}

/// Creates the private `host` object holding every native function.
pub(crate) fn create_host_object<'s>(
    scope: &mut v8::HandleScope<'s>,
) -> Option<v8::Local<'s, v8::Object>> {
    let host = v8::Object::new(scope);
    for f in host_fns() {
        let function = v8::Function::builder_raw(f.callback)
            .constructor_behavior(v8::ConstructorBehavior::Throw)
            .build(scope)?;
        let name = v8::String::new(scope, f.name)?;
        function.set_name(name);
        host.set(scope, name.into(), function.into())?;
    }
    Some(host)
}

/// Throws a `TypeError` with `message` in the current context.
pub(crate) fn throw_type_error(scope: &mut v8::HandleScope, message: &str) {
    if let Some(msg) = v8::String::new(scope, message) {
        let exception = v8::Exception::type_error(scope, msg);
        scope.throw_exception(exception);
    }
}

/// Throws an `Error` with `message` and extra string properties (`code`, `syscall`, ...).
pub(crate) fn throw_error_with(scope: &mut v8::HandleScope, message: &str, props: &[(&str, &str)]) {
    let Some(msg) = v8::String::new(scope, message) else {
        return;
    };
    let exception = v8::Exception::error(scope, msg);
    if let Ok(object) = v8::Local::<v8::Object>::try_from(exception) {
        for (key, value) in props {
            if let (Some(k), Some(v)) = (v8::String::new(scope, key), v8::String::new(scope, value))
            {
                object.set(scope, k.into(), v.into());
            }
        }
    }
    scope.throw_exception(exception);
}

/// Copies the bytes of a `Uint8Array`/`ArrayBufferView`/`ArrayBuffer` argument.
pub(crate) fn arg_bytes(value: v8::Local<v8::Value>) -> Option<Vec<u8>> {
    if let Ok(view) = v8::Local::<v8::ArrayBufferView>::try_from(value) {
        let mut bytes = vec![0u8; view.byte_length()];
        view.copy_contents(&mut bytes);
        return Some(bytes);
    }
    if let Ok(buffer) = v8::Local::<v8::ArrayBuffer>::try_from(value) {
        let store = buffer.get_backing_store();
        return Some(store.iter().map(|cell| cell.get()).collect());
    }
    None
}

/// Moves `bytes` into a new `ArrayBuffer` without copying.
pub(crate) fn array_buffer_from<'s>(
    scope: &mut v8::HandleScope<'s>,
    bytes: Vec<u8>,
) -> v8::Local<'s, v8::ArrayBuffer> {
    let store = v8::ArrayBuffer::new_backing_store_from_vec(bytes).make_shared();
    v8::ArrayBuffer::with_backing_store(scope, &store)
}

/// Moves `bytes` into a new `Uint8Array` without copying.
pub(crate) fn uint8_array_from<'s>(
    scope: &mut v8::HandleScope<'s>,
    bytes: Vec<u8>,
) -> Option<v8::Local<'s, v8::Uint8Array>> {
    let len = bytes.len();
    let buffer = array_buffer_from(scope, bytes);
    v8::Uint8Array::new(scope, buffer, 0, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_null_terminated_and_named_once() {
        let fns = host_fns();
        assert!(!fns.is_empty());
        let refs = external_references();
        assert_eq!(
            refs.len(),
            fns.len() + POLYFILLS.len() + BUILTIN_MODULES.len() + 1
        );
        let mut names: Vec<&str> = fns.iter().map(|f| f.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            count,
            "every host function has its own JS name"
        );
    }

    #[test]
    fn the_fingerprint_follows_the_ordered_table() {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"coldstart external references v1\n");
        for (module, decl) in MODULES {
            for f in decl() {
                hasher.update(format!("{module}.{}\n", f.name).as_bytes());
            }
        }
        let built_ins = POLYFILLS.iter().map(|p| p.name);
        for name in built_ins.chain(BUILTIN_MODULES.iter().map(|b| b.name)) {
            hasher.update(format!("source {name}\n").as_bytes());
        }
        assert_eq!(fingerprint(), *hasher.finalize().as_bytes());
        // Swapping two entries changes it: order is part of the identity.
        let mut entries: Vec<String> = MODULES
            .iter()
            .flat_map(|(module, decl)| {
                decl()
                    .into_iter()
                    .map(move |f| format!("{module}.{}", f.name))
            })
            .collect();
        entries.swap(0, 1);
        let mut swapped = blake3::Hasher::new();
        swapped.update(b"coldstart external references v1\n");
        for entry in &entries {
            swapped.update(format!("{entry}\n").as_bytes());
        }
        let built_ins = POLYFILLS.iter().map(|p| p.name);
        for name in built_ins.chain(BUILTIN_MODULES.iter().map(|b| b.name)) {
            swapped.update(format!("source {name}\n").as_bytes());
        }
        assert_ne!(fingerprint(), *swapped.finalize().as_bytes());
    }
}
