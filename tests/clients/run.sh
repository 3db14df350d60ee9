#!/usr/bin/env bash
# Real-client tests for Switchyard: installs the pinned Node and Python clients (only when
# missing or stale), then runs them against a real `switchyard serve` on a temporary Git repo.
#
#   tests/clients/run.sh                       # uses target/debug/switchyard
#   SWITCHYARD_BIN=/path/to/switchyard tests/clients/run.sh
#
# Builds nothing: build first with `cargo build -p switchyard`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
SWITCHYARD_BIN="${SWITCHYARD_BIN:-$root/target/debug/switchyard}"
# A relative path means relative to where the script was started (it changes directory below);
# a bare name is looked up on PATH.
if [[ "$SWITCHYARD_BIN" != */* ]]; then
  SWITCHYARD_BIN="$(command -v "$SWITCHYARD_BIN" || echo "$SWITCHYARD_BIN")"
fi
[[ "$SWITCHYARD_BIN" == /* ]] || SWITCHYARD_BIN="$PWD/$SWITCHYARD_BIN"
export SWITCHYARD_BIN
if [[ ! -x "$SWITCHYARD_BIN" ]]; then
  echo "error: switchyard binary not found at $SWITCHYARD_BIN" >&2
  echo "       build it with 'cargo build -p switchyard' (or set SWITCHYARD_BIN)" >&2
  exit 2
fi
cd "$here"

# Node packages: `npm ci` only when node_modules is missing or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

# Python: a venv with requirements.txt, reinstalled only when requirements.txt changed.
stamp=.venv/.requirements.sha256
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [[ ! -x .venv/bin/python || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "== python venv + pip install -r requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi

export CLIENT_TESTS_WORK="${CLIENT_TESTS_WORK:-$here/work}"
mkdir -p "$CLIENT_TESTS_WORK"
echo "== switchyard: $SWITCHYARD_BIN"
start=$(date +%s%N)
set +e
node --test --test-concurrency=1 --test-timeout=60000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./summary-reporter.mjs --test-reporter-destination=stdout \
  clients.test.mjs
rc=$?
set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "== duration: $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
# Keep only the last few run directories (repo, config, server.log).
ls -1dt "$CLIENT_TESTS_WORK"/run-* 2>/dev/null | tail -n +6 | xargs -r rm -rf
exit $rc
