//! The request flow, as plain data in and out (no hyper, no sockets): runs inside a pool worker
//! on one isolate. Middleware (`__rex_run_middleware`: redirect / rewrite / headers) →
//! `/api/*` (`__rex_call_api_handler`) → app route handlers (a 404 from them falls through) →
//! pages (`__rex_get_server_side_props`, honouring `redirect`/`notFound`, then
//! `__rex_render_page` into a full HTML document with `__rex_render_document`'s attributes).
//! Errors map to statuses through one table, [`status_for`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::contract::Entry;
use crate::error::Error;
use crate::ssr::SsrIsolate;

/// A response built inside a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Reply {
    /// A reply with a content type.
    pub fn new(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".to_string(), content_type.to_string())],
            body: body.into(),
        }
    }

    /// A `html` reply.
    pub fn html(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status, "text/html; charset=utf-8", body)
    }

    /// A `text` reply.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status, "text/plain; charset=utf-8", body)
    }

    /// A `json` reply.
    pub fn json(status: u16, value: &Value) -> Self {
        Reply::new(status, "application/json", value.to_string())
    }

    /// A `redirect` reply.
    pub fn redirect(status: u16, location: &str) -> Self {
        let mut reply = Reply::text(status, format!("Redirecting to {location}"));
        reply
            .headers
            .push(("location".to_string(), location.to_string()));
        reply
    }

    /// A `not_found` reply.
    pub fn not_found() -> Self {
        Reply::html(
            404,
            "<!DOCTYPE html><html><head><title>404: Not Found</title></head><body><h1>404</h1><p>This page could not be found.</p></body></html>",
        )
    }
}

/// A request, as plain data a worker can take.
#[derive(Debug, Clone)]
pub struct RequestData {
    /// Method.
    pub method: String,
    /// Path + query, as received.
    pub url: String,
    /// Path.
    pub path: String,
    /// Query parameters (last value wins).
    pub query: BTreeMap<String, String>,
    /// Headers (lowercase names; repeated headers joined with ", ").
    pub headers: BTreeMap<String, String>,
    /// Cookies from the `cookie` header.
    pub cookies: BTreeMap<String, String>,
    /// Body as text.
    pub body: String,
}

/// Percent-decodes a cookie value (`+` stays a plus sign; invalid UTF-8 is replaced).
pub(crate) fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn parse_query(query: Option<&str>) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn parse_cookies(header: Option<&String>) -> BTreeMap<String, String> {
    header
        .map(|h| {
            h.split(';')
                .filter_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    Some((k.trim().to_string(), percent_decode(v.trim())))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn escape_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn attrs(value: Option<&Value>) -> String {
    let mut out = String::new();
    if let Some(Value::Object(map)) = value {
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(out, " {}=\"{}\"", escape_attr(k), escape_attr(&v));
        }
    }
    out
}

fn headers_of(value: Option<&Value>) -> Vec<(String, String)> {
    match value {
        Some(Value::Object(map)) => map
            .iter()
            .flat_map(|(k, v)| match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        (
                            k.to_lowercase(),
                            i.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| i.to_string()),
                        )
                    })
                    .collect::<Vec<_>>(),
                Value::String(s) => vec![(k.to_lowercase(), s.clone())],
                other => vec![(k.to_lowercase(), other.to_string())],
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The parts of `__rex_get_server_side_props`'s result a page request reads. The props stay the
/// JSON text the bundle produced (its key order and numbers included): they go to
/// `__rex_render_page` as they are, never through a tree in Rust.
#[derive(Default, Deserialize)]
struct ServerSideProps<'a> {
    #[serde(borrow)]
    props: Option<&'a RawValue>,
    redirect: Option<Value>,
    #[serde(rename = "notFound")]
    not_found: Option<Value>,
}

impl<'a> ServerSideProps<'a> {
    /// JSON that is not an object (or repeats a field) has no props, as long as it is JSON.
    fn parse(text: &'a str) -> Result<Self, Error> {
        match serde_json::from_str(text) {
            Ok(parsed) => Ok(parsed),
            Err(_) => parse_json("__rex_get_server_side_props", text).map(|_| Self::default()),
        }
    }
}

fn parse_json(entry: &str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::BadResult {
        entry: entry.to_string(),
        detail: format!("not JSON: {e}"),
    })
}

