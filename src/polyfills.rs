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

/// The built-in ES modules every module bundle can import (`src/js/modules/`): name and source.
pub const BUILTIN_MODULES: &[(&str, &str)] = &[
    (
        "cloudflare:workers",
        include_str!("js/modules/cloudflare_workers.js"),
    ),
    (
        "node:async_hooks",
        include_str!("js/modules/node_async_hooks.js"),
    ),
    ("node:buffer", include_str!("js/modules/node_buffer.js")),
    ("node:events", include_str!("js/modules/node_events.js")),
];

/// blake3 over every polyfill's and built-in module's name and source, in order (part of the
/// snapshot key).
pub fn polyfills_hash() -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for p in POLYFILLS {
        hasher.update(p.name.as_bytes());
        hasher.update(&(p.source.len() as u64).to_le_bytes());
        hasher.update(p.source.as_bytes());
    }
    for (name, source) in BUILTIN_MODULES {
        hasher.update(name.as_bytes());
        hasher.update(&(source.len() as u64).to_le_bytes());
        hasher.update(source.as_bytes());
    }
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// V8 stores a script's whole source as two-byte text when one character is outside Latin-1,
    /// doubling what every snapshot carries of it: the built-in sources must stay Latin-1.
    #[test]
    fn every_built_in_source_is_latin1() {
        let sources = POLYFILLS
            .iter()
            .map(|p| (p.name, p.source))
            .chain(BUILTIN_MODULES.iter().copied());
        for (name, source) in sources {
            if let Some((line, text)) = source
                .lines()
                .enumerate()
                .find(|(_, text)| text.chars().any(|c| u32::from(c) > 0xff))
            {
                panic!("{name}:{} has a character outside Latin-1: {text}", line + 1);
            }
        }
    }
}
