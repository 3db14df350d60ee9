#!/usr/bin/env bash
# flagd's RPC provider against Switchyard: npm @openfeature/flagd-provider (resolverType rpc)
# with @openfeature/server-sdk, against `switchyard serve` on a real Git repository
# (flagd.test.mjs). `npm ci` only when node_modules is missing or older than the lock file.
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
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
set +e
node --test --test-concurrency=1 --test-timeout=60000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=../clients/summary-reporter.mjs --test-reporter-destination=stdout \
  flagd.test.mjs
rc=$?
set -e
exit $rc