/// The HTTP status in `field` of a handler's result: `default` when absent, an error when it is
/// not an integer in 100..=999 (never wrapped into range).
fn status_field(entry: &str, value: &Value, field: &str, default: u16) -> Result<u16, Error> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(code) => code
            .as_u64()
            .filter(|c| (100..=999).contains(c))
            .map(|c| c as u16)
            .ok_or_else(|| Error::BadResult {
                entry: entry.to_string(),
                detail: format!("{field} {code} is not an HTTP status (100-999)"),
            }),
    }
}

fn handler_reply(entry: &str, text: &str) -> Result<Reply, Error> {
    let value = parse_json(entry, text)?;
    if !value.is_object() {
        return Err(Error::BadResult {
            entry: entry.to_string(),
            detail: format!("expected an object {{statusCode, headers, body}}, got `{value}`"),
        });
    }
    let status = status_field(entry, &value, "statusCode", 200)?;
    let mut headers = headers_of(value.get("headers"));
    let body = match value.get("body") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => {
            if !headers.iter().any(|(k, _)| k == "content-type") {
                headers.push(("content-type".to_string(), "application/json".to_string()));
            }
            other.to_string()
        }
    };
    if !headers.iter().any(|(k, _)| k == "content-type") {
        headers.push((
            "content-type".to_string(),
            "text/plain; charset=utf-8".to_string(),
        ));
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Runs the whole request flow on one isolate (inside a pool worker).
pub fn handle_in_isolate(iso: &mut SsrIsolate, mut req: RequestData) -> Result<Reply, Error> {
    let headers_value = json!(req.headers);
    let cookies_value = json!(req.cookies);
    iso.set_request_context(&headers_value, &cookies_value)?;
    let result = route(iso, &mut req);
    iso.clear_request_context();
    result
}

fn route(iso: &mut SsrIsolate, req: &mut RequestData) -> Result<Reply, Error> {
    let mut extra_headers: Vec<(String, String)> = Vec::new();
    // Middleware.
    let mw_req = json!({
        "method": req.method, "url": req.url, "pathname": req.path,
        "headers": req.headers, "cookies": req.cookies,
    });
    if let Some(text) = iso.run_middleware(&mw_req.to_string())? {
        let action = parse_json("__rex_run_middleware", &text)?;
        extra_headers = headers_of(action.get("response_headers"));
        for (k, v) in headers_of(action.get("request_headers")) {
            req.headers.insert(k, v);
        }
        match action
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("next")
        {
            "redirect" => {
                let url = action.get("url").and_then(Value::as_str).unwrap_or("/");
                let status = status_field("__rex_run_middleware", &action, "status", 307)?;
                let mut reply = Reply::redirect(status, url);
                reply.headers.extend(extra_headers);
                return Ok(reply);
            }
            "rewrite" => {
                if let Some(url) = action.get("url").and_then(Value::as_str) {
                    let (path, query) = url
                        .split_once('?')
                        .map_or((url, None), |(p, q)| (p, Some(q)));
                    let path = url::Url::parse(url)
                        .map(|u| u.path().to_string())
                        .unwrap_or_else(|_| path.to_string());
                    req.path = path;
                    if let Some(q) = query {
                        req.query.extend(parse_query(Some(q)));
                    }
                }
            }
            _ => {}
        }
    }
    let mut reply = route_after_middleware(iso, req)?;
    reply.headers.extend(extra_headers);
    Ok(reply)
}

fn route_after_middleware(iso: &mut SsrIsolate, req: &RequestData) -> Result<Reply, Error> {
    if req.path == "/api" || req.path.starts_with("/api/") {
        if !iso.has_entry(Entry::CallApiHandler) {
            return Ok(Reply::not_found());
        }
        let api_req = json!({
            "method": req.method, "url": req.url, "headers": req.headers,
            "query": req.query, "body": req.body, "cookies": req.cookies,
        });
        let text = iso.call_api_handler(&req.path, &api_req.to_string())?;
        return handler_reply("__rex_call_api_handler", &text);
    }
    if iso.has_entry(Entry::CallAppRouteHandler) {
        let app_req = json!({
            "method": req.method, "url": req.url, "headers": req.headers,
            "query": req.query, "params": {}, "body": req.body,
        });
        let text = iso.call_app_route_handler(&req.path, &app_req.to_string())?;
        let reply = handler_reply("__rex_call_app_route_handler", &text)?;
        if reply.status != 404 {
            return Ok(reply);
        }
    }
    if req.method != "GET" && req.method != "HEAD" {
        let mut reply = Reply::text(405, "Method Not Allowed");
        reply
            .headers
            .push(("allow".to_string(), "GET, HEAD".to_string()));
        return Ok(reply);
    }
    let context = json!({
        "params": {}, "query": req.query, "headers": req.headers,
        "cookies": req.cookies, "resolvedUrl": req.url,
    });
    let gssp_text = iso.get_server_side_props(&req.path, &context.to_string())?;
    let gssp = ServerSideProps::parse(&gssp_text)?;
    if let Some(redirect) = &gssp.redirect {
        let destination = redirect
            .get("destination")
            .and_then(Value::as_str)
            .unwrap_or("/");
        let permanent = redirect
            .get("permanent")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let status = status_field(
            "__rex_get_server_side_props",
            redirect,
            "statusCode",
            if permanent { 308 } else { 307 },
        )?;
        return Ok(Reply::redirect(status, destination));
    }
    if gssp.not_found.as_ref().and_then(Value::as_bool) == Some(true) {
        return Ok(Reply::not_found());
    }
    let props = gssp.props.map_or("{}", RawValue::get);
    let page = match iso.render_page(&req.path, props) {
        Ok(page) => page,
        Err(Error::PageNotFound { .. }) => return Ok(Reply::not_found()),
        Err(e) => return Err(e),
    };
    let document = match iso.render_document()? {
        Some(text) => parse_json("__rex_render_document", &text)?,
        None => json!({}),
    };
    let head_content = document
        .get("headContent")
        .and_then(Value::as_str)
        .unwrap_or("");
    let html = format!(
        "<!DOCTYPE html><html{}><head><meta charset=\"utf-8\">{}{}</head><body{}><div id=\"__rex\">{}</div></body></html>",
        attrs(document.get("htmlAttrs")),
        head_content,
        page.head,
        attrs(document.get("bodyAttrs")),
        page.body
    );
    Ok(Reply::html(200, html))
}

/// Where an error surfaced, for [`status_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Serving a request.
    Request,
    /// Reloading the bundle.
    Reload,
}

