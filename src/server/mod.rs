//! The HTTP server behind `coldstart serve`: hyper + tokio in front of an
//! [`crate::pool::IsolatePool`].
//!
//! [`routing`] is the request flow as plain data (testable without sockets), [`http`] the hyper
//! side, [`metrics`] the Prometheus exposition.
//!
//! Request flow: middleware (`__rex_run_middleware`: redirect / rewrite / headers) → `/api/*`
//! (`__rex_call_api_handler`) → app route handlers (a 404 from them falls through) → pages
//! (`__rex_get_server_side_props`, honouring `redirect`/`notFound`, then `__rex_render_page` into a
//! full HTML document with `__rex_render_document`'s attributes). Admin endpoints live under
//! `/_coldstart/`.

pub mod http;
pub mod metrics;
pub mod routing;
pub mod statics;

pub use http::{
    bind, handle, reload, serve, AppState, HttpOptions, PeerAddr, ReloadAccess, ServeOptions,
    MAX_REQUEST_BODY,
};
pub use metrics::{render_metrics, HttpMetrics};
pub use routing::{handle_in_isolate, status_for, Reply, RequestData, Stage};
pub use statics::StaticMount;
