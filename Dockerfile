# syntax=docker/dockerfile:1
#
# coldstart + one app, with the app's snapshot baked into the image.
#
# The v8 crate links a prebuilt librusty_v8 given by RUSTY_V8_ARCHIVE; it lives outside this
# checkout, so it comes in as a named build context (BuildKit, Docker >= 23 or buildx):
#
#   docker build --build-context v8=../shared/v8 \
#     --build-arg BUNDLE_DIR=fixtures/workers/hono --build-arg ENTRY=dist/worker.js \
#     -t coldstart-app .
#
#   docker run --rm --read-only --tmpfs /tmp:rw,size=256m -p 8080:8080 coldstart-app
#
# BUNDLE_DIR is a folder of the build context holding the app's server build (copied to /app);
# ENTRY is the entry's path inside it. Every .js/.mjs file under the entry's folder goes into the
# snapshot (the module root), so keep client assets in a sibling folder (dist/server + dist/client)
# or pass --module-root in BUILD_FLAGS.
#
# BUILD_FLAGS are the snapshot's build options (--format, --module-root, --module-compile,
# --function-code, --warmup ROUTE...): they are part of the snapshot key, so the image passes the
# same string to `build` here and to `serve` at run time. Word-split by sh: no spaces inside a
# value. V8_FLAGS (also part of the key) becomes COLDSTART_V8_FLAGS in both stages.
#
# Run-time options (--workers, --timeout-ms, --max-heap-mb, --drain-timeout-ms, --template,
# --static, --var, --env...) are appended as arguments (`docker run IMAGE --workers 4`, the
# `args:` of a Kubernetes container). Example for an app with client assets in /app/client:
#
#   docker run ... coldstart-app --static /assets=/app/client

ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
# builder: compile coldstart against the offline V8 archive (never V8_FROM_SOURCE: hours).
# ---------------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY --from=v8 librusty_v8_release_x86_64-unknown-linux-gnu.a.gz SHA256SUMS /v8/
# SHA256SUMS names the file relative to the folder above shared/; check the hash alone.
RUN echo "$(cut -d' ' -f1 /v8/SHA256SUMS)  /v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz" \
      | sha256sum -c -
# Takes precedence over the relative path in .cargo/config.toml (which points outside /src).
ENV RUSTY_V8_ARCHIVE=/v8/librusty_v8_release_x86_64-unknown-linux-gnu.a.gz
# Only what the build reads (BuildKit sends nothing else of the context, target/ included):
# the manifest's bench and test targets must exist, and `coldstart demo` embeds the React fixture.
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo .cargo
COPY src src
COPY benches benches
COPY tests tests
COPY fixtures/dist/react-app.js fixtures/dist/react-app.js
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin coldstart \
 && install -m 0755 target/release/coldstart /usr/local/bin/coldstart

# ---------------------------------------------------------------------------------------------
# snapshot: bake the app's snapshot with the binary that will run it. The key covers the
# coldstart and V8 versions, the V8 flags, the host-function table, every bundle file and the
# build options: a snapshot made by another binary or with other flags has another key, is not
# found, and `serve` would build one into the state dir at every start.
# ---------------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS snapshot
# A missing BUNDLE_DIR fails the COPY (an empty one would copy the whole build context); a
# missing ENTRY fails the RUN.
ARG BUNDLE_DIR=BUNDLE_DIR-is-not-set
ARG ENTRY
ARG BUILD_FLAGS=""
ARG V8_FLAGS=""
ENV COLDSTART_V8_FLAGS="${V8_FLAGS}"
COPY --from=builder /usr/local/bin/coldstart /usr/local/bin/coldstart
COPY ${BUNDLE_DIR}/ /app/
# Runs the bundle's top-level code (under the build deadline and heap limit). --set-current makes
# the baked CURRENT point at it, so a start from this image writes no pointer.
RUN test -n "${ENTRY}" || { echo "set --build-arg ENTRY=path/of/the/entry/in/BUNDLE_DIR" >&2; exit 1; } \
 && coldstart build "/app/${ENTRY}" --store /app/snapshots --set-current --json ${BUILD_FLAGS} \
 && ls -l /app/snapshots

# ---------------------------------------------------------------------------------------------
# runtime: the binary, the bundle and its snapshot; non-root, fine with a read-only root fs.
# /app/snapshots is only read; --state-dir /tmp/coldstart (an emptyDir/tmpfs; created at start,
# so /tmp must be writable) takes whatever has to be written: a snapshot rebuilt because it did
# not match, a reload's build, the CURRENT pointer after a reload.
# ---------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG ENTRY
ARG BUILD_FLAGS=""
ARG V8_FLAGS=""
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 coldstart \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin coldstart
COPY --from=builder /usr/local/bin/coldstart /usr/local/bin/coldstart
# Owned by root and not writable by the app user, whatever the file system.
COPY --from=snapshot /app /app
ENV COLDSTART_ENTRY="/app/${ENTRY}" \
    COLDSTART_BUILD_FLAGS="${BUILD_FLAGS}" \
    COLDSTART_V8_FLAGS="${V8_FLAGS}" \
    PORT=8080
USER 10001:10001
EXPOSE 8080
# No HEALTHCHECK: platforms probe GET /_coldstart/health (200 once a worker is ready, else 503).
# `exec` makes coldstart PID 1: it gets SIGTERM itself and drains (--drain-timeout-ms, default
# 30 000). It reaps its own children (reload builds). serve reads PORT (set by Cloud Run/Knative)
# when --port is absent.
ENTRYPOINT ["/bin/sh", "-c", "exec /usr/local/bin/coldstart serve \"$COLDSTART_ENTRY\" --store /app/snapshots --state-dir /tmp/coldstart --host 0.0.0.0 $COLDSTART_BUILD_FLAGS \"$@\"", "coldstart"]
CMD []
