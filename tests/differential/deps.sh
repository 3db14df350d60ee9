#!/usr/bin/env bash
# Installs Flipt's prebuilt engines next to this script, once: @flipt-io/flipt-client-js (WASM)
# from package-lock.json into node_modules, and flipt-client (FFI, libfliptengine) from
# requirements.txt into the venv .venv. Used by run.sh here and by benches/engine/run.sh.
#
# Idempotent: npm ci only when node_modules is missing or older than package.json or
# package-lock.json; the venv is created and pip-installed only when missing or older than
# requirements.txt.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '==> %s\n' "$*" >&2; }

NPM_STAMP="$HERE/node_modules/.switchyard-differential-stamp"
if [[ ! -f "$NPM_STAMP" || "$HERE/package-lock.json" -nt "$NPM_STAMP" || "$HERE/package.json" -nt "$NPM_STAMP" ]]; then
  log "npm ci (node_modules missing or stale)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$NPM_STAMP"
fi

VENV="$HERE/.venv"
PIP_STAMP="$VENV/.switchyard-differential-stamp"
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating venv $VENV"
  python3 -m venv "$VENV"
fi
if [[ ! -f "$PIP_STAMP" || "$HERE/requirements.txt" -nt "$PIP_STAMP" ]]; then
  log "pip install -r requirements.txt"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  touch "$PIP_STAMP"
fi
