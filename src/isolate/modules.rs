//! ES module bundles in V8: compile every file of the bundle (and the built-in modules), link
//! the entry's graph, evaluate it (top-level `await` settled through the event loop), and keep
//! the modules where a restored isolate finds them — the snapshot's context data — so `import()`
//! at run time evaluates a chunk that is already compiled and linked, without file I/O.
//!
//! Module names are root-relative paths (`output/server/index.js`) or built-in names
//! (`node:events`); they are the scripts' names in stack traces too.

use std::collections::HashMap;

use super::bootstrap::{function_named, Internals, INTERNALS_CONTEXT_DATA_INDEX};
use super::event_loop::{self, Deadline};
use super::exception::{js_error_from, js_error_from_value};
use crate::error::{Error, Result};
use crate::external_source::SourceStrings;
use crate::module_files::{resolve, ModuleFiles, Resolved};
use crate::polyfills::BUILTIN_MODULES;
use crate::runtime::state::{self, StateRef};
use crate::script_origin::script_origin;

fn is_builtin(name: &str) -> bool {
    BUILTIN_MODULES.iter().any(|builtin| builtin.name == name)
}

/// The modules of one context, in context-data order (index `i` is stored at `i + 1`).
#[derive(Default)]
pub(crate) struct ModuleTable {
    names: Vec<String>,
    modules: Vec<v8::Global<v8::Module>>,
    by_name: HashMap<String, usize>,
    /// Why a file of the bundle cannot be imported (it failed to compile), by name.
    broken: HashMap<String, String>,
    /// `internals.module_loaded(evaluation, namespace)`.
    loaded: Option<v8::Global<v8::Function>>,
    /// The first import that could not be resolved while linking: (specifier, importer, why).
    unresolved: Option<(String, String, String)>,
}

impl ModuleTable {
    fn push(&mut self, name: String, module: v8::Global<v8::Module>) {
        self.by_name.insert(name.clone(), self.names.len());
        self.names.push(name);
        self.modules.push(module);
    }

    fn name_of(
        &self,
        scope: &mut v8::HandleScope,
        module: v8::Local<v8::Module>,
    ) -> Option<String> {
        let hash = module.get_identity_hash();
        self.modules.iter().enumerate().find_map(|(i, global)| {
            let local = v8::Local::new(scope, global);
            (local.get_identity_hash() == hash && local == module).then(|| self.names[i].clone())
        })
    }

    /// Looks up what `specifier`, imported by `referrer`, names.
    fn lookup(&self, referrer: &str, specifier: &str) -> std::result::Result<usize, String> {
        match resolve(referrer, specifier, is_builtin) {
            Resolved::Key(key) => match self.by_name.get(&key) {
                Some(&index) => Ok(index),
                None => Err(match self.broken.get(&key) {
                    Some(why) => format!("module `{key}` failed to compile: {why}"),
                    None if is_builtin(&key) || key.contains(':') => {
                        format!("built-in module `{key}` is not provided by coldstart")
                    }
                    None => format!("module `{key}` is not part of the bundle"),
                }),
            },
            Resolved::OutsideRoot => Err(format!(
                "`{specifier}` leads outside the bundle's module root"
            )),
            Resolved::Unknown => Err(format!(
                "`{specifier}` is not provided by coldstart (built-ins: {}; npm packages must be \
                 bundled into the build)",
                BUILTIN_MODULES
                    .iter()
                    .map(|builtin| builtin.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

fn v8_str<'s>(scope: &mut v8::HandleScope<'s>, text: &str) -> v8::Local<'s, v8::String> {
    v8::String::new(scope, text).unwrap_or_else(|| v8::String::empty(scope))
}

// A cold path, like `evaluate_script`: callers box the error into `Error::Js`.
#[allow(clippy::result_large_err)]
fn compile<'s>(
    scope: &mut v8::HandleScope<'s>,
    name: &str,
    code: Option<v8::Local<'s, v8::String>>,
    eager: bool,
) -> std::result::Result<v8::Local<'s, v8::Module>, crate::error::JsError> {
    let tc = &mut v8::TryCatch::new(scope);
    let Some(code) = code else {
        return Err(crate::error::JsError {
            message: format!("module `{name}` is too large for a V8 string"),
            ..Default::default()
        });
    };
    let resource = v8_str(tc, name);
    let origin = script_origin(tc, resource, true);
    let mut source = v8::script_compiler::Source::new(code, Some(&origin));
    let options = if eager {
        v8::script_compiler::CompileOptions::EagerCompile
    } else {
        v8::script_compiler::CompileOptions::NoCompileOptions
    };
    match v8::script_compiler::compile_module2(
        tc,
        &mut source,
        options,
        v8::script_compiler::NoCacheReason::NoReason,
    ) {
        Some(module) => Ok(v8::Local::new(tc, module)),
        None => Err(js_error_from(tc, "")),
    }
}

/// V8's static-import resolver: looks the specifier up in the isolate's module table.
fn resolve_static<'a>(
    context: v8::Local<'a, v8::Context>,
    specifier: v8::Local<'a, v8::String>,
    _attributes: v8::Local<'a, v8::FixedArray>,
    referrer: v8::Local<'a, v8::Module>,
) -> Option<v8::Local<'a, v8::Module>> {
    super::setup::in_resolve_callback(context, |scope| resolve_in(scope, specifier, referrer))
}

