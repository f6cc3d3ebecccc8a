#!/usr/bin/env bash
# Installs the tools the end-to-end pipeline test (crates/stack-tests) needs, into a
# machine-wide cache that survives fresh clones:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/backend-timing/bin/
#     telegraf-1.39.3-<id>  Telegraf built from its Go module with only our plugins
#                       (<id>: a hash of the plugin list, so changing it rebuilds)
#                       (same version as the compose image telegraf:1.39.3)
#     influxd-1.8.10    InfluxDB 1.8.10 built from its Go module: InfluxQL /query plus
#                       the v2 write API /api/v2/write that Telegraf's outputs.influxdb_v2
#                       and the probes' influxdb sink use
#     telegraf, influxd symlinks to the versioned binaries
# A binary already in the cache is not rebuilt. Needs Go >= 1.26 (the machine's, not
# Debian's) and the Go module proxy. Idempotent; exits non-zero on failure.
set -euo pipefail

TELEGRAF_VERSION=1.39.3
INFLUXDB_VERSION=1.8.10
TELEGRAF_TAGS=custom,inputs.socket_listener,inputs.influxdb_v2_listener,inputs.internal,aggregators.histogram,outputs.health,outputs.influxdb,outputs.influxdb_v2,outputs.file,parsers.influx,serializers.influx

CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/backend-timing"
BIN_DIR="$CACHE_DIR/bin"
mkdir -p "$BIN_DIR"

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Go: the PATH's, else the usual install location.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || die "go not found (need Go >= 1.26 on PATH)"
GO_VERSION="$(go env GOVERSION)"
case "$GO_VERSION" in
    go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
    *) die "$GO_VERSION is too old: Telegraf $TELEGRAF_VERSION needs Go >= 1.26" ;;
esac
# Never fetch another toolchain; build with this one.
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# go_build NAME VERSION PACKAGE@VERSION LDFLAGS [TAGS]
go_build() {
    local name="$1" version="$2" pkg="$3" ldflags="$4" tags="${5:-}"
    local target="$BIN_DIR/$name-$version"
    if [ -x "$target" ]; then
        log "$name $version: cached at $target"
    else
        log "$name $version: building $pkg with $GO_VERSION (takes a few minutes cold)"
        local gobin start
        gobin="$(mktemp -d)"
        start=$SECONDS
        GOBIN="$gobin" go install -trimpath -ldflags "$ldflags" ${tags:+-tags "$tags"} "$pkg" \
            || { rm -rf "$gobin"; die "building $name $version failed"; }
        mv "$gobin/$name" "$target.tmp" && mv "$target.tmp" "$target"
        rm -rf "$gobin"
        log "$name $version: built in $((SECONDS - start))s -> $target"
    fi
    ln -sfn "$name-$version" "$BIN_DIR/$name"
}

# The plugin set is part of the cached binary's name, so a changed set is rebuilt.
TELEGRAF_TAGS_ID="$(printf '%s' "$TELEGRAF_TAGS" | sha256sum | cut -c1-8)"
go_build telegraf "$TELEGRAF_VERSION-$TELEGRAF_TAGS_ID" \
    "github.com/influxdata/telegraf/cmd/telegraf@v$TELEGRAF_VERSION" \
    "-s -w -X github.com/influxdata/telegraf/internal.Version=$TELEGRAF_VERSION" \
    "$TELEGRAF_TAGS"

go_build influxd "$INFLUXDB_VERSION" \
    "github.com/influxdata/influxdb/cmd/influxd@v$INFLUXDB_VERSION" \
    "-s -w -X main.version=$INFLUXDB_VERSION -X main.commit=v$INFLUXDB_VERSION -X main.branch=1.8"

log "installed:"
log "  $("$BIN_DIR/telegraf" --version) at $BIN_DIR/telegraf"
log "  $("$BIN_DIR/influxd" version) at $BIN_DIR/influxd"
log "the pipeline test finds them there (or set TELEGRAF_BIN / INFLUXD_BIN)"
