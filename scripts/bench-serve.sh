#!/usr/bin/env bash
# HTTP throughput of `coldstart serve` against a Node 20 `node:cluster` server (scripts/
# node-cluster-server.mjs) serving the same Rex page with the same worker count, measured with
# wrk side by side in one run, interleaved; then `--isolation per-request` against per-worker.
#   ./scripts/bench-serve.sh [--out FILE] [DURATION_S] [WORKERS]      (defaults 10 s, 2 workers)
# Environment: BUNDLE (fixtures/dist/react-app.js), ROUTE (/), ROUNDS (2), WRK_THREADS (2),
# WRK_CONNECTIONS (16), COLDSTART (./target/release/coldstart; built beforehand, not here).
# wrk is installed with apt-get when missing. The report (also written to FILE with --out) shows
# both servers' status and body size for ROUTE, each run's req/s, the median per server and the
# ratios. wrk runs on the same machine as the server it measures, so on a small machine it takes
# CPU from it; compare ratios, not absolute numbers, across machines.
set -euo pipefail
cd "$(dirname "$0")/.."

out=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
duration="${args[0]:-10}"
workers="${args[1]:-2}"
bundle="${BUNDLE:-fixtures/dist/react-app.js}"
route="${ROUTE:-/}"
rounds="${ROUNDS:-2}"
threads="${WRK_THREADS:-2}"
connections="${WRK_CONNECTIONS:-16}"
coldstart="${COLDSTART:-./target/release/coldstart}"

die() {
  printf '\n*** bench-serve: %s ***\n\n' "$*" >&2
  exit 1
}
log() { printf '%s\n' "$*" >&2; }

# --- wrk -------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "wrk is not installed and this is not root (no sudo): install wrk (apt-get install wrk)"
    sudo="sudo"
  fi
  log "wrk is missing: installing it with apt-get"
  if ! $sudo apt-get install -y wrk >&2; then
    $sudo apt-get update >&2 || true
    $sudo apt-get install -y wrk >&2 || die "could not install wrk with apt-get (install it by hand: https://github.com/wg/wrk)"
  fi
  command -v wrk >/dev/null 2>&1 || die "apt-get ran but wrk is still not on PATH"
fi
command -v node >/dev/null 2>&1 || die "node is not on PATH (Node 20 is needed for the cluster baseline)"
command -v curl >/dev/null 2>&1 || die "curl is not on PATH"
[ -f "$bundle" ] || die "no bundle at $bundle"
for _ in $(seq 1 10); do
  [ -x "$coldstart" ] && break
  log "$coldstart is missing (being rebuilt?); waiting 30 s"
  sleep 30
done
[ -x "$coldstart" ] || die "$coldstart is missing: build it first (cargo build --release)"

# How busy the CPUs are (percent, over one second) before anything of ours runs.
cpu_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
read -r busy0 total0 < <(cpu_ticks)
sleep 1
read -r busy1 total1 < <(cpu_ticks)
busy_before=$(( (busy1 - busy0) * 100 / (total1 - total0 > 0 ? total1 - total0 : 1) ))

# --- servers ---------------------------------------------------------------------------------
tmp="$(mktemp -d)"
store="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    # Each server is its own process group (setsid): the Node primary and its workers, or
    # coldstart and any snapshot-build child, go together.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$tmp" "$store"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME HEALTH_PATH COMMAND... : starts a server on a free port (port 0; it prints its
# address), waits until HEALTH_PATH answers 200, and sets $url.
start() {
  local name="$1" health="$2"
  shift 2
  setsid "$@" >"$tmp/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  url=""
  for _ in $(seq 1 1200); do
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/$name.log" >&2; die "$name exited before it listened: $*"; }
    url="$(grep -o -m1 'http://[0-9.]*:[0-9]*' "$tmp/$name.log" || true)"
    if [ -n "$url" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$url$health")" = 200 ]; then
      log "$name: $url  ($*)"
      return
    fi
    sleep 0.1
  done
  cat "$tmp/$name.log" >&2
  die "$name did not answer $health within 120 s: $*"
}

serve=("$coldstart" serve "$bundle" --port 0 --workers "$workers" --store "$store")
start coldstart /_coldstart/health "${serve[@]}"
cs_url="$url"
start node "$route" node scripts/node-cluster-server.mjs "$bundle" --port 0 --workers "$workers"
node_url="$url"
start per-request /_coldstart/health "${serve[@]}" --isolation per-request
pr_url="$url"

