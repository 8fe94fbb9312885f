//! The server-bundle contract (`../shared/contract.md`) on top of a [`Runtime`].
//!
//! Every entry point's global function — and every resolver its async protocol needs — is looked
//! up once after the isolate is created or restored and kept as a handle: a call compiles nothing.
//! Arguments go in as V8 strings and results come back as strings; an entry that returns a marker
//! runs the event loop and then its resolver, an entry that returns a Promise is awaited directly.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

use crate::bundle::Bundle;
use crate::contract::{is_page_not_found, ArgKind, Entry, Protocol};
use crate::engine::Engine;
use crate::error::{Error, JsError, Result};
use crate::isolate::event_loop::{self, Deadline, Exit};
use crate::isolate::exception::{js_error_from, string_result};
use crate::isolate::{Limits, Origin, Runtime};
use crate::runtime::RuntimeOptions;
use crate::snapshot::Snapshot;
use crate::worker::AppKind;

/// Rendered page: `{"body": html, "head": html}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RenderResult {
    /// Body HTML.
    pub body: String,
    /// Head elements collected during the render ("" when absent).
    #[serde(default)]
    pub head: String,
}

/// RSC two-pass result: `{"body","head","flight"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RscRenderResult {
    /// Body HTML.
    pub body: String,
    /// Head HTML.
    #[serde(default)]
    pub head: String,
    /// Flight payload for hydration.
    pub flight: String,
}

/// Outcome of an RSC render: the sentinels become typed outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RscOutcome<T> {
    /// Rendered.
    Rendered(T),
    /// `__REX_NOT_FOUND__`.
    NotFound,
    /// `__REX_REDIRECT__:<status>:<url>`.
    Redirect {
        /// HTTP status.
        status: u16,
        /// Target URL.
        url: String,
    },
}

/// Parses the RSC sentinels; `None` for a normal payload.
pub fn rsc_sentinel(text: &str) -> Option<RscOutcome<()>> {
    if text == "__REX_NOT_FOUND__" {
        return Some(RscOutcome::NotFound);
    }
    let rest = text.strip_prefix("__REX_REDIRECT__:")?;
    let (status, url) = rest.split_once(':')?;
    Some(RscOutcome::Redirect {
        status: status.parse().ok()?,
        url: url.to_string(),
    })
}

/// Settings for one [`SsrIsolate`].
#[derive(Debug, Clone)]
pub struct SsrConfig {
    /// What the isolate may see and reach (env, fs root, fetch policy).
    pub runtime: RuntimeOptions,
    /// Heap limit.
    pub limits: Limits,
    /// Deadline for one call, CPU and event loop included.
    pub call_timeout: Duration,
}

impl Default for SsrConfig {
    fn default() -> Self {
        SsrConfig {
            runtime: RuntimeOptions::default(),
            limits: Limits::default(),
            call_timeout: Duration::from_secs(30),
        }
    }
}

/// Handles to the bundle's functions, resolved once.
struct Entries {
    functions: HashMap<&'static str, v8::Global<v8::Function>>,
}

impl Entries {
    fn resolve(runtime: &mut Runtime, bundle_name: &str, app: AppKind) -> Result<Self> {
        runtime.with_scope(|scope, _, _| {
            let global = scope.get_current_context().global(scope);
            let mut functions = HashMap::new();
            let mut names: Vec<&'static str> = Vec::new();
            for entry in Entry::ALL {
                names.push(entry.js_name());
                names.extend(entry.helpers());
            }
            for name in names {
                let key = v8::String::new(scope, name).expect("entry name");
                if let Some(function) = global
                    .get(scope, key.into())
                    .and_then(|v| v8::Local::<v8::Function>::try_from(v).ok())
                {
                    functions.insert(name, v8::Global::new(scope, function));
                }
            }
            for required in Entry::REQUIRED.iter().filter(|_| app == AppKind::Rex) {
                if !functions.contains_key(required.js_name()) {
                    return Err(Error::MissingGlobal {
                        bundle: bundle_name.to_string(),
                        global: required.js_name(),
                    });
                }
            }
            Ok(Entries { functions })
        })
    }
}

