//! The built-in Web polyfills (`src/js/NN_name.js`), evaluated into every snapshot before the
//! user's bundle. See `tools/polyfills/README.md` for where each API comes from.

/// One embedded polyfill file.
#[derive(Debug, Clone, Copy)]
pub struct Polyfill {
    /// File name, e.g. `10_console.js`; also the script name in stack traces.
    pub name: &'static str,
    /// The JS source.
    pub source: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/polyfills.rs"));

/// blake3 over every polyfill's name and source, in order (part of the snapshot key).
pub fn polyfills_hash() -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for p in POLYFILLS {
        hasher.update(p.name.as_bytes());
        hasher.update(&(p.source.len() as u64).to_le_bytes());
        hasher.update(p.source.as_bytes());
    }
    *hasher.finalize().as_bytes()
}
