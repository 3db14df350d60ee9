#!/usr/bin/env bash
# flagd's RPC providers against Switchyard: npm @openfeature/flagd-provider (resolverType rpc)
# with @openfeature/server-sdk (flagd.test.mjs) and PyPI openfeature-provider-flagd with
# openfeature-sdk (flagd_test.py), each against `switchyard serve` on a real Git repository.
# `npm ci` only when node_modules is missing or older than the lock file; the venv only when
# requirements.txt changed. Ends with the two suites' sum, `N passed, M failed`.
#
#   tests/flagd/run.sh                       # uses target/debug/switchyard
#   SWITCHYARD_BIN=/path/to/switchyard tests/flagd/run.sh
#
# Builds nothing: `cargo build -p switchyard` first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
SWITCHYARD_BIN="${SWITCHYARD_BIN:-$root/target/debug/switchyard}"
[[ "$SWITCHYARD_BIN" == /* ]] || SWITCHYARD_BIN="$PWD/$SWITCHYARD_BIN"
export SWITCHYARD_BIN
if [[ ! -x "$SWITCHYARD_BIN" ]]; then
  echo "error: switchyard binary not found at $SWITCHYARD_BIN (build it with 'cargo build -p switchyard')" >&2
  exit 2
fi
cd "$here"
CHROMIUM_BIN="$("$root/scripts/install-chromium.sh")"  # $CHROMIUM, PATH, or installed
export CHROMIUM_BIN
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
stamp=.venv/.requirements.sha256
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [[ ! -x .venv/bin/python || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "== python venv + pip install -r requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
echo "== node: @openfeature/flagd-provider"
node --test --test-concurrency=1 --test-timeout=60000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=../clients/summary-reporter.mjs --test-reporter-destination=stdout \
  flagd.test.mjs | tee "$log"
node_rc=${PIPESTATUS[0]}
echo "== python: openfeature-provider-flagd"
timeout 120 .venv/bin/python flagd_test.py | tee -a "$log"
py_rc=${PIPESTATUS[0]}
set -e
read -r p f < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' "$log" | awk '{p += $1; f += $2} END {print p + 0, f + 0}')
[[ $node_rc -ne 0 || $py_rc -ne 0 ]] && [[ $f -eq 0 ]] && f=1
echo "flagd: $p passed, $f failed"
[[ $node_rc -eq 0 && $py_rc -eq 0 ]]
