#!/usr/bin/env bash
# OpenTelemetry end to end against a real OTLP receiver (PyPI opentelemetry-proto + grpcio,
# gRPC and HTTP/protobuf, started by the test on loopback) and the real `switchyard serve`.
#
#   tests/otel/run.sh                          # uses target/debug/switchyard
#   SWITCHYARD_BIN=/path/to/switchyard tests/otel/run.sh
#
# Builds nothing (cargo build -p switchyard first). The venv (.venv) is created and
# pip-installed only when missing or older than requirements.txt. Ends `otel: N passed, M failed`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SWITCHYARD_BIN:-$root/target/debug/switchyard}"
if [[ ! -x "$bin" ]]; then
  echo "error: switchyard binary not found at $bin (build it with 'cargo build -p switchyard')" >&2
  echo "otel: 0 passed, 1 failed"
  exit 2
fi
venv="$here/.venv"
stamp="$venv/.switchyard-otel-stamp"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
if [[ ! -f "$stamp" || "$here/requirements.txt" -nt "$stamp" ]]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  touch "$stamp"
fi
exec "$venv/bin/python" "$here/otel.py" "$bin"
