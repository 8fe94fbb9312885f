//! What runs inside a new context: the host object and every polyfill (the bootstrap), the
//! `internals` handle the Rust side calls, the default context restored from a snapshot, and
//! `process.env` applied after creation or restore.

use super::exception::js_error_from;
use crate::error::{Error, JsError, Result};
use crate::external_source::SourceStrings;
use crate::polyfills::POLYFILLS;
use crate::runtime::{self, RuntimeOptions};
use crate::script_origin::script_origin;
use crate::worker::AppKind;

/// Index of the `internals` object in the snapshot's context data.
pub(crate) const INTERNALS_CONTEXT_DATA_INDEX: usize = 0;

/// JS functions the polyfills put on `internals`, called by the Rust side.
pub(crate) struct Internals {
    /// The `internals` object itself, for functions defined by a lazily loaded polyfill (read
    /// when first needed, so reading them does not load the polyfill at every restore).
    object: v8::Global<v8::Object>,
    pub fire_timer: v8::Global<v8::Function>,
    pub clear_timers: v8::Global<v8::Function>,
    pub set_env: v8::Global<v8::Function>,
    pub set_worker_env: v8::Global<v8::Function>,
    pub worker_fetch: v8::Global<v8::Function>,
    pub worker_render: v8::Global<v8::Function>,
    /// What the bundle serves (from `internals.app`, set when an entry module was evaluated).
    pub app_kind: AppKind,
}

impl Internals {
    pub(crate) fn from_object(
        scope: &mut v8::HandleScope,
        internals: v8::Local<v8::Object>,
    ) -> Result<Self> {
        let mut get = |name: &str| -> Result<v8::Global<v8::Function>> {
            let function = function_named(scope, internals, name)?;
            Ok(v8::Global::new(scope, function))
        };
        Ok(Internals {
            fire_timer: get("fire_timer")?,
            clear_timers: get("clear_timers")?,
            set_env: get("set_env")?,
            set_worker_env: get("set_worker_env")?,
            worker_fetch: get("worker_fetch")?,
            worker_render: get("worker_render")?,
            object: v8::Global::new(scope, internals),
            app_kind: app_kind(scope, internals),
        })
    }

    /// `internals[name]`, read when needed: `op_complete(id, error, value)`, which settles a host
    /// operation's promise (defined by the fetch polyfill, loaded on first use — an operation can
    /// only have been started once it is), or `keepLazyCodeCache(file, bytes)`, which the
    /// snapshot builder calls last.
    pub(crate) fn function<'s>(
        &self,
        scope: &mut v8::HandleScope<'s>,
        name: &str,
    ) -> Result<v8::Local<'s, v8::Function>> {
        let internals = v8::Local::new(scope, &self.object);
        function_named(scope, internals, name)
    }
}

fn app_kind(scope: &mut v8::HandleScope, internals: v8::Local<v8::Object>) -> AppKind {
    let mut read = |object: v8::Local<v8::Object>, name: &str| {
        let key = v8::String::new(scope, name)?;
        object.get(scope, key.into())
    };
    let Some(app) = read(internals, "app").and_then(|v| v8::Local::<v8::Object>::try_from(v).ok())
    else {
        return AppKind::Rex;
    };
    if read(app, "worker").is_some_and(|v| v.is_object()) {
        AppKind::Fetch
    } else if read(app, "render").is_some_and(|v| v.is_function()) {
        AppKind::Render
    } else {
        AppKind::Rex
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
    super::modules::restore_table(scope, internals)?;
    Ok((context, internals))
}

fn object_of<'s>(
    scope: &mut v8::HandleScope<'s>,
    maps: &[&std::collections::BTreeMap<String, String>],
) -> v8::Local<'s, v8::Object> {
    let object = v8::Object::new(scope);
    for (key, value) in maps.iter().flat_map(|m| m.iter()) {
        let (Some(k), Some(v)) = (v8::String::new(scope, key), v8::String::new(scope, value))
        else {
            continue;
        };
        object.set(scope, k.into(), v.into());
    }
    object
}

/// Sets `process.env` to exactly the embedder-allowed variables, and a module worker's `env` to
/// those plus `options.vars` (and `ASSETS` when an assets folder is given).
pub(crate) fn apply_env(
    scope: &mut v8::HandleScope,
    internals: &Internals,
    options: &RuntimeOptions,
) -> Result<()> {
    let env = object_of(scope, &[&options.env]);
    let worker_env = object_of(scope, &[&options.env, &options.vars]);
    let tc = &mut v8::TryCatch::new(scope);
    let set_env = v8::Local::new(tc, &internals.set_env);
    let undefined = v8::undefined(tc).into();
    if set_env.call(tc, undefined, &[env.into()]).is_none() {
        return Err(js_error_from(tc, "setting process.env").into());
    }
    let set_worker_env = v8::Local::new(tc, &internals.set_worker_env);
    let assets = v8::Boolean::new(tc, options.assets_dir.is_some()).into();
    if set_worker_env
        .call(tc, undefined, &[worker_env.into(), assets])
        .is_none()
    {
        return Err(js_error_from(tc, "setting the worker env").into());
    }
    Ok(())
}

