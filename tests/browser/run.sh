#!/usr/bin/env bash
# Browser tests of the embedded dashboard: Debian's Chromium (playwright-core) against a real
# switchyard following a real git repository. Builds nothing: the binary comes from
# SWITCHYARD_BIN (default target/debug/switchyard; build it with `cargo build -p switchyard`).
# Installs npm deps only when missing or stale, and Chromium only when missing.
# Prints "N passed, M failed" last and exits non-zero on any failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$HERE"

log() { printf '==> %s\n' "$*" >&2; }

STAMP="node_modules/.switchyard-browser-stamp"
if [[ ! -f "$STAMP" || package-lock.json -nt "$STAMP" || package.json -nt "$STAMP" ]]; then
  log "npm ci (node_modules missing or stale)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$STAMP"
fi

CHROMIUM_BIN="$("$ROOT/scripts/install-chromium.sh")"  # $CHROMIUM, PATH, or installed
export CHROMIUM_BIN

export SWITCHYARD_BIN="${SWITCHYARD_BIN:-$ROOT/target/debug/switchyard}"
[[ "$SWITCHYARD_BIN" = /* ]] || SWITCHYARD_BIN="$ROOT/$SWITCHYARD_BIN"
if [[ ! -x "$SWITCHYARD_BIN" ]]; then
  log "no switchyard binary at $SWITCHYARD_BIN (run: cargo build -p switchyard)"
  echo "0 passed, 1 failed"
  exit 1
fi

rm -rf artifacts && mkdir -p artifacts
log "node --test unit.test.mjs dashboard.test.mjs (screenshots in tests/browser/artifacts/)"
set +e
timeout 240 node --test --test-reporter=spec --test-concurrency=1 unit.test.mjs dashboard.test.mjs 2>&1 | tee artifacts/test-output.txt
status=${PIPESTATUS[0]}
set -e

# node's spec reporter ends with "ℹ pass N" / "ℹ fail N"; restate them as the project's summary.
pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' artifacts/test-output.txt | tail -1)
fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' artifacts/test-output.txt | tail -1)
pass=${pass:-0}
fail=${fail:-0}
if [[ $status -ne 0 && $fail -eq 0 ]]; then fail=1; fi
echo "${pass} passed, ${fail} failed"
[[ $status -eq 0 && $fail -eq 0 ]]