/// The HTTP status of an error: the one table that maps error variants to statuses.
pub fn status_for(error: &Error, stage: Stage) -> u16 {
    match (stage, error) {
        (_, Error::Overloaded(_) | Error::WorkerLost) => 503,
        (_, Error::ReloadInProgress) => 409,
        (_, Error::PageNotFound { .. }) => 404,
        (Stage::Request, Error::Timeout { .. }) => 504,
        (
            Stage::Reload,
            Error::Js(_)
            | Error::MissingGlobal { .. }
            | Error::UnresolvedImport { .. }
            | Error::NoHandler { .. }
            | Error::Hygiene(_)
            | Error::Io { .. }
            | Error::BuildFailed { .. }
            | Error::Timeout { .. }
            | Error::HeapLimit { .. }
            | Error::Snapshot(_)
            | Error::Invalid(_),
        ) => 422,
        _ => 500,
    }
}

/// The reply a failed request gets (never the error text: it may hold the JS stack).
pub fn error_reply(error: &Error) -> Reply {
    let status = status_for(error, Stage::Request);
    let mut reply = match status {
        504 => Reply::text(504, "Gateway Timeout: the page took too long to render\n"),
        503 => Reply::text(503, "Service Unavailable\n"),
        _ => Reply::text(500, "Internal Server Error\n"),
    };
    if status == 503 {
        reply
            .headers
            .push(("retry-after".to_string(), "1".to_string()));
    }
    reply
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_query_parse() {
        let cookies = parse_cookies(Some(&"a=1; b=hello%20world;c".to_string()));
        assert_eq!(cookies.get("a").map(String::as_str), Some("1"));
        assert_eq!(cookies.get("b").map(String::as_str), Some("hello world"));
        assert_eq!(cookies.len(), 2);
        let query = parse_query(Some("x=1&y=a+b&x=2"));
        assert_eq!(query.get("x").map(String::as_str), Some("2"));
        assert_eq!(query.get("y").map(String::as_str), Some("a b"));
    }

    #[test]
    fn attributes_are_escaped() {
        let value = json!({"lang": "en", "data-x": "\"<>&"});
        assert_eq!(
            attrs(Some(&value)),
            " data-x=\"&quot;&lt;&gt;&amp;\" lang=\"en\""
        );
    }

    #[test]
    fn handler_results_become_replies() {
        let reply = handler_reply(
            "x",
            r#"{"statusCode":201,"headers":{"X-A":"1"},"body":{"ok":true}}"#,
        )
        .unwrap();
        assert_eq!(reply.status, 201);
        assert!(reply
            .headers
            .contains(&("x-a".to_string(), "1".to_string())));
        assert!(reply
            .headers
            .contains(&("content-type".to_string(), "application/json".to_string())));
        assert_eq!(reply.body, r#"{"ok":true}"#);
    }

    #[test]
    fn errors_map_to_status_codes() {
        assert_eq!(
            error_reply(&Error::Timeout {
                entry: "x".into(),
                ms: 5
            })
            .status,
            504
        );
        assert_eq!(error_reply(&Error::Overloaded("full".into())).status, 503);
        assert_eq!(error_reply(&Error::Invalid("x".into())).status, 500);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn cookie_values_round_trip_through_percent_encoding(value in "\\PC*") {
                let encoded = percent_encoding::utf8_percent_encode(
                    &value,
                    percent_encoding::NON_ALPHANUMERIC,
                )
                .to_string();
                prop_assert_eq!(percent_decode(&encoded), value);
            }

            #[test]
            fn cookie_headers_parse_into_their_pairs(
                pairs in proptest::collection::btree_map("[A-Za-z0-9_]{1,12}", "[!#-+\\--:<-\\[\\]-~]{0,16}", 0..6)
            ) {
                let header = pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let parsed = parse_cookies(Some(&header));
                // Cookie values are percent-decoded and nothing else: `&`, `=` and `+` are data.
                let expected: BTreeMap<String, String> = pairs
                    .iter()
                    .map(|(k, v)| {
                        let decoded = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
                        (k.clone(), decoded.into_owned())
                    })
                    .collect();
                prop_assert_eq!(parsed, expected);
            }

            #[test]
            fn any_cookie_header_or_query_parses_without_panicking(text in "\\PC*") {
                let _ = parse_cookies(Some(&text));
                let _ = parse_query(Some(&text));
                let _ = percent_decode(&text);
            }

            #[test]
            fn queries_round_trip_through_form_encoding(
                pairs in proptest::collection::btree_map("\\PC{1,8}", "\\PC{0,8}", 0..6)
            ) {
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs.iter())
                    .finish();
                prop_assert_eq!(parse_query(Some(&query)), pairs);
            }

            #[test]
            fn handler_status_codes_are_in_range_or_refused(code in proptest::num::u64::ANY) {
                let text = format!(r#"{{"statusCode":{code},"body":"x"}}"#);
                match handler_reply("__rex_call_api_handler", &text) {
                    Ok(reply) => prop_assert!((100..=999).contains(&code) && u64::from(reply.status) == code),
                    Err(_) => prop_assert!(!(100..=999).contains(&code)),
                }
            }
        }
    }
}
