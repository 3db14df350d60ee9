#!/usr/bin/env bash
# clients/angular: installs what is missing, builds the library and the demo app, runs the unit
# tests (Vitest browser mode in headless Chromium, via `ng test`) and the end-to-end test (real
# Chromium against a real `switchyard demo`). Last line: "N passed, M failed"; non-zero on failure.
#   SWITCHYARD_BIN  server binary (default target/debug/switchyard, relative to the repo root)
set -uo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
ROOT=$(cd ../.. && pwd)
passed=0
failed=0
t_start=$(date +%s)
strip() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g'; }
fail_step() { echo "FAILED: $1" >&2; failed=$((failed + 1)); }

# 1. Dependencies: npm ci only when node_modules is missing or older than package-lock.json.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.lock-hash ] || [ "$(cat node_modules/.lock-hash)" != "$lock_hash" ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
  echo "$lock_hash" > node_modules/.lock-hash
fi

# 2. Chromium (Debian's), for both the unit tests and the end-to-end test.
CHROME_BIN=$(bash "$ROOT/scripts/install-chromium.sh") || { echo "no chromium"; echo "0 passed, 1 failed"; exit 1; }
export CHROME_BIN CI=true

# 3. Builds.
echo "== build library"; npx ng build switchyard-angular || fail_step "library build"
echo "== build demo";    npx ng build demo || fail_step "demo build"

# 3b. The installable tarball (README: build, npm pack, npm install <tgz>).
echo "== pack library"
pack_dir=$(mktemp -d)
if (cd dist/switchyard-angular && npm pack --pack-destination "$pack_dir" >/dev/null 2>&1) \
  && tgz=$(ls "$pack_dir"/switchyard-angular-*.tgz 2>/dev/null | head -1) && [ -n "$tgz" ] \
  && files=$(tar -tzf "$tgz") \
  && grep -qx 'package/fesm2022/switchyard-angular.mjs' <<< "$files" \
  && grep -q '^package/types/' <<< "$files" \
  && ! grep -q 'testing' <<< "$files"; then
  echo "ok: $(basename "$tgz")"; passed=$((passed + 1))
else
  fail_step "npm pack of dist/switchyard-angular"
fi
rm -rf "$pack_dir"

# 4. Unit tests (each project); counts from Vitest's "Tests  N passed | M failed" line.
for project in switchyard-angular demo; do
  echo "== unit tests: $project"
  log=$(mktemp)
  npx ng test "$project" --watch=false 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(strip < "$log" | grep -E '^\s*Tests\s' | tail -1)
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || true)
  f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || true)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail_step "unit tests of $project (exit $rc)"; fi
  rm -f "$log"
done

# 5. End-to-end against a real server.
SWITCHYARD_BIN=${SWITCHYARD_BIN:-target/debug/switchyard}
case "$SWITCHYARD_BIN" in /*) ;; *) SWITCHYARD_BIN="$ROOT/$SWITCHYARD_BIN" ;; esac
export SWITCHYARD_BIN
if [ -x "$SWITCHYARD_BIN" ]; then
  echo "== e2e against $SWITCHYARD_BIN"
  log=$(mktemp)
  node --test --test-reporter=tap e2e/e2e.test.mjs 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -E '^# pass ' "$log" | grep -oE '[0-9]+' | tail -1)
  f=$(grep -E '^# fail ' "$log" | grep -oE '[0-9]+' | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail_step "e2e (exit $rc)"; fi
  rm -f "$log"
else
  fail_step "e2e: no switchyard binary at $SWITCHYARD_BIN (cargo build -p switchyard)"
fi

echo "== clients/angular done in $(( $(date +%s) - t_start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
