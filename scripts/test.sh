#!/usr/bin/env bash
# The whole test suite: formatting, lints, every Rust test (unit, integration, property, real
# servers), and the differential test against Flipt's own evaluation engine.
# Installs what it needs on a fresh machine; every install step skips itself when done.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "test servers for the sync tests (lighttpd + git http-backend, sshd)"
scripts/install-sync-test-deps.sh

step "cargo test --workspace"
cargo test --workspace --locked

step "cargo test --release (property tests with more cases)"
PROPTEST_CASES=2000 cargo test --release --locked -p switchyard-core --test it properties

step "differential test against Flipt's own engine (flipt-client-js 0.5.1 WASM, PyPI flipt-client 1.4.5)"
tests/differential/run.sh 1 5000
