//! Builds a V8 startup snapshot: polyfills + the user's bundle evaluated in a
//! `v8::SnapshotCreator`, checked against the contract, optionally warmed up, then serialised.

use std::cell::Cell;

use serde::{Deserialize, Serialize};

use super::code_cache::{lazy_polyfill_code_caches, CodeCache};
use super::format::{hex, Header, Metadata, FORMAT_VERSION};
use super::hygiene::HygieneReport;
use crate::bundle::Bundle;
use crate::contract::Entry;
use crate::engine::{Engine, Seeds, ENGINE_VERSION};
use crate::error::{Error, JsError, Result};
use crate::external_source::{self, ExternalSources, SourceStrings};
use crate::isolate::bootstrap::{
    apply_env, bootstrap, evaluate_script, evaluate_script_compiled, Internals,
    INTERNALS_CONTEXT_DATA_INDEX,
};
use crate::isolate::event_loop;
use crate::isolate::exception::js_error_from;
use crate::isolate::modules::{add_to_snapshot, evaluate_module_bundle, import_dynamically};
use crate::isolate::{
    lifecycle_exclusive, lifecycle_shared, promise_reject_callback, Guard, Limits, PlainIsolate,
    DEFAULT_BUILD_HEAP_MB,
};
use crate::polyfills::polyfills_hash;
use crate::runtime::clock::Clock;
use crate::runtime::{self, state, IsolateState, RuntimeOptions};
use crate::ssr::{SsrConfig, SsrIsolate};

/// What happens to compiled function code when the snapshot is serialised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionCode {
    /// Keep bytecode of every compiled function (bigger blob, hot first call).
    #[default]
    Keep,
    /// Drop it; functions recompile lazily after restore.
    Clear,
}

impl FunctionCode {
    fn to_v8(self) -> v8::FunctionCodeHandling {
        match self {
            FunctionCode::Keep => v8::FunctionCodeHandling::Keep,
            FunctionCode::Clear => v8::FunctionCodeHandling::Clear,
        }
    }

    /// `keep` or `clear`.
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionCode::Keep => "keep",
            FunctionCode::Clear => "clear",
        }
    }
}

/// One `__rex_render_page` call made before the snapshot is taken, so the code it runs is
/// compiled (and, with [`FunctionCode::Keep`], kept) in the blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmupCall {
    /// Route key.
    pub route: String,
    /// Props JSON.
    pub props_json: String,
}

/// Snapshot build options; all of them are part of the snapshot key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildOptions {
    /// Keep or clear compiled function code.
    pub function_code: FunctionCode,
    /// Warm-up renders run before the snapshot.
    pub warmup: Vec<WarmupCall>,
    /// Accept timers still pending at snapshot time (they are dropped, never fire).
    pub allow_pending_timers: bool,
    /// How the bundle's code (a script, or every module of a module bundle) is compiled at build.
    #[serde(default, alias = "module_compile")]
    pub compile: Compile,
}

/// How the bundle's code is compiled into the snapshot.
///
/// Eager compiles every function of the bundle (the script, or every module of a module bundle)
/// at build without running any of it, so the first call after a restore compiles nothing of the
/// bundle: a bigger blob that restores a little slower, for a much faster first response
/// (README, "Compilation at build").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compile {
    /// Every function compiled at build.
    #[default]
    Eager,
    /// Functions compiled when first called (V8's default).
    Lazy,
}

/// A built snapshot, not yet written anywhere.
#[derive(Debug, Clone)]
pub struct BuiltSnapshot {
    /// The header that goes in front of the blob.
    pub header: Header,
    /// The V8 startup blob.
    pub blob: Vec<u8>,
}

/// Everything outside the bundle and options that a snapshot key depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInputs {
    /// coldstart version.
    pub engine_version: String,
    /// V8 version.
    pub v8_version: String,
    /// V8 flags.
    pub v8_flags: String,
    /// External-reference table fingerprint.
    pub external_references: [u8; 32],
    /// blake3 of the built-in polyfills.
    pub polyfills: [u8; 32],
}

