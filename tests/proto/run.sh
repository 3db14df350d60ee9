#!/usr/bin/env bash
# Strict schema test of the client snapshot: decodes what a real `switchyard serve` sends with
# protobuf's json_format.Parse (strict) against Flipt v2.11.0's evaluationv2.proto.
#
#   tests/proto/run.sh                         # uses target/debug/switchyard
#   SWITCHYARD_BIN=/path/to/switchyard tests/proto/run.sh
#
# Builds nothing: build first with `cargo build -p switchyard`. The venv (.venv) is created and
# pip-installed only when missing or older than requirements.txt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SWITCHYARD_BIN:-$root/target/debug/switchyard}"
if [[ ! -x "$bin" ]]; then
  echo "error: switchyard binary not found at $bin (build it with 'cargo build -p switchyard')" >&2
  exit 2
fi
# Flipt's proto: the copy vendored for the gRPC server (crates/switchyard-server/proto, Flipt's
# rpc/v2/evaluation/evaluationv2.proto without its gateway annotations), or FLIPT_EVALUATION_PROTO.
proto="${FLIPT_EVALUATION_PROTO:-$root/crates/switchyard-server/proto/flipt/evaluation/v2/evaluationv2.proto}"
if [[ ! -f "$proto" ]]; then
  echo "error: Flipt v2's evaluationv2.proto not found at $proto" >&2
  exit 2
fi
export FLIPT_EVALUATION_PROTO="$proto"
venv="$here/.venv"
stamp="$venv/.switchyard-proto-stamp"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
if [[ ! -f "$stamp" || "$here/requirements.txt" -nt "$stamp" ]]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  touch "$stamp"
fi
exec "$venv/bin/python" "$here/strict_snapshot.py" "$bin"