fn resolve_in<'a>(
    scope: &mut v8::HandleScope<'a>,
    specifier: v8::Local<'a, v8::String>,
    referrer: v8::Local<'a, v8::Module>,
) -> Option<v8::Local<'a, v8::Module>> {
    let state = state::get(scope);
    let specifier = specifier.to_rust_string_lossy(scope);
    let found = {
        let table = &state.borrow().modules;
        let referrer = table
            .name_of(scope, referrer)
            .unwrap_or_else(|| "(unknown module)".to_string());
        match table.lookup(&referrer, &specifier) {
            Ok(index) => Ok(v8::Local::new(scope, &table.modules[index])),
            Err(why) => Err((referrer, why)),
        }
    };
    match found {
        Ok(module) => Some(module),
        Err((referrer, why)) => {
            let message = format!("cannot resolve `{specifier}` imported by `{referrer}`: {why}");
            state
                .borrow_mut()
                .modules
                .unresolved
                .get_or_insert((specifier, referrer, why));
            let message = v8_str(scope, &message);
            let error = v8::Exception::error(scope, message);
            scope.throw_exception(error);
            None
        }
    }
}

/// V8's `import()` hook: evaluates a module of the table (already compiled, and linked at build
/// time) and resolves with its namespace; an unknown specifier rejects with a `TypeError`.
pub(crate) fn import_dynamically<'s>(
    scope: &mut v8::HandleScope<'s>,
    _host_defined_options: v8::Local<'s, v8::Data>,
    resource_name: v8::Local<'s, v8::Value>,
    specifier: v8::Local<'s, v8::String>,
    _import_attributes: v8::Local<'s, v8::FixedArray>,
) -> Option<v8::Local<'s, v8::Promise>> {
    let resolver = v8::PromiseResolver::new(scope)?;
    let promise = resolver.get_promise(scope);
    let referrer = resource_name.to_rust_string_lossy(scope);
    let specifier = specifier.to_rust_string_lossy(scope);
    let state = state::get(scope);
    let found = {
        let table = &state.borrow().modules;
        table.lookup(&referrer, &specifier).map(|index| {
            (
                v8::Local::new(scope, &table.modules[index]),
                table.loaded.as_ref().map(|f| v8::Local::new(scope, f)),
            )
        })
    };
    let (module, loaded) = match found {
        Ok(found) => found,
        Err(why) => {
            let message = v8_str(
                scope,
                &format!("Cannot import `{specifier}` from `{referrer}`: {why}"),
            );
            let error = v8::Exception::type_error(scope, message);
            resolver.reject(scope, error);
            return Some(promise);
        }
    };
    let tc = &mut v8::TryCatch::new(scope);
    if module.get_status() == v8::ModuleStatus::Uninstantiated
        && module.instantiate_module(tc, resolve_static).is_none()
    {
        let exception = tc.exception().unwrap_or_else(|| v8::undefined(tc).into());
        resolver.reject(tc, exception);
        return Some(promise);
    }
    match module.get_status() {
        v8::ModuleStatus::Errored => {
            let exception = module.get_exception();
            resolver.reject(tc, exception);
        }
        v8::ModuleStatus::Instantiated => match module.evaluate(tc) {
            Some(evaluation) => {
                let namespace = module.get_module_namespace();
                let settled = match (v8::Local::<v8::Promise>::try_from(evaluation), loaded) {
                    (Ok(evaluation), Some(loaded)) => {
                        let undefined = v8::undefined(tc).into();
                        loaded.call(tc, undefined, &[evaluation.into(), namespace])
                    }
                    _ => Some(namespace),
                };
                match settled {
                    Some(value) => {
                        resolver.resolve(tc, value);
                    }
                    None => {
                        let exception = tc.exception().unwrap_or_else(|| v8::undefined(tc).into());
                        resolver.reject(tc, exception);
                    }
                }
            }
            None => {
                let exception = tc.exception().unwrap_or_else(|| v8::undefined(tc).into());
                resolver.reject(tc, exception);
            }
        },
        _ => {
            let namespace = module.get_module_namespace();
            resolver.resolve(tc, namespace);
        }
    }
    Some(promise)
}

