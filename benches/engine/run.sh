#!/usr/bin/env bash
# Issue 12's engine comparison: switchyard-core's in-process variant evaluation vs Flipt's own Rust
# evaluation engine (flipt-evaluation) as Flipt ships it prebuilt, measured in ONE run on this
# machine and reported as a ratio.
#
# Usage: benches/engine/run.sh
#   ROUNDS (200), ITERATIONS (200 calls per round), WARMUP (50 rounds) tune the Flipt engines'
#   timing; Switchyard's side is divan's own (200 samples of 10,000 iterations).
#
# 1. switchyard-core: `cargo bench -p switchyard-core --bench core -- variant_evaluation`, divan's
#    median. One call is `evaluate_variant(&flag, "user-1234", &ctx)` on a compiled flag and an
#    already-built HashMap context, returning a struct: no JSON either way.
# 2. The same flag set (crates/switchyard-testkit/src/variant.rs, exported as Flipt's client
#    snapshot by the testkit's engine_input binary with export::write_client_snapshot) and the
#    same entity and context,
#    evaluated by Flipt's engine:
#    - WASM build in @flipt-io/flipt-client-js (node wasm_bench.mjs): FliptClient.evaluateVariant,
#      and the raw wasm-bindgen Engine.evaluate_variant (JS objects in and out, converted by
#      serde-wasm-bindgen);
#    - FFI build libfliptengine in the PyPI wheel flipt-client, from C (ffi_bench.c, compiled
#      here with cc, library opened with dlopen): evaluate_variant(engine, request JSON) returning
#      a response JSON string, plus destroy_string. The engine fetches the snapshot over HTTP
#      from serve.py on 127.0.0.1.
#    Both are installed by tests/differential/deps.sh (pins in tests/differential).
# 3. Before timing, check.py requires every Flipt entry point's answer to equal switchyard-core's
#    (match, reason, variant key, set of segment keys); the run stops otherwise.
# 4. Prints a table: entry point, ns per evaluation (median of rounds; fastest round), ratio to
#    switchyard-core's median (how many times Switchyard is faster), what one call of each
#    includes, and issue 12's targets. Exits 1 if a check fails or a figure is missing.
#    switchyard-core's variant_evaluation_json row is the work of one FFI call done by
#    switchyard-core (JSON in and out), for a like-for-like figure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIFF="$ROOT/tests/differential"
WORK="$HERE/work"
ROUNDS="${ROUNDS:-200}"
ITERATIONS="${ITERATIONS:-200}"
WARMUP="${WARMUP:-50}"
mkdir -p "$WORK"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'engine bench: %s\n' "$*" >&2; exit 1; }

# --- dependencies -------------------------------------------------------------------------------
"$DIFF/deps.sh"
ARCH="$(uname -m)"
case "$ARCH" in aarch64 | arm64) ARCH=aarch64 ;; esac
LIB="$(ls "$DIFF"/.venv/lib/python3*/site-packages/ext/linux_"$ARCH"/libfliptengine.so 2>/dev/null | head -n 1)"
[[ -n "$LIB" ]] || die "libfliptengine.so for linux_$ARCH not found in $DIFF/.venv (flipt-client wheel)"
JS_VERSION="$(node -p "require('$DIFF/node_modules/@flipt-io/flipt-client-js/package.json').version")"
PY_VERSION="$("$DIFF/.venv/bin/python" -c 'import importlib.metadata as m; print(m.version("flipt-client"))')"
FFI_VERSION="$(grep -ao 'flipt-engine-ffi/[0-9][0-9.]*' "$LIB" | head -n 1 || true)"

# --- input: the bench's flag set as Flipt's client snapshot, the request, our answer -------------
INPUT="$WORK/input.json"
log "exporting the variant_evaluation flag set (engine_input binary of switchyard-testkit)"
(cd "$ROOT" && cargo run --quiet --release -p switchyard-testkit --bin engine_input -- "$INPUT")
python3 - "$INPUT" "$WORK" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
with open(sys.argv[2] + "/snapshot.json", "w", encoding="utf-8") as f:
    json.dump(d["snapshot"], f, ensure_ascii=False)
