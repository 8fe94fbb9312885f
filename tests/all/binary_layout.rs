//! The `coldstart` binary's code layout: the functions a cold start runs sit together.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;

/// build.rs hands `link/startup-symbols.txt` to the linker, which places those functions at the
/// start of `.text` instead of where their object files put them (spread over ~30 MB). Checked
/// with `nm`: most listed names must still exist (a stale list orders little: regenerate it with
/// `scripts/startup-symbols.sh`), and 95% of them must lie within twice their own total size.
#[test]
fn the_functions_a_cold_start_runs_are_laid_out_together() {
    if option_env!("COLDSTART_NO_SYMBOL_ORDER").is_some() {
        eprintln!(
            "*** COLDSTART_NO_SYMBOL_ORDER is set: the binary is not ordered, nothing to check ***"
        );
        return;
    }
    let list_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("link/startup-symbols.txt");
    let list = std::fs::read_to_string(&list_path).expect("link/startup-symbols.txt");
    let listed: HashSet<&str> = list.lines().filter(|line| !line.is_empty()).collect();
    assert!(listed.len() > 1000, "{} names only", listed.len());

    let nm = Command::new("nm")
        .args(["--defined-only", "-S"])
        .arg(env!("CARGO_BIN_EXE_coldstart"))
        .output()
        .expect("nm (binutils, installed with gcc) runs");
    assert!(
        nm.status.success(),
        "{}",
        String::from_utf8_lossy(&nm.stderr)
    );
    let symbols = String::from_utf8_lossy(&nm.stdout);
    // name -> (address, size) of the listed code symbols
    let mut found: HashMap<&str, (u64, u64)> = HashMap::new();
    for line in symbols.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [address, size, kind, name] = fields[..] else {
            continue;
        };
        if matches!(kind, "t" | "T" | "w" | "W") && listed.contains(name) {
            let parse = |hex: &str| u64::from_str_radix(hex, 16).expect("nm prints hex");
            found.insert(name, (parse(address), parse(size)));
        }
    }
    assert!(
        found.len() * 10 >= listed.len() * 8,
        "only {} of the {} functions in {} are in the binary: the list is stale, regenerate it \
         with scripts/startup-symbols.sh",
        found.len(),
        listed.len(),
        list_path.display()
    );

    let mut spans: Vec<(u64, u64)> = found.values().copied().collect();
    spans.sort_unstable();
    let bytes: u64 = spans.iter().map(|(_, size)| size).sum();
    let kept = &spans[..spans.len() * 95 / 100];
    let (first, _) = kept[0];
    let (last, last_size) = kept[kept.len() - 1];
    let extent = last + last_size - first;
    assert!(
        extent <= 2 * bytes,
        "95% of the {} startup functions ({} KiB of code) spread over {} KiB of the binary: \
         the linker did not apply {}",
        found.len(),
        bytes / 1024,
        extent / 1024,
        list_path.display()
    );
}
