#!/usr/bin/env bash
# `make test`: every test of the project, ending with one summary line.
#   1. offline validation of the stack files (compose, Grafana provisioning and dashboards)
#   2. rustfmt and clippy (warnings are errors)
#   3. the Rust workspace: unit, property, integration and end-to-end tests, among them the
#      pipeline test through a real Telegraf and InfluxDB (see docs/pipeline.md) and a short
#      `make demo`
# Under CI=true a missing tool (go, telegraf, influxd) fails the run; elsewhere the tests that
# need it say so loudly and skip (test_support::skip_or_fail), and are counted as skipped,
# not passed: each appends a line to $TEST_SKIP_LOG. `make tools` installs the tools.
set -euo pipefail
cd "$(dirname "$0")/.."

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
failed=0
# One line `<test>: <reason>` per test that could not run (see test_support::skip_or_fail).
export TEST_SKIP_LOG="$log_dir/skipped.log"
: >"$TEST_SKIP_LOG"

echo "== stack files: scripts/validate-stack.sh"
if ! scripts/validate-stack.sh 2>&1 | tee "$log_dir/validate.log"; then
  failed=1
fi

echo "== lint: rustfmt and clippy"
lint_ok=1
cargo fmt --all --check || lint_ok=0
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings || lint_ok=0
if [ "$lint_ok" -eq 1 ]; then
  echo "ok   rustfmt and clippy" | tee -a "$log_dir/validate.log"
else
  echo "FAIL rustfmt or clippy (see above)" | tee -a "$log_dir/validate.log"
  failed=1
fi

echo "== lint: reqwest-timing is ready for crates.io (docs without warnings, package contents)"
crate_ok=1
RUSTDOCFLAGS="-D warnings" cargo doc -p reqwest-timing --no-deps --all-features --locked --quiet || crate_ok=0
RUSTDOCFLAGS="-D warnings" cargo doc -p reqwest-timing --no-deps --locked --quiet || crate_ok=0
if package_list=$(cargo package -p reqwest-timing --list --allow-dirty --locked 2>&1); then
  for f in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE src/lib.rs src/middleware.rs src/report.rs examples/middleware.rs; do
    if ! grep -qx "$f" <<<"$package_list"; then
      echo "reqwest-timing package lacks $f"
      crate_ok=0
    fi
  done
else
  echo "$package_list"
  crate_ok=0
fi
if [ "$crate_ok" -eq 1 ]; then
  echo "ok   reqwest-timing docs and package list" | tee -a "$log_dir/validate.log"
else
  echo "FAIL reqwest-timing docs or package list (see above)" | tee -a "$log_dir/validate.log"
  failed=1
fi

echo "== build: the binaries the end-to-end tests run"
cargo build --workspace --bins --locked

echo "== cargo test --workspace"
if ! cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log_dir/cargo.log"; then
  failed=1
fi

# One closing line for people and CI: tests counted from cargo's and go's own reports.
read -r passed fails < <(awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?/) p += $i; if ($(i+1) ~ /^failed;?/) f += $i } }
  END { print p + 0, f + 0 }' "$log_dir/cargo.log")
go_ok=$(grep -c '^ok  ' "$log_dir/validate.log" || true)
go_fail=$(grep -c '^FAIL' "$log_dir/validate.log" || true)
passed=$((passed + go_ok))
fails=$((fails + go_fail))
# A skipped test returned early, so cargo counted it as passed.
skipped=$(wc -l <"$TEST_SKIP_LOG")
if [ "$skipped" -gt 0 ]; then
  echo "== skipped (a tool or binary was missing; CI=true fails them)"
  sed 's/^/  /' "$TEST_SKIP_LOG"
fi
passed=$((passed > skipped ? passed - skipped : 0))
if [ "$failed" -ne 0 ] && [ "$fails" -eq 0 ]; then
  fails=1
fi
echo "summary: $passed passed, $fails failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$fails" -eq 0 ]
