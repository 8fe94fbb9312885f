//! `host.op_fetch`, `host.op_cancel`: real HTTP(S) for the `fetch` polyfill.
//!
//! Requests run on a shared tokio runtime with reqwest + rustls; the event loop
//! (`isolate::event_loop`) receives completions from a per-isolate channel and settles the JS
//! promises through `internals.op_complete`. Requests started in one call run concurrently.
//!
//! **SSRF policy.** Unless an origin is allowlisted, a request may only reach public unicast
//! addresses: loopback, private (RFC 1918), link-local (incl. cloud metadata `169.254.169.254`),
//! CGNAT `100.64/10`, ULA `fc00::/7`, IPv6 link-local, multicast, unspecified and reserved ranges
//! are refused. The check runs on the *resolved* address through a filtering DNS resolver — the
//! address checked is the address connected to, so DNS rebinding cannot slip past it — and on IP
//! literals directly. Redirects are followed here, hop by hop, so every hop is checked again.

use super::http_client::{perform, FetchRequest};
use super::ops::OpResult;
use super::{arg_bytes, declare_host_fns, state, throw_type_error, HostFn};

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns![
        "op_fetch" => op_fetch,
        "op_cancel" => op_cancel,
    ]
}

fn get_prop<'s>(
    scope: &mut v8::HandleScope<'s>,
    object: v8::Local<v8::Object>,
    key: &str,
) -> Option<v8::Local<'s, v8::Value>> {
    let key = v8::String::new(scope, key)?;
    object.get(scope, key.into())
}

fn read_request(
    scope: &mut v8::HandleScope,
    value: v8::Local<v8::Value>,
) -> Result<FetchRequest, String> {
    let object = v8::Local::<v8::Object>::try_from(value)
        .map_err(|_| "request must be an object".to_string())?;
    let text = |scope: &mut v8::HandleScope, key: &str, default: &str| -> String {
        match get_prop(scope, object, key) {
            Some(v) if !v.is_null_or_undefined() => v.to_rust_string_lossy(scope),
            _ => default.to_string(),
        }
    };
    let method = text(scope, "method", "GET");
    let url = text(scope, "url", "");
    let redirect = text(scope, "redirect", "follow");
    let mut headers = Vec::new();
    if let Some(list) = get_prop(scope, object, "headers") {
        if let Ok(array) = v8::Local::<v8::Array>::try_from(list) {
            for i in 0..array.length() {
                let Some(pair) = array.get_index(scope, i) else {
                    continue;
                };
                let Ok(pair) = v8::Local::<v8::Array>::try_from(pair) else {
                    continue;
                };
                let (Some(k), Some(v)) = (pair.get_index(scope, 0), pair.get_index(scope, 1))
                else {
                    continue;
                };
                headers.push((k.to_rust_string_lossy(scope), v.to_rust_string_lossy(scope)));
            }
        }
    }
    let body = match get_prop(scope, object, "body") {
        Some(v) if !v.is_null_or_undefined() => {
            Some(arg_bytes(v).unwrap_or_else(|| v.to_rust_string_lossy(scope).into_bytes()))
        }
        _ => None,
    };
    Ok(FetchRequest {
        method,
        url,
        headers,
        body,
        redirect,
    })
}

fn op_fetch(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let Some(id) = args.get(0).uint32_value(scope) else {
        return throw_type_error(scope, "op_fetch: id must be an integer");
    };
    let request = match read_request(scope, args.get(1)) {
        Ok(r) => r,
        Err(e) => return throw_type_error(scope, &format!("op_fetch: {e}")),
    };
    let state = state::get(scope);
    let mut state = state.borrow_mut();
    let policy = state.fetch_policy.clone();
    state
        .ops
        .start(id, async move { perform(request, &policy).await });
}

fn op_cancel(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    if let Some(id) = args.get(0).uint32_value(scope) {
        state::get(scope).borrow_mut().ops.cancel(id);
    }
}

/// Converts a completion into the `(error, value)` pair `internals.op_complete` takes.
pub(crate) fn completion_to_js<'s>(
    scope: &mut v8::HandleScope<'s>,
    result: OpResult,
) -> (v8::Local<'s, v8::Value>, v8::Local<'s, v8::Value>) {
    let set = |scope: &mut v8::HandleScope<'s>,
               obj: v8::Local<'s, v8::Object>,
               k: &str,
               v: v8::Local<'s, v8::Value>| {
        if let Some(key) = v8::String::new(scope, k) {
            obj.set(scope, key.into(), v);
        }
    };
    let string = |scope: &mut v8::HandleScope<'s>, s: &str| -> v8::Local<'s, v8::Value> {
        v8::String::new(scope, s)
            .map(Into::into)
            .unwrap_or_else(|| v8::undefined(scope).into())
    };
    match result {
        Err(failure) => {
            let error = v8::Object::new(scope);
            let name = string(scope, failure.name);
            let message = string(scope, &failure.message);
            set(scope, error, "name", name);
            set(scope, error, "message", message);
            (error.into(), v8::undefined(scope).into())
        }
        Ok(response) => {
            let value = v8::Object::new(scope);
            let status = v8::Integer::new(scope, response.status as i32).into();
            set(scope, value, "status", status);
            let status_text = string(scope, &response.status_text);
            set(scope, value, "statusText", status_text);
            let url = string(scope, &response.url);
            set(scope, value, "url", url);
            let redirected = v8::Boolean::new(scope, response.redirected).into();
            set(scope, value, "redirected", redirected);
            let pairs: Vec<v8::Local<v8::Value>> = response
                .headers
                .iter()
                .map(|(k, v)| {
                    let pair = [string(scope, k), string(scope, v)];
                    v8::Array::new_with_elements(scope, &pair).into()
                })
                .collect();
            let headers = v8::Array::new_with_elements(scope, &pairs).into();
            set(scope, value, "headers", headers);
            let body = super::uint8_array_from(scope, response.body)
                .map(Into::into)
                .unwrap_or_else(|| v8::undefined(scope).into());
            set(scope, value, "body", body);
            (v8::null(scope).into(), value.into())
        }
    }
}
