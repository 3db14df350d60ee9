#!/usr/bin/env bash
# Client snapshots of one large namespace served from the cache (issue 12): FLAGS flags (default
# 10,000, in 10 files) served by `switchyard serve` from a real Git repository on loopback; the
# body is built once, then wrk downloads it repeatedly, plain and with `Accept-Encoding: gzip`
# (compressed once per digest), and revalidates it with `If-None-Match` (304).
#
#   benches/http/snapshot_cache.sh      # FLAGS=10000 DURATION=10s THREADS=2 CONNECTIONS=16
# Needs wrk, git, curl and python3. Binds 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
FLAGS="${FLAGS:-10000}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
command -v wrk >/dev/null || { echo "error: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
cd "$root"
[[ "${SKIP_BUILD:-0}" == 1 ]] || cargo build --release -p switchyard
bin="${CARGO_TARGET_DIR:-$root/target}/release/switchyard"

work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-snapshot-cache.XXXXXX")"
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
pids+=($!)
sy="http://127.0.0.1:$port"
for _ in $(seq 1200); do curl -fsS "$sy/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$sy/ready" >/dev/null || { cat "$work/server.log"; exit 1; }

echo "# machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average before: $(cut -d' ' -f1-3 /proc/loadavg), flags: $FLAGS"
snap="$sy/client/v2/environments/default/namespaces/default/snapshot"
timed() { curl -fsS -o /dev/null -w '%{time_total} s, %{size_download} bytes' "$@"; }
echo "first (built):           $(timed "$snap")"
echo "first gzip (compressed): $(timed -H 'Accept-Encoding: gzip' "$snap")"
etag=$(curl -fsS -D - -o /dev/null "$snap" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
load() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" "$snap" |
    awk '/Requests\/sec/ {r = $2} /Transfer\/sec/ {t = $2} /Non-2xx/ {n = $NF} END {printf "%s req/s, %s/s%s\n", r, t, n ? ", non-2xx " n : ""}'
}
echo "cached, identity:        $(load)"
echo "cached, gzip:            $(load -H 'Accept-Encoding: gzip')"
echo "revalidated (304):       $(load -H "If-None-Match: $etag")"
