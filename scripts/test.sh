#!/usr/bin/env bash
# The whole test suite: formatting, lints, every Rust test (unit, integration, property, real
# servers), the differential test against Flipt's own evaluation engine, and the client and
# browser suites. Installs what it needs on a fresh machine; every install step skips itself
# when done.
#
#   ./scripts/test.sh          the default tier: every step, with fewer generated cases
#                              (PROPTEST_CASES=300, 1,000 differential flag sets, fuzz 8 s a target)
#   ./scripts/test.sh --full   the same steps at full depth (2,000 / 5,000 / 30 s); .ci/run runs it
#
# Every step runs even when an earlier one failed. The end is a table (step, status, duration,
# tests), the differential test's generated cases on their own line, and exactly one closing line
# "suite: N passed, M failed" counting tests: cargo's `test result:` lines, each JS/Python suite's
# closing "N passed, M failed" line (the differential test counts each engine comparison as one
# test). A step that fails without reporting a failed test counts as one failed test. Exits
# non-zero when anything failed. Each step is stopped after STEP_TIMEOUT seconds (default 2400).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

for arg in "$@"; do
  case "$arg" in
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --full) full=1 ;;
    *) echo "test.sh: unknown argument '$arg' (only --full, --help)" >&2; exit 2 ;;
  esac
done
if [[ ${full:-0} -eq 1 ]]; then
  proptest_cases=2000 diff_sets=5000 fuzz_seconds=30
else
  proptest_cases=300 diff_sets=1000 fuzz_seconds=8
fi
step_timeout="${STEP_TIMEOUT:-2400}"
# On a terminal the steps stay in the foreground process group, so that Ctrl-C reaches them;
# otherwise (CI) a timeout stops a step's whole process group.
timeout_opts=()
[[ -t 0 ]] && timeout_opts=(--foreground)

LOGDIR="$(mktemp -d)"
trap 'rm -rf "$LOGDIR"' EXIT
names=() statuses=() times=() step_passed=() step_failed=()
passed=0 failed=0 cases_agreed=0 cases_differed=0
suite_start=$SECONDS

# run_step NAME KIND COMMAND...: runs COMMAND (output shown and kept), records its status and
# duration, and counts its tests by KIND:
#   check   reports no tests (fmt, clippy, installs, builds)
#   cargo   cargo's "test result: … N passed; M failed" lines
#   suite   the step's last "N passed, M failed" line; a "differential cases: A agreed, D
#           differed" line adds to the cases line of the summary
run_step() {
  local name=$1 kind=$2
  shift 2
  local log="$LOGDIR/step-${#names[@]}.log" start=$SECONDS rc p=0 f=0 a=0 d=0
  printf '\n==> %s\n' "$name"
  timeout "${timeout_opts[@]}" --kill-after=30 "$step_timeout" "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  [[ $rc -eq 124 ]] && echo "test.sh: '$name' stopped after ${step_timeout}s (STEP_TIMEOUT)"
  case "$kind" in
    cargo)
      read -r p f < <(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log" |
        awk '{p += $1; f += $2} END {print p + 0, f + 0}')
      ;;
    suite)
      read -r p f < <(sed -nE 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/p' "$log" | tail -n 1 |
        awk '{p += $1; f += $2} END {print p + 0, f + 0}')
      ;;
  esac
  read -r a d < <(sed -nE 's/^differential cases: ([0-9]+) agreed, ([0-9]+) differed.*/\1 \2/p' "$log" |
    awk '{a += $1; d += $2} END {print a + 0, d + 0}')
  cases_agreed=$((cases_agreed + a))
  cases_differed=$((cases_differed + d))
  # A failing step always shows up in the count, even when it reported no failed test.
  if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  names+=("$name")
  statuses+=("$([[ $rc -eq 0 ]] && echo ok || echo "FAILED:$rc")")
  times+=("$((SECONDS - start))")
  step_passed+=("$p")
  step_failed+=("$f")
}

run_step "cargo fmt --check" check \
  cargo fmt --all -- --check
run_step "cargo clippy --all-targets -D warnings" check \
  cargo clippy --workspace --all-targets --locked -- -D warnings
run_step "test servers for the sync tests (lighttpd + git http-backend, sshd)" check \
  scripts/install-sync-test-deps.sh
run_step "cargo test --workspace" cargo \
  cargo test --workspace --locked
run_step "property tests, release, PROPTEST_CASES=$proptest_cases" cargo \
  env PROPTEST_CASES="$proptest_cases" cargo test --release --locked -p switchyard-core --test it properties
run_step "fuzz: flag-file reader, decoder, compiler, evaluation; server request bodies (${fuzz_seconds} s each)" cargo \
  env SWITCHYARD_FUZZ_SECONDS="$fuzz_seconds" cargo test --locked -p switchyard-fuzz -- --nocapture
run_step "differential test against Flipt's own engine, $diff_sets flag sets (flipt-client-js 0.5.1 WASM, PyPI flipt-client 1.4.5)" suite \
  tests/differential/run.sh 1 "$diff_sets"
run_step "cargo build -p switchyard (for the browser, client and Angular suites)" check \
  cargo build -p switchyard --locked
run_step "dashboard in real Chromium against a real server and Git repository" suite \
  tests/browser/run.sh
run_step "client snapshots decoded strictly (PyPI protobuf json_format) against Flipt v2's evaluationv2.proto" suite \
  tests/proto/run.sh
run_step "real clients: OFREP web and server providers, flipt-client-js, @flipt-io/flipt, PyPI flipt-client" suite \
  tests/clients/run.sh
run_step "gRPC: grpc-go against Flipt's EvaluationService (answers compared to HTTP's on a generated flag set), health, reflection, tokens, SIGTERM" suite \
  tests/grpc/run.sh
run_step "flagd providers: npm RPC provider, PyPI RPC provider (gRPC port), web provider over Connect in Node and Chromium" suite \
  tests/flagd/run.sh
run_step "fleet: upstream + 3 relays behind HAProxy, 10 webhook-announced commits, rolling restart under load" suite \
  tests/fleet/run.sh
run_step "fleet fan-out: 100 relay streams on one upstream, 3 commits each within 1 s of the swap" suite \
  python3 benches/fleet/fanout.py target/debug/switchyard --streams 100 --commits 3 --max-all-ms 1000
run_step "OpenTelemetry: OTLP gRPC and HTTP/protobuf to a real receiver (PyPI opentelemetry-proto + grpcio), access log, 5xx log" suite \
  tests/otel/run.sh
run_step "Angular library and demo: unit tests in headless Chromium, end-to-end against switchyard demo" suite \
  clients/angular/test.sh

run_step "deployment: image build stage, Dockerfile, Compose example, Helm chart" suite \
  scripts/test-deploy.sh

total=$((SECONDS - suite_start))
echo
echo "==> summary ($((total / 60))m $((total % 60))s)"
printf '%-10s %7s %7s %7s  %s\n' "status" "time" "passed" "failed" "step"
for i in "${!names[@]}"; do
  printf '%-10s %6ss %7s %7s  %s\n' "${statuses[$i]}" "${times[$i]}" "${step_passed[$i]}" "${step_failed[$i]}" "${names[$i]}"
done
echo "differential cases: $cases_agreed agreed, $cases_differed differed"
echo "suite: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