/// An isolate running one server bundle, exposing every contract entry point.
///
/// Not `Send`: it lives on the thread that created it (the pool keeps one per worker thread).
///
/// # Examples
///
/// ```
/// use coldstart::{Bundle, Engine, EngineConfig, Entry, Error, SsrConfig, SsrIsolate};
///
/// let engine = Engine::init(EngineConfig::default())?;
/// let bundle = Bundle::new("app.js", r#"
///     globalThis.__rex_render_page = (route) => {
///         if (route !== "/") throw new Error("Page not found: " + route);
///         return JSON.stringify({ body: "<p>home</p>", head: "<title>home</title>" });
///     };
///     globalThis.__rex_get_server_side_props = (route) =>
///         new Promise((resolve) => setTimeout(() => resolve(JSON.stringify({ props: { route } })), 1));
///     globalThis.__rex_get_static_props = () => "{}";
/// "#);
/// let mut iso = SsrIsolate::fresh(&engine, &bundle, SsrConfig::default())?;
/// assert_eq!(iso.render_page("/", "{}")?.head, "<title>home</title>");
/// assert!(matches!(iso.render_page("/nope", "{}"), Err(Error::PageNotFound { .. })));
/// // A Promise is awaited through the event loop (timers included).
/// assert_eq!(iso.call(Entry::GetServerSideProps, &["/a", "{}"])?, r#"{"props":{"route":"/a"}}"#);
/// assert!(matches!(iso.call(Entry::CallMcpTool, &["t", "{}"]), Err(Error::NotLoaded { .. })));
/// # Ok::<(), coldstart::Error>(())
/// ```
pub struct SsrIsolate {
    entries: Entries,
    pub(crate) app: AppKind,
    runtime: Runtime,
    config: SsrConfig,
    bundle_name: String,
    poisoned: Option<String>,
}

impl SsrIsolate {
    /// Creates an isolate from `snapshot` (the fast path).
    ///
    /// # Errors
    /// The snapshot does not define the required globals.
    pub fn from_snapshot(snapshot: &Snapshot, config: SsrConfig) -> Result<Self> {
        let mut runtime = Runtime::from_snapshot(snapshot, &config.runtime, config.limits)?;
        let bundle_name = snapshot.header().bundle_name.clone();
        let app = AppKind::of(&runtime);
        let entries = Entries::resolve(&mut runtime, &bundle_name, app)?;
        Ok(SsrIsolate {
            entries,
            app,
            runtime,
            config,
            bundle_name,
            poisoned: None,
        })
    }

    /// Creates an isolate by evaluating polyfills + `bundle` (the `rex_v8` way; the baseline).
    ///
    /// # Errors
    /// The bundle throws or fails to compile, or lacks a required global.
    pub fn fresh(engine: &Engine, bundle: &Bundle, config: SsrConfig) -> Result<Self> {
        let mut runtime = Runtime::fresh(engine, bundle, &config.runtime, config.limits)?;
        let app = AppKind::of(&runtime);
        let entries = Entries::resolve(&mut runtime, bundle.name(), app)?;
        if app == AppKind::Rex && bundle.modules().is_some() && entries.functions.is_empty() {
            return Err(Error::NoHandler {
                bundle: bundle.name().to_string(),
            });
        }
        Ok(SsrIsolate {
            entries,
            app,
            runtime,
            config,
            bundle_name: bundle.name().to_string(),
            poisoned: None,
        })
    }

    /// Name of the bundle this isolate runs.
    pub fn bundle_name(&self) -> &str {
        &self.bundle_name
    }

    /// How the isolate was created.
    pub fn origin(&self) -> Origin {
        self.runtime.origin()
    }

