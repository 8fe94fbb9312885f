//! `coldstart build BUNDLE [--store DIR] [--json]`

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use coldstart::Error;

use super::BuildFlags;

/// Arguments of `build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The server bundle (a classic script).
    pub bundle: PathBuf,
    #[command(flatten)]
    pub flags: BuildFlags,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Delete all but the N newest snapshots afterwards (never current/previous), and stale bundle records.
    #[arg(long, value_name = "N")]
    pub gc: Option<usize>,
    /// Make the built snapshot the store's current one.
    #[arg(long)]
    pub set_current: bool,
    /// Build options as JSON (replaces --function-code, --warmup and --allow-pending-timers;
    /// how `serve` passes its options to a child build).
    #[arg(long, value_name = "JSON", hide = true)]
    pub options_json: Option<String>,
    /// Exit when the parent process dies (a reload build started by `serve`).
    #[arg(long, hide = true)]
    pub exit_with_parent: bool,
    /// The parent to watch with --exit-with-parent (default: the parent at start). Given by
    /// the pool, so a parent killed before this process got here is noticed too.
    #[arg(long, value_name = "PID", hide = true, requires = "exit_with_parent")]
    pub parent_pid: Option<u32>,
}

/// Ends this process soon after its parent dies, so that a child build never outlives the
/// server that started it (the parent's own deadline kills it in every other case).
fn exit_with_parent(expected: Option<u32>) {
    let parent = expected.unwrap_or_else(std::os::unix::process::parent_id);
    if std::os::unix::process::parent_id() != parent {
        // The parent died before this process started watching it.
        std::process::exit(1);
    }
    let spawned = std::thread::Builder::new()
        .name("parent-watch".to_string())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(50));
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(1);
            }
        });
    if spawned.is_err() {
        tracing::warn!("cannot watch the parent process");
    }
}

pub fn run(engine: &coldstart::Engine, args: BuildArgs) -> Result<(), Error> {
    if args.exit_with_parent {
        exit_with_parent(args.parent_pid);
    }
    let store = args.flags.open_store(engine)?;
    let bundle = args.flags.bundle_in(&store, &args.bundle)?;
    let options = match &args.options_json {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| Error::Invalid(format!("--options-json is not valid: {e}")))?,
        None => args.flags.options()?,
    };
    let loaded = store.get_or_build_within(&bundle, &options, args.flags.limits())?;
    if args.set_current {
        store.set_current(&loaded.snapshot.key())?;
    }
    if let Some(keep) = args.gc {
        store.gc(keep)?;
    }
    let header = loaded.snapshot.header();
    let findings = loaded.hygiene.findings();
    if args.json {
        let out = json!({
            "key": loaded.snapshot.key_hex(),
            "path": loaded.snapshot.path().display().to_string(),
            "bytes": std::fs::metadata(loaded.snapshot.path()).map(|m| m.len()).unwrap_or(0),
            "payload_bytes": header.payload_len,
            "build_ms": loaded.build_ms,
            "cached": loaded.cached,
            "bundle": header.bundle_name,
            "bundle_bytes": header.bundle_size,
            "function_code": header.metadata.function_code,
            "hygiene": loaded.hygiene,
            "findings": findings,
        });
        out!("{out}");
    } else {
        let verb = if loaded.cached { "found" } else { "built" };
        out!(
            "{verb} {} ({} bytes{}) for {}",
            loaded.snapshot.path().display(),
            header.payload_len,
            if loaded.cached {
                String::new()
            } else {
                format!(", {:.1} ms", loaded.build_ms)
            },
            header.bundle_name
        );
        for finding in findings {
            out!("hygiene: {finding}");
        }
    }
    Ok(())
}
