# syntax=docker/dockerfile:1
# One image for demo-backend, the four probes and example-app (plus probe-report and probe-demo).

FROM rust:1.95.0-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
# The cache mounts keep the registry and build artefacts between builds; the binaries are
# copied out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
 && mkdir -p /out \
 && find target/release -maxdepth 1 -type f -executable -exec cp {} /out/ \;

FROM debian:bookworm-20251229-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /certs \
 && chown app:app /certs
# A new named volume mounted on /certs takes this directory's owner.
COPY --from=builder /out/ /usr/local/bin/
USER app:app
WORKDIR /tmp
CMD ["demo-backend", "--help"]
