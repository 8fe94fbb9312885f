//! What runs inside a new context: the host object and every polyfill (the bootstrap), the
//! `internals` handle the Rust side calls, the default context restored from a snapshot, and
//! `process.env` applied after creation or restore.

use super::exception::js_error_from;
use crate::error::{Error, JsError, Result};
use crate::polyfills::POLYFILLS;
use crate::runtime::{self, RuntimeOptions};

/// Index of the `internals` object in the snapshot's context data.
pub(crate) const INTERNALS_CONTEXT_DATA_INDEX: usize = 0;

/// JS functions the polyfills put on `internals`, called by the Rust side.
pub(crate) struct Internals {
    pub fire_timer: v8::Global<v8::Function>,
    pub clear_timers: v8::Global<v8::Function>,
    pub op_complete: v8::Global<v8::Function>,
    pub set_env: v8::Global<v8::Function>,
}

impl Internals {
    pub(crate) fn from_object(
        scope: &mut v8::HandleScope,
        internals: v8::Local<v8::Object>,
    ) -> Result<Self> {
        let mut get = |name: &str| -> Result<v8::Global<v8::Function>> {
            let key =
                v8::String::new(scope, name).ok_or_else(|| Error::Engine("string alloc".into()))?;
            let value = internals.get(scope, key.into());
            let function = value
                .and_then(|v| v8::Local::<v8::Function>::try_from(v).ok())
                .ok_or_else(|| {
                    Error::Engine(format!(
                        "the built-in polyfills do not define internals.{name}"
                    ))
                })?;
            Ok(v8::Global::new(scope, function))
        };
        Ok(Internals {
            fire_timer: get("fire_timer")?,
            clear_timers: get("clear_timers")?,
            op_complete: get("op_complete")?,
            set_env: get("set_env")?,
        })
    }
}

/// Deserialises the default context and fetches the `internals` handle stored in it.
pub(crate) fn restore_context<'s>(
    scope: &mut v8::HandleScope<'s, ()>,
) -> Result<(v8::Local<'s, v8::Context>, v8::Local<'s, v8::Object>)> {
    let context = v8::Context::new(scope, Default::default());
    let scope = &mut v8::ContextScope::new(scope, context);
    let internals = scope
        .get_context_data_from_snapshot_once::<v8::Object>(INTERNALS_CONTEXT_DATA_INDEX)
        .map_err(|e| Error::Engine(format!("snapshot has no internals handle: {e:?}")))?;
    Ok((context, internals))
}

/// Sets `process.env` to exactly the embedder-allowed variables.
pub(crate) fn apply_env(
    scope: &mut v8::HandleScope,
    internals: &Internals,
    options: &RuntimeOptions,
) -> Result<()> {
    let env = v8::Object::new(scope);
    for (key, value) in &options.env {
        let (Some(k), Some(v)) = (v8::String::new(scope, key), v8::String::new(scope, value))
        else {
            continue;
        };
        env.set(scope, k.into(), v.into());
    }
    let tc = &mut v8::TryCatch::new(scope);
    let set_env = v8::Local::new(tc, &internals.set_env);
    let undefined = v8::undefined(tc).into();
    if set_env.call(tc, undefined, &[env.into()]).is_none() {
        return Err(js_error_from(tc, "setting process.env").into());
    }
    Ok(())
}

/// Installs the host functions and evaluates every polyfill in `context`, returning `internals`.
pub(crate) fn bootstrap<'s>(
    scope: &mut v8::ContextScope<'_, v8::HandleScope<'s>>,
) -> Result<v8::Local<'s, v8::Object>> {
    let host = runtime::create_host_object(scope)
        .ok_or_else(|| Error::Engine("cannot create the host object".to_string()))?;
    let internals = v8::Object::new(scope);
    for polyfill in POLYFILLS {
        // Same line as the file's first line, so positions in stack traces are the file's own.
        let wrapped = format!("(function (host, internals) {{{}\n}})", polyfill.source);
        let function = evaluate_script(scope, &wrapped, polyfill.name)
            .map_err(|e| e.during(format!("loading polyfill {}", polyfill.name)))?;
        let function = v8::Local::<v8::Function>::try_from(function).map_err(|_| {
            Error::Engine(format!(
                "polyfill {} did not compile to a function",
                polyfill.name
            ))
        })?;
        let tc = &mut v8::TryCatch::new(scope);
        let undefined = v8::undefined(tc).into();
        if function
            .call(tc, undefined, &[host.into(), internals.into()])
            .is_none()
        {
            return Err(js_error_from(tc, &format!("running polyfill {}", polyfill.name)).into());
        }
    }
    Ok(internals)
}

/// Compiles and runs a classic script named `name`.
// A cold path: the error is converted into the boxed `Error::Js` by every caller.
#[allow(clippy::result_large_err)]
pub(crate) fn evaluate_script<'s>(
    scope: &mut v8::HandleScope<'s>,
    source: &str,
    name: &str,
) -> std::result::Result<v8::Local<'s, v8::Value>, JsError> {
    let tc = &mut v8::TryCatch::new(scope);
    let (Some(code), Some(resource)) = (v8::String::new(tc, source), v8::String::new(tc, name))
    else {
        return Err(JsError {
            message: format!("script `{name}` is too large for a V8 string"),
            ..JsError::default()
        });
    };
    let origin = v8::ScriptOrigin::new(
        tc,
        resource.into(),
        0,
        0,
        false,
        0,
        None,
        false,
        false,
        false,
        None,
    );
    let Some(script) = v8::Script::compile(tc, code, Some(&origin)) else {
        return Err(js_error_from(tc, ""));
    };
    match script.run(tc) {
        Some(value) => Ok(tc.escape_or(value)),
        None => Err(js_error_from(tc, "")),
    }
}

trait EscapeOr<'s> {
    fn escape_or(&mut self, value: v8::Local<'_, v8::Value>) -> v8::Local<'s, v8::Value>;
}

impl<'s, 'p> EscapeOr<'s> for v8::TryCatch<'p, v8::HandleScope<'s>> {
    fn escape_or(&mut self, value: v8::Local<'_, v8::Value>) -> v8::Local<'s, v8::Value> {
        // A TryCatch opens no handle scope of its own, so locals created inside it already
        // belong to the enclosing `HandleScope<'s>`; re-anchor the handle there.
        v8::Local::new(self, value)
    }
}
