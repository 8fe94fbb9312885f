//! The Rex server-bundle contract (`../shared/contract.md`) as types: every entry point with its
//! JS name, argument kinds, async protocol and result kind. No V8 here — [`crate::ssr`] runs it.

use std::fmt;
use std::str::FromStr;

use crate::error::JsError;

/// One entry point of the contract.
///
/// # Examples
///
/// ```
/// use coldstart::Entry;
///
/// let entry: Entry = "__rex_get_server_side_props".parse()?;
/// assert_eq!(entry, Entry::GetServerSideProps);
/// assert!(entry.is_required());
/// assert_eq!(Entry::RenderPage.js_name(), "__rex_render_page");
/// assert!("__rex_nope".parse::<Entry>().is_err());
/// # Ok::<(), coldstart::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entry {
    /// `__rex_render_page(routeKey, propsJson)` → `{"body","head"}` (required, sync).
    RenderPage,
    /// `__rex_get_server_side_props(routeKey, contextJson)` → JSON (required).
    GetServerSideProps,
    /// `__rex_get_static_props(routeKey, contextJson)` → JSON (required).
    GetStaticProps,
    /// `__rex_get_static_paths(routeKey)` → `{"paths","fallback"}`.
    GetStaticPaths,
    /// `__rex_call_api_handler(routeKey, reqJson)` → `{"statusCode","headers","body"}`.
    CallApiHandler,
    /// `__rex_call_app_route_handler(routePattern, reqJson)` → `{"statusCode","headers","body"}`.
    CallAppRouteHandler,
    /// `__rex_run_middleware(reqJson)` → an action.
    RunMiddleware,
    /// `__rex_render_document()` → `{"htmlAttrs","bodyAttrs","headContent"}` (sync).
    RenderDocument,
    /// `__rex_list_mcp_tools()` → a JSON array (sync).
    ListMcpTools,
    /// `__rex_call_mcp_tool(name, paramsJson)` → JSON.
    CallMcpTool,
    /// `__rex_render_flight(routeKey, propsJson)` → a flight payload or an RSC sentinel.
    RenderFlight,
    /// `__rex_render_rsc_to_html(routeKey, propsJson)` → `{"body","head","flight"}` or a sentinel.
    RenderRscToHtml,
    /// `__rex_call_server_action(actionId, argsJson)` → JSON.
    CallServerAction,
    /// `__rex_call_server_action_encoded(actionId, body, isFormFields)` → JSON.
    CallServerActionEncoded,
    /// `__rex_call_form_action(fieldsJson)` → JSON.
    CallFormAction,
}

/// How an entry's async result is obtained when it returns its marker (a returned Promise is
/// always awaited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Synchronous only.
    Sync,
    /// `marker` → run the event loop until idle → `resolver()`.
    Resolve {
        /// The string the entry returns to say "pending".
        marker: &'static str,
        /// The global called afterwards for the result.
        resolver: &'static str,
    },
    /// `marker` → loop until `pending()` says `"done"` → `finalize()`.
    Pending {
        /// The string the entry returns to say "pending".
        marker: &'static str,
        /// The global polled for `"done"` / `"pending"`.
        pending: &'static str,
        /// The global called afterwards for the result.
        finalize: &'static str,
    },
}

/// The kind of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A string (often JSON).
    Str,
    /// A boolean (`isFormFields`).
    Bool,
}

/// What an entry returns, once resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// A JSON document.
    Json,
    /// A flight payload, or an RSC sentinel (`__REX_NOT_FOUND__`, `__REX_REDIRECT__:…`).
    FlightOrSentinel,
    /// JSON, or an RSC sentinel.
    JsonOrSentinel,
}

const RSC_PENDING: &str = "__rex_resolve_rsc_pending";
const ACTION_PENDING: &str = "__rex_resolve_action_pending";

