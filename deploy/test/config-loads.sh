#!/usr/bin/env bash
# Checks that `switchyard serve` accepts a configuration file (a Helm-rendered ConfigMap):
# starts it on a free loopback port and waits, at most 20 s, for "configuration loaded"; a
# configuration error ends it first with `file:line: path: message`. The local backend's paths
# are redirected to DATA_DIR (SWITCHYARD_STORAGE__FLAGS__BACKEND__PATH, and a relay's
# SWITCHYARD_UPSTREAM__BACKEND__PATH), `${env:…}` references get placeholder values.
#   deploy/test/config-loads.sh BINARY CONFIG DATA_DIR
set -uo pipefail
bin=$1 config=$2 data=$3
mkdir -p "$data"
log=$(mktemp)
# an override adds the section it names, so a relay gets only the relay's one
if grep -q '^upstream:' "$config"; then
  paths=()
  grep -q '^    type: local' "$config" && paths=(SWITCHYARD_UPSTREAM__BACKEND__PATH="$data/relay")
else
  paths=(SWITCHYARD_STORAGE__FLAGS__BACKEND__PATH="$data/flags")
fi
trap 'rm -f "$log"' EXIT
env NO_COLOR=1 GITHUB_TOKEN=placeholder WEBHOOK_SECRET=placeholder SWITCHYARD_ADMIN_TOKEN=placeholder \
  SWITCHYARD_UPSTREAM_TOKEN=placeholder CLIENT_TOKEN=placeholder-client-token "${paths[@]}" TMPDIR="$data" \
  "$bin" serve --config "$config" --listen 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  if grep -q "configuration loaded" "$log"; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "$(basename "$config"): $(grep -o 'format=[A-Za-z0-9]*' "$log" | head -n 1)"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
echo "switchyard did not load $config:"
cat "$log"
exit 1
