//! Module workers on top of [`SsrIsolate`]: the `fetch(request, env, ctx)` handler of an ES
//! module's default export (its response streamed to a [`ResponseSink`] as the body yields), and
//! a Vite SSR module's `render(url)`.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::isolate::event_loop::{self, Deadline};
use crate::isolate::exception::{js_error_from, string_result};
use crate::isolate::Runtime;
use crate::ssr::SsrIsolate;

pub use crate::runtime::worker::{ResponsePart, ResponseSink};

/// What a bundle serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    /// Rex's `__rex_*` globals (a classic script, or a module defining them).
    Rex,
    /// An ES module whose default export has `fetch(request, env, ctx)`.
    Fetch,
    /// An ES module exporting `render(url)` (Vite SSR).
    Render,
}

impl AppKind {
    /// What the bundle's entry module installed (`internals.app`).
    pub(crate) fn of(runtime: &Runtime) -> Self {
        runtime.internals.app_kind
    }

    /// `rex`, `fetch` or `render`.
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::Rex => "rex",
            AppKind::Fetch => "fetch",
            AppKind::Render => "render",
        }
    }
}

/// An HTTP request for a module worker's `fetch` handler.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerRequest {
    /// Method, e.g. `GET`.
    pub method: String,
    /// The full URL (`http://host/path?query`), built from the `Host` header as workerd does.
    pub url: String,
    /// Header name/value pairs, in order.
    pub headers: Vec<(String, String)>,
    /// The body (ignored for GET and HEAD).
    pub body: Option<Vec<u8>>,
}

/// What a `render(url)` module returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RenderedUrl {
    /// The app's HTML (goes at the template's `<!--app-html-->`).
    pub html: String,
    /// Head elements (go at `<!--app-head-->`), when the module returns them.
    #[serde(default)]
    pub head: Option<String>,
    /// An HTTP status the module asks for (e.g. 404 for its catch-all route).
    #[serde(default)]
    pub status: Option<u16>,
}

/// Where a Vite template takes the app's HTML.
pub const APP_HTML_MARKER: &str = "<!--app-html-->";
/// Where a Vite template takes the app's head elements.
pub const APP_HEAD_MARKER: &str = "<!--app-head-->";

impl RenderedUrl {
    /// `template` with [`APP_HTML_MARKER`] replaced by the HTML and [`APP_HEAD_MARKER`] by the
    /// head (as the Vite SSR guide's server does).
    ///
    /// # Examples
    ///
    /// ```
    /// use coldstart::worker::RenderedUrl;
    ///
    /// let page = RenderedUrl { html: "<p>hi</p>".into(), head: Some("<title>t</title>".into()), status: None };
    /// let html = page.in_template("<head><!--app-head--></head><div id=app><!--app-html--></div>");
    /// assert_eq!(html, "<head><title>t</title></head><div id=app><p>hi</p></div>");
    /// ```
    pub fn in_template(&self, template: &str) -> String {
        template
            .replacen(APP_HEAD_MARKER, self.head.as_deref().unwrap_or(""), 1)
            .replacen(APP_HTML_MARKER, &self.html, 1)
    }
}

/// A response collected whole (what [`SsrIsolate::fetch_collect`] returns).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectedResponse {
    /// HTTP status.
    pub status: u16,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// The body chunks, as the stream yielded them.
    pub chunks: Vec<Vec<u8>>,
}