/// Compiles the built-ins and every file of `files`, links every module, evaluates the entry
/// (settling a top-level `await` within `deadline`), records the module names on `internals`
/// and installs the app (`internals.install_app`). Returns the app kind: `"fetch"`, `"render"`
/// or `"none"`. `eager` compiles every function of the bundle's modules now; a module whose
/// source `external` has (a snapshot build) is compiled from that external string.
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluate_module_bundle(
    scope: &mut v8::HandleScope,
    internals_object: v8::Local<v8::Object>,
    internals: &Internals,
    state: &StateRef,
    files: &ModuleFiles,
    deadline: Deadline,
    eager: bool,
    external: &SourceStrings,
) -> Result<String> {
    let loaded = function_named(scope, internals_object, "module_loaded")?;
    state.borrow_mut().modules = ModuleTable {
        loaded: Some(v8::Global::new(scope, loaded)),
        ..ModuleTable::default()
    };
    // Only the built-ins the bundle names (quoted, with or without `node:`): each one costs
    // every restore its source and compiled code.
    for builtin in BUILTIN_MODULES
        .iter()
        .filter(|builtin| files.mentions_module(builtin.name))
    {
        let name = builtin.name;
        let code = v8::String::new_from_onebyte_const(scope, builtin.code);
        let module = compile(scope, name, code, false)
            .map_err(|e| e.during(format!("compiling built-in module {name}")))?;
        let global = v8::Global::new(scope, module);
        state.borrow_mut().modules.push(name.to_string(), global);
    }
    for file in &files.files {
        let code = external.get_or_copy(scope, &file.path, &file.source);
        match compile(scope, &file.path, code, eager) {
            Ok(module) => {
                let global = v8::Global::new(scope, module);
                state.borrow_mut().modules.push(file.path.clone(), global);
            }
            Err(error) if file.path == files.entry => {
                return Err(error.during(format!("compiling {}", file.path)).into());
            }
            Err(error) => {
                tracing::debug!(module = %file.path, "not importable: {}", error.message);
                state
                    .borrow_mut()
                    .modules
                    .broken
                    .insert(file.path.clone(), error.message);
            }
        }
    }
    let entry = {
        let table = &state.borrow().modules;
        v8::Local::new(scope, &table.modules[table.by_name[&files.entry]])
    };
    {
        let tc = &mut v8::TryCatch::new(scope);
        if entry.instantiate_module(tc, resolve_static).is_none() {
            let unresolved = state.borrow_mut().modules.unresolved.take();
            return Err(match unresolved {
                Some((specifier, importer, reason)) => Error::UnresolvedImport {
                    specifier,
                    importer,
                    reason,
                },
                None => js_error_from(tc, &format!("linking {}", files.entry)).into(),
            });
        }
    }
    // Chunks only reached by `import()` are linked now too, so a restored isolate only
    // evaluates them; one that cannot be linked rejects its `import()` with the reason.
    let others: Vec<(String, v8::Global<v8::Module>)> = {
        let table = &state.borrow().modules;
        table
            .names
            .iter()
            .cloned()
            .zip(table.modules.iter().cloned())
            .collect()
    };
    for (name, module) in others {
        let module = v8::Local::new(scope, module);
        if module.get_status() != v8::ModuleStatus::Uninstantiated {
            continue;
        }
        let tc = &mut v8::TryCatch::new(scope);
        if module.instantiate_module(tc, resolve_static).is_none() {
            let why = state.borrow_mut().modules.unresolved.take();
            tracing::debug!(module = %name, "not linked: {why:?}");
        }
    }
    let during = format!("evaluating {}", files.entry);
    let evaluation = {
        let tc = &mut v8::TryCatch::new(scope);
        match entry.evaluate(tc) {
            Some(value) => v8::Local::new(tc, value),
            None => return Err(js_error_from(tc, &during).into()),
        }
    };
    event_loop::settle(scope, internals, state, evaluation, &during, deadline)?;
    if entry.get_status() == v8::ModuleStatus::Errored {
        let exception = entry.get_exception();
        return Err(js_error_from_value(scope, exception, &during).into());
    }
    // What a restored context needs to rebuild the table.
    let names = {
        let table = &state.borrow().modules;
        let names: Vec<v8::Local<v8::Value>> = table
            .names
            .iter()
            .map(|n| v8_str(scope, n).into())
            .collect();
        let broken = v8::Object::new(scope);
        for (name, why) in &table.broken {
            let (k, v) = (v8_str(scope, name), v8_str(scope, why));
            broken.set(scope, k.into(), v.into());
        }
        let key = v8_str(scope, "module_broken");
        internals_object.set(scope, key.into(), broken.into());
        v8::Array::new_with_elements(scope, &names)
    };
    let key = v8_str(scope, "module_names");
    internals_object.set(scope, key.into(), names.into());
    // The request/response plumbing, compiled now (see internals.warm_worker_plumbing).
    let warm = function_named(scope, internals_object, "warm_worker_plumbing")?;
    // It answers one request through a stand-in handler: its response goes nowhere.
    state.borrow_mut().response_sink = Some(Box::new(|_| {}));
    let warming = {
        let tc = &mut v8::TryCatch::new(scope);
        let undefined = v8::undefined(tc).into();
        match warm.call(tc, undefined, &[]) {
            Some(value) => Ok(v8::Local::new(tc, value)),
            None => Err(js_error_from(tc, "warming the request plumbing").into()),
        }
    };
    let warmed = warming.and_then(|warming| {
        event_loop::settle(
            scope,
            internals,
            state,
            warming,
            "warming the request plumbing",
            deadline,
        )
    });
    state.borrow_mut().response_sink = None;
    warmed?;
    let install = function_named(scope, internals_object, "install_app")?;
    let namespace = entry.get_module_namespace();
    let tc = &mut v8::TryCatch::new(scope);
    let undefined = v8::undefined(tc).into();
    match install.call(tc, undefined, &[namespace]) {
        Some(kind) => Ok(kind.to_rust_string_lossy(tc)),
        None => Err(js_error_from(tc, "installing the module's exports").into()),
    }
}

