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
# 2. The same flag set (benches/inputs/variant.rs, exported as Flipt's client snapshot by the
#    engine_input example with export::write_client_snapshot) and the same entity and context,
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
#    Switchyard's median (how many times Switchyard is faster). Exits 1 if a check fails.
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
log "exporting the variant_evaluation flag set (engine_input example)"
(cd "$ROOT" && cargo run --quiet --release -p switchyard-core --example engine_input -- "$INPUT")
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
echo
echo "Engine comparison, variant evaluation (flag checkout: one rule on a two-constraint segment, three distributions; entity user-1234, context plan=pro, region=eu-west-1)"
echo "date $(date -u '+%Y-%m-%d %H:%M UTC'); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores; load average $LOAD_BEFORE before, $LOAD_AFTER after"
printf '%s\n' \
  "| Engine and entry point | One call includes | ns/evaluation (median) | fastest | ratio vs Switchyard |" \
  "|---|---|---|---|---|"
row() { # name includes median fastest
  awk -v n="$1" -v w="$2" -v m="$3" -v f="$4" -v s="$SY_MEDIAN" \
    'BEGIN { printf "| %s | %s | %.1f | %.1f | %.1f× |\n", n, w, m, f, m / s }'
}
row "switchyard-core evaluate_variant (divan: median of 200 samples of 10,000 calls)" \
  "in-process call on a parsed context, struct result" "$SY_MEDIAN" "$SY_FASTEST"
row "switchyard-core, JSON in and out like one FFI call (divan: variant_evaluation_json)" \
  "request JSON parsed, flag found by key, evaluation, response JSON serialised and freed" "$SYJ_MEDIAN" "$SYJ_FASTEST"
row "flipt-client-js $JS_VERSION WASM, FliptClient.evaluateVariant (Node $(node --version))" \
  "key conversion to snake_case and back, JS objects ↔ Rust through serde-wasm-bindgen, evaluation" \
  "$(figure "$WORK/wasm.txt" client median_ns)" "$(figure "$WORK/wasm.txt" client min_ns)"
row "flipt-client-js $JS_VERSION WASM, raw Engine.evaluate_variant" \
  "JS objects ↔ Rust through serde-wasm-bindgen, evaluation" \
  "$(figure "$WORK/wasm.txt" engine median_ns)" "$(figure "$WORK/wasm.txt" engine min_ns)"
row "flipt-client $PY_VERSION libfliptengine ${FFI_VERSION:+($FFI_VERSION) }FFI, evaluate_variant + destroy_string from C" \
  "request JSON parsed, evaluation, response JSON serialised and freed (parsing it is left to the caller)" \
  "$(field "$WORK/ffi.txt" median_ns)" "$(field "$WORK/ffi.txt" min_ns)"
echo
echo "Ratio = the row's median / switchyard-core evaluate_variant's median (Switchyard's in-process call is that many times faster)."
awk -v f="$(field "$WORK/ffi.txt" median_ns)" -v j="$SYJ_MEDIAN" 'BEGIN { printf "Like for like with JSON in and out: Flipt FFI / switchyard-core JSON = %.2f×\n", f / j }'
awk -v s="$SY_MEDIAN" -v f="$(field "$WORK/ffi.txt" median_ns)" -v w="$(figure "$WORK/wasm.txt" engine median_ns)" '
  BEGIN { m = f < w ? f : w
    printf "Target (issue 12): in-process median <= 60 ns: %s (%.1f ns); >= 10x faster than Flipt'"'"'s engine: %s (%.1fx against its fastest entry point)\n",
      (s <= 60 ? "met" : "NOT met"), s, (m / s >= 10 ? "met" : "NOT met"), m / s }'
echo "Flipt's rows: median and fastest of $ROUNDS rounds of $ITERATIONS calls (after $WARMUP warm-up rounds), wall clock."
echo "Every Flipt entry point answered variant b, MATCH_EVALUATION_REASON, segment pro-eu, as Switchyard does."
