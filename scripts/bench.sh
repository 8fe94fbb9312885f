#!/usr/bin/env bash
# Regenerates the benchmark table and plot in the README (docs/bench-*.{txt,svg,json}):
#   ./scripts/bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RUSTY_V8_ARCHIVE:-}" ] && [ -f ../shared/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz ]; then
  RUSTY_V8_ARCHIVE="$(realpath ../shared/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz)"
  export RUSTY_V8_ARCHIVE
fi
runs="${1:-30}"
cargo build --release --quiet
store="$(mktemp -d)"
trap 'rm -rf "$store"' EXIT
props='{"items":["alpha","beta","gamma","delta"]}'
./target/release/coldstart bench fixtures/dist/react-app.js --props "$props" --runs "$runs" --store "$store" \
  --compare-node --plot docs/bench-react.svg | tee docs/bench-react.txt
./target/release/coldstart bench fixtures/dist/react-app.js --props "$props" --runs "$runs" --store "$store" \
  --compare-node --json > docs/bench-react.json
ts_props='{"source":"const x: number = 1; export default x;"}'
./target/release/coldstart bench fixtures/dist/typescript-app.js --props "$ts_props" --runs 10 --store "$store" \
  --compare-node | tee docs/bench-typescript.txt
# Module workers: exec → first response byte / complete response over HTTP, coldstart serve vs
# real workerd vs Node 20 (http.createServer) on the framework fixtures, interleaved, one run.
node scripts/bench-workers.mjs --runs "${WORKER_RUNS:-10}" \
  --coldstart "./target/release/coldstart serve {entry} --port {port} --store $store --workers 1 --assets {assets} --template {template}" \
  --json docs/bench-workers.json | tee docs/bench-workers.txt
# HTTP throughput: serve vs a Node cluster with the same worker count, and per-request isolation
# (wrk; installed with apt-get when missing).
./scripts/bench-serve.sh --out docs/bench-serve.txt "${SERVE_SECONDS:-5}" 2