/// Adds every module of the table to the snapshot's context data, after the `internals`
/// object (index `i` at `i + 1`).
pub(crate) fn add_to_snapshot(
    creator: &mut v8::HandleScope<()>,
    context: v8::Local<v8::Context>,
    state: &StateRef,
) {
    let modules: Vec<v8::Global<v8::Module>> = state.borrow().modules.modules.clone();
    for (i, module) in modules.iter().enumerate() {
        let module = v8::Local::new(creator, module);
        let index = creator.add_context_data(context, module);
        debug_assert_eq!(index, INTERNALS_CONTEXT_DATA_INDEX + 1 + i);
    }
}

/// Rebuilds the module table of a context restored from a snapshot (nothing for a script bundle).
pub(crate) fn restore_table(
    scope: &mut v8::HandleScope,
    internals_object: v8::Local<v8::Object>,
) -> Result<()> {
    let key = v8_str(scope, "module_names");
    let Some(names) = internals_object
        .get(scope, key.into())
        .and_then(|v| v8::Local::<v8::Array>::try_from(v).ok())
    else {
        return Ok(());
    };
    let mut table = ModuleTable::default();
    for i in 0..names.length() {
        let name = names
            .get_index(scope, i)
            .map(|n| n.to_rust_string_lossy(scope))
            .unwrap_or_default();
        let module = scope
            .get_context_data_from_snapshot_once::<v8::Module>(
                INTERNALS_CONTEXT_DATA_INDEX + 1 + i as usize,
            )
            .map_err(|e| Error::Engine(format!("snapshot lacks module `{name}`: {e:?}")))?;
        table.push(name, v8::Global::new(scope, module));
    }
    let key = v8_str(scope, "module_broken");
    if let Some(broken) = internals_object
        .get(scope, key.into())
        .and_then(|v| v8::Local::<v8::Object>::try_from(v).ok())
    {
        if let Some(keys) = broken.get_own_property_names(scope, Default::default()) {
            for i in 0..keys.length() {
                let Some(k) = keys.get_index(scope, i) else {
                    continue;
                };
                let v = broken.get(scope, k).map(|v| v.to_rust_string_lossy(scope));
                table
                    .broken
                    .insert(k.to_rust_string_lossy(scope), v.unwrap_or_default());
            }
        }
    }
    let loaded = function_named(scope, internals_object, "module_loaded")?;
    table.loaded = Some(v8::Global::new(scope, loaded));
    state::get(scope).borrow_mut().modules = table;
    Ok(())
}
