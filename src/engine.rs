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

use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Where V8's random seeds come from in this process. Not part of any snapshot key.
    pub seeds: Seeds,
}

impl EngineConfig {
    /// A configuration with these V8 flags.
    pub fn with_v8_flags(flags: impl Into<String>) -> Self {
        EngineConfig {
            v8_flags: flags.into(),
            ..EngineConfig::default()
        }
    }

    /// The same configuration with these seeds.
    pub fn seeds(self, seeds: Seeds) -> Self {
        EngineConfig { seeds, ..self }
    }
}

/// Where V8's random number generators get their seeds.
///
/// V8 seeds a few generators per process (address hints for its heap pages) and one per isolate
/// (identity and symbol hashes, `Math.random`). A snapshot's bytes depend on them (and, for a
/// bundle that runs much code at load, on the timing of V8's background threads), so a process
/// whose seeds are [`Seeds::Fixed`] builds byte-identical blobs from the same inputs, and one
/// with [`Seeds::Random`] does not. What runs after a restore is the same either way:
/// `Math.random` starts from the restoring process's own seed in every restored context (V8
/// clears its state when it serialises a context), and objects made after the restore get that
/// process's identity hashes. The string-hash seed is not among these: every isolate of every
/// coldstart process, snapshot or not, uses the one in V8's own built-in snapshot (V8 13.7 does
/// not rehash snapshots by default, and `--rehash-snapshot` crashes a process that mixes
/// rehashable script snapshots with module snapshots, which V8 can never rehash; README,
/// "Reproducible snapshots").
///
/// # Examples
///
/// A process that only builds snapshots (what `coldstart build` and `coldstart package` do):
///
/// ```no_run
/// use coldstart::{Engine, EngineConfig, Seeds};
///
/// let engine = Engine::init(EngineConfig::default().seeds(Seeds::Fixed))?;
/// # Ok::<(), coldstart::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Seeds {
    /// From the operating system, as V8 does by default: for every process that runs requests.
    #[default]
    Random,
    /// One fixed seed for every generator (V8's `--random-seed`), V8's predictable mode
    /// (`--predictable`: no background compilation or marking whose timing would show in the
    /// heap; V8 leaves both flags out of the hash that code caches are checked against), and a
    /// counted `performance` clock in snapshot builds (0, then 1 µs more per read): for
    /// processes that only build snapshots. Never serve from such a process: its `Math.random`
    /// sequence, identity hashes and heap layout are the same in every run, and its V8 does
    /// everything on one thread.
    Fixed,
}

/// The seed of [`Seeds::Fixed`].
const FIXED_SEED: i32 = 0x636f_6c64; // "cold"

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
    seeds: Seeds,
    flags_hash: [u8; 32],
    fingerprint: [u8; 32],
}

static IDENTITY: OnceLock<Identity> = OnceLock::new();
/// Set once V8's platform is initialised. `OnceLock::get_or_init` makes a second caller wait
/// for an initialisation in progress on another thread.
static PLATFORM: OnceLock<()> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());
/// Set by the first [`Engine::init_in_background`], so a second call does not start another
/// thread that would only wait for the first.
static INIT_THREAD: AtomicBool = AtomicBool::new(false);

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
        if PLATFORM.get().is_none() && !INIT_THREAD.swap(true, Ordering::SeqCst) {
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
            if identity.v8_flags != wanted || identity.seeds != config.seeds {
                return Err(Error::EngineFlags {
                    running: describe(&identity.v8_flags, identity.seeds),
                    wanted: describe(&wanted, config.seeds),
                });
            }
            return Ok(Engine { inner: identity });
        }
        let identity = IDENTITY.get_or_init(|| Identity {
            flags_hash: *blake3::hash(wanted.as_bytes()).as_bytes(),
            v8_flags: wanted,
            seeds: config.seeds,
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
            if self.inner.seeds == Seeds::Fixed {
                v8::V8::set_flags_from_string(&format!("--random-seed={FIXED_SEED} --predictable"));
            }
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

    /// Where this process's V8 seeds come from ([`Seeds`]).
    pub fn seeds(&self) -> Seeds {
        self.inner.seeds
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

/// Flags and seeds as an error message shows them.
fn describe(flags: &str, seeds: Seeds) -> String {
    match seeds {
        Seeds::Random => format!("`{flags}`"),
        Seeds::Fixed => format!("`{flags}` with fixed seeds"),
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
