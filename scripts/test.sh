#!/usr/bin/env bash
# The test command (README): formatting, lints, unit + integration tests (each with a time limit,
# so a hang fails the named test instead of stalling the run), doc tests, JS polyfill tests.
# Needs only what a fresh machine of this project has (Rust toolchain with cargo-nextest, Node 20)
# and the offline V8 archive in ../shared/v8 (exported here when RUSTY_V8_ARCHIVE is unset).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RUSTY_V8_ARCHIVE:-}" ] && [ -f ../shared/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz ]; then
  RUSTY_V8_ARCHIVE="$(realpath ../shared/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz)"
  export RUSTY_V8_ARCHIVE
fi
unset V8_FROM_SOURCE
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "cargo-nextest is missing: installing it from crates.io" >&2
  cargo install cargo-nextest --locked
fi
cargo fmt --all -- --check
cargo clippy --all-targets --release -- -D warnings
# Per-test time limits live in .config/nextest.toml.
cargo nextest run --release --profile ci
cargo test --release --doc
RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps
# The embedder examples, in the configuration an embedder uses.
cargo run --release --example axum -- --self-test
# The slim library (default-features = false): lints, unit tests, the embedding example.
cargo clippy --release --no-default-features --lib -- -D warnings
cargo test --release --no-default-features --lib
cargo run --release --no-default-features --example embed
if command -v node >/dev/null 2>&1; then
  node tests/js/run-node.mjs
  # node:buffer and node:events (src/js/modules) against Node's own.
  node tests/js-modules/node-builtins.test.mjs
fi
