#!/usr/bin/env bash
# The fleet test (issue 13): one upstream following a real Git repository, 3 relays behind a
# real HAProxy (Debian's package, installed here when missing; our own instance and config on
# loopback ports, never the system service), steady load, 10 commits announced by a signed
# webhook to the balancer, and a rolling restart of every relay. Ends `fleet: N passed, M failed`.
#
#   tests/fleet/run.sh                 # uses target/debug/switchyard (build it first)
#   COMMITS=200 tests/fleet/run.sh     # the benchmark's size (benches/fleet/run.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
SWITCHYARD_BIN="${SWITCHYARD_BIN:-$root/target/debug/switchyard}"
if [[ ! -x "$SWITCHYARD_BIN" ]]; then
  echo "error: switchyard binary not found at $SWITCHYARD_BIN (cargo build -p switchyard)" >&2
  echo "fleet: 0 passed, 1 failed"
  exit 2
fi
if ! command -v haproxy >/dev/null; then
  echo "== apt-get install -y haproxy"
  if [[ $(id -u) -eq 0 ]]; then
    (apt-get install -y haproxy || { apt-get update && apt-get install -y haproxy; }) >/dev/null
  else
    sudo apt-get install -y haproxy >/dev/null
  fi
fi
exec python3 "$here/fleet.py" "$SWITCHYARD_BIN" --commits "${COMMITS:-10}" "$@"
