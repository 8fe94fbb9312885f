#!/usr/bin/env bash
# Regenerates link/startup-symbols.txt: every function of the `coldstart` binary that runs while
# a cold process answers its first request, which build.rs hands to the linker
# (`--symbol-ordering-file`) so those functions sit side by side at the start of `.text`.
# A cold process then maps far fewer of the binary's code pages (README, "Benchmarks").
#   ./scripts/startup-symbols.sh
# Needs valgrind (installed with apt-get when missing). The recorded paths: `call` of the React
# fixture (a script bundle), `call --request` of the Hono and SvelteKit workers (module bundles),
# and `serve` of the Hono worker up to its first response. Names the binary no longer has are
# ignored by the linker, so a list older than the code only orders less.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RUSTY_V8_ARCHIVE:-}" ] && [ -f ../shared/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz ]; then
  RUSTY_V8_ARCHIVE="$(realpath ../shared/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz)"
  export RUSTY_V8_ARCHIVE
fi
if ! command -v valgrind >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get install -y valgrind >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y valgrind >&2; }
fi
cargo build --release --quiet
exe="$(realpath target/release/coldstart)"
tmp="$(mktemp -d)"
serve_pid=""
cleanup() {
  [ -z "$serve_pid" ] || kill -KILL "$serve_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
store="$tmp/store"
react=(call fixtures/dist/react-app.js __rex_render_page / '{"items":["alpha","beta"]}' --store "$store")
hono=(call fixtures/workers/hono/dist/worker.js --request 'GET /' --store "$store")
svelte=(call fixtures/workers/sveltekit/dist/cloudflare/_worker.js --request 'GET /' --store "$store")
# Untimed first runs build the snapshots, so the recorded runs are the cold starts of a warm store.
for run in react hono svelte; do
  declare -n args="$run"
  "$exe" "${args[@]}" >/dev/null
done
grind() { # NAME ARGS...: runs the binary under callgrind, output in $tmp/NAME.out
  local name="$1"
  shift
  valgrind --tool=callgrind --demangle=no --compress-strings=no --smc-check=all-non-file \
    --callgrind-out-file="$tmp/$name.out" "$exe" "$@" >"$tmp/$name.stdout" 2>"$tmp/$name.log"
}
grind react "${react[@]}"
grind hono "${hono[@]}"
grind svelte "${svelte[@]}"
# serve: up to the first response, then a graceful stop (callgrind writes its output at exit).
valgrind --tool=callgrind --demangle=no --compress-strings=no --smc-check=all-non-file \
  --callgrind-out-file="$tmp/serve.out" "$exe" serve fixtures/workers/hono/dist/worker.js \
  --port 0 --workers 1 --store "$store" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 600); do
  url="$(grep -o -m1 'http://[0-9.]*:[0-9]*' "$tmp/serve.log" || true)"
  [ -n "$url" ] && curl -sf -o /dev/null "$url/" && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$tmp/serve.log" >&2; echo "serve did not answer" >&2; exit 1; }
kill -TERM "$serve_pid"
wait "$serve_pid" || true
serve_pid=""
mkdir -p link
# Functions that ran in the coldstart binary itself (not libc, not JIT code), one per line,
# sorted so that related V8 functions stay together and regenerating gives small diffs.
# Callgrind names a function without a symbol by its address ("0x…") or "(below main)": skipped.
awk '/^ob=/ { ours = ($0 ~ /\/coldstart$/) } /^fn=[^0(]/ && ours { print substr($0, 4) }' \
  "$tmp"/react.out "$tmp"/hono.out "$tmp"/svelte.out "$tmp"/serve.out |
  LC_ALL=C sort -u >link/startup-symbols.txt
echo "link/startup-symbols.txt: $(wc -l <link/startup-symbols.txt) functions" >&2
