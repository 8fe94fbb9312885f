//! The built-in Web polyfills (`src/js/NN_name.js`), evaluated into every snapshot before the
//! user's bundle. See `tools/polyfills/README.md` for where each API comes from.

use crate::script_origin::script_origin;

/// One embedded polyfill file.
#[derive(Debug, Clone, Copy)]
pub struct Polyfill {
    /// File name, e.g. `10_console.js`; also the script name in stack traces.
    pub name: &'static str,
    /// The JS source.
    pub source: &'static str,
    /// Set when the file is evaluated on first use instead of at bootstrap (its `// lazy-globals:`
    /// and `// lazy-internals:` lines).
    pub lazy: Option<Lazy>,
    /// The source wrapped as `(function (host, internals) {...})`, as the external-string resource
    /// V8 compiles it from: a static in the binary (ASCII, checked when it is compiled), so no
    /// isolate or snapshot holds a copy of it (its external reference follows the host
    /// functions', see `runtime::external_references`).
    pub(crate) code: &'static v8::OneByteConst,
}

/// What a lazily loaded polyfill defines: until one of these is first read, the polyfill's code
/// is neither compiled nor in any snapshot (so every restore deserialises less).
#[derive(Debug, Clone, Copy)]
pub struct Lazy {
    /// Globals it defines (accessors until it is loaded).
    pub globals: &'static [&'static str],
    /// `internals` functions it defines for other polyfills or the Rust side.
    pub internals: &'static [&'static str],
}

impl Polyfill {
    /// The lazily loaded polyfill called `name`.
    pub(crate) fn lazy_named(name: &str) -> Option<&'static Polyfill> {
        POLYFILLS
            .iter()
            .find(|p| p.name == name && p.lazy.is_some())
    }

    /// The file's source wrapped as `(function (host, internals) {...})` (on the file's first
    /// line, so positions in stack traces are the file's own), and its origin.
    fn wrapped<'s>(
        &self,
        scope: &mut v8::HandleScope<'s>,
    ) -> Option<(v8::Local<'s, v8::String>, v8::ScriptOrigin<'s>)> {
        let code = v8::String::new_from_onebyte_const(scope, self.code)?;
        let resource = v8::String::new(scope, self.name)?;
        Some((code, script_origin(scope, resource, false)))
    }

    /// Compiles the file as `function (host, internals)` and returns that function (not yet
    /// called), named after the file in stack traces; from `code_cache` (made by
    /// [`Polyfill::code_cache`]) when given and V8 accepts it. `None` with an exception pending
    /// in `scope` when it does not compile.
    pub(crate) fn compile<'s>(
        &self,
        scope: &mut v8::HandleScope<'s>,
        code_cache: Option<&[u8]>,
    ) -> Option<v8::Local<'s, v8::Function>> {
        let (code, origin) = self.wrapped(scope)?;
        let script = match code_cache {
            None => v8::Script::compile(scope, code, Some(&origin))?,
            Some(bytes) => {
                let cached = v8::script_compiler::CachedData::new(bytes);
                let mut source =
                    v8::script_compiler::Source::new_with_cached_data(code, Some(&origin), cached);
                let script = v8::script_compiler::compile(
                    scope,
                    &mut source,
                    v8::script_compiler::CompileOptions::ConsumeCodeCache,
                    v8::script_compiler::NoCacheReason::NoReason,
                )?;
                if source.get_cached_data().is_some_and(|data| data.rejected()) {
                    // Still correct (V8 compiled the source instead), only slower.
                    tracing::warn!(
                        polyfill = self.name,
                        "V8 rejected the polyfill's code cache"
                    );
                }
                script
            }
        };
        v8::Local::<v8::Function>::try_from(script.run(scope)?).ok()
    }

    /// V8's code cache of the compiled file, for [`Polyfill::compile`] to load it from later
    /// without parsing (made at snapshot build, kept in the snapshot as bytes).
    pub(crate) fn code_cache(&self, scope: &mut v8::HandleScope) -> Option<Vec<u8>> {
        let (code, origin) = self.wrapped(scope)?;
        let mut source = v8::script_compiler::Source::new(code, Some(&origin));
        let script = v8::script_compiler::compile_unbound_script(
            scope,
            &mut source,
            v8::script_compiler::CompileOptions::NoCompileOptions,
            v8::script_compiler::NoCacheReason::NoReason,
        )?;
        Some(script.create_code_cache()?.to_vec())
    }
}