# --- report ----------------------------------------------------------------------------------
report="$tmp/report.txt"
say() { printf '%s\n' "$*" | tee -a "$report"; }

wrk_cmd=(wrk "-t$threads" "-c$connections" "-d${duration}s")
say "bench-serve: $bundle GET $route, $workers workers, ${wrk_cmd[*]} URL, $rounds rounds interleaved"
say "  $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)'), $(nproc) CPUs, ${busy_before}% busy before start"
if [ "$busy_before" -ge 25 ]; then
  say "  warning: the CPUs were ${busy_before}% busy before the servers started: something else runs, expect noise"
fi
say "  node $(node --version), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $("$coldstart" --version 2>/dev/null || echo coldstart)"
say "  coldstart: ${serve[*]}"
say "  node:      node scripts/node-cluster-server.mjs $bundle --port 0 --workers $workers"
say ""

# The page each serves: status and size (no Accept-Encoding, as wrk sends none).
say "GET $route                      status  body bytes"
for pair in "coldstart (per-worker):$cs_url" "coldstart (per-request):$pr_url" "node cluster:$node_url"; do
  name="${pair%%:http*}"
  u="${pair#"$name:"}"
  file="$tmp/body-${name//[^a-z]/_}"
  read -r code size < <(curl -s -o "$file" -w '%{http_code} %{size_download}\n' "$u$route")
  say "$(printf '  %-28s %6s  %10s' "$name" "$code" "$size")"
  [ "$code" = 200 ] || die "$name answered $code for $route"
done
if cmp -s "$tmp/body-coldstart__per_worker_" "$tmp/body-node_cluster"; then
  say "  bodies: coldstart and node cluster serve byte-identical pages"
else
  say "  bodies DIFFER: $(cmp "$tmp/body-coldstart__per_worker_" "$tmp/body-node_cluster" 2>&1 | head -1)"
fi
say ""

# run URL → req/s of one wrk run (warnings about errors or non-2xx go to stderr and the report).
run() {
  local output rps errors
  output="$("${wrk_cmd[@]}" "$1$route")"
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$output")"
  errors="$(grep -E 'Non-2xx|Socket errors' <<<"$output" || true)"
  [ -n "$rps" ] || { printf '%s\n' "$output" >&2; die "could not read Requests/sec from wrk"; }
  [ -z "$errors" ] || printf '  warning: %s: %s\n' "$1" "$(tr '\n' ' ' <<<"$errors")" | tee -a "$report" >&2
  printf '%s' "$rps"
}
median() { tr ' ' '\n' <<<"$*" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# compare TITLE NAME_A URL_A NAME_B URL_B : warms both, runs A, B, A, B, ... and prints the table.
compare() {
  local title="$1" name_a="$2" url_a="$3" name_b="$4" url_b="$5" i a=() b=() ma mb header
  log "warming $name_a and $name_b (1 s each)"
  wrk "-t$threads" "-c$connections" -d1s "$url_a$route" >/dev/null
  wrk "-t$threads" "-c$connections" -d1s "$url_b$route" >/dev/null
  for i in $(seq 1 "$rounds"); do
    log "round $i/$rounds: $name_a"
    a+=("$(run "$url_a")")
    log "round $i/$rounds: $name_b"
    b+=("$(run "$url_b")")
  done
  ma="$(median "${a[@]}")"
  mb="$(median "${b[@]}")"
  header="$(printf '  %-26s' "req/s")"
  for i in $(seq 1 "$rounds"); do header+="$(printf ' %10s' "run $i")"; done
  say "$title"
  say "$header$(printf ' %10s' median)"
  say "$(printf '  %-26s' "$name_a")$(printf ' %10.0f' "${a[@]}" "$ma")"
  say "$(printf '  %-26s' "$name_b")$(printf ' %10.0f' "${b[@]}" "$mb")"
  say "$(printf '  ratio %s / %s = %.2f' "$name_a" "$name_b" "$(awk -v x="$ma" -v y="$mb" 'BEGIN {print x / y}')")"
  say ""
}

compare "coldstart serve vs Node cluster ($workers workers each)" \
  "coldstart (per-worker)" "$cs_url" "node cluster" "$node_url"
compare "coldstart serve --isolation per-request vs per-worker ($workers workers)" \
  "coldstart (per-request)" "$pr_url" "coldstart (per-worker)" "$cs_url"

if [ -n "$out" ]; then
  mkdir -p "$(dirname "$out")"
  cp "$report" "$out"
  log "wrote $out"
fi