impl KeyInputs {
    /// The inputs of this process's engine.
    pub fn of(engine: &Engine) -> Self {
        KeyInputs {
            engine_version: ENGINE_VERSION.to_string(),
            v8_version: engine.v8_version().to_string(),
            v8_flags: engine.v8_flags().to_string(),
            external_references: engine.external_references_fingerprint(),
            polyfills: polyfills_hash(),
        }
    }

    /// The content key of a snapshot of `bundle` built with `options`:
    /// blake3(engine version, V8 version, flags, external-reference fingerprint, polyfills,
    /// bundle name and source, options).
    pub fn key(&self, bundle: &Bundle, options: &BuildOptions) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        let mut field = |bytes: &[u8]| {
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(b"coldstart snapshot key v1");
        field(&BUILDER_REVISION.to_le_bytes());
        field(self.engine_version.as_bytes());
        field(self.v8_version.as_bytes());
        field(self.v8_flags.as_bytes());
        field(&self.external_references);
        field(&self.polyfills);
        field(bundle.name().as_bytes());
        field(&bundle.content_hash());
        field(
            serde_json::to_string(options)
                .expect("options serialise")
                .as_bytes(),
        );
        *hasher.finalize().as_bytes()
    }
}

/// Revision of what the builder puts into a snapshot beyond the inputs the key already names
/// (the built-ins a module bundle gets, what is warmed, how modules are linked). Part of every
/// key: bump it with any such change, so stores never serve a snapshot the current builder
/// would build differently.
pub const BUILDER_REVISION: u32 = 5;

/// The content key of a snapshot of `bundle` built with `options` by `engine`.
pub fn snapshot_key(engine: &Engine, bundle: &Bundle, options: &BuildOptions) -> [u8; 32] {
    KeyInputs::of(engine).key(bundle, options)
}

/// One snapshot creator at a time per process: two concurrent creators leave V8's process-wide
/// JS dispatch table in a state where the next `Isolate::New` crashes (reproduced by
/// `examples/stress_builds.rs`). Builds that must run in parallel belong in child processes
/// (`coldstart build`, the pool's default).
static BUILD_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    static LIVE_PROMISES: Cell<i64> = const { Cell::new(0) };
}

extern "C" fn count_promises(
    kind: v8::PromiseHookType,
    _promise: v8::Local<v8::Promise>,
    _parent: v8::Local<v8::Value>,
) {
    match kind {
        v8::PromiseHookType::Init => LIVE_PROMISES.with(|c| c.set(c.get() + 1)),
        v8::PromiseHookType::Resolve => LIVE_PROMISES.with(|c| c.set(c.get() - 1)),
        _ => {}
    }
}

/// The limits a build runs under unless told otherwise: [`crate::isolate::DEFAULT_BUILD_TIMEOUT`]
/// and [`DEFAULT_BUILD_HEAP_MB`].
pub fn default_build_limits() -> Limits {
    Limits {
        max_heap_mb: Some(DEFAULT_BUILD_HEAP_MB),
        load_timeout: None,
    }
}

/// Builds snapshots of one bundle.
///
/// # Examples
///
/// ```
/// use coldstart::snapshot::SnapshotBuilder;
/// use coldstart::{Bundle, Engine, EngineConfig};
///
/// let engine = Engine::init(EngineConfig::default())?;
/// let bundle = Bundle::new("app.js", r#"
///     globalThis.__rex_render_page = (route) => JSON.stringify({ body: route, head: "" });
///     globalThis.__rex_get_server_side_props = () => "{}";
///     globalThis.__rex_get_static_props = () => "{}";
/// "#);
/// let built = SnapshotBuilder::new(&engine, &bundle).build()?;
/// assert_eq!(built.header.bundle_name, "app.js");
/// assert_eq!(built.header.payload_len as usize, built.blob.len());
/// # Ok::<(), coldstart::Error>(())
/// ```
#[derive(Debug)]
pub struct SnapshotBuilder<'a> {
    engine: Engine,
    bundle: &'a Bundle,
    options: BuildOptions,
    limits: Limits,
}

