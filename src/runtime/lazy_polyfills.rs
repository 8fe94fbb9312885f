//! `host.load_polyfill(name, codeCache?)`: compiles a polyfill loaded on first use (`// lazy-globals:`
//! in its file, see `src/js/14_lazy.js`) the first time one of its globals is read, from the V8 code
//! cache the snapshot keeps for it when there is one, and returns it as
//! `function (host, internals)`.

use super::{arg_bytes, declare_host_fns, throw_type_error, HostFn};
use crate::polyfills::Polyfill;

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns!["load_polyfill" => load_polyfill]
}

fn load_polyfill(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let name = args.get(0).to_rust_string_lossy(scope);
    let Some(polyfill) = Polyfill::lazy_named(&name) else {
        throw_type_error(
            scope,
            &format!("no lazily loaded polyfill is called {name:?}"),
        );
        return;
    };
    let code_cache = arg_bytes(args.get(1));
    // On failure V8 has an exception pending, which the caller rethrows.
    if let Some(function) = polyfill.compile(scope, code_cache.as_deref()) {
        rv.set(function.into());
    }
}
