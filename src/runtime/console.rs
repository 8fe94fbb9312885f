//! `host.log(level, message)`: the sink behind the `console` polyfill, mapped to `tracing`
//! events with target `coldstart::js` at the matching level.

use super::{declare_host_fns, HostFn};

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns!["log" => log]
}

fn log(scope: &mut v8::HandleScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let level = args.get(0).to_rust_string_lossy(scope);
    let message = args.get(1).to_rust_string_lossy(scope);
    match level.as_str() {
        "error" => tracing::error!(target: "coldstart::js", "{message}"),
        "warn" => tracing::warn!(target: "coldstart::js", "{message}"),
        "debug" => tracing::debug!(target: "coldstart::js", "{message}"),
        "trace" => tracing::trace!(target: "coldstart::js", "{message}"),
        _ => tracing::info!(target: "coldstart::js", "{message}"),
    }
}
