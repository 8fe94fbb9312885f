//! Host functions of module workers: `host.cped_get`/`host.cped_set` (the
//! continuation-preserved embedder data `AsyncLocalStorage` keeps its frame in),
//! `host.response_head`/`host.response_chunk`/`host.response_end` (a fetch handler's response,
//! handed to the call's [`ResponseSink`] as the body stream yields it), and `host.asset_read`
//! (the `ASSETS` binding's files).

use std::io::Read;

use super::{declare_host_fns, state, HostFn};

pub(super) fn declarations() -> Vec<HostFn> {
    declare_host_fns![
        "cped_get" => cped_get,
        "cped_set" => cped_set,
        "response_head" => response_head,
        "response_chunk" => response_chunk,
        "response_end" => response_end,
        "asset_read" => asset_read,
    ]
}

/// One part of a fetch handler's response, in order: `Head`, any number of `Chunk`s, `End`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponsePart {
    /// Status and headers (names lower-case; `set-cookie` may repeat).
    Head {
        /// HTTP status.
        status: u16,
        /// Header name/value pairs.
        headers: Vec<(String, String)>,
    },
    /// Body bytes, as the response's stream yielded them.
    Chunk(Vec<u8>),
    /// The body is complete (work registered with `ctx.waitUntil` may still run).
    End,
}

/// Where a fetch call's response parts go (a channel to the HTTP connection, or a buffer).
pub type ResponseSink = Box<dyn FnMut(ResponsePart)>;

fn send(scope: &mut v8::HandleScope, part: ResponsePart) {
    let state = state::get(scope);
    let sink = state.borrow_mut().response_sink.take();
    match sink {
        Some(mut sink) => {
            sink(part);
            state.borrow_mut().response_sink = Some(sink);
        }
        None => super::throw_type_error(scope, "no request is being answered"),
    }
}

fn cped_get(
    scope: &mut v8::HandleScope,
    _args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let data = scope.get_continuation_preserved_embedder_data();
    rv.set(data);
}

fn cped_set(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    scope.set_continuation_preserved_embedder_data(args.get(0));
}

fn response_head(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let status = args.get(0).uint32_value(scope).unwrap_or(500);
    let Ok(list) = v8::Local::<v8::Array>::try_from(args.get(1)) else {
        return super::throw_type_error(scope, "response_head: headers must be an array");
    };
    let mut headers = Vec::with_capacity(list.length() as usize / 2);
    let mut i = 0;
    while i + 1 < list.length() {
        let (Some(name), Some(value)) = (list.get_index(scope, i), list.get_index(scope, i + 1))
        else {
            break;
        };
        headers.push((
            name.to_rust_string_lossy(scope),
            value.to_rust_string_lossy(scope),
        ));
        i += 2;
    }
    let status = u16::try_from(status).unwrap_or(500);
    send(scope, ResponsePart::Head { status, headers });
}

fn response_chunk(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    match super::arg_bytes(args.get(0)) {
        Some(bytes) => send(scope, ResponsePart::Chunk(bytes)),
        None => super::throw_type_error(scope, "response_chunk: expected bytes"),
    }
}

fn response_end(
    scope: &mut v8::HandleScope,
    _args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    send(scope, ResponsePart::End);
}

/// `host.asset_read(path)`: the bytes of `path` under the assets folder, or `null` when there is
/// no such file (or no assets folder). Paths cannot leave the folder (cap-std).
fn asset_read(
    scope: &mut v8::HandleScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let requested = args.get(0).to_rust_string_lossy(scope);
    let bytes = {
        let state = state::get(scope);
        let state = state.borrow();
        state.assets_root.as_ref().and_then(|dir| {
            let relative = requested.trim_start_matches('/');
            if relative.is_empty() || relative.split('/').any(|p| p == ".." || p.is_empty()) {
                return None;
            }
            let mut file = dir.open(relative).ok()?;
            if !file.metadata().ok()?.is_file() {
                return None;
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).ok()?;
            Some(bytes)
        })
    };
    match bytes.and_then(|b| super::uint8_array_from(scope, b)) {
        Some(array) => rv.set(array.into()),
        None => rv.set_null(),
    }
}