with open(sys.argv[2] + "/ffi-request.json", "w", encoding="utf-8") as f:
    f.write(d["ffiRequest"])
PY
FFI_REQUEST="$(cat "$WORK/ffi-request.json")"

log "compiling ffi_bench.c"
cc -O2 -Wall -Wextra -Werror -o "$WORK/ffi_bench" "$HERE/ffi_bench.c" -ldl

# --- the snapshot server for the FFI engine -----------------------------------------------------
SERVE_OUT="$WORK/serve.out"
: > "$SERVE_OUT"
python3 "$HERE/serve.py" "$WORK/snapshot.json" > "$SERVE_OUT" &
SERVE_PID=$!
trap 'kill "$SERVE_PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^port ' "$SERVE_OUT" && break
  kill -0 "$SERVE_PID" 2>/dev/null || die "serve.py exited before listening"
  sleep 0.05
done
PORT="$(sed -n 's/^port //p' "$SERVE_OUT")"
[[ -n "$PORT" ]] || die "serve.py did not report its port within 5 s"
URL="http://127.0.0.1:$PORT"

# --- same answer before timing ------------------------------------------------------------------
log "checking that Flipt's engine answers as switchyard-core does"
{
  node "$HERE/wasm_bench.mjs" "$DIFF" "$INPUT" check | sed 's/^/wasm-/'
  printf 'ffi %s\n' "$("$WORK/ffi_bench" "$LIB" "$URL" "$FFI_REQUEST" check)"
} > "$WORK/answers.txt"
python3 "$HERE/check.py" "$INPUT" < "$WORK/answers.txt" || die "an engine answered differently; nothing timed"

# --- timing -------------------------------------------------------------------------------------
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "switchyard-core: cargo bench -p switchyard-core --bench core -- variant_evaluation"
(cd "$ROOT" && cargo bench --quiet -p switchyard-core --bench core -- variant_evaluation) > "$WORK/divan.txt"
cat "$WORK/divan.txt" >&2
# divan's rows: name │ fastest │ slowest │ median │ mean │ samples │ iters; times as "57.95 ns".
# divan_row NAME: prints "MEDIAN_NS FASTEST_NS" of the bench named NAME.
divan_row() {
  awk -F'│' -v name="$1" '
    function ns(t,  v, u) { v = t; u = t; gsub(/[^0-9.]/, "", v); gsub(/[0-9. ]/, "", u)
      if (u == "ps") return v / 1000; if (u == "ns") return v; if (u == "µs" || u == "us") return v * 1000
      if (u == "ms") return v * 1e6; if (u == "s") return v * 1e9; return -1 }
    { n = split($1, w, " "); if (n >= 2 && w[n - 2] == name) { print ns($3), ns(w[n - 1] " " w[n]); found = 1 } }
    END { if (!found) print "-1 -1" }' "$WORK/divan.txt"
}
read -r SY_MEDIAN SY_FASTEST < <(divan_row variant_evaluation)
read -r SYJ_MEDIAN SYJ_FASTEST < <(divan_row variant_evaluation_json)
[[ "$SY_MEDIAN" != -1 && "$SYJ_MEDIAN" != -1 ]] \
  || die "variant_evaluation or variant_evaluation_json missing from divan's output ($WORK/divan.txt)"

log "flipt-client-js $JS_VERSION (WASM): $ROUNDS rounds of $ITERATIONS calls after $WARMUP warm-up rounds"
node "$HERE/wasm_bench.mjs" "$DIFF" "$INPUT" bench "$ROUNDS" "$ITERATIONS" "$WARMUP" > "$WORK/wasm.txt"
cat "$WORK/wasm.txt" >&2
log "flipt-client $PY_VERSION libfliptengine (FFI) from C: $ROUNDS rounds of $ITERATIONS calls after $WARMUP warm-up rounds"
"$WORK/ffi_bench" "$LIB" "$URL" "$FFI_REQUEST" bench "$ROUNDS" "$ITERATIONS" "$WARMUP" > "$WORK/ffi.txt"
cat "$WORK/ffi.txt" >&2
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

field() { sed -n "s/.*$2 \([0-9.]*\).*/\1/p" "$1" | head -n 1; }
figure() { grep "^$2 " "$1" | sed -n "s/.*$3 \([0-9.]*\).*/\1/p"; }