/// The source inside a polyfill's `(function (host, internals) {` … `\n})` wrapper: a slice of
/// the wrapped text, so the binary holds each polyfill once (at compile time; a text that is not
/// wrapped so does not compile).
const fn unwrapped(wrapped: &'static str) -> &'static str {
    const PREFIX: &str = "(function (host, internals) {";
    const SUFFIX: &str = "\n})";
    let bytes = wrapped.as_bytes();
    let (head, rest) = bytes.split_at(PREFIX.len());
    let (inner, tail) = rest.split_at(rest.len() - SUFFIX.len());
    assert!(
        same_bytes(head, PREFIX.as_bytes()) && same_bytes(tail, SUFFIX.as_bytes()),
        "a polyfill is not wrapped as expected"
    );
    match std::str::from_utf8(inner) {
        Ok(source) => source,
        Err(_) => panic!("a polyfill is not UTF-8"),
    }
}

/// `a == b`, in a `const fn`.
const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

include!(concat!(env!("OUT_DIR"), "/polyfills.rs"));

/// A built-in ES module every module bundle can import (`src/js/modules/`).
#[derive(Debug, Clone, Copy)]
pub struct BuiltinModule {
    /// Its specifier, e.g. `node:buffer`.
    pub name: &'static str,
    /// The JS source.
    pub source: &'static str,
    /// The source as the external-string resource V8 compiles it from (see [`Polyfill`]).
    pub(crate) code: &'static v8::OneByteConst,
}

macro_rules! builtin_module {
    ($name:literal, $file:literal) => {
        BuiltinModule {
            name: $name,
            source: include_str!($file),
            code: &v8::String::create_external_onebyte_const(include_str!($file).as_bytes()),
        }
    };
}

/// The built-in ES modules every module bundle can import.
pub static BUILTIN_MODULES: &[BuiltinModule] = &[
    builtin_module!("cloudflare:workers", "js/modules/cloudflare_workers.js"),
    builtin_module!("node:async_hooks", "js/modules/node_async_hooks.js"),
    builtin_module!("node:buffer", "js/modules/node_buffer.js"),
    builtin_module!("node:events", "js/modules/node_events.js"),
];

/// The part of every snapshot key that stands for the polyfills and built-in modules: the hash
/// of every embedded JS file's name and text (computed when the binary is built), and each
/// built-in module's specifier.
pub fn polyfills_hash() -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&EMBEDDED_JS_HASH);
    for builtin in BUILTIN_MODULES {
        hasher.update(&(builtin.name.len() as u64).to_le_bytes());
        hasher.update(builtin.name.as_bytes());
    }
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build-time hash covers exactly what is embedded: every polyfill (by construction:
    /// `build.rs` lists them from the same files) and every built-in module's source.
    #[test]
    fn the_embedded_js_hash_covers_every_embedded_source() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/js");
        let mut hasher = blake3::Hasher::new();
        let mut hash_file = |name: &str, source: &str| {
            hasher.update(name.as_bytes());
            hasher.update(&(source.len() as u64).to_le_bytes());
            hasher.update(source.as_bytes());
        };
        for polyfill in POLYFILLS {
            hash_file(polyfill.name, polyfill.source);
        }
        let mut embedded = Vec::new();
        for name in EMBEDDED_MODULE_FILES {
            let source = std::fs::read_to_string(format!("{dir}/modules/{name}")).unwrap();
            hash_file(&format!("modules/{name}"), &source);
            embedded.push(source);
        }
        assert_eq!(*hasher.finalize().as_bytes(), EMBEDDED_JS_HASH);
        assert_eq!(BUILTIN_MODULES.len(), EMBEDDED_MODULE_FILES.len());
        for builtin in BUILTIN_MODULES {
            assert!(
                embedded.iter().any(|source| source == builtin.source),
                "{} is not among the hashed files",
                builtin.name
            );
        }
    }
}
