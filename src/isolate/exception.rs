//! JS exceptions and results into Rust: [`JsError`] with file, line, column and stack; a call's
//! result into its string form.

use crate::error::{Error, JsError, Result};

/// The string a call returns: a string as is; any other value through `String(value)`, refused
/// when that is impossible (a `Symbol`) or throws (a throwing `toString`).
pub(crate) fn string_result(
    scope: &mut v8::HandleScope,
    value: v8::Local<v8::Value>,
    entry: &str,
) -> Result<String> {
    if value.is_string() {
        return Ok(value.to_rust_string_lossy(scope));
    }
    if value.is_symbol() {
        return Err(Error::BadResult {
            entry: entry.to_string(),
            detail: "returned a Symbol, which has no string form".to_string(),
        });
    }
    let tc = &mut v8::TryCatch::new(scope);
    match value.to_string(tc) {
        Some(text) => Ok(text.to_rust_string_lossy(tc)),
        None if tc.is_execution_terminating() => Err(Error::Timeout {
            entry: entry.to_string(),
            ms: 0,
        }),
        None => {
            let error = js_error_from(tc, &format!("converting the result of {entry} to a string"));
            Err(error.into())
        }
    }
}

/// Builds a [`JsError`] from the exception caught by `tc`.
pub(crate) fn js_error_from(tc: &mut v8::TryCatch<v8::HandleScope>, during: &str) -> JsError {
    let mut error = JsError {
        during: during.to_string(),
        ..JsError::default()
    };
    if tc.has_terminated() || tc.is_execution_terminating() {
        error.message = "execution terminated".to_string();
        return error;
    }
    if let Some(message) = tc.message() {
        error.file = Some(
            message
                .get_script_resource_name(tc)
                .map(|n| n.to_rust_string_lossy(tc))
                .unwrap_or_default(),
        )
        .filter(|f| !f.is_empty() && f != "undefined");
        error.line = message.get_line_number(tc);
        error.column = Some(message.get_start_column() + 1);
        error.message = message.get(tc).to_rust_string_lossy(tc);
    }
    if let Some(exception) = tc.exception() {
        error.message = describe_exception(tc, exception);
        error.stack = exception_stack(tc, exception);
        // The top stack frame is where the error was thrown; the message's position can be a
        // later re-throw (e.g. esbuild's lazy module wrappers).
        if let Some((file, line, column)) = error.stack.as_deref().and_then(top_frame) {
            error.file = Some(file);
            error.line = Some(line);
            error.column = Some(column);
        }
    }
    if error.message.is_empty() {
        error.message = "unknown JavaScript error".to_string();
    }
    error
}

/// `String(exception)` without letting a throwing `toString` escape.
pub(crate) fn describe_exception(
    scope: &mut v8::HandleScope,
    exception: v8::Local<v8::Value>,
) -> String {
    let tc = &mut v8::TryCatch::new(scope);
    exception
        .to_string(tc)
        .map(|s| s.to_rust_string_lossy(tc))
        .unwrap_or_else(|| "<exception whose toString throws>".to_string())
}

/// `exception.stack`, when it is a string.
pub(crate) fn exception_stack(
    scope: &mut v8::HandleScope,
    exception: v8::Local<v8::Value>,
) -> Option<String> {
    let object = v8::Local::<v8::Object>::try_from(exception).ok()?;
    let tc = &mut v8::TryCatch::new(scope);
    let key = v8::String::new(tc, "stack")?;
    let stack = object.get(tc, key.into())?;
    stack.is_string().then(|| stack.to_rust_string_lossy(tc))
}

/// Converts a rejection reason (or thrown value) into a [`JsError`].
pub(crate) fn js_error_from_value(
    scope: &mut v8::HandleScope,
    value: v8::Local<v8::Value>,
    during: &str,
) -> JsError {
    let mut error = JsError {
        during: during.to_string(),
        message: describe_exception(scope, value),
        stack: exception_stack(scope, value),
        ..JsError::default()
    };
    if let Some((file, line, column)) = error.stack.as_deref().and_then(top_frame) {
        error.file = Some(file);
        error.line = Some(line);
        error.column = Some(column);
    }
    error
}

/// `(file, line, column)` of the first frame of a V8 stack (`    at fn (file:line:col)`).
fn top_frame(stack: &str) -> Option<(String, usize, usize)> {
    let frame = stack.lines().find(|l| l.trim_start().starts_with("at "))?;
    let location = frame
        .rsplit_once('(')
        .map(|(_, rest)| rest.trim_end_matches(')'))
        .unwrap_or_else(|| frame.trim_start().trim_start_matches("at "));
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    Some((file.to_string(), line, column))
}

impl JsError {
    /// Sets what was running when the error happened.
    pub fn during(mut self, during: impl Into<String>) -> Self {
        self.during = during.into();
        self
    }
}
