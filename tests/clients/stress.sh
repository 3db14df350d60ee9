#!/usr/bin/env bash
# Runs the client tests N times in a row (default 20) under CPU load from `stress-ng --cpu 2`
# (Debian package stress-ng), and prints how many runs passed:
#
#   tests/clients/stress.sh [N]        # SWITCHYARD_BIN as for run.sh
#
# Each run's output goes to $CLIENT_TESTS_WORK/stress-<i>.log (default tests/clients/work/).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs="${1:-20}"
if ! command -v stress-ng >/dev/null; then
  echo "error: stress-ng not found (Debian: apt-get install stress-ng)" >&2
  exit 2
fi
work="${CLIENT_TESTS_WORK:-$here/work}"
mkdir -p "$work"
stress-ng --cpu 2 --timeout 3600s --quiet &
load=$!
trap 'kill "$load" 2>/dev/null; wait "$load" 2>/dev/null' EXIT
ok=0
for i in $(seq 1 "$runs"); do
  if "$here/run.sh" >"$work/stress-$i.log" 2>&1; then
    ok=$((ok + 1)); result=passed
  else
    result=FAILED
  fi
  echo "run $i/$runs: $result ($(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/stress-$i.log" | tail -1); $(grep -E '^== duration' "$work/stress-$i.log" | tail -1))"
done
echo "stress: $ok of $runs runs passed under stress-ng --cpu 2 on $(nproc) cores"
[ "$ok" -eq "$runs" ]
