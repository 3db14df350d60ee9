#!/usr/bin/env bash
# Differential test: switchyard-core vs Flipt's own Rust evaluation engine, as shipped prebuilt in
# @flipt-io/flipt-client-js 0.5.1 (WASM) and in the PyPI wheel flipt-client 1.4.5 (FFI).
#
# Usage: tests/differential/run.sh [SEED] [N]     (defaults: SEED=1, N=2000 flag sets)
# Idempotent: npm ci only when node_modules is missing or older than package-lock.json; the venv
# is created and pip-installed only when missing or older than requirements.txt.
# Exits non-zero if the corpus cannot be generated or either comparison reports a mismatch.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SEED="${1:-${DIFF_SEED:-1}}"
N="${2:-${DIFF_N:-2000}}"
WORK="$HERE/work"
CORPUS="$WORK/corpus.json"
mkdir -p "$WORK"

log() { printf '==> %s\n' "$*" >&2; }

# --- dependencies -------------------------------------------------------------------------------
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

# --- corpus -------------------------------------------------------------------------------------
log "generating corpus: seed $SEED, $N flag sets -> ${CORPUS#"$ROOT"/}"
start=$SECONDS
(cd "$ROOT" && cargo run --quiet --release -p switchyard-core --example differential_corpus -- "$SEED" "$N" "$CORPUS") \
  2> "$WORK/generator.log" || { cat "$WORK/generator.log" >&2; exit 2; }
head -n 1 "$WORK/generator.log" >&2
log "generator done in $((SECONDS - start))s (coverage statistics: ${WORK#"$ROOT"/}/generator.log)"

# --- comparisons --------------------------------------------------------------------------------
status=0

log "flipt-client-js 0.5.1 (WASM engine)"
start=$SECONDS
node "$HERE/compare.mjs" "$CORPUS" || status=1
log "flipt-client-js done in $((SECONDS - start))s"

log "flipt-client 1.4.5 (Python, FFI engine)"
start=$SECONDS
"$VENV/bin/python" "$HERE/compare.py" "$CORPUS" || status=1
log "flipt-client (Python) done in $((SECONDS - start))s"

if [[ $status -ne 0 ]]; then
  log "DIFFERENTIAL TEST FAILED (seed $SEED, n $N)"
else
  log "differential test passed (seed $SEED, n $N)"
fi
exit $status
