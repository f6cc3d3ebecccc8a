#!/usr/bin/env bash
# Runs the Docker stack: up | down | logs | ps | restart | report | clean.
set -euo pipefail
cd "$(dirname "$0")/.."

WAIT_TIMEOUT="${STACK_WAIT_TIMEOUT:-300}"

need_docker() {
  if ! command -v docker >/dev/null 2>&1 \
    || ! docker compose version >/dev/null 2>&1 \
    || ! docker info >/dev/null 2>&1; then
    echo "make ${cmd:-up} needs Docker with Compose v2; without Docker, run: make demo" >&2
    exit 1
  fi
  # `up --wait --wait-timeout` arrived in Compose 2.17.
  local version major minor
  version="$(docker compose version --short 2>/dev/null | sed 's/^v//')"
  IFS=. read -r major minor _ <<<"$version"
  if [[ "${major:-0}" =~ ^[0-9]+$ && "${minor:-0}" =~ ^[0-9]+$ ]] \
    && (( major < 2 || (major == 2 && minor < 17) )); then
    echo "make ${cmd:-up} needs Docker Compose 2.17 or newer (found $version)" >&2
    exit 1
  fi
}

random_hex() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex "$1"
  else
    head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'
  fi
}

project_name() {
  sed -n 's/^name: *//p' docker-compose.yml | head -n 1
}

# Creates .env from .env.example with a fresh InfluxDB token and passwords.
ensure_env() {
  if [[ -f .env ]]; then
    if grep -q '=replace-me' .env; then
      echo ".env still holds replace-me placeholders; edit them, or delete .env to regenerate it (before the first make up)" >&2
      exit 1
    fi
    return
  fi
  # InfluxDB applies the token only when its volume is empty, and 2.9 keeps just a hash of
  # it: a new .env over an old volume would lock Telegraf and Grafana out.
  if docker volume inspect "$(project_name)_influxdb-data" >/dev/null 2>&1; then
    echo "No .env, but InfluxDB data from an earlier start exists: its token cannot be recovered." >&2
    echo "Restore that .env, or delete the old data with: make clean" >&2
    exit 1
  fi
  local token telegraf_token influx_pw grafana_pw
  token="$(random_hex 32)"
  telegraf_token="$(random_hex 32)"
  influx_pw="$(random_hex 16)"
  grafana_pw="$(random_hex 12)"
  umask 077
  sed -e "s|^INFLUX_TOKEN=.*|INFLUX_TOKEN=${token}|" \
      -e "s|^TELEGRAF_TOKEN=.*|TELEGRAF_TOKEN=${telegraf_token}|" \
      -e "s|^INFLUX_PASSWORD=.*|INFLUX_PASSWORD=${influx_pw}|" \
      -e "s|^GRAFANA_ADMIN_PASSWORD=.*|GRAFANA_ADMIN_PASSWORD=${grafana_pw}|" \
      .env.example > .env
  echo "Created .env with a new InfluxDB token and admin passwords (it is their only copy)."
}

# Without .env (never started here), the placeholders in .env.example let compose parse the file.
compose() {
  if [[ -f .env ]]; then
    docker compose "$@"
  else
    docker compose --env-file .env.example "$@"
  fi
}

env_value() {
  sed -n "s/^$1=//p" .env | tail -n 1
}

