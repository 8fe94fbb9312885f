//! Process-wide V8 initialisation.
//!
//! V8 can be initialised once per process, with one set of flags. [`Engine`] is that one place:
//! it sets the flags, starts the platform, and exposes everything a snapshot's compatibility
//! depends on (engine version, V8 version, flags, native-function fingerprint). V8 does not check
//! flags when it loads a startup snapshot, so the flags are part of every snapshot key and header.

use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::runtime;

/// This crate's version, recorded in every snapshot.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// V8 flags used when the embedder does not choose any.
///
/// Empty on purpose: measured alternatives are listed in the README's benchmark section.
pub const DEFAULT_V8_FLAGS: &str = "";

/// Settings fixed at V8 initialisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineConfig {
    /// V8 command-line flags (space separated), e.g. `--max-lazy`. Part of every snapshot key.
    pub v8_flags: Option<String>,
}

/// The initialised V8 engine: shared settings, `Send + Sync`, one per process.
#[derive(Debug)]
pub struct Engine {
    v8_flags: String,
    flags_hash: [u8; 32],
    fingerprint: [u8; 32],
}

static ENGINE: OnceLock<Engine> = OnceLock::new();
/// Set once V8's platform is initialised. `OnceLock::get_or_init` makes a second caller wait
/// for an initialisation in progress on another thread.
static PLATFORM: OnceLock<()> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

assert_send_sync!(Engine);

impl Engine {
    /// Initialises V8 with `config` (once per process) and returns the engine.
    ///
    /// # Errors
    /// Fails if V8 was already initialised in this process with different flags.
    pub fn init(config: EngineConfig) -> Result<&'static Engine> {
        let engine = Engine::configure(config)?;
        engine.start_platform();
        Ok(engine)
    }

    /// Like [`Engine::init`], but initialises V8 on a background thread and returns at once, so
    /// that a process can read and verify its snapshot while V8 starts (about a millisecond).
    /// Everything that needs V8 goes through [`Engine::get`], which waits for it. The engine's
    /// identity (flags, versions, fingerprint: all a snapshot key needs) is available at once.
    ///
    /// # Errors
    /// As [`Engine::init`].
    pub fn init_in_background(config: EngineConfig) -> Result<&'static Engine> {
        let engine = Engine::configure(config)?;
        if PLATFORM.get().is_none() {
            let spawned = std::thread::Builder::new()
                .name("v8-init".into())
                .spawn(move || engine.start_platform());
            if spawned.is_err() {
                engine.start_platform();
            }
        }
        Ok(engine)
    }

    /// Records the engine's identity (flags, hashes, fingerprint), without starting V8.
    fn configure(config: EngineConfig) -> Result<&'static Engine> {
        let wanted = normalize_flags(config.v8_flags.as_deref().unwrap_or(DEFAULT_V8_FLAGS));
        let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(engine) = ENGINE.get() {
            if engine.v8_flags != wanted {
                return Err(Error::Invalid(format!(
                    "V8 is already initialised with flags `{}`; cannot switch to `{}` in the same process",
                    engine.v8_flags, wanted
                )));
            }
            return Ok(engine);
        }
        let engine = Engine {
            flags_hash: *blake3::hash(wanted.as_bytes()).as_bytes(),
            v8_flags: wanted,
            fingerprint: runtime::fingerprint(),
        };
        Ok(ENGINE.get_or_init(|| engine))
    }

    /// Sets the flags and initialises V8's platform, once; waits if another thread is doing it.
    fn start_platform(&self) {
        PLATFORM.get_or_init(|| {
            if !self.v8_flags.is_empty() {
                v8::V8::set_flags_from_string(&self.v8_flags);
            }
            let platform = v8::new_default_platform(0, false).make_shared();
            v8::V8::initialize_platform(platform);
            v8::V8::initialize();
        });
    }

    /// The engine with V8 ready to create isolates: waits for a background initialisation, or
    /// initialises V8 with the default configuration if nothing did yet (flags from the
    /// `COLDSTART_V8_FLAGS` environment variable, else [`DEFAULT_V8_FLAGS`]).
    pub fn get() -> &'static Engine {
        let engine = Engine::identity();
        engine.start_platform();
        engine
    }

    /// The engine's identity, without waiting for V8 (configured as [`Engine::get`] would if
    /// nothing configured it yet). Enough for snapshot keys and header checks.
    pub fn identity() -> &'static Engine {
        if let Some(engine) = ENGINE.get() {
            return engine;
        }
        let config = EngineConfig {
            v8_flags: std::env::var("COLDSTART_V8_FLAGS").ok(),
        };
        match Engine::configure(config) {
            Ok(engine) => engine,
            // A concurrent `init` with other flags won the race; use it.
            Err(_) => ENGINE
                .get()
                .expect("engine configured by a concurrent caller"),
        }
    }

    /// The V8 flags this process runs with (normalised: single spaces).
    pub fn v8_flags(&self) -> &str {
        &self.v8_flags
    }

    /// blake3 of [`Engine::v8_flags`].
    pub fn flags_hash(&self) -> [u8; 32] {
        self.flags_hash
    }

    /// The V8 version string, e.g. `13.7.152.14-rusty` (a constant: V8 need not be running).
    pub fn v8_version(&self) -> &'static str {
        v8::V8::get_version()
    }

    /// Fingerprint of the ordered native-function table (see [`runtime::fingerprint`]).
    pub fn external_references_fingerprint(&self) -> [u8; 32] {
        self.fingerprint
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
