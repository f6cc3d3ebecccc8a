#!/usr/bin/env bash
# Offline validation of the Docker stack files: compose files (the stack and deploy/agent), Grafana provisioning and
# dashboards (tools/validate, a Go program), plus its own tests on broken fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "FAIL validate-stack: go is not on PATH (tools/validate needs Go 1.26)" >&2
  exit 1
fi

status=0
cd tools/validate

echo "== tools/validate: go vet and tests (the validator rejects broken fixtures)"
if go vet ./... && go test -count=1 ./...; then
  echo "ok   validator tests"
else
  echo "FAIL validator tests"
  status=1
fi

echo "== stack files"
if ! go run . --root ../..; then
  status=1
fi
cd ../..

# Compose's own parser as a second opinion, where the Compose plugin is installed.
if docker compose version >/dev/null 2>&1; then
  if docker compose --env-file .env.example config --quiet; then
    echo "ok   docker compose config"
  else
    echo "FAIL docker compose config"
    status=1
  fi
  # The probe-host deployment (many hosts, one store); compose-go above loads it too.
  if docker compose -f deploy/agent/docker-compose.yml --env-file deploy/agent/.env.example config --quiet; then
    echo "ok   docker compose config (deploy/agent)"
  else
    echo "FAIL docker compose config (deploy/agent)"
    status=1
  fi
else
  echo "info docker compose not installed here: compose-go (above) is the compose check"
fi

for script in scripts/*.sh .ci/run; do
  if bash -n "$script"; then
    echo "ok   bash -n $script"
  else
    echo "FAIL bash -n $script"
    status=1
  fi
done
if command -v shellcheck >/dev/null 2>&1; then
  if shellcheck scripts/*.sh .ci/run; then
    echo "ok   shellcheck scripts/*.sh .ci/run"
  else
    echo "FAIL shellcheck scripts/*.sh .ci/run"
    status=1
  fi
fi

if [[ $status -ne 0 ]]; then
  echo "validate-stack: FAILED" >&2
else
  echo "validate-stack: all checks passed"
fi
exit "$status"
