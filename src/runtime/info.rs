//! `host.v8_version()`: static facts about the engine.

use super::{declare_host_fns, HostFn};

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns!["v8_version" => v8_version]
}

fn v8_version(
    scope: &mut v8::HandleScope,
    _args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    if let Some(version) = v8::String::new(scope, v8::V8::get_version()) {
        rv.set(version.into());
    }
}
