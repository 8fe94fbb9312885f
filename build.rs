//! Generates the ordered list of built-in polyfills from `src/js/NN_name.js`, so adding a file is
//! enough to embed it (each file is still embedded with `include_str!`).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    link_options();
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
    // blake3 over every embedded JS file (the polyfills in evaluation order, then the built-in
    // modules' files by name), each as its name, length and text: the part of every snapshot key
    // that stands for the polyfills, computed here instead of at every start.
    let mut sources_hash = blake3::Hasher::new();
    let mut hash_file = |name: &str, source: &str| {
        sources_hash.update(name.as_bytes());
        sources_hash.update(&(source.len() as u64).to_le_bytes());
        sources_hash.update(source.as_bytes());
    };
    let mut out = String::from(
        "/// Built-in polyfills, in evaluation order.\npub static POLYFILLS: &[Polyfill] = &[\n",
    );
    for name in &names {
        let source = std::fs::read_to_string(dir.join(name)).expect("read polyfill");
        hash_file(name, &source);
        let lazy = match directive(&source, "lazy-globals") {
            Some(globals) => format!(
                "Some(Lazy {{ globals: &{globals:?}, internals: &{:?} }})",
                directive(&source, "lazy-internals").unwrap_or_default()
            ),
            None => "None".to_string(),
        };
        writeln!(
            out,
            "    {{ const WRAPPED: &str = concat!(\"(function (host, internals) {{\", include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/js/{name}\")), \"\\n}})\"); Polyfill {{ name: {name:?}, source: unwrapped(WRAPPED), lazy: {lazy}, code: &v8::String::create_external_onebyte_const(WRAPPED.as_bytes()) }} }},"
        )
        .unwrap();
    }
    out.push_str("];\n");
    let modules = dir.join("modules");
    let mut module_files: Vec<String> = std::fs::read_dir(&modules)
        .expect("src/js/modules exists")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".js"))
        .collect();
    module_files.sort();
    for name in &module_files {
        let source = std::fs::read_to_string(modules.join(name)).expect("read built-in module");
        hash_file(&format!("modules/{name}"), &source);
    }
    writeln!(
        out,
        "/// blake3 over every embedded JS file, computed when the binary was built (`build.rs`).\n\
         const EMBEDDED_JS_HASH: [u8; 32] = {:?};\n\
         /// The built-in modules' files the hash covers, by name.\n\
         #[cfg(test)]\n\
         const EMBEDDED_MODULE_FILES: &[&str] = &{module_files:?};",
        sources_hash.finalize().as_bytes()
    )
    .unwrap();
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("polyfills.rs");
    std::fs::write(dest, out).expect("write polyfill list");
}

/// The names after `// NAME:` in a polyfill's leading comment lines (`// lazy-globals: URL
/// URLSearchParams`), if the directive is there.
fn directive(source: &str, name: &str) -> Option<Vec<String>> {
    let prefix = format!("// {name}:");
    source
        .lines()
        .take_while(|line| line.starts_with("//") || line.starts_with("\"use strict\""))
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|names| names.split_whitespace().map(str::to_string).collect())
}

/// Pack the binary's relative relocations (DT_RELR): the dynamic loader applies ~70 000 of them at
/// every exec, and the classic RELA table (1.6 MB) is read page by page first. Needs GNU ld ≥ 2.38
/// or lld and glibc ≥ 2.36 at run time (Debian 12); ASLR is unchanged (still a PIE).
fn link_options() {
    println!("cargo:rerun-if-env-changed=COLDSTART_NO_RELR");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-linux-gnu" && std::env::var_os("COLDSTART_NO_RELR").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    startup_symbol_order(&target);
}

/// Lay out the functions a cold process runs before its first response side by side at the start
/// of `.text` (`link/startup-symbols.txt`, made by `scripts/startup-symbols.sh`): they are a few
/// MB of the binary's 30 MB of code, scattered, so a cold start mapped thousands of code pages it
/// never ran (the kernel maps 16 pages around each fault). lld reads the list; rustc links with
/// its own lld by default on this target since 1.90. `COLDSTART_NO_SYMBOL_ORDER` turns it off
/// (e.g. for a build that chooses another linker).
fn startup_symbol_order(target: &str) {
    println!("cargo:rerun-if-env-changed=COLDSTART_NO_SYMBOL_ORDER");
    println!("cargo:rerun-if-changed=link/startup-symbols.txt");
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("link/startup-symbols.txt");
    if target != "x86_64-unknown-linux-gnu"
        || std::env::var_os("COLDSTART_NO_SYMBOL_ORDER").is_some()
        || !list.is_file()
        || !rustc_links_with_lld()
    {
        return;
    }
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
        list.display()
    );
    // Names the binary no longer has (the list is older than the code) are skipped, quietly.
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
}

/// True when the compiler building this crate links x86-64 Linux binaries with lld by default
/// (rustc 1.90 and later).
fn rustc_links_with_lld() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let Ok(output) = std::process::Command::new(rustc).arg("--version").output() else {
        return false;
    };
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let version = String::from_utf8_lossy(&output.stdout);
    let mut numbers = version
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (major, minor) >= (1, 90)
}
