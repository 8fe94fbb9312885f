//! coldstart: V8 server-side rendering that starts cold in milliseconds.
//!
//! The pipeline, in the order data flows through it:
//!
//! * [`Engine`] — V8 initialised once per process, with the flags every snapshot key depends
//!   on; an explicit, `Copy` handle every other part takes;
//! * [`runtime`] — native host functions, declared once; the external-reference table and its
//!   fingerprint are derived from that list; JS polyfills in `src/js/` build the Web APIs on top;
//! * [`snapshot`] — [`snapshot::SnapshotBuilder`] evaluates polyfills + a [`Bundle`] in a snapshot
//!   creator; [`snapshot::SnapshotStore`] keeps the blobs content-addressed with a verified header;
//!   [`snapshot::Snapshot`] is a verified memory map isolates deserialise from without copying;
//! * [`isolate::Runtime`] — one isolate + context + event loop, every limit applied by
//!   [`isolate::setup`]; [`contract::Entry`] — the `rex_v8` contract as types;
//!   [`ssr::SsrIsolate`] — the contract on top of a runtime;
//! * [`pool::IsolatePool`] — isolates on worker threads with reload, fallback and containment;
//!   `server` (feature `server`) — the HTTP server behind `coldstart serve`.
//!
//! Features: `cli` (default: the binary, with `server` and `bench`); with
//! `default-features = false` the crate is the library alone.
//!
//! ```
//! use coldstart::{Bundle, Engine, EngineConfig, SsrConfig, SsrIsolate};
//! use coldstart::snapshot::{BuildOptions, SnapshotStore};
//!
//! let engine = Engine::init(EngineConfig::default())?;
//! let dir = tempfile::tempdir().unwrap();
//! let store = SnapshotStore::open(&engine, dir.path())?;
//! let bundle = Bundle::new("server.js", r#"
//!     globalThis.__rex_render_page = (route, props) =>
//!         JSON.stringify({ body: `<ul>${JSON.parse(props).items.map((i) => `<li>${i}</li>`).join("")}</ul>`, head: "" });
//!     globalThis.__rex_get_server_side_props = () => "{}";
//!     globalThis.__rex_get_static_props = () => "{}";
//! "#);
//! let loaded = store.get_or_build(&bundle, &BuildOptions::default())?;
//! assert!(!loaded.cached);
//! let mut isolate = SsrIsolate::from_snapshot(&loaded.snapshot, SsrConfig::default())?;
//! let page = isolate.render_page("/", r#"{"items":[1,2]}"#)?;
//! assert_eq!(page.body, "<ul><li>1</li><li>2</li></ul>");
//! // A second lookup is a store hit: V8 is not involved.
//! assert!(store.get_or_build(&bundle, &BuildOptions::default())?.cached);
//! # Ok::<(), coldstart::Error>(())
//! ```

#![deny(missing_docs)]

/// Compile-time proof that a type is `Send + Sync`.
macro_rules! assert_send_sync {
    ($t:ty) => {
        const _: () = {
            const fn check<T: Send + Sync>() {}
            check::<$t>();
        };
    };
}

#[cfg(feature = "bench")]
pub mod bench;
pub mod bundle;
pub mod contract;
pub mod engine;
pub mod error;
pub(crate) mod external_source;
pub(crate) mod file_identity;
pub(crate) mod hex;
pub mod isolate;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "bench")]
pub mod measure;
pub mod module_files;
pub mod polyfills;
pub mod pool;
pub mod runtime;
pub(crate) mod script_origin;
#[cfg(feature = "server")]
pub mod server;
pub mod snapshot;
pub mod ssr;
pub(crate) mod watchdog;
pub mod worker;

pub use bundle::{Bundle, BundleFormat};
pub use contract::Entry;
pub use engine::{Engine, EngineConfig, Seeds};
pub use error::{Error, JsError, Result, SnapshotError};
pub use isolate::{HeapUsage, Limits, Origin, PlainIsolate, Runtime};
pub use pool::{IsolatePool, Isolation, PoolBuilder, PoolConfig};
pub use runtime::net_policy::FetchPolicy;
pub use runtime::RuntimeOptions;
pub use snapshot::{BuildOptions, Snapshot, SnapshotBuilder, SnapshotStore};
pub use ssr::{RenderResult, RscOutcome, RscRenderResult, SsrConfig, SsrIsolate};
