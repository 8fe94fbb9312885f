//! The V8 engine handle.
//!
//! V8 can be initialised once per process, with one set of flags. [`Engine::init`] is that one
//! place: it sets the flags, starts the platform, and returns a cheap, `Copy` handle that every
//! other part of the library takes explicitly (the snapshot builder, [`crate::Snapshot::open`],
//! stores, isolates, pools). The handle carries everything a snapshot's compatibility depends on
//! (engine version, V8 version, flags, native-function fingerprint). V8 does not check flags when
//! it loads a startup snapshot, so the flags are part of every snapshot key and header.
//!
//! The library never reads the environment: the `coldstart` binary maps `--v8-flags` /
//! `COLDSTART_V8_FLAGS` into [`EngineConfig`].

use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::runtime;

/// This crate's version, recorded in every snapshot.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Settings fixed at V8 initialisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineConfig {
    /// V8 command-line flags (space separated), e.g. `--max-lazy`. Part of every snapshot key.
    /// Empty by default: measured alternatives are listed in the README's benchmark section.
    pub v8_flags: String,
}

impl EngineConfig {
    /// A configuration with these V8 flags.
    pub fn with_v8_flags(flags: impl Into<String>) -> Self {
        EngineConfig {
            v8_flags: flags.into(),
        }
    }
}

/// The initialised V8 engine: shared settings, `Copy`, `Send + Sync`.
///
/// # Examples
///
/// ```
/// use coldstart::{Engine, EngineConfig};
///
/// let engine = Engine::init(EngineConfig::default())?;
/// assert!(engine.v8_version().starts_with("13."));
/// // The same configuration again is the same engine; other flags are refused.
/// assert_eq!(Engine::init(EngineConfig::default())?.v8_flags(), engine.v8_flags());
/// assert!(Engine::init(EngineConfig::with_v8_flags("--max-lazy")).is_err());
/// # Ok::<(), coldstart::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Engine {
    inner: &'static Identity,
}

/// What an engine is: the facts every snapshot key and header check needs.
#[derive(Debug)]
struct Identity {
    v8_flags: String,
    flags_hash: [u8; 32],
    fingerprint: [u8; 32],
}

static IDENTITY: OnceLock<Identity> = OnceLock::new();
/// Set once V8's platform is initialised. `OnceLock::get_or_init` makes a second caller wait
/// for an initialisation in progress on another thread.
static PLATFORM: OnceLock<()> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

assert_send_sync!(Engine);

impl Engine {
    /// Initialises V8 with `config` (once per process) and returns the engine. Calling it again
    /// with the same configuration returns the same engine.
    ///
    /// # Errors
    /// [`Error::EngineFlags`] if V8 was already initialised in this process with other flags
    /// (V8 cannot change them once it runs).
    pub fn init(config: EngineConfig) -> Result<Engine> {
        let engine = Engine::configure(config)?;
        engine.ready();
        Ok(engine)
    }

    /// Like [`Engine::init`], but initialises V8 on a background thread and returns at once, so
    /// that a process can read and verify its snapshot while V8 starts (about a millisecond).
    /// Everything that needs V8 waits for it; the engine's identity (flags, versions,
    /// fingerprint: all a snapshot key needs) is available at once.
    ///
    /// # Errors
    /// As [`Engine::init`].
    pub fn init_in_background(config: EngineConfig) -> Result<Engine> {
        let engine = Engine::configure(config)?;
        if PLATFORM.get().is_none() {
            let spawned = std::thread::Builder::new()
                .name("v8-init".into())
                .spawn(move || engine.ready());
            if spawned.is_err() {
                engine.ready();
            }
        }
        Ok(engine)
    }

    /// Records the engine's identity (flags, hashes, fingerprint), without starting V8.
    fn configure(config: EngineConfig) -> Result<Engine> {
        let wanted = normalize_flags(&config.v8_flags);
        let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(identity) = IDENTITY.get() {
            if identity.v8_flags != wanted {
                return Err(Error::EngineFlags {
                    running: identity.v8_flags.clone(),
                    wanted,
                });
            }
            return Ok(Engine { inner: identity });
        }
        let identity = IDENTITY.get_or_init(|| Identity {
            flags_hash: *blake3::hash(wanted.as_bytes()).as_bytes(),
            v8_flags: wanted,
            fingerprint: runtime::fingerprint(),
        });
        Ok(Engine { inner: identity })
    }

    /// Waits until V8 is initialised (returns at once unless [`Engine::init_in_background`] is
    /// still starting it). Everything that creates an isolate calls this first; a process that
    /// initialised V8 in the background must not exit before it (V8 would be torn down while
    /// starting).
    pub fn ready(&self) {
        PLATFORM.get_or_init(|| {
            if !self.inner.v8_flags.is_empty() {
                v8::V8::set_flags_from_string(&self.inner.v8_flags);
            }
            // ICU data (embedded, memory-mapped with the binary; pages are read on first Intl
            // use). Without it the first Intl call aborts the process.
            if let Err(code) = v8::icu::set_common_data_74(deno_core_icudata::ICU_DATA) {
                tracing::error!("V8 refused the ICU data (code {code}); Intl is unavailable");
            }
            let platform = v8::new_default_platform(0, false).make_shared();
            v8::V8::initialize_platform(platform);
            v8::V8::initialize();
        });
    }

    /// The V8 flags this process runs with (normalised: single spaces).
    pub fn v8_flags(&self) -> &'static str {
        &self.inner.v8_flags
    }

    /// blake3 of [`Engine::v8_flags`].
    pub fn flags_hash(&self) -> [u8; 32] {
        self.inner.flags_hash
    }

    /// The V8 version string, e.g. `13.7.152.14-rusty` (a constant: V8 need not be running).
    pub fn v8_version(&self) -> &'static str {
        v8::V8::get_version()
    }

    /// Fingerprint of the ordered native-function table (see [`runtime::fingerprint`]).
    pub fn external_references_fingerprint(&self) -> [u8; 32] {
        self.inner.fingerprint
    }
}

fn normalize_flags(flags: &str) -> String {
    flags.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_normalised() {
        assert_eq!(normalize_flags("  --a   --b=1 "), "--a --b=1");
        assert_eq!(normalize_flags(""), "");
    }
}