impl CollectedResponse {
    /// The whole body.
    pub fn body(&self) -> Vec<u8> {
        self.chunks.concat()
    }

    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl SsrIsolate {
    /// What the bundle serves.
    pub fn app_kind(&self) -> AppKind {
        self.app
    }

    /// Calls the module's `fetch(request, env, ctx)` and hands the response to `sink` as it is
    /// produced: [`ResponsePart::Head`], then each body chunk as the response's stream yields it,
    /// then [`ResponsePart::End`]. Returns once the body is complete and every
    /// `ctx.waitUntil` promise has settled, all within the call deadline.
    ///
    /// # Errors
    /// [`Error::NotLoaded`] when the bundle is not a fetch worker; [`Error::Js`] when the handler
    /// throws, rejects or returns something other than a `Response` (before or after the head
    /// was sent); [`Error::Timeout`], [`Error::HeapLimit`] as for every call.
    ///
    /// # Examples
    ///
    /// ```
    /// use coldstart::{Bundle, Engine, EngineConfig, SsrConfig, SsrIsolate};
    /// use coldstart::worker::WorkerRequest;
    ///
    /// let engine = Engine::init(EngineConfig::default())?;
    /// let bundle = Bundle::from_modules("worker.js", vec![("worker.js".into(), r#"
    ///     export default {
    ///         async fetch(request, env) {
    ///             const url = new URL(request.url);
    ///             return new Response(`hello ${url.pathname} from ${env.REGION}`, {
    ///                 headers: { "content-type": "text/plain" },
    ///             });
    ///         },
    ///     };
    /// "#.into())])?;
    /// let mut config = SsrConfig::default();
    /// config.runtime.vars.insert("REGION".into(), "eu".into());
    /// let mut iso = SsrIsolate::fresh(&engine, &bundle, config)?;
    /// let response = iso.fetch_collect(&WorkerRequest {
    ///     method: "GET".into(),
    ///     url: "http://example.test/a".into(),
    ///     ..Default::default()
    /// })?;
    /// assert_eq!(response.status, 200);
    /// assert_eq!(response.body(), b"hello /a from eu");
    /// # Ok::<(), coldstart::Error>(())
    /// ```
    pub fn fetch(&mut self, request: &WorkerRequest, sink: ResponseSink) -> Result<()> {
        if self.app != AppKind::Fetch {
            return Err(Error::NotLoaded { entry: "fetch" });
        }
        let deadline = Deadline::after(self.call_timeout());
        let name = "fetch";
        self.guarded_call(deadline, name, |scope, internals, state| {
            state.borrow_mut().response_sink = Some(sink);
            let outcome = (|| {
                let function = v8::Local::new(scope, &internals.worker_fetch);
                let args = request_args(scope, request)?;
                let tc = &mut v8::TryCatch::new(scope);
                let undefined = v8::undefined(tc).into();
                let value = match function.call(tc, undefined, &args) {
                    Some(value) => value,
                    None => return Err(Error::from(js_error_from(tc, "`fetch`"))),
                };
                let value = v8::Local::new(tc, value);
                event_loop::settle(tc, internals, state, value, name, deadline).map(|_| ())
            })();
            state.borrow_mut().response_sink = None;
            outcome
        })
    }

    /// [`SsrIsolate::fetch`] with the response collected in memory.
    ///
    /// # Errors
    /// As [`SsrIsolate::fetch`].
    pub fn fetch_collect(&mut self, request: &WorkerRequest) -> Result<CollectedResponse> {
        let collected = std::rc::Rc::new(std::cell::RefCell::new(CollectedResponse::default()));
        let into = collected.clone();
        self.fetch(
            request,
            Box::new(move |part| {
                let mut response = into.borrow_mut();
                match part {
                    ResponsePart::Head { status, headers } => {
                        response.status = status;
                        response.headers = headers;
                    }
                    ResponsePart::Chunk(bytes) => response.chunks.push(bytes),
                    ResponsePart::End => {}
                }
            }),
        )?;
        let response = collected.borrow().clone();
        Ok(response)
    }

    /// Calls the module's `render(url)` (the Vite SSR convention) and returns its HTML (and head
    /// and status, when the module returns an object with them).
    ///
    /// # Errors
    /// [`Error::NotLoaded`] when the module exports no `render`; [`Error::Js`] when it throws or
    /// returns neither a string nor `{ html }`; deadline and heap errors as for every call.
    pub fn render_url(&mut self, url: &str) -> Result<RenderedUrl> {
        if self.app != AppKind::Render {
            return Err(Error::NotLoaded { entry: "render" });
        }
        let deadline = Deadline::after(self.call_timeout());
        let name = "render";
        let text = self.guarded_call(deadline, name, |scope, internals, state| {
            let function = v8::Local::new(scope, &internals.worker_render);
            let tc = &mut v8::TryCatch::new(scope);
            let url = v8::String::new(tc, url)
                .ok_or_else(|| Error::Invalid("the URL is too long".to_string()))?
                .into();
            let undefined = v8::undefined(tc).into();
            let value = match function.call(tc, undefined, &[url]) {
                Some(value) => v8::Local::new(tc, value),
                None => return Err(Error::from(js_error_from(tc, "`render`"))),
            };
            let value = event_loop::settle(tc, internals, state, value, name, deadline)?;
            string_result(tc, value, name)
        })?;
        serde_json::from_str(&text).map_err(|e| Error::BadResult {
            entry: name.to_string(),
            detail: format!("{e}"),
        })
    }
}

fn request_args<'s>(
    scope: &mut v8::HandleScope<'s>,
    request: &WorkerRequest,
) -> Result<Vec<v8::Local<'s, v8::Value>>> {
    let text = |scope: &mut v8::HandleScope<'s>, value: &str| -> Result<v8::Local<'s, v8::Value>> {
        v8::String::new(scope, value)
            .map(Into::into)
            .ok_or_else(|| Error::Invalid("a request field is too large for a V8 string".into()))
    };
    let method = text(scope, &request.method)?;
    let url = text(scope, &request.url)?;
    let mut headers = Vec::with_capacity(request.headers.len() * 2);
    for (name, value) in &request.headers {
        headers.push(text(scope, name)?);
        headers.push(text(scope, value)?);
    }
    let headers = v8::Array::new_with_elements(scope, &headers).into();
    let body = match &request.body {
        Some(bytes) => crate::runtime::uint8_array_from(scope, bytes.clone())
            .map(Into::into)
            .ok_or_else(|| Error::Invalid("the request body is too large".into()))?,
        None => v8::null(scope).into(),
    };
    Ok(vec![method, url, headers, body])
}
