#!/usr/bin/env bash
# HTTP load benchmarks on loopback, side by side in one run (same machine state):
#   (1) ceiling: a fixed-JSON handler on the same HTTP stack (crates/switchyard-server/examples/ceiling.rs)
#       (and, for information, the same handler behind Switchyard's tower-http layers: ceiling_layers)
#   (2) OFREP single flag   POST /ofrep/v1/evaluate/flags/{key}
#   (3) Flipt variant       POST /evaluate/v1/variant
#   (4) OFREP bulk          POST /ofrep/v1/evaluate/flags
# then commit-to-client latency over webhook + SSE (latency.py).
#
#   benches/http/run.sh                 # DURATION=10s THREADS=2 CONNECTIONS=64 ROUNDS=1 FLAGS=60
# Needs wrk (`apt-get install -y wrk`), git, python3. Binds 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
ROUNDS="${ROUNDS:-1}"
FLAGS="${FLAGS:-60}"
LATENCY_ROUNDS="${LATENCY_ROUNDS:-20}"
command -v wrk >/dev/null || { echo "error: wrk not found (apt-get install -y wrk)" >&2; exit 2; }

cd "$root"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cargo build --release -p switchyard
  cargo build --release -p switchyard-server --example ceiling
fi
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release/switchyard"
ceiling="$target/release/examples/ceiling"

work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-http-bench.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# A real Git repository with a realistic flag set.
repo="$work/flags-repo"
# (Flipt v2's rule, which the v2 configuration below selects: `<dir>/features.yml`, none at the root)
mkdir -p "$repo/default"
python3 "$here/gen_flags.py" "$repo/default/features.yml" "$FLAGS"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
git -C "$repo" init -q -b main && git -C "$repo" add . && git -C "$repo" commit -qm "bench flags"
remote="file://$repo"
cat > "$work/switchyard.yml" <<YAML
storage:
  default:
    remote: "$remote"
    branch: main
    poll_interval: 30s
environments:
  default: { storage: default, default: true }
webhooks:
  github: { secret: "bench-secret" }
YAML

sy_port=$(free_port)
"$bin" serve --config "$work/switchyard.yml" --listen "127.0.0.1:$sy_port" >"$work/server.log" 2>&1 &
pids+=($!)
ce_port=$(free_port)
"$ceiling" "127.0.0.1:$ce_port" >"$work/ceiling.log" 2>&1 &
pids+=($!)
cl_port=$(free_port)
"$ceiling" "127.0.0.1:$cl_port" --layers >"$work/ceiling-layers.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
  curl -fsS "http://127.0.0.1:$sy_port/ready" >/dev/null 2>&1 && curl -fs -o /dev/null -XPOST "http://127.0.0.1:$ce_port/" && curl -fs -o /dev/null -XPOST "http://127.0.0.1:$cl_port/" && break
  sleep 0.05
done
curl -fsS "http://127.0.0.1:$sy_port/ready" >/dev/null || { cat "$work/server.log"; exit 1; }
sy="http://127.0.0.1:$sy_port"
ce="http://127.0.0.1:$ce_port"
cl="http://127.0.0.1:$cl_port"

ofrep_ctx='{"context":{"targetingKey":"user-1","plan":"premium","country":"de","age":"30"}}'
flipt_req='{"namespaceKey":"default","flagKey":"checkoutExperiment","entityId":"user-1","context":{"plan":"enterprise","country":"de","age":"30"}}'
# Sanity: each endpoint answers 200 with the expected shape before we load it.
curl -fsS -XPOST "$ce/" -d '{}' | grep -q '"value":true'
curl -fsS -XPOST "$cl/" -d '{}' | grep -q '"value":true'
curl -fsS -XPOST "$sy/ofrep/v1/evaluate/flags/newHomeUI" -H 'content-type: application/json' -d "$ofrep_ctx" | grep -q '"value":"enabled"'
curl -fsS -XPOST "$sy/evaluate/v1/variant" -H 'content-type: application/json' -d "$flipt_req" | grep -q '"match":true'
bulk_n=$(curl -fsS -XPOST "$sy/ofrep/v1/evaluate/flags" -H 'content-type: application/json' -d "$ofrep_ctx" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["flags"]))')
single_bytes=$(curl -fsS -XPOST "$sy/ofrep/v1/evaluate/flags/newHomeUI" -H 'content-type: application/json' -d "$ofrep_ctx" | wc -c)
bulk_bytes=$(curl -fsS -XPOST "$sy/ofrep/v1/evaluate/flags" -H 'content-type: application/json' -d "$ofrep_ctx" | wc -c)

echo "# machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, flags in namespace: $((FLAGS + 4)), bulk returns $bulk_n flags ($bulk_bytes bytes), single $single_bytes bytes"

declare -A rps p99
run() { # name url body
  local name=$1 url=$2 body=$3 out
  out=$(BODY="$body" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$here/post.lua" "$url")
  local line; line=$(grep '^RESULT' <<<"$out")
  echo "$name $line"
  grep -q 'non2xx=0' <<<"$line" || { echo "error: non-2xx responses for $name" >&2; echo "$out" >&2; exit 1; }
  rps[$name]="${rps[$name]:-} $(sed -E 's/.* rps=([0-9]+).*/\1/' <<<"$line")"
  p99[$name]="${p99[$name]:-} $(sed -E 's/.* p99_ms=([0-9.]+).*/\1/' <<<"$line")"
}
# Warm-up (short) so that the first measured run does not pay for connection setup or lazy init.
BODY='{}' wrk -t1 -c8 -d1s -s "$here/post.lua" "$ce/" >/dev/null
BODY="$ofrep_ctx" wrk -t1 -c8 -d1s -s "$here/post.lua" "$sy/ofrep/v1/evaluate/flags" >/dev/null
for r in $(seq "$ROUNDS"); do
  run ceiling "$ce/" "$ofrep_ctx"
  run ceiling_layers "$cl/" "$ofrep_ctx"
  run ofrep_single "$sy/ofrep/v1/evaluate/flags/newHomeUI" "$ofrep_ctx"
  run flipt_variant "$sy/evaluate/v1/variant" "$flipt_req"
  run ofrep_bulk "$sy/ofrep/v1/evaluate/flags" "$ofrep_ctx"
done

echo
echo "| Endpoint | requests/s | p99 (ms) | % of ceiling |"
echo "|---|---|---|---|"
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
for name in ceiling ceiling_layers ofrep_single flipt_variant ofrep_bulk; do
  r=$(echo "${rps[$name]}" | median); p=$(echo "${p99[$name]}" | median)
  # The ratio is taken per round (each endpoint against the ceiling of the same round), then the median.
  pct=$(python3 -c "import statistics as s; a='${rps[$name]}'.split(); c='${rps[ceiling]}'.split(); print(f'{100*s.median(int(x)/int(y) for x,y in zip(a,c)):.0f}%')")
  echo "| $name | $r | $p | $pct |"
done
echo "(medians over $ROUNDS round(s); per-round requests/s: ceiling${rps[ceiling]}, ofrep_single${rps[ofrep_single]})"
echo
python3 "$here/latency.py" "$sy" "$repo" "$remote" bench-secret "$LATENCY_ROUNDS"
