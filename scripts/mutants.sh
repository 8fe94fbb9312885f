#!/usr/bin/env bash
# Mutation testing (cargo-mutants, from crates.io) of the modules that keep the README's
# promises: snapshot format / mapping / store, pool reload, watchdog, network policy, fs sandbox,
# the isolate set-up. Each mutant costs a release build (~1 min here) plus the test suite, so
# this is not part of CI: run it by hand, all of it or a module or a shard at a time.
#
#   scripts/mutants.sh                         # every module below
#   scripts/mutants.sh src/runtime/net_policy.rs
#   MUTANTS_SHARD=1/8 scripts/mutants.sh       # one eighth of the mutants
#
# Results land in mutants.out/ (caught.txt, missed.txt, timeout.txt, unviable.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RUSTY_V8_ARCHIVE:-}" ] && [ -f ../shared/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz ]; then
  RUSTY_V8_ARCHIVE="$(realpath ../shared/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz)"
  export RUSTY_V8_ARCHIVE
fi
if ! command -v cargo-mutants >/dev/null 2>&1; then
  cargo install cargo-mutants --locked
fi
modules=(
  src/snapshot/format.rs
  src/snapshot/mapped.rs
  src/snapshot/store.rs
  src/pool.rs
  src/watchdog.rs
  src/runtime/net_policy.rs
  src/runtime/fs.rs
  src/isolate/setup.rs
)
if [ $# -gt 0 ]; then modules=("$@"); fi
args=()
for module in "${modules[@]}"; do args+=(--file "$module"); done
if [ -n "${MUTANTS_SHARD:-}" ]; then args+=(--shard "$MUTANTS_SHARD"); fi
# nextest gives every test its time limit (.config/nextest.toml): a mutant that makes code hang
# fails its tests instead of stalling the run.
exec cargo mutants --test-tool nextest --profile release --jobs 1 --timeout 240 "${args[@]}"
