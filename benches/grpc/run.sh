#!/usr/bin/env bash
# gRPC benchmark (BENCHMARKS.md): requests/s of Flipt's gRPC Variant, HTTP /evaluate/v1/variant
# and flagd's ResolveString (v2 and v1) against one release server in one run (16 workers,
# loopback), then SUBSCRIBERS flagd EventStream subscribers notified of a commit pushed through Git.
# The load client (tests/grpc's program in -bench mode) runs on the same machine.
#
# FLAGD_BIN=/path/to/flagd: flagd itself is also started (on an equivalent flag, tests/grpc/bench.go's
# flagdFlags) and its v1 ResolveString loaded in ROUNDS rounds (default 2) of alternating order
# with Switchyard's; both rates and the ratio are printed. flagd is not built here: build it
# elsewhere from github.com/open-feature/flagd (BENCHMARKS.md says how).
#
#   cargo build --release -p switchyard && [FLAGD_BIN=...] benches/grpc/run.sh [SECONDS] [SUBSCRIBERS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SWITCHYARD_BIN:-$root/target/release/switchyard}"
[[ -x "$bin" ]] || { echo "error: $bin not found (cargo build --release -p switchyard)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && cargo run -q --release -p switchyard-testkit --bin gen_corpus -- "$work/corpus" 400 40 4)
(cd "$root/tests/grpc" && go build -o "$work/grpc-test" .)
"$work/grpc-test" -bench -bin "$bin" -corpus "$work/corpus" -proto "$root/crates/switchyard-server/proto" \
  -work "$work" -seconds "${1:-5}" -subscribers "${2:-5000}" -rounds "${ROUNDS:-2}" ${FLAGD_BIN:+-flagd-bin "$FLAGD_BIN"}
