#!/usr/bin/env bash
# Differential test: switchyard-core vs Flipt's own Rust evaluation engine, as shipped prebuilt in
# @flipt-io/flipt-client-js 0.5.1 (WASM) and in the PyPI wheel flipt-client 1.4.5 (FFI).
#
# Usage: tests/differential/run.sh [SEED] [N]     (defaults: SEED=1, N=2000 flag sets)
# Idempotent: deps.sh installs the engines only when missing or stale.
# Exits non-zero if the corpus cannot be generated or either comparison reports a mismatch.
# Ends with "differential cases: A agreed, D differed" and "N passed, M failed", where each of
# the two engine comparisons is one test.
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
"$HERE/deps.sh"
VENV="$HERE/.venv"

# --- corpus -------------------------------------------------------------------------------------
log "generating corpus: seed $SEED, $N flag sets -> ${CORPUS#"$ROOT"/}"
start=$SECONDS
(cd "$ROOT" && cargo run --quiet --release -p switchyard-testkit --bin differential_corpus -- "$SEED" "$N" "$CORPUS") \
  2> "$WORK/generator.log" || { cat "$WORK/generator.log" >&2; exit 2; }
head -n 1 "$WORK/generator.log" >&2
log "generator done in $((SECONDS - start))s (coverage statistics: ${WORK#"$ROOT"/}/generator.log)"

# --- comparisons --------------------------------------------------------------------------------
# Each engine is one test; its generated cases are reported on their own line at the end, so that
# a caller counting "N passed, M failed" lines counts the two comparisons, not the cases.
status=0 tests_passed=0 tests_failed=0 agreed=0 differed=0

# compare NAME COMMAND...: runs one comparison, keeping its closing "N passed, M failed" (cases).
compare() {
  local name=$1 out="$WORK/compare-$1.txt" rc a d
  shift
  log "$name"
  local start=$SECONDS
  set +e
  "$@" | tee "$out"
  rc=${PIPESTATUS[0]}
  set -e
  log "$name done in $((SECONDS - start))s"
  read -r a d < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' "$out" | tail -n 1) || true
  agreed=$((agreed + ${a:-0}))
  differed=$((differed + ${d:-0}))
  if [[ $rc -eq 0 && ${d:-1} -eq 0 && ${a:-0} -gt 0 ]]; then
    tests_passed=$((tests_passed + 1))
  else
    tests_failed=$((tests_failed + 1))
    status=1
  fi
}

compare "flipt-client-js 0.5.1 (WASM engine)" node "$HERE/compare.mjs" "$CORPUS"
compare "flipt-client 1.4.5 (Python, FFI engine)" "$VENV/bin/python" "$HERE/compare.py" "$CORPUS"

if [[ $status -ne 0 ]]; then
  log "DIFFERENTIAL TEST FAILED (seed $SEED, n $N)"
else
  log "differential test passed (seed $SEED, n $N)"
fi
echo "differential cases: $agreed agreed, $differed differed"
echo "$tests_passed passed, $tests_failed failed"
exit $status
