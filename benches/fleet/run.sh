#!/usr/bin/env bash
# The fleet figures (issue 13): tests/fleet/fleet.py at 200 commits; the figures are printed
# and written to benches/fleet/results.json. Not part of scripts/test.sh.
#
#   benches/fleet/run.sh                                   # target/debug/switchyard
#   SWITCHYARD_BIN=target/release/switchyard benches/fleet/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COMMITS="${COMMITS:-200}" exec "$root/tests/fleet/run.sh" --json "${OUT:-$root/benches/fleet/results.json}" "$@"