    /// The snapshot it was restored from, if any.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.runtime.snapshot()
    }

    /// `Some(reason)` once the isolate must be discarded (terminated or out of heap).
    pub fn poisoned(&self) -> Option<&str> {
        self.poisoned.as_deref()
    }

    /// Whether the bundle defines `entry`.
    pub fn has_entry(&self, entry: Entry) -> bool {
        self.entries.functions.contains_key(entry.js_name())
    }

    /// Mutable access to the underlying runtime (heap statistics, eval for tests/tools).
    pub fn runtime(&mut self) -> &mut Runtime {
        &mut self.runtime
    }

    /// Promise rejections no handler was attached to (their `String(reason)` and stack), since the
    /// last time this was called. They are also logged through `tracing` as they happen.
    pub fn take_unhandled_rejections(&mut self) -> Vec<String> {
        self.runtime.take_unhandled_rejections()
    }

    pub(crate) fn call_timeout(&self) -> Duration {
        self.config.call_timeout
    }

    /// Sets the per-call deadline.
    pub fn set_call_timeout(&mut self, timeout: Duration) {
        self.config.call_timeout = timeout;
    }

    /// Replaces the JS context with a pristine one from the snapshot (per-request isolation):
    /// no global state of earlier calls survives.
    ///
    /// # Errors
    /// The isolate was not created from a snapshot.
    pub fn reset_context(&mut self) -> Result<()> {
        self.runtime.reset_context()?;
        self.entries = Entries::resolve(&mut self.runtime, &self.bundle_name, self.app)?;
        Ok(())
    }

    /// Calls a contract entry point by its global name with string arguments and returns its
    /// final string result (markers and Promises resolved).
    ///
    /// # Errors
    /// [`Error::NotLoaded`] when the bundle lacks an optional entry; [`Error::Js`] when it throws
    /// or rejects; [`Error::Timeout`] past the deadline; [`Error::HeapLimit`].
    pub fn call(&mut self, entry: Entry, args: &[&str]) -> Result<String> {
        let kinds = entry.args();
        if args.len() > kinds.len() {
            return Err(Error::Invalid(format!(
                "`{entry}` takes {} argument(s), got {}",
                kinds.len(),
                args.len()
            )));
        }
        let args = args
            .iter()
            .zip(kinds)
            .map(|(text, kind)| match (kind, *text) {
                (ArgKind::Str, text) => Ok(Arg::Str(text)),
                (ArgKind::Bool, "true") => Ok(Arg::Bool(true)),
                (ArgKind::Bool, "false") => Ok(Arg::Bool(false)),
                (ArgKind::Bool, other) => Err(Error::Invalid(format!(
                    "`{entry}` takes true or false here, got `{other}`"
                ))),
            })
            .collect::<Result<Vec<Arg>>>()?;
        self.call_entry(entry, &args)
    }

    fn call_entry(&mut self, entry: Entry, args: &[Arg]) -> Result<String> {
        let name = entry.js_name();
        if !self.entries.functions.contains_key(name) {
            return Err(Error::NotLoaded { entry: name });
        }
        let deadline = Deadline::after(self.config.call_timeout);
        let entries = &self.entries;
        guarded(
            &mut self.runtime,
            &mut self.poisoned,
            deadline,
            name,
            |scope, internals, state| -> Result<String> {
                let function = v8::Local::new(scope, &entries.functions[name]);
                let value = call_function(scope, function, args, name)?;
                let value = event_loop::settle(scope, internals, state, value, name, deadline)?;
                let text = string_result(scope, value, name)?;
                match entry.protocol() {
                    Protocol::Sync => Ok(text),
                    Protocol::Resolve { marker, resolver } if text == marker => {
                        event_loop::run(scope, internals, state, name, deadline, |_| Ok(false))?;
                        let resolver = lookup(scope, entries, resolver, name)?;
                        let value = call_function(scope, resolver, &[], name)?;
                        let value =
                            event_loop::settle(scope, internals, state, value, name, deadline)?;
                        string_result(scope, value, name)
                    }
                    Protocol::Pending {
                        marker,
                        pending,
                        finalize,
                    } if text == marker => {
                        let pending_fn = lookup(scope, entries, pending, name)?;
                        let exit =
                            event_loop::run(scope, internals, state, name, deadline, |scope| {
                                let status = call_function(scope, pending_fn, &[], name)?;
                                Ok(status.to_rust_string_lossy(scope) == "done")
                            })?;
                        if exit == Exit::Idle {
                            return Err(Error::Stalled {
                                entry: name.to_string(),
                            });
                        }
                        let finalize = lookup(scope, entries, finalize, name)?;
                        let value = call_function(scope, finalize, &[], name)?;
                        string_result(scope, value, name)
                    }
                    _ => Ok(text),
                }
            },
        )
    }

    /// Runs one call into the bundle under the deadline and heap guard: a termination poisons
    /// the isolate; leftover work is cleaned up afterwards ([`Runtime::end_call`]).
    pub(crate) fn guarded_call<R>(
        &mut self,
        deadline: Deadline,
        name: &str,
        f: impl for<'s> FnOnce(
            &mut v8::ContextScope<'_, v8::HandleScope<'s>>,
            &crate::isolate::bootstrap::Internals,
            &crate::runtime::state::StateRef,
        ) -> Result<R>,
    ) -> Result<R> {
        guarded(&mut self.runtime, &mut self.poisoned, deadline, name, f)
    }

    /// `__rex_render_page(route, propsJson)` → `{body, head}`.
    ///
    /// # Errors
    /// As [`SsrIsolate::call`], plus a result that is not the contract's JSON, and
    /// [`Error::PageNotFound`] when the bundle has no page for `route`.
    pub fn render_page(&mut self, route: &str, props_json: &str) -> Result<RenderResult> {
        let text =
            match self.call_entry(Entry::RenderPage, &[Arg::Str(route), Arg::Str(props_json)]) {
                Err(Error::Js(js)) if is_page_not_found(&js) => {
                    return Err(Error::PageNotFound {
                        route: route.to_string(),
                    })
                }
                other => other?,
            };
        serde_json::from_str(&text).map_err(|e| Error::BadResult {
            entry: Entry::RenderPage.to_string(),
            detail: format!("expected JSON {{\"body\",\"head\"}}: {e}"),
        })
    }

    /// `__rex_get_server_side_props(route, contextJson)` → JSON.
    ///
    /// # Errors
    /// As [`SsrIsolate::call`].
    pub fn get_server_side_props(&mut self, route: &str, context_json: &str) -> Result<String> {
        self.call(Entry::GetServerSideProps, &[route, context_json])
    }

    /// `__rex_get_static_props(route, contextJson)` → JSON.
    ///
    /// # Errors
    /// As [`SsrIsolate::call`].
    pub fn get_static_props(&mut self, route: &str, context_json: &str) -> Result<String> {
        self.call(Entry::GetStaticProps, &[route, context_json])
    }

    /// `__rex_get_static_paths(route)` → JSON, `None` when the bundle has no such entry.
    ///
    /// # Errors
    /// As [`SsrIsolate::call`].
    pub fn get_static_paths(&mut self, route: &str) -> Result<Option<String>> {
        self.optional(Entry::GetStaticPaths, &[route])
    }

    /// `__rex_call_api_handler(route, reqJson)` → `{statusCode, headers, body}` JSON.
    ///
    /// # Errors
    /// [`Error::NotLoaded`] without API routes; otherwise as [`SsrIsolate::call`].
    pub fn call_api_handler(&mut self, route: &str, req_json: &str) -> Result<String> {
        self.call(Entry::CallApiHandler, &[route, req_json])
    }

    /// `__rex_call_app_route_handler(pattern, reqJson)` → `{statusCode, headers, body}` JSON.
    ///
    /// # Errors
    /// [`Error::NotLoaded`] without app routes; otherwise as [`SsrIsolate::call`].
    pub fn call_app_route_handler(&mut self, pattern: &str, req_json: &str) -> Result<String> {
        self.call(Entry::CallAppRouteHandler, &[pattern, req_json])
    }

    /// `__rex_run_middleware(reqJson)` → action JSON, `None` when the bundle has no middleware
    /// (meaning "next").
    ///
    /// # Errors
    /// As [`SsrIsolate::call`].
    pub fn run_middleware(&mut self, req_json: &str) -> Result<Option<String>> {
        self.optional(Entry::RunMiddleware, &[req_json])
    }

    /// `__rex_render_document()` → `{htmlAttrs, bodyAttrs, headContent}` JSON, `None` if absent.
    ///
    /// # Errors
    /// As [`SsrIsolate::call`].
    pub fn render_document(&mut self) -> Result<Option<String>> {
        self.optional(Entry::RenderDocument, &[])
    }

    /// `__rex_list_mcp_tools()` → JSON array, `None` if the bundle has no MCP tools.
    ///
    /// # Errors
    /// As [`SsrIsolate::call`].
    pub fn list_mcp_tools(&mut self) -> Result<Option<String>> {
        self.optional(Entry::ListMcpTools, &[])
    }

    /// `__rex_call_mcp_tool(name, paramsJson)` → JSON.
    ///
    /// # Errors
    /// [`Error::NotLoaded`] without MCP tools; otherwise as [`SsrIsolate::call`].
    pub fn call_mcp_tool(&mut self, name: &str, params_json: &str) -> Result<String> {
        self.call(Entry::CallMcpTool, &[name, params_json])
    }

    /// `__rex_call_server_action(actionId, argsJson)` → JSON.
    ///
    /// # Errors
    /// [`Error::NotLoaded`] without server actions; otherwise as [`SsrIsolate::call`].
    pub fn call_server_action(&mut self, action_id: &str, args_json: &str) -> Result<String> {
        self.call(Entry::CallServerAction, &[action_id, args_json])
    }

    /// `__rex_call_server_action_encoded(actionId, body, isFormFields)` → JSON.
    ///
    /// # Errors
    /// As [`SsrIsolate::call_server_action`].
    pub fn call_server_action_encoded(
        &mut self,
        action_id: &str,
        body: &str,
        is_form_fields: bool,
    ) -> Result<String> {
        self.call_entry(
            Entry::CallServerActionEncoded,
            &[
                Arg::Str(action_id),
                Arg::Str(body),
                Arg::Bool(is_form_fields),
            ],
        )
    }

    /// `__rex_call_form_action(fieldsJson)` → JSON.
    ///
    /// # Errors
    /// As [`SsrIsolate::call_server_action`].
    pub fn call_form_action(&mut self, fields_json: &str) -> Result<String> {
        self.call(Entry::CallFormAction, &[fields_json])
    }

    /// `__rex_render_flight(route, propsJson)` → flight payload or a sentinel outcome.
    ///
    /// # Errors
    /// [`Error::NotLoaded`] without RSC; otherwise as [`SsrIsolate::call`].
    pub fn render_rsc_flight(
        &mut self,
        route: &str,
        props_json: &str,
    ) -> Result<RscOutcome<String>> {
        let text = self.call(Entry::RenderFlight, &[route, props_json])?;
        Ok(match rsc_sentinel(&text) {
            Some(RscOutcome::NotFound) => RscOutcome::NotFound,
            Some(RscOutcome::Redirect { status, url }) => RscOutcome::Redirect { status, url },
            _ => RscOutcome::Rendered(text),
        })
    }

    /// `__rex_render_rsc_to_html(route, propsJson)` → `{body, head, flight}` or a sentinel outcome.
    ///
    /// # Errors
    /// [`Error::NotLoaded`] without RSC; otherwise as [`SsrIsolate::call`].
    pub fn render_rsc_to_html(
        &mut self,
        route: &str,
        props_json: &str,
    ) -> Result<RscOutcome<RscRenderResult>> {
        let text = self.call(Entry::RenderRscToHtml, &[route, props_json])?;
        Ok(match rsc_sentinel(&text) {
            Some(RscOutcome::NotFound) => RscOutcome::NotFound,
            Some(RscOutcome::Redirect { status, url }) => RscOutcome::Redirect { status, url },
            _ => {
                RscOutcome::Rendered(serde_json::from_str(&text).map_err(|e| Error::BadResult {
                    entry: Entry::RenderRscToHtml.to_string(),
                    detail: format!("expected JSON {{\"body\",\"head\",\"flight\"}}: {e}"),
                })?)
            }
        })
    }

    /// Exposes request headers and cookies as `globalThis.__rex_request_headers` /
    /// `__rex_request_cookies` (plain objects built from values — no source text).
    ///
    /// # Errors
    /// The maps are not JSON objects.
    pub fn set_request_context(
        &mut self,
        headers: &serde_json::Value,
        cookies: &serde_json::Value,
    ) -> Result<()> {
        self.runtime.with_scope(|scope, _, _| {
            let global = scope.get_current_context().global(scope);
            for (name, value) in [
                ("__rex_request_headers", headers),
                ("__rex_request_cookies", cookies),
            ] {
                let object = json_to_v8(scope, value)?;
                let key = v8::String::new(scope, name).expect("name");
                global.set(scope, key.into(), object);
            }
            Ok(())
        })
    }

    /// Removes the request context globals.
    pub fn clear_request_context(&mut self) {
        self.runtime.with_scope(|scope, _, _| {
            let global = scope.get_current_context().global(scope);
            for name in ["__rex_request_headers", "__rex_request_cookies"] {
                let key = v8::String::new(scope, name).expect("name");
                global.delete(scope, key.into());
            }
        });
    }

    fn optional(&mut self, entry: Entry, args: &[&str]) -> Result<Option<String>> {
        if !self.has_entry(entry) {
            return Ok(None);
        }
        self.call(entry, args).map(Some)
    }
}