# --- table --------------------------------------------------------------------------------------
FFI_MEDIAN="$(field "$WORK/ffi.txt" median_ns)"
EXPECTED="$(python3 -c 'import json, sys; e = json.load(open(sys.argv[1]))["expected"]; print("variant " + e["variantKey"] + ", " + e["reason"] + ", segments " + ", ".join(e["segmentKeys"]))' "$INPUT")"
WASM_MEDIAN="$(figure "$WORK/wasm.txt" engine median_ns)"
echo
echo "Variant evaluation: flag checkout (one rule on a two-constraint segment, three distributions),"
echo "entity user-1234, context plan=pro, region=eu-west-1; every Flipt entry point answered as"
echo "switchyard-core does: $EXPECTED."
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores;" \
  "load average $LOAD_BEFORE before, $LOAD_AFTER after"
echo
printf '%-4s %-58s %10s %10s %8s\n' "" "engine, entry point" "median ns" "fastest" "ratio"
row() { # label name median fastest
  awk -v l="$1" -v n="$2" -v m="$3" -v f="$4" -v s="$SY_MEDIAN" \
    'BEGIN { printf "%-4s %-58s %10.1f %10.1f %7.1fx\n", l, n, m, f, m / s }'
}
row "[1]" "switchyard-core evaluate_variant" "$SY_MEDIAN" "$SY_FASTEST"
row "[2]" "switchyard-core, JSON in and out (variant_evaluation_json)" "$SYJ_MEDIAN" "$SYJ_FASTEST"
row "[3]" "flipt-client-js $JS_VERSION WASM, FliptClient.evaluateVariant" \
  "$(figure "$WORK/wasm.txt" client median_ns)" "$(figure "$WORK/wasm.txt" client min_ns)"
row "[4]" "flipt-client-js $JS_VERSION WASM, Engine.evaluate_variant" "$WASM_MEDIAN" \
  "$(figure "$WORK/wasm.txt" engine min_ns)"
row "[5]" "flipt-client $PY_VERSION libfliptengine FFI from C" "$FFI_MEDIAN" "$(field "$WORK/ffi.txt" min_ns)"
cat <<TEXT

ratio = the row's median / [1]'s median: how many times faster Switchyard's in-process call is.
What one call includes:
[1] evaluate_variant(&flag, entity, &ctx) on a compiled flag and an already-built HashMap
    context, returning a struct; no JSON. divan: median of 200 samples of 10,000 calls.
[2] the request JSON {"flag_key","entity_id","context"} parsed, the flag found by key,
    evaluate_variant, Flipt's VariantEvaluationResponse in the FFI's {"status","result",
    "error_message"} envelope serialised to a String and freed: the work of one call of [5].
    divan: median of 200 samples of 200 calls.
[3] the SDK's public call (Node $(node --version)): request keys converted to snake_case, [4],
    result keys converted back to camelCase.
[4] the raw wasm-bindgen binding: a prebuilt JS request object converted into the engine's
    request and the response back into a JS object by serde-wasm-bindgen, the evaluation.
[5] ${FFI_VERSION:-flipt-engine-ffi} through dlopen: evaluate_variant(engine, request JSON) parses
    the request, evaluates and serialises the response JSON; destroy_string frees it (parsing
    that JSON, which every FFI SDK does next, is not included).
[3]-[5]: median and fastest of $ROUNDS rounds of $ITERATIONS calls after $WARMUP warm-up rounds, wall clock.
TEXT
awk -v f="$FFI_MEDIAN" -v j="$SYJ_MEDIAN" 'BEGIN { printf "Like for like, JSON in and out: [5] / [2] = %.2fx\n", f / j }'
awk -v s="$SY_MEDIAN" -v f="$FFI_MEDIAN" -v w="$WASM_MEDIAN" '
  BEGIN { m = f < w ? f : w
    printf "Issue 12 targets: [1] <= 60 ns: %s (%.1f ns); >= 10x faster than Flipt'"'"'s engine: %s (%.1fx against its fastest entry point [4] or [5])\n",
      (s <= 60 ? "met" : "NOT met"), s, (m / s >= 10 ? "met" : "NOT met"), m / s }'
