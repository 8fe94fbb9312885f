//! [`PlainIsolate`]: V8's built-in snapshot, nothing else.

use super::bootstrap::evaluate_script;
use super::setup::IsolateCell;
use crate::engine::Engine;

/// A bare isolate from V8's built-in snapshot: no polyfills, no bundle. The floor of isolate
/// creation cost, and the read-only-heap anchor the snapshot builder keeps alive.
///
/// # Examples
///
/// ```
/// use coldstart::{Engine, EngineConfig, PlainIsolate};
///
/// let engine = Engine::init(EngineConfig::default())?;
/// let mut plain = PlainIsolate::new(&engine);
/// assert_eq!(plain.eval("6 * 7").as_deref(), Some("42"));
/// # Ok::<(), coldstart::Error>(())
/// ```
pub struct PlainIsolate {
    isolate: IsolateCell,
}

impl PlainIsolate {
    /// Creates the isolate (V8's built-in snapshot, default parameters).
    pub fn new(engine: &Engine) -> Self {
        engine.ready();
        PlainIsolate {
            isolate: IsolateCell::new(v8::CreateParams::default()),
        }
    }

    /// Creates a context in it (from the built-in snapshot) and evaluates `source`, returning the
    /// result as a string — the whole "empty isolate, ready to run" path.
    pub fn eval(&mut self, source: &str) -> Option<String> {
        let mut entered = self.isolate.enter();
        let scope = &mut v8::HandleScope::new(&mut *entered);
        let context = v8::Context::new(scope, Default::default());
        let scope = &mut v8::ContextScope::new(scope, context);
        let value = evaluate_script(scope, source, "plain.js").ok()?;
        Some(value.to_rust_string_lossy(scope))
    }
}
