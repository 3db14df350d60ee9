#!/usr/bin/env bash
# The whole test suite: formatting, lints, every Rust test (unit, integration, property, real
# servers), the differential test against Flipt's own evaluation engine, and the client and
# browser suites. Installs what it needs on a fresh machine; every install step skips itself
# when done. Ends with one summary line: "suite: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
step() { printf '\n==> %s\n' "$*"; }
# Runs a command, showing and keeping its output for the summary.
run() { "$@" 2>&1 | tee -a "$LOG"; return "${PIPESTATUS[0]}"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "test servers for the sync tests (lighttpd + git http-backend, sshd)"
scripts/install-sync-test-deps.sh

step "cargo test --workspace"
run cargo test --workspace --locked

step "cargo test --release (property tests with more cases)"
PROPTEST_CASES=2000 run cargo test --release --locked -p switchyard-core --test it properties

step "fuzz: flag-file reader, decoder, compiler, evaluation; server request bodies (30 s each)"
SWITCHYARD_FUZZ_SECONDS=30 run cargo test --locked -p switchyard-fuzz -- --nocapture

step "differential test against Flipt's own engine (flipt-client-js 0.5.1 WASM, PyPI flipt-client 1.4.5)"
run tests/differential/run.sh 1 5000

step "dashboard in real Chromium against a real server and Git repository"
cargo build -p switchyard --locked
run tests/browser/run.sh

step "real clients: OFREP web and server providers, flipt-client-js, @flipt-io/flipt, PyPI flipt-client"
run tests/clients/run.sh

step "Angular library and demo: unit tests in headless Chromium, end-to-end against switchyard demo"
run clients/angular/test.sh

# Count only the runners' own summary lines: cargo's "test result: … N passed; M failed" and the
# plain "N passed, M failed" closing lines of the differential, browser and Angular suites.
counts=$(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p; s/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/p' "$LOG")
passed=$(echo "$counts" | awk '{s += $1} END {print s + 0}')
failed=$(echo "$counts" | awk '{s += $2} END {print s + 0}')
echo
echo "suite: ${passed:-0} passed, ${failed:-0} failed"
[ "${failed:-0}" -eq 0 ]