impl<'a> SnapshotBuilder<'a> {
    /// A builder for `bundle` with default options and [`default_build_limits`].
    pub fn new(engine: &Engine, bundle: &'a Bundle) -> Self {
        SnapshotBuilder {
            engine: *engine,
            bundle,
            options: BuildOptions::default(),
            limits: default_build_limits(),
        }
    }

    /// Sets the build options.
    pub fn options(mut self, options: BuildOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the deadline and heap limit of the build: evaluating the bundle, its microtasks and
    /// the warm-up calls must finish within `limits.load_timeout` and fit `limits.max_heap_mb`
    /// (not part of the snapshot key).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The key the snapshot will have.
    pub fn key(&self) -> [u8; 32] {
        snapshot_key(&self.engine, self.bundle, &self.options)
    }

    /// Evaluates everything in a snapshot creator and serialises it.
    ///
    /// # Errors
    /// The bundle fails to compile or throws (file, line, column, stack), a required global is
    /// missing, a warm-up call fails, or timers are pending and not allowed.
    pub fn build(self) -> Result<BuiltSnapshot> {
        let engine = self.engine;
        engine.ready();
        let key = self.key();
        // Read the source before V8 is involved: I/O and UTF-8 errors need no creator.
        self.bundle.source()?;
        // V8 shares one read-only heap between the live isolates of a process, set up by the
        // first of them. A creator that starts with no isolate alive lays its read-only heap out
        // slightly differently from V8's built-in snapshot, and the blob refers into that layout:
        // restoring it where the read-only heap came from the built-in snapshot (a plain isolate
        // created first, in any process) reads out of bounds and aborts. With a plain isolate
        // alive, the creator shares the built-in layout, so every coldstart blob is compatible
        // with every other and with plain isolates, in any order (tests/all/snapshot_core.rs).
        let _one_build = BUILD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let anchor = PlainIsolate::new(&engine);
        let code_caches = lazy_polyfill_code_caches();
        // The bundle's sources become external strings (kept out of the blob's heap, stored
        // after it); their references follow the host functions'.
        // SAFETY: `sources` is dropped only after `create_blob` has consumed the creator, the
        // one isolate its strings and references are used in.
        let sources = unsafe { ExternalSources::for_build(self.bundle_sources()?) };
        let mut creator = {
            let _shared = lifecycle_shared();
            v8::Isolate::snapshot_creator(
                Some(runtime::external_references_with(sources.references())),
                Some(self.limits.apply(v8::CreateParams::default())),
            )
        };
        // Bundle code runs here: the same deadline and heap guard as every other isolate.
        let guard = Guard::install(&mut creator);
        let budget = self.limits.load_timeout();
        let deadline = event_loop::Deadline::after(budget);
        let armed = guard.arm(deadline.at);
        creator.set_microtasks_policy(v8::MicrotasksPolicy::Explicit);
        creator.set_promise_reject_callback(promise_reject_callback);
        creator.set_host_import_module_dynamically_callback(import_dynamically);
        let mut build_state = IsolateState::new(&RuntimeOptions::default());
        if engine.seeds() == Seeds::Fixed {
            // What bundle code keeps of `performance.now()` at load is then the same in every
            // build (`runtime::clock`).
            build_state.clock = Clock::counted();
        }
        let state = state::install(&mut creator, build_state);
        LIVE_PROMISES.with(|c| c.set(0));
        creator.set_promise_hook(count_promises);

        // The strings the bundle is compiled from (global handles: dropped before the blob).
        let strings = sources.strings(&mut v8::HandleScope::new(&mut creator));
        let outcome = {
            let scope = &mut v8::HandleScope::new(&mut creator);
            let context = v8::Context::new(scope, Default::default());
            let outcome = {
                let scope = &mut v8::ContextScope::new(scope, context);
                self.evaluate(scope, &state, deadline, code_caches, &strings)
            };
            let fired = armed.fired();
            let what = format!("building the snapshot of {}", self.bundle.name());
            let outcome = match guard.termination_error(fired, self.limits, &what, budget) {
                Some(error) => {
                    scope.cancel_terminate_execution();
                    Err(error)
                }
                None => outcome,
            };
            match outcome {
                Ok((internals, hygiene)) => {
                    let internals = v8::Local::new(scope, internals);
                    let index = scope.add_context_data(context, internals);
                    debug_assert_eq!(index, INTERNALS_CONTEXT_DATA_INDEX);
                    add_to_snapshot(scope, context, &state);
                    scope.set_default_context(context);
                    Ok(hygiene)
                }
                Err(error) => {
                    // The creator must still produce a blob before it can be dropped; give it an
                    // empty context and throw the result away.
                    let empty = v8::Context::new(scope, Default::default());
                    scope.set_default_context(empty);
                    Err(error)
                }
            }
        };
        {
            let mut state = state.borrow_mut();
            state.pending_rejections.clear();
            // Global handles may not outlive the creator into the blob.
            state.modules = Default::default();
            state.timers.clear_all();
            state.ops.cancel_all();
        }
        drop(armed);
        drop(state);
        // What a restored isolate will need: the heap after a full collection.
        let heap_bytes = if outcome.is_ok() {
            creator.low_memory_notification();
            // Two-byte sources are external only now: V8 converts only old-space strings, and a
            // collection made earlier would leave the blob different from build to build.
            strings.externalize_two_byte(&mut v8::HandleScope::new(&mut creator));
            creator.get_heap_statistics().used_heap_size() as u64
        } else {
            0
        };
        drop(strings);
        let handling = if outcome.is_ok() {
            self.options.function_code.to_v8()
        } else {
            v8::FunctionCodeHandling::Clear
        };
        let blob = {
            let _exclusive = lifecycle_exclusive();
            creator.create_blob(handling)
        };
        // `create_blob` consumed the creator: the guard holding its heap-callback data can go,
        // and the characters of its external strings.
        drop(guard);
        let source_section = sources.section();
        drop(sources);
        drop(anchor);
        let hygiene = match outcome {
            Ok(hygiene) => hygiene,
            Err(Error::Js(error)) if error.stack.is_none() => {
                return Err(self.with_stack(*error).into());
            }
            Err(error) => return Err(error),
        };
        let blob =
            blob.ok_or_else(|| Error::Engine("V8 could not create the snapshot blob".to_string()))?;
        let startup_len = blob.len() as u64;
        let mut blob = blob.to_vec();
        if !source_section.is_empty() {
            blob.resize(external_source::section_offset(blob.len()), 0);
            blob.extend_from_slice(&source_section);
        }
        let header = Header {
            format_version: FORMAT_VERSION,
            engine_version: ENGINE_VERSION.to_string(),
            v8_version: engine.v8_version().to_string(),
            flags_hash: engine.flags_hash(),
            external_references: engine.external_references_fingerprint(),
            key,
            payload_len: blob.len() as u64,
            payload_hash: *blake3::hash(&blob).as_bytes(),
            bundle_size: self.bundle.len() as u64,
            bundle_name: self.bundle.name().to_string(),
            metadata: Metadata {
                v8_flags: engine.v8_flags().to_string(),
                function_code: self.options.function_code.as_str().to_string(),
                warmup: self
                    .options
                    .warmup
                    .iter()
                    .map(|w| w.route.clone())
                    .collect(),
                polyfills_hash: hex(&polyfills_hash()),
                hygiene,
                heap_bytes,
                startup_len,
            },
        };
        Ok(BuiltSnapshot { header, blob })
    }

    /// Every source the build compiles from the bundle, as `(name, text)`: the script, or each
    /// file of a module bundle.
    fn bundle_sources(&self) -> Result<Vec<(&str, &str)>> {
        Ok(match self.bundle.modules() {
            None => vec![(self.bundle.name(), self.bundle.source()?)],
            Some(files) => files
                .files
                .iter()
                .map(|file| (file.path.as_str(), &*file.source))
                .collect(),
        })
    }

    /// V8 records no stack traces while it is serialising (a snapshot creator); replay the failed
    /// evaluation in a plain isolate to report the JS stack too, when the failure reproduces.
    fn with_stack(&self, error: JsError) -> JsError {
        let replay = || -> Option<JsError> {
            let config = SsrConfig {
                limits: self.limits,
                call_timeout: self.limits.load_timeout(),
                ..SsrConfig::default()
            };
            let mut iso = match SsrIsolate::fresh(&self.engine, self.bundle, config) {
                Err(Error::Js(e)) => return Some(*e),
                Err(_) => return None,
                Ok(iso) => iso,
            };
            for call in &self.options.warmup {
                if let Err(Error::Js(e)) = iso.render_page(&call.route, &call.props_json) {
                    return Some(*e);
                }
            }
            None
        };
        match replay() {
            Some(replayed) if replayed.message == error.message => JsError {
                stack: replayed.stack,
                ..error
            },
            _ => error,
        }
    }

    /// Everything that happens inside the creator's context. Returns the `internals` object to
    /// store as context data and the hygiene report.
    fn evaluate<'s>(
        &self,
        scope: &mut v8::ContextScope<'_, v8::HandleScope<'s>>,
        state: &state::StateRef,
        deadline: event_loop::Deadline,
        code_caches: &[CodeCache],
        strings: &SourceStrings,
    ) -> Result<(v8::Global<v8::Object>, HygieneReport)> {
        let context = scope.get_current_context();
        let internals_object = bootstrap(scope)?;
        let internals = Internals::from_object(scope, internals_object)?;
        // Every restore sets `process.env` and the worker `env` (`apply_env`): doing it once here,
        // with both empty as they already are, compiles those setters into the snapshot instead
        // of at every restore (V8's first compile in a new isolate: ~0.2 ms).
        apply_env(scope, &internals, &RuntimeOptions::default())?;
        let name = self.bundle.name();
        // Only promises the bundle (and warm-up) create count as unsettled.
        LIVE_PROMISES.with(|c| c.set(0));

        // Intl objects made at build time are stand-ins until restore (V8 cannot serialise ICU).
        let restore_intl =
            install_function(scope, include_str!("intl_lazy.js"), "coldstart:intl-lazy")?;

        // Probe clock/RNG/env reads while the bundle evaluates.
        let report = v8::Object::new(scope);
        let probe = evaluate_script(scope, include_str!("hygiene.js"), "coldstart:hygiene-probe")
            .map_err(|e| e.during("installing the hygiene probe"))?;
        let probe = v8::Local::<v8::Function>::try_from(probe)
            .map_err(|_| Error::Engine("hygiene probe is not a function".to_string()))?;
        let restore = {
            let tc = &mut v8::TryCatch::new(scope);
            let undefined = v8::undefined(tc).into();
            let restore = probe.call(tc, undefined, &[report.into()]);
            restore
                .and_then(|r| v8::Local::<v8::Function>::try_from(r).ok())
                .ok_or_else(|| Error::from(js_error_from(tc, "installing the hygiene probe")))?
        };
        let evaluated = match self.bundle.modules() {
            None => evaluate_script_compiled(
                scope,
                self.bundle.source()?,
                name,
                self.options.compile == Compile::Eager,
                strings,
            )
            .map(|_| "none".to_string())
            .map_err(|e| Error::from(e.during(format!("evaluating {name}")))),
            Some(files) => evaluate_module_bundle(
                scope,
                internals_object,
                &internals,
                state,
                files,
                deadline,
                self.options.compile == Compile::Eager,
                strings,
            ),
        };
        {
            let tc = &mut v8::TryCatch::new(scope);
            let undefined = v8::undefined(tc).into();
            restore.call(tc, undefined, &[]);
        }
        let app_kind = evaluated?;
        scope.perform_microtask_checkpoint();

        // The contract's required globals (a module worker or render module needs none).
        let global = context.global(scope);
        let is_module = self.bundle.modules().is_some();
        if is_module
            && app_kind == "none"
            && !has_function(scope, global, Entry::RenderPage.js_name())
        {
            return Err(Error::NoHandler {
                bundle: name.to_string(),
            });
        }
        for entry in Entry::REQUIRED.iter().filter(|_| app_kind == "none") {
            let key = v8::String::new(scope, entry.js_name()).expect("entry name");
            let value = global.get(scope, key.into());
            if !value.is_some_and(|v| v.is_function()) {
                return Err(Error::MissingGlobal {
                    bundle: name.to_string(),
                    global: entry.js_name(),
                });
            }
        }

        // Warm-up calls: Rex renders `__rex_render_page(route, props)`; a fetch worker answers
        // `GET route` (the response goes nowhere); a render module renders `route`.
        for call in &self.options.warmup {
            let (function, args): (v8::Local<v8::Function>, Vec<v8::Local<v8::Value>>) =
                match app_kind.as_str() {
                    "fetch" => {
                        let url = format!("http://localhost{}", call.route);
                        let method = v8::String::new(scope, "GET").expect("method").into();
                        let url = v8::String::new(scope, &url).expect("url").into();
                        let headers = v8::Array::new(scope, 0).into();
                        let body = v8::null(scope).into();
                        state.borrow_mut().response_sink = Some(Box::new(|_| {}));
                        (
                            v8::Local::new(scope, &internals.worker_fetch),
                            vec![method, url, headers, body],
                        )
                    }
                    "render" => {
                        let route = v8::String::new(scope, &call.route).expect("route").into();
                        (v8::Local::new(scope, &internals.worker_render), vec![route])
                    }
                    _ => {
                        let key = v8::String::new(scope, Entry::RenderPage.js_name())
                            .expect("entry name");
                        let render = global
                            .get(scope, key.into())
                            .and_then(|v| v8::Local::<v8::Function>::try_from(v).ok())
                            .expect("checked above");
                        let route = v8::String::new(scope, &call.route).expect("route").into();
                        let props = v8::String::new(scope, &call.props_json)
                            .expect("props")
                            .into();
                        (render, vec![route, props])
                    }
                };
            let during = format!("warm-up call of `{}`", call.route);
            let result = {
                let tc = &mut v8::TryCatch::new(scope);
                let undefined = v8::undefined(tc).into();
                match function.call(tc, undefined, &args) {
                    Some(v) => Ok(v8::Local::new(tc, v)),
                    None => Err(Error::from(js_error_from(tc, &during))),
                }
            };
            let settled = result.and_then(|result| {
                event_loop::settle(scope, &internals, state, result, &during, deadline)
            });
            state.borrow_mut().response_sink = None;
            settled?;
        }
        scope.perform_microtask_checkpoint();

        {
            let tc = &mut v8::TryCatch::new(scope);
            let undefined = v8::undefined(tc).into();
            if restore_intl.call(tc, undefined, &[]).is_none() {
                return Err(js_error_from(tc, "restoring the Intl constructors").into());
            }
        }

        let mut hygiene = HygieneReport {
            pending_timers: state.borrow().timers.len(),
            pending_io: state.borrow().ops.pending(),
            unsettled_promises: LIVE_PROMISES.with(|c| c.get()).max(0) as usize,
            ..HygieneReport::default()
        };
        read_probe_report(scope, report, &mut hygiene);
        if hygiene.pending_timers > 0 && !self.options.allow_pending_timers {
            return Err(Error::Hygiene(format!(
                "{} timer(s) are still pending after evaluating {name}; a snapshot cannot keep them. \
                 Clear them, or build with --allow-pending-timers to drop them",
                hygiene.pending_timers
            )));
        }
        // Nothing armed at build time may survive into the snapshot.
        {
            let tc = &mut v8::TryCatch::new(scope);
            let clear = v8::Local::new(tc, &internals.clear_timers);
            let undefined = v8::undefined(tc).into();
            clear.call(tc, undefined, &[]);
        }
        // Polyfills the build never used stay out of the heap; their code caches go in.
        for (polyfill, bytes) in code_caches {
            let tc = &mut v8::TryCatch::new(scope);
            let keep = internals.function(tc, "keepLazyCodeCache")?;
            let undefined = v8::undefined(tc).into();
            let file = v8::String::new(tc, polyfill.name)
                .expect("polyfill name")
                .into();
            let Some(bytes) = runtime::uint8_array_from(tc, bytes.clone()) else {
                return Err(Error::Engine(
                    "cannot allocate a code cache array".to_string(),
                ));
            };
            if keep.call(tc, undefined, &[file, bytes.into()]).is_none() {
                return Err(js_error_from(tc, "keeping the unused polyfills' code caches").into());
            }
        }
        Ok((v8::Global::new(scope, internals_object), hygiene))
    }
}