impl Entry {
    /// Every entry point, in the contract's order.
    pub const ALL: [Entry; 15] = [
        Entry::RenderPage,
        Entry::GetServerSideProps,
        Entry::GetStaticProps,
        Entry::GetStaticPaths,
        Entry::CallApiHandler,
        Entry::CallAppRouteHandler,
        Entry::RunMiddleware,
        Entry::RenderDocument,
        Entry::ListMcpTools,
        Entry::CallMcpTool,
        Entry::RenderFlight,
        Entry::RenderRscToHtml,
        Entry::CallServerAction,
        Entry::CallServerActionEncoded,
        Entry::CallFormAction,
    ];

    /// The globals a bundle must define (checked when a snapshot is built).
    pub const REQUIRED: [Entry; 3] = [
        Entry::RenderPage,
        Entry::GetServerSideProps,
        Entry::GetStaticProps,
    ];

    /// The global function's name.
    pub const fn js_name(self) -> &'static str {
        match self {
            Entry::RenderPage => "__rex_render_page",
            Entry::GetServerSideProps => "__rex_get_server_side_props",
            Entry::GetStaticProps => "__rex_get_static_props",
            Entry::GetStaticPaths => "__rex_get_static_paths",
            Entry::CallApiHandler => "__rex_call_api_handler",
            Entry::CallAppRouteHandler => "__rex_call_app_route_handler",
            Entry::RunMiddleware => "__rex_run_middleware",
            Entry::RenderDocument => "__rex_render_document",
            Entry::ListMcpTools => "__rex_list_mcp_tools",
            Entry::CallMcpTool => "__rex_call_mcp_tool",
            Entry::RenderFlight => "__rex_render_flight",
            Entry::RenderRscToHtml => "__rex_render_rsc_to_html",
            Entry::CallServerAction => "__rex_call_server_action",
            Entry::CallServerActionEncoded => "__rex_call_server_action_encoded",
            Entry::CallFormAction => "__rex_call_form_action",
        }
    }

    /// Whether a bundle must define it.
    pub fn is_required(self) -> bool {
        Entry::REQUIRED.contains(&self)
    }

    /// Its arguments, in order.
    pub const fn args(self) -> &'static [ArgKind] {
        use ArgKind::{Bool, Str};
        match self {
            Entry::RenderDocument | Entry::ListMcpTools => &[],
            Entry::GetStaticPaths | Entry::RunMiddleware | Entry::CallFormAction => &[Str],
            Entry::CallServerActionEncoded => &[Str, Str, Bool],
            _ => &[Str, Str],
        }
    }

    /// How its async result is obtained.
    pub const fn protocol(self) -> Protocol {
        const fn resolve(marker: &'static str, resolver: &'static str) -> Protocol {
            Protocol::Resolve { marker, resolver }
        }
        const fn pending(
            marker: &'static str,
            finalize: &'static str,
            pending: &'static str,
        ) -> Protocol {
            Protocol::Pending {
                marker,
                pending,
                finalize,
            }
        }
        match self {
            Entry::RenderPage | Entry::RenderDocument | Entry::ListMcpTools => Protocol::Sync,
            Entry::GetServerSideProps => resolve("__REX_ASYNC__", "__rex_resolve_gssp"),
            Entry::GetStaticProps => resolve("__REX_GSP_ASYNC__", "__rex_resolve_gsp"),
            Entry::GetStaticPaths => {
                resolve("__REX_GSP_PATHS_ASYNC__", "__rex_resolve_static_paths")
            }
            Entry::CallApiHandler => resolve("__REX_API_ASYNC__", "__rex_resolve_api"),
            Entry::CallAppRouteHandler => {
                resolve("__REX_APP_ROUTE_ASYNC__", "__rex_resolve_app_route")
            }
            Entry::RunMiddleware => resolve("__REX_MW_ASYNC__", "__rex_resolve_middleware"),
            Entry::CallMcpTool => resolve("__REX_MCP_ASYNC__", "__rex_resolve_mcp"),
            Entry::RenderFlight => pending(
                "__REX_RSC_ASYNC__",
                "__rex_finalize_rsc_flight",
                RSC_PENDING,
            ),
            Entry::RenderRscToHtml => pending(
                "__REX_RSC_HTML_ASYNC__",
                "__rex_finalize_rsc_to_html",
                RSC_PENDING,
            ),
            Entry::CallServerAction | Entry::CallServerActionEncoded | Entry::CallFormAction => {
                pending(
                    "__REX_ACTION_ASYNC__",
                    "__rex_finalize_action",
                    ACTION_PENDING,
                )
            }
        }
    }

    /// What it returns.
    pub const fn result_kind(self) -> ResultKind {
        match self {
            Entry::RenderFlight => ResultKind::FlightOrSentinel,
            Entry::RenderRscToHtml => ResultKind::JsonOrSentinel,
            _ => ResultKind::Json,
        }
    }

    /// The helper globals its protocol calls (resolvers, pending polls, finalizers).
    pub fn helpers(self) -> Vec<&'static str> {
        match self.protocol() {
            Protocol::Sync => Vec::new(),
            Protocol::Resolve { resolver, .. } => vec![resolver],
            Protocol::Pending {
                pending, finalize, ..
            } => vec![pending, finalize],
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.js_name())
    }
}

