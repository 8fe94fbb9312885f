//! `coldstart call BUNDLE ENTRY [ARG...]`, `coldstart call WORKER --request 'GET /path'` and
//! `coldstart render BUNDLE --route R` (a Rex page, or a Vite module's `render(url)`).

use std::path::PathBuf;

use clap::Args;

use coldstart::worker::{AppKind, WorkerRequest};
use coldstart::Error;

use super::{Phases, RunFlags};

/// Arguments of `call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The server bundle.
    pub bundle: PathBuf,
    /// The entry point's global name, e.g. `__rex_render_page` (not with `--request`).
    #[arg(required_unless_present = "request")]
    pub entry: Option<String>,
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
    /// Send one request to a module worker's fetch handler: 'METHOD /path?query'. Prints the
    /// status line, the headers and the body.
    #[arg(long, value_name = "'METHOD /PATH'", conflicts_with_all = ["entry", "headers", "cookies"])]
    pub request: Option<String>,
    /// A request header for --request: 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", requires = "request")]
    pub request_headers: Vec<String>,
    /// The request body for --request.
    #[arg(long, value_name = "TEXT", requires = "request")]
    pub body: Option<String>,
    /// The request's origin (scheme and host) for --request.
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://localhost",
        requires = "request"
    )]
    pub origin: String,
}

/// Arguments of `render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The server bundle.
    pub bundle: PathBuf,
    /// Route key (the URL path).
    #[arg(long)]
    pub route: String,
    /// Props as JSON (Rex bundles).
    #[arg(long, default_value = "{}")]
    pub props: String,
    /// For a `render(url)` module: an HTML template whose `<!--app-html-->` (and
    /// `<!--app-head-->`) take the rendered HTML.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
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

/// `'GET /path'` plus `--header`s and `--body` as a worker request.
fn worker_request(args: &CallArgs, line: &str) -> Result<WorkerRequest, Error> {
    let (method, target) = line
        .trim()
        .split_once(' ')
        .ok_or_else(|| Error::Invalid(format!("--request `{line}`: expected 'METHOD /path'")))?;
    let target = target.trim();
    if !target.starts_with('/') {
        return Err(Error::Invalid(format!(
            "--request `{line}`: the path must start with `/`"
        )));
    }
    let mut headers = Vec::new();
    for header in &args.request_headers {
        let (name, value) = header.split_once(':').ok_or_else(|| {
            Error::Invalid(format!("--header `{header}`: expected 'Name: value'"))
        })?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(WorkerRequest {
        method: method.to_ascii_uppercase(),
        url: format!("{}{target}", args.origin.trim_end_matches('/')),
        headers,
        body: args.body.as_ref().map(|b| b.as_bytes().to_vec()),
    })
}

fn run_request(engine: &coldstart::Engine, args: &CallArgs, line: &str) -> Result<(), Error> {
    let request = worker_request(args, line)?;
    let mut phases = Phases::start();
    let mut isolate = args.run.isolate(engine, &args.bundle, &mut phases)?;
    let response = isolate.fetch_collect(&request)?;
    phases.mark("fetch");
    let mut out = format!("HTTP {}\n", response.status);
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.write_all(&response.body()))
        .and_then(|()| stdout.flush());
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(Error::io("cannot write the response", "stdout", e));
        }
    }
    if args.run.timings {
        phases.mark("print");
        phases.print();
    }
    std::mem::forget(isolate);
    Ok(())
}

pub fn run_call(engine: &coldstart::Engine, args: CallArgs) -> Result<(), Error> {
    if let Some(line) = &args.request {
        return run_request(engine, &args, line);
    }
    let entry: coldstart::Entry = args.entry.as_deref().unwrap_or_default().parse()?;
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
    if isolate.app_kind() == AppKind::Render {
        let template = match &args.template {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| Error::io("cannot read the template", path, e))?,
            ),
            None => None,
        };
        let page = isolate.render_url(&args.route)?;
        phases.mark("render");
        match template {
            Some(template) => out!("{}", page.in_template(&template)),
            None => out!("{}", page.html),
        }
    } else {
        let page = isolate.render_page(&args.route, &args.props)?;
        phases.mark("render");
        out!("{}", page.body);
    }
    if args.run.timings {
        phases.mark("print");
        phases.print();
    }
    std::mem::forget(isolate);
    Ok(())
}
