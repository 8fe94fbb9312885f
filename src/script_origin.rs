//! The V8 origin every script and module coldstart compiles is given (a leaf: the polyfills'
//! loader and the isolate bootstrap both use it).

/// The origin of a script or module named `resource` (its name in stack traces), at line 0.
pub(crate) fn script_origin<'s>(
    scope: &mut v8::HandleScope<'s>,
    resource: v8::Local<'s, v8::String>,
    is_module: bool,
) -> v8::ScriptOrigin<'s> {
    v8::ScriptOrigin::new(
        scope,
        resource.into(),
        0,
        0,
        false,
        0,
        None,
        false,
        false,
        is_module,
        None,
    )
}