# Grafana does not substitute environment variables inside alert rule queries, so the
# rules template gets the ALERT_* thresholds of .env (else .env.example's) here.
render_alerts() {
  local template=grafana/alerting/rules.json out=grafana/provisioning/alerting/rules.yaml
  local key value args=()
  for key in $(grep -o '\${ALERT_[A-Z0-9_]*}' "$template" | tr -d '${}' | sort -u); do
    value="$(env_value "$key")"
    if [[ -z "$value" ]]; then
      value="$(sed -n "s/^$key=//p" .env.example | tail -n 1)"
    fi
    if ! [[ "$value" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
      echo "$key=$value in .env: expected a non-negative number, e.g. $(sed -n "s/^$key=//p" .env.example | tail -n 1)" >&2
      exit 2
    fi
    args+=(-e "s|\\\${$key}|$value|g")
  done
  sed "${args[@]}" "$template" > "$out.tmp"
  mv "$out.tmp" "$out"
}

print_urls() {
  local gport iport
  gport="$(env_value GRAFANA_HOST_PORT)"
  iport="$(env_value INFLUX_HOST_PORT)"
  printf '\n%-10s %-28s %s\n' "SERVICE" "URL" "LOGIN"
  printf '%-10s %-28s %s\n' "Grafana" "http://127.0.0.1:${gport:-3000}" \
    "anonymous viewer, or $(env_value GRAFANA_ADMIN_USER) / GRAFANA_ADMIN_PASSWORD in .env"
  printf '%-10s %-28s %s\n' "InfluxDB" "http://127.0.0.1:${iport:-8086}" \
    "$(env_value INFLUX_USERNAME) / INFLUX_PASSWORD in .env; API token: INFLUX_TOKEN in .env"
  echo
  echo "Credentials: $(pwd)/.env"
}

cmd="${1:-}"
case "$cmd" in
  up)
    need_docker
    ensure_env
    render_alerts
    # The five app services share one image: build it once.
    docker compose build demo-backend
    if ! docker compose up -d --wait --wait-timeout "$WAIT_TIMEOUT"; then
      compose ps
      echo "The stack did not become healthy within ${WAIT_TIMEOUT}s; see: make logs" >&2
      exit 1
    fi
    compose ps
    print_urls
    ;;
  down)
    need_docker
    compose down
    ;;
  logs)
    need_docker
    compose logs -f --tail=100
    ;;
  ps)
    need_docker
    compose ps
    ;;
  restart)
    need_docker
    ensure_env
    render_alerts
    # Recreate rather than `compose restart`, so that edits to .env (PROBE_TARGETS, ...) apply.
    if ! docker compose up -d --force-recreate --wait --wait-timeout "$WAIT_TIMEOUT"; then
      compose ps
      echo "The stack did not become healthy within ${WAIT_TIMEOUT}s; see: make logs" >&2
      exit 1
    fi
    compose ps
    ;;
  report)
    need_docker
    [[ -f .env ]] || { echo "No .env yet: start the stack first (make up)." >&2; exit 1; }
    # probe-report from the probes' image, inside the compose network.
    # The token goes through the environment, not the command line (where ps shows it).
    report=(-e INFLUX_URL=http://influxdb:8086 -e INFLUX_TOKEN -e INFLUX_BUCKET
      probe-sync-fresh probe-report --since "${SINCE:-15m}")
    INFLUX_TOKEN="$(env_value INFLUX_TOKEN)"
    INFLUX_BUCKET="$(env_value INFLUX_BUCKET)"
    export INFLUX_TOKEN INFLUX_BUCKET
    if [[ -z "${HTML:-}" ]]; then
      docker compose run --rm --no-deps "${report[@]}"
    else
      # HTML=path: the HTML report, written by probe-report to its stdout (--html -),
      # lands in path only when complete.
      html_dir="$(dirname -- "$HTML")"
      if [[ ! -d "$html_dir" || ! -w "$html_dir" ]]; then
        echo "HTML=$HTML: $html_dir is not a writable directory; expected a path like HTML=report.html" >&2
        exit 2
      fi
      html_tmp="$(mktemp "$html_dir/.report.XXXXXX")"
      trap 'rm -f "$html_tmp"' EXIT
      # -T: no pseudo-terminal, so stdout carries the file unchanged.
      docker compose run --rm --no-deps -T "${report[@]}" --html - >"$html_tmp"
      mv -f -- "$html_tmp" "$HTML"
      echo "html report: $HTML (open it in a browser)"
    fi
    ;;
  clean)
    need_docker
    echo "Stopping the stack and deleting its volumes (InfluxDB data, Grafana data, demo certificates)."
    compose down --volumes --remove-orphans
    ;;
  *)
    echo "usage: $0 up|down|logs|ps|restart|report|clean" >&2
    exit 2
    ;;
esac
