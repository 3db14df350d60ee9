#!/usr/bin/env bash
# gRPC test: grpc-go against a real `switchyard serve` on a real Git repository holding a
# generated flag set (switchyard-testkit's gen_corpus): Flipt's EvaluationService answers
# and OFREPService answers compared to the HTTP API's, errors, tokens, health, reflection and
# SIGTERM (main.go).
#
#   tests/grpc/run.sh                       # uses target/debug/switchyard
#   SWITCHYARD_BIN=/path/to/switchyard tests/grpc/run.sh
#
# Builds the test program (Go modules from the module proxy, cached) and the corpus generator
# (cargo, incremental); builds no switchyard binary: `cargo build -p switchyard` first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SWITCHYARD_BIN:-$root/target/debug/switchyard}"
[[ "$bin" == /* ]] || bin="$PWD/$bin"
if [[ ! -x "$bin" ]]; then
  echo "error: switchyard binary not found at $bin (build it with 'cargo build -p switchyard')" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && cargo run -q -p switchyard-testkit --bin gen_corpus -- "$work/corpus" 400 40 4)
(cd "$here" && go build -o "$work/grpc-test" .)
"$work/grpc-test" -bin "$bin" -corpus "$work/corpus" -proto "$root/crates/switchyard-server/proto" -work "$work"
