//! Integration tests: one binary, a module per topic (as wasmtime does).

mod bin;
mod binary_layout;
mod cli;
mod cli_flags;
mod common;
mod concurrency;
mod containment;
mod deadlines;
mod errors;
mod external_sources;
mod fixtures;
mod host;
mod js;
mod lambda;
mod modules;
mod pool;
mod properties;
mod serve_production;
mod serve_workers;
mod server;
mod snapshot_core;
mod store;
mod worker_fixtures;