/// [`SsrIsolate::guarded_call`] on the fields it needs (so a caller may hold other fields).
fn guarded<R>(
    runtime: &mut Runtime,
    poisoned: &mut Option<String>,
    deadline: Deadline,
    name: &str,
    f: impl for<'s> FnOnce(
        &mut v8::ContextScope<'_, v8::HandleScope<'s>>,
        &crate::isolate::bootstrap::Internals,
        &crate::runtime::state::StateRef,
    ) -> Result<R>,
) -> Result<R> {
    if let Some(reason) = poisoned {
        return Err(Error::Poisoned {
            reason: reason.clone(),
        });
    }
    let (result, terminated) = runtime.with_guarded_scope(deadline.budget, name, f);
    let result = match terminated {
        Some(error) => {
            *poisoned = Some(match error {
                Error::HeapLimit { .. } => "reaching the heap limit".to_string(),
                _ => "a timeout terminated it".to_string(),
            });
            Err(error)
        }
        None => result,
    };
    if let Some(reason) = runtime.end_call() {
        poisoned.get_or_insert(reason);
    }
    result
}

/// One argument to an entry point: the contract passes strings, plus one boolean
/// (`isFormFields`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Str(&'a str),
    Bool(bool),
}

/// The handle resolved at creation, or — for bundles that define a resolver lazily, during the
/// call — a lookup on the global object (a property read; nothing is compiled).
fn lookup<'s>(
    scope: &mut v8::HandleScope<'s>,
    entries: &Entries,
    name: &'static str,
    entry: &str,
) -> Result<v8::Local<'s, v8::Function>> {
    if let Some(function) = entries.functions.get(name) {
        return Ok(v8::Local::new(scope, function));
    }
    let global = scope.get_current_context().global(scope);
    let key = v8::String::new(scope, name).expect("resolver name");
    global
        .get(scope, key.into())
        .and_then(|v| v8::Local::<v8::Function>::try_from(v).ok())
        .ok_or_else(|| Error::BadResult {
            entry: entry.to_string(),
            detail: format!("returned its async marker but the bundle does not define `{name}`"),
        })
}