/// Installs the host functions and evaluates every polyfill in `context` but those loaded on first
/// use (they become accessors that load them: whatever the bundle's evaluation, or a warm-up,
/// uses is then in the snapshot, and nothing else), returning `internals`.
pub(crate) fn bootstrap<'s>(
    scope: &mut v8::ContextScope<'_, v8::HandleScope<'s>>,
) -> Result<v8::Local<'s, v8::Object>> {
    let host = runtime::create_host_object(scope)
        .ok_or_else(|| Error::Engine("cannot create the host object".to_string()))?;
    let internals = v8::Object::new(scope);
    for polyfill in POLYFILLS {
        let tc = &mut v8::TryCatch::new(scope);
        let during = |tc: &mut v8::TryCatch<v8::HandleScope>, doing: &str| -> Error {
            js_error_from(tc, &format!("{doing} polyfill {}", polyfill.name)).into()
        };
        let undefined = v8::undefined(tc).into();
        let called = match polyfill.lazy {
            Some(lazy) => {
                let define_lazy = function_named(tc, internals, "defineLazy")?;
                let name = js_string(tc, polyfill.name)?;
                let globals = string_array(tc, lazy.globals)?;
                let names = string_array(tc, lazy.internals)?;
                define_lazy.call(tc, undefined, &[name.into(), globals.into(), names.into()])
            }
            None => {
                let Some(function) = polyfill.compile(tc, None) else {
                    return Err(during(tc, "loading"));
                };
                function.call(tc, undefined, &[host.into(), internals.into()])
            }
        };
        if called.is_none() {
            return Err(during(tc, "running"));
        }
    }
    Ok(internals)
}

fn js_string<'s>(scope: &mut v8::HandleScope<'s>, text: &str) -> Result<v8::Local<'s, v8::String>> {
    v8::String::new(scope, text).ok_or_else(|| Error::Engine("string alloc".into()))
}

fn string_array<'s>(
    scope: &mut v8::HandleScope<'s>,
    texts: &[&str],
) -> Result<v8::Local<'s, v8::Array>> {
    let elements = texts
        .iter()
        .map(|text| js_string(scope, text).map(Into::into))
        .collect::<Result<Vec<v8::Local<v8::Value>>>>()?;
    Ok(v8::Array::new_with_elements(scope, &elements))
}

/// `internals[name]`, which an earlier polyfill must have defined as a function.
pub(crate) fn function_named<'s>(
    scope: &mut v8::HandleScope<'s>,
    internals: v8::Local<v8::Object>,
    name: &str,
) -> Result<v8::Local<'s, v8::Function>> {
    let key = js_string(scope, name)?;
    internals
        .get(scope, key.into())
        .and_then(|value| v8::Local::<v8::Function>::try_from(value).ok())
        .ok_or_else(|| {
            Error::Engine(format!(
                "the built-in polyfills do not define internals.{name}"
            ))
        })
}

/// Compiles and runs a classic script named `name`.
// A cold path: the error is converted into the boxed `Error::Js` by every caller.
#[allow(clippy::result_large_err)]
pub(crate) fn evaluate_script<'s>(
    scope: &mut v8::HandleScope<'s>,
    source: &str,
    name: &str,
) -> std::result::Result<v8::Local<'s, v8::Value>, JsError> {
    evaluate_script_compiled(scope, source, name, false, &SourceStrings::default())
}

/// Compiles and runs a classic script named `name`; `eager` compiles every function in it now
/// instead of when first called. Its source is the external string `external` has for `name`,
/// if any (a snapshot build), or a copy of `source` in the heap.
#[allow(clippy::result_large_err)]
pub(crate) fn evaluate_script_compiled<'s>(
    scope: &mut v8::HandleScope<'s>,
    source: &str,
    name: &str,
    eager: bool,
    external: &SourceStrings,
) -> std::result::Result<v8::Local<'s, v8::Value>, JsError> {
    let tc = &mut v8::TryCatch::new(scope);
    let code = external.get_or_copy(tc, name, source);
    let (Some(code), Some(resource)) = (code, v8::String::new(tc, name)) else {
        return Err(JsError {
            message: format!("script `{name}` is too large for a V8 string"),
            ..JsError::default()
        });
    };
    let origin = script_origin(tc, resource, false);
    let mut source = v8::script_compiler::Source::new(code, Some(&origin));
    let options = if eager {
        v8::script_compiler::CompileOptions::EagerCompile
    } else {
        v8::script_compiler::CompileOptions::NoCompileOptions
    };
    let Some(script) = v8::script_compiler::compile(
        tc,
        &mut source,
        options,
        v8::script_compiler::NoCacheReason::NoReason,
    ) else {
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