impl FromStr for Entry {
    type Err = crate::Error;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Entry::ALL
            .into_iter()
            .find(|e| e.js_name() == name)
            .ok_or_else(|| crate::Error::UnknownEntry {
                name: name.to_string(),
            })
    }
}

/// Whether a JS error thrown by `__rex_render_page` is Rex's "no such page" (`Page not found:
/// <route>`, the convention of Rex server bundles): the one place that convention is recognised,
/// so that callers see [`crate::Error::PageNotFound`] instead of matching messages.
pub(crate) fn is_page_not_found(error: &JsError) -> bool {
    error
        .message
        .trim_start_matches("Uncaught ")
        .trim_start_matches("Error: ")
        .starts_with("Page not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Node oracles' table of async markers (`src/cli/rex_markers.mjs`) says what the typed
    /// contract says: every marker, with its resolver, or its poll and finalizer.
    #[test]
    fn the_node_oracles_marker_table_matches_the_contract() {
        let table = include_str!("cli/rex_markers.mjs");
        let mut from_js: Vec<String> = table
            .lines()
            .filter_map(|line| line.trim().strip_prefix("__REX_"))
            .map(|rest| {
                let (marker, value) = rest.split_once(':').expect("`MARKER: value`");
                let globals: Vec<&str> = value.split('"').skip(1).step_by(2).collect();
                format!("__REX_{marker} {}", globals.join(" "))
            })
            .collect();
        let mut from_contract: Vec<String> = Entry::ALL
            .iter()
            .filter_map(|entry| match entry.protocol() {
                Protocol::Sync => None,
                Protocol::Resolve { marker, resolver } => Some(format!("{marker} {resolver}")),
                Protocol::Pending {
                    marker,
                    pending,
                    finalize,
                } => Some(format!("{marker} {pending} {finalize}")),
            })
            .collect();
        for list in [&mut from_js, &mut from_contract] {
            list.sort();
            list.dedup();
        }
        assert_eq!(from_js, from_contract);
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        for entry in Entry::ALL {
            assert_eq!(entry.js_name().parse::<Entry>().unwrap(), entry);
        }
        let mut names: Vec<&str> = Entry::ALL.iter().map(|e| e.js_name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Entry::ALL.len());
    }

    #[test]
    fn only_the_encoded_action_takes_a_boolean() {
        for entry in Entry::ALL {
            let has_bool = entry.args().contains(&ArgKind::Bool);
            assert_eq!(has_bool, entry == Entry::CallServerActionEncoded, "{entry}");
        }
    }

    #[test]
    fn rex_not_found_errors_are_recognised() {
        let error = |message: &str| JsError {
            message: message.to_string(),
            ..JsError::default()
        };
        assert!(is_page_not_found(&error("Error: Page not found: /x")));
        assert!(is_page_not_found(&error(
            "Uncaught Error: Page not found: /x"
        )));
        assert!(!is_page_not_found(&error("Error: user not found")));
    }
}
