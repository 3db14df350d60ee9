#!/usr/bin/env bash
# Large snapshots (issue 10 item 5, server half): one namespace of FLAGS flags (default 50,000,
# in 10 files), served by `switchyard serve` from a real Git repository on loopback. Measures
#   - a client snapshot: the first download (built once) and a cached one, first, so that the
#     peak RSS printed after it is the snapshot build's
#   - GET /api/v1/namespaces/default/flags: everything, and one page of 100 (`limit`)
#   - p99 of a small evaluation (POST /evaluate/v1/boolean, wrk -c4) alone, and while DOWNLOADS
#     clients download the whole snapshot in a loop
#   - the server's peak and current RSS (after the first snapshot, the listings and at the end)
#
#   benches/http/large.sh          # FLAGS=50000 DOWNLOADS=10 DURATION=10s RATE_MBPS=0
# RATE_MBPS > 0 makes each downloader read at most that many MB/s (a client on a real network);
# 0 reads as fast as loopback allows (the downloaders then compete with the server for the CPU).
# Needs wrk, git, curl and python3. Binds 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
FLAGS="${FLAGS:-50000}"
DOWNLOADS="${DOWNLOADS:-10}"
DURATION="${DURATION:-10s}"
RATE_MBPS="${RATE_MBPS:-0}"
command -v wrk >/dev/null || { echo "error: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
cd "$root"
[[ "${SKIP_BUILD:-0}" == 1 ]] || cargo build --release -p switchyard
bin="${CARGO_TARGET_DIR:-$root/target}/release/switchyard"

work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-large.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

repo="$work/repo"
python3 "$here/gen_large.py" "$repo" "$FLAGS" 10
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
git -C "$repo" init -q -b main && git -C "$repo" add . && git -C "$repo" commit -qm "large flags"
cat > "$work/switchyard.yml" <<YAML
storage:
  default: { remote: "file://$repo", branch: main, poll_interval: 30s }
environments:
  default: { storage: default, default: true }
YAML
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$bin" serve --config "$work/switchyard.yml" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
pids+=($pid)
sy="http://127.0.0.1:$port"
for _ in $(seq 1200); do curl -fsS "$sy/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$sy/ready" >/dev/null || { cat "$work/server.log"; exit 1; }

echo "# machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average before: $(cut -d' ' -f1-3 /proc/loadavg), flags: $FLAGS"
rss() { awk '/VmHWM|VmRSS/ {printf "%s %d MiB  ", $1, $2/1024}' "/proc/$pid/status"; echo; }
echo "rss after start: $(rss)"
timed() { curl -fsS -o /dev/null -w '%{time_total} s, %{size_download} bytes' "$@"; }
snap="$sy/client/v2/environments/default/namespaces/default/snapshot"
echo "snapshot, first:         $(timed "$snap")"
echo "rss after the first snapshot: $(rss)"
echo "snapshot, cached:        $(timed "$snap")"
echo "flags, all:              $(timed "$sy/api/v1/namespaces/default/flags")"
echo "flags, limit=100:        $(timed "$sy/api/v1/namespaces/default/flags?limit=100")"
echo "rss after the flag listings: $(rss)"
body='{"flagKey":"flag-1","entityId":"user-1","context":{"plan":"plan-1"}}'
alone=$(BODY="$body" wrk -t1 -c4 -d"$DURATION" --latency -s "$here/post.lua" "$sy/evaluate/v1/boolean" | grep '^RESULT')
echo "small evaluation alone:  $alone"
secs=${DURATION%s}
python3 - "$snap" "$DOWNLOADS" "$((secs + 2))" "$RATE_MBPS" > "$work/downloads.txt" <<'PY' &
import sys, threading, time, urllib.request
url, n, secs, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
stop = time.time() + secs
times = []
def run():
    while time.time() < stop:
        t = time.time()
        got = 0
        with urllib.request.urlopen(url) as r:
            while True:
                chunk = r.read(1 << 18)
                if not chunk:
                    break
                got += len(chunk)
                if rate > 0:
                    ahead = got / (rate * 1e6) - (time.time() - t)
                    if ahead > 0:
                        time.sleep(ahead)
        times.append(time.time() - t)
ts = [threading.Thread(target=run) for _ in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
times.sort()
print(f"{len(times)} downloads by {n} clients (rate limit {rate or 'none'} MB/s each), median {times[len(times)//2]:.2f} s, max {times[-1]:.2f} s")
PY
dl=$!
sleep 1
loaded=$(BODY="$body" wrk -t1 -c4 -d"$DURATION" --latency -s "$here/post.lua" "$sy/evaluate/v1/boolean" | grep '^RESULT')
wait "$dl"
echo "small evaluation during $DOWNLOADS snapshot downloads: $loaded"
echo "snapshot downloads:      $(cat "$work/downloads.txt")"
echo "rss at the end: $(rss)"
