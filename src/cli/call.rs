//! `coldstart call BUNDLE ENTRY [ARG...]` and `coldstart render BUNDLE --route R`.

use std::path::PathBuf;

use clap::Args;

use coldstart::Error;

use super::{Phases, RunFlags};

/// Arguments of `call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The server bundle.
    pub bundle: PathBuf,
    /// The entry point's global name, e.g. `__rex_render_page`.
    pub entry: String,
    /// Its arguments, as strings (JSON where the contract says so). Put `--` before
    /// arguments that start with `-`.
    pub args: Vec<String>,
    #[command(flatten)]
    pub run: RunFlags,
    /// Request headers as a JSON object (exposed as `__rex_request_headers`).
    #[arg(long, value_name = "JSON")]
    pub headers: Option<String>,
    /// Request cookies as a JSON object (exposed as `__rex_request_cookies`).
    #[arg(long, value_name = "JSON")]
    pub cookies: Option<String>,
}

/// Arguments of `render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The server bundle.
    pub bundle: PathBuf,
    /// Route key (the URL path).
    #[arg(long)]
    pub route: String,
    /// Props as JSON.
    #[arg(long, default_value = "{}")]
    pub props: String,
    #[command(flatten)]
    pub run: RunFlags,
}

fn parse_object(flag: &str, text: Option<&str>) -> Result<serde_json::Value, Error> {
    let Some(text) = text else {
        return Ok(serde_json::json!({}));
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::Invalid(format!("--{flag} is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::Invalid(format!("--{flag} must be a JSON object")));
    }
    Ok(value)
}

pub fn run_call(engine: &coldstart::Engine, args: CallArgs) -> Result<(), Error> {
    let entry: coldstart::Entry = args.entry.parse()?;
    let headers = parse_object("headers", args.headers.as_deref())?;
    let cookies = parse_object("cookies", args.cookies.as_deref())?;
    let mut phases = Phases::start();
    let mut isolate = args.run.isolate(engine, &args.bundle, &mut phases)?;
    let with_context = args.headers.is_some() || args.cookies.is_some();
    if with_context {
        isolate.set_request_context(&headers, &cookies)?;
    }
    let call_args: Vec<&str> = args.args.iter().map(String::as_str).collect();
    let result = isolate.call(entry, &call_args);
    if with_context {
        isolate.clear_request_context();
    }
    phases.mark("call");
    out!("{}", result?);
    if args.run.timings {
        phases.mark("print");
        phases.print();
    }
    // The process ends here: tearing the isolate down would only spend time unmapping a heap
    // the OS reclaims anyway.
    std::mem::forget(isolate);
    Ok(())
}

pub fn run_render(engine: &coldstart::Engine, args: RenderArgs) -> Result<(), Error> {
    serde_json::from_str::<serde_json::Value>(&args.props)
        .map_err(|e| Error::Invalid(format!("--props is not valid JSON: {e}")))?;
    let mut phases = Phases::start();
    let mut isolate = args.run.isolate(engine, &args.bundle, &mut phases)?;
    let page = isolate.render_page(&args.route, &args.props)?;
    phases.mark("render");
    out!("{}", page.body);
    if args.run.timings {
        phases.mark("print");
        phases.print();
    }
    std::mem::forget(isolate);
    Ok(())
}
