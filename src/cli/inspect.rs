//! `coldstart inspect FILE [--json]`

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use coldstart::snapshot::format::hex;
use coldstart::{Error, Snapshot};

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A `.snap` file.
    pub file: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(engine: &coldstart::Engine, args: InspectArgs) -> Result<(), Error> {
    let header = Snapshot::inspect(&args.file)?;
    let compatible = match Snapshot::open(engine, &args.file) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    if args.json {
        let out = json!({
            "path": args.file.display().to_string(),
            "format_version": header.format_version,
            "engine_version": header.engine_version,
            "v8_version": header.v8_version,
            "v8_flags": header.metadata.v8_flags,
            "flags_hash": hex(&header.flags_hash),
            "external_references": hex(&header.external_references),
            "key": hex(&header.key),
            "payload_bytes": header.payload_len,
            "payload_blake3": hex(&header.payload_hash),
            "bundle": header.bundle_name,
            "bundle_bytes": header.bundle_size,
            "metadata": header.metadata,
            "loadable": compatible.is_ok(),
            "problem": compatible.as_ref().err(),
        });
        out!("{out}");
    } else {
        out!("file            {}", args.file.display());
        out!("format version  {}", header.format_version);
        out!("coldstart       {}", header.engine_version);
        out!("V8              {}", header.v8_version);
        out!("V8 flags        {:?}", header.metadata.v8_flags);
        out!("ext-ref print   {}", hex(&header.external_references));
        out!("key             {}", hex(&header.key));
        out!(
            "payload         {} bytes, blake3 {}",
            header.payload_len,
            hex(&header.payload_hash)
        );
        if header.metadata.startup_len > 0 {
            out!(
                "V8 blob         {} bytes; the bundle's sources follow it ({} bytes)",
                header.metadata.startup_len,
                header
                    .payload_len
                    .saturating_sub(header.metadata.startup_len)
            );
        }
        out!(
            "bundle          {} ({} bytes)",
            header.bundle_name,
            header.bundle_size
        );
        out!("function code   {}", header.metadata.function_code);
        out!("warm-up         {:?}", header.metadata.warmup);
        for finding in header.metadata.hygiene.findings() {
            out!("hygiene         {finding}");
        }
        match compatible {
            Ok(()) => out!("loadable        yes"),
            Err(problem) => out!("loadable        no: {problem}"),
        }
    }
    Ok(())
}
