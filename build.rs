//! Generates the ordered list of built-in polyfills from `src/js/NN_name.js`, so adding a file is
//! enough to embed it (each file is still embedded with `include_str!`).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("src/js");
    println!("cargo:rerun-if-changed=src/js");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("src/js exists")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.ends_with(".js")
                && name.len() > 3
                && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
                && name.as_bytes()[2] == b'_'
        })
        .collect();
    names.sort();
    let mut out = String::from(
        "/// Built-in polyfills, in evaluation order.\npub static POLYFILLS: &[Polyfill] = &[\n",
    );
    for name in &names {
        writeln!(
            out,
            "    Polyfill {{ name: {name:?}, source: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/js/{name}\")) }},"
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("polyfills.rs");
    std::fs::write(dest, out).expect("write polyfill list");
}
