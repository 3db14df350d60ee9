#!/usr/bin/env bash
# The cost of OpenTelemetry on the request path: OFREP single flag with tracing off against the
# same server with OTEL_* configured (OTLP/gRPC to a real receiver on loopback) and the request
# sampler at ratio 0, traces and metrics on (`otel_ratio0`) and traces alone
# (`traces_ratio0`, OTEL_METRICS_EXPORTER=none), side by side in one run, the order rotating.
#
#   benches/http/otel.sh        # DURATION=10s THREADS=2 CONNECTIONS=64 ROUNDS=3 FLAGS=60
# Needs wrk, git, python3 and the receiver's venv (tests/otel/run.sh makes it). Binds 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
ROUNDS="${ROUNDS:-3}"
FLAGS="${FLAGS:-60}"
command -v wrk >/dev/null || { echo "error: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
venv_py="$root/tests/otel/.venv/bin/python"
[[ -x "$venv_py" ]] || { echo "error: run tests/otel/run.sh once to create the receiver's venv" >&2; exit 2; }
cd "$root"
[[ "${SKIP_BUILD:-0}" == 1 ]] || cargo build --release -p switchyard
bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/switchyard}"

work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-otel-bench.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

repo="$work/flags-repo"
mkdir -p "$repo/default"
python3 "$here/gen_flags.py" "$repo/default/features.yml" "$FLAGS"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
git -C "$repo" init -q -b main && git -C "$repo" add . && git -C "$repo" commit -qm "bench flags"
cat > "$work/switchyard.yml" <<YAML
storage:
  default:
    remote: "file://$repo"
    branch: main
    poll_interval: 30s
environments:
  default: { storage: default, default: true }
YAML

# the receiver: OTLP/gRPC, counting what arrives
rx_port=$(free_port)
cat > "$work/rx.py" <<PY
import sys, time, signal
sys.path.insert(0, "$root/tests/otel")
from receiver import Receiver
r = Receiver(); s = r.start_grpc($rx_port)
def done(*_):
    spans, points = r.snapshot()
    names = sorted({x["name"] for x in spans})
    print(f"receiver: {len(spans)} spans ({', '.join(names)}), {len(points)} metric points", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True: time.sleep(1)
PY
"$venv_py" "$work/rx.py" >"$work/rx.log" 2>&1 &
rx_pid=$!
pids+=($rx_pid)

off_port=$(free_port); on_port=$(free_port); tr_port=$(free_port)
env -u OTEL_EXPORTER_OTLP_ENDPOINT "$bin" serve --config "$work/switchyard.yml" --listen "127.0.0.1:$off_port" >"$work/off.log" 2>&1 &
pids+=($!)
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$rx_port" OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
  OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0 OTEL_METRIC_EXPORT_INTERVAL=5000 \
  "$bin" serve --config "$work/switchyard.yml" --listen "127.0.0.1:$on_port" >"$work/on.log" 2>&1 &
pids+=($!)
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$rx_port" OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_METRICS_EXPORTER=none \
  OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0 \
  "$bin" serve --config "$work/switchyard.yml" --listen "127.0.0.1:$tr_port" >"$work/traces.log" 2>&1 &
pids+=($!)
for port in $off_port $on_port $tr_port; do
  for _ in $(seq 200); do curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.05; done
  curl -fsS "http://127.0.0.1:$port/ready" >/dev/null || { cat "$work"/*.log; exit 1; }
done
ctx='{"context":{"targetingKey":"user-1","plan":"premium","country":"de","age":"30"}}'
echo "# machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# wrk -t$THREADS -c$CONNECTIONS -d$DURATION, POST /ofrep/v1/evaluate/flags/newHomeUI, $ROUNDS alternating rounds"
declare -A rps
run() { # name port
  local out line
  out=$(BODY="$ctx" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$here/post.lua" "http://127.0.0.1:$2/ofrep/v1/evaluate/flags/newHomeUI")
  line=$(grep '^RESULT' <<<"$out")
  echo "$1 $line"
  grep -q 'non2xx=0' <<<"$line" || { echo "error: non-2xx responses for $1" >&2; exit 1; }
  rps[$1]="${rps[$1]:-} $(sed -E 's/.* rps=([0-9]+).*/\1/' <<<"$line")"
}
BODY="$ctx" wrk -t1 -c8 -d1s -s "$here/post.lua" "http://127.0.0.1:$off_port/ofrep/v1/evaluate/flags/newHomeUI" >/dev/null
BODY="$ctx" wrk -t1 -c8 -d1s -s "$here/post.lua" "http://127.0.0.1:$on_port/ofrep/v1/evaluate/flags/newHomeUI" >/dev/null
BODY="$ctx" wrk -t1 -c8 -d1s -s "$here/post.lua" "http://127.0.0.1:$tr_port/ofrep/v1/evaluate/flags/newHomeUI" >/dev/null
for r in $(seq "$ROUNDS"); do
  case $((r % 3)) in
    1) run off "$off_port"; run otel_ratio0 "$on_port"; run traces_ratio0 "$tr_port" ;;
    2) run otel_ratio0 "$on_port"; run traces_ratio0 "$tr_port"; run off "$off_port" ;;
    0) run traces_ratio0 "$tr_port"; run off "$off_port"; run otel_ratio0 "$on_port" ;;
  esac
done
python3 - "${rps[off]}" "${rps[otel_ratio0]}" "${rps[traces_ratio0]}" <<'PY'
import statistics, sys
off, on, tr = ([int(x) for x in a.split()] for a in sys.argv[1:4])
m_off = statistics.median(off)
print(f"| tracing off | {m_off:.0f} req/s | rounds {off} |")
for name, v in (("OTEL configured, ratio 0, traces and metrics", on), ("OTEL configured, ratio 0, traces only", tr)):
    m = statistics.median(v)
    print(f"| {name} | {m:.0f} req/s ({100 * (m - m_off) / m_off:+.1f} %) | rounds {v} |")
PY
kill -TERM "$rx_pid"; wait "$rx_pid" 2>/dev/null || true
cat "$work/rx.log"
grep -q "OpenTelemetry on" "$work/on.log" || { echo "error: the OTel server did not start OpenTelemetry" >&2; exit 1; }