/// Evaluates `source` (a function expression), calls it without arguments and returns the
/// function it returns (`restore`).
fn install_function<'s>(
    scope: &mut v8::HandleScope<'s>,
    source: &str,
    name: &str,
) -> Result<v8::Local<'s, v8::Function>> {
    let installer =
        evaluate_script(scope, source, name).map_err(|e| e.during(format!("installing {name}")))?;
    let installer = v8::Local::<v8::Function>::try_from(installer)
        .map_err(|_| Error::Engine(format!("{name} is not a function")))?;
    let tc = &mut v8::TryCatch::new(scope);
    let undefined = v8::undefined(tc).into();
    let restore = installer.call(tc, undefined, &[]);
    match restore.and_then(|r| v8::Local::<v8::Function>::try_from(r).ok()) {
        Some(restore) => Ok(v8::Local::new(tc, restore)),
        None => Err(js_error_from(tc, &format!("installing {name}")).into()),
    }
}

fn has_function(scope: &mut v8::HandleScope, object: v8::Local<v8::Object>, name: &str) -> bool {
    let key = v8::String::new(scope, name).expect("name");
    object
        .get(scope, key.into())
        .is_some_and(|v| v.is_function())
}

fn read_probe_report(
    scope: &mut v8::HandleScope,
    report: v8::Local<v8::Object>,
    out: &mut HygieneReport,
) {
    let number = |scope: &mut v8::HandleScope, key: &str| -> u64 {
        let k = v8::String::new(scope, key).expect("key");
        report
            .get(scope, k.into())
            .and_then(|v| v.number_value(scope))
            .unwrap_or(0.0) as u64
    };
    out.date_now_reads = number(scope, "date_now_reads");
    out.new_date_reads = number(scope, "new_date_reads");
    out.math_random_calls = number(scope, "math_random_calls");
    out.performance_reads = number(scope, "performance_reads");
    let k = v8::String::new(scope, "env_reads").expect("key");
    if let Some(array) = report
        .get(scope, k.into())
        .and_then(|v| v8::Local::<v8::Array>::try_from(v).ok())
    {
        for i in 0..array.length() {
            if let Some(v) = array.get_index(scope, i) {
                out.env_reads.push(v.to_rust_string_lossy(scope));
            }
        }
    }
}