pub(crate) fn call_function<'s>(
    scope: &mut v8::HandleScope<'s>,
    function: v8::Local<'s, v8::Function>,
    args: &[Arg],
    entry: &str,
) -> Result<v8::Local<'s, v8::Value>> {
    let tc = &mut v8::TryCatch::new(scope);
    let mut values: Vec<v8::Local<v8::Value>> = Vec::with_capacity(args.len());
    for arg in args {
        let value: v8::Local<v8::Value> = match arg {
            Arg::Str(text) => v8::String::new(tc, text)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "argument to `{entry}` is too large for a V8 string"
                    ))
                })?
                .into(),
            Arg::Bool(flag) => v8::Boolean::new(tc, *flag).into(),
        };
        values.push(value);
    }
    let undefined = v8::undefined(tc).into();
    match function.call(tc, undefined, &values) {
        Some(value) => Ok(value),
        None => {
            let error: JsError = js_error_from(tc, &format!("`{entry}`"));
            Err(error.into())
        }
    }
}

fn json_to_v8<'s>(
    scope: &mut v8::HandleScope<'s>,
    value: &serde_json::Value,
) -> Result<v8::Local<'s, v8::Value>> {
    Ok(match value {
        serde_json::Value::Null => v8::null(scope).into(),
        serde_json::Value::Bool(b) => v8::Boolean::new(scope, *b).into(),
        serde_json::Value::Number(n) => v8::Number::new(scope, n.as_f64().unwrap_or(0.0)).into(),
        serde_json::Value::String(s) => v8::String::new(scope, s)
            .ok_or_else(|| Error::Invalid("string too large".into()))?
            .into(),
        serde_json::Value::Array(items) => {
            let mut elements = Vec::with_capacity(items.len());
            for item in items {
                elements.push(json_to_v8(scope, item)?);
            }
            v8::Array::new_with_elements(scope, &elements).into()
        }
        serde_json::Value::Object(map) => {
            let object = v8::Object::new(scope);
            for (k, v) in map {
                let key = v8::String::new(scope, k)
                    .ok_or_else(|| Error::Invalid("key too large".into()))?;
                let value = json_to_v8(scope, v)?;
                object.set(scope, key.into(), value);
            }
            object.into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsc_sentinels_parse() {
        assert_eq!(
            rsc_sentinel("__REX_NOT_FOUND__"),
            Some(RscOutcome::NotFound)
        );
        assert_eq!(
            rsc_sentinel("__REX_REDIRECT__:307:/login?next=/a:b"),
            Some(RscOutcome::Redirect {
                status: 307,
                url: "/login?next=/a:b".to_string()
            })
        );
        assert_eq!(rsc_sentinel("0:[\"$\",\"div\"]"), None);
    }
}
