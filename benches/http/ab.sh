#!/usr/bin/env bash
# Two Switchyard binaries side by side with the ceiling, in alternating rounds on one machine
# state: OFREP single flag and Flipt /evaluate/v1/variant, each round ceiling → A → B.
#
#   benches/http/ab.sh OLD_BINARY NEW_BINARY        # ROUNDS=3 DURATION=5s THREADS=2 CONNECTIONS=64
#
# Build the two binaries first (e.g. `git worktree add /tmp/old <commit>` and
# `CARGO_TARGET_DIR=target cargo build --release -p switchyard` there, copying the binary aside).
# The ceiling is this checkout's `target/release/examples/ceiling`. Needs wrk, git, python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
[[ $# -eq 2 ]] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
a="$1" b="$2"
DURATION="${DURATION:-5s}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-64}" ROUNDS="${ROUNDS:-3}"
ceiling="${CARGO_TARGET_DIR:-$root/target}/release/examples/ceiling"
command -v wrk >/dev/null || { echo "error: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
for f in "$a" "$b" "$ceiling"; do [[ -x "$f" ]] || { echo "error: $f is not an executable" >&2; exit 2; }; done

work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-ab.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

mkdir -p "$work/repo/default"
python3 "$here/gen_flags.py" "$work/repo/default/features.yml" 60 >/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
git -C "$work/repo" init -q -b main && git -C "$work/repo" add . && git -C "$work/repo" commit -qm "bench flags"
cat > "$work/switchyard.yml" <<YAML
storage:
  default: { remote: "file://$work/repo", branch: main, poll_interval: 30s }
environments:
  default: { storage: default, default: true }
YAML
ce_port=$(free_port); "$ceiling" "127.0.0.1:$ce_port" >"$work/ceiling.log" 2>&1 & pids+=($!)
a_port=$(free_port); "$a" serve --config "$work/switchyard.yml" --listen "127.0.0.1:$a_port" >"$work/a.log" 2>&1 & pids+=($!)
b_port=$(free_port); "$b" serve --config "$work/switchyard.yml" --listen "127.0.0.1:$b_port" >"$work/b.log" 2>&1 & pids+=($!)
for port in "$a_port" "$b_port"; do
  for _ in $(seq 200); do curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.05; done
  curl -fsS "http://127.0.0.1:$port/ready" >/dev/null || { cat "$work"/*.log; exit 1; }
done
curl -fs -o /dev/null -XPOST "http://127.0.0.1:$ce_port/" || { cat "$work/ceiling.log"; exit 1; }

ofrep='{"context":{"targetingKey":"user-1","plan":"premium","country":"de","age":"30"}}'
flipt='{"namespaceKey":"default","flagKey":"checkoutExperiment","entityId":"user-1","context":{"plan":"enterprise","country":"de","age":"30"}}'
echo "# machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# A=$a B=$b; wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
load() { # name path body port
  BODY="$3" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$here/post.lua" "http://127.0.0.1:$4$2" | grep '^RESULT' | sed "s/^RESULT/$1/"
}
out="$work/results"
for r in $(seq "$ROUNDS"); do
  load "round=$r ceiling" / '{}' "$ce_port" | tee -a "$out"
  load "round=$r ofrep_single A" /ofrep/v1/evaluate/flags/checkoutExperiment "$ofrep" "$a_port" | tee -a "$out"
  load "round=$r ofrep_single B" /ofrep/v1/evaluate/flags/checkoutExperiment "$ofrep" "$b_port" | tee -a "$out"
  load "round=$r flipt_variant A" /evaluate/v1/variant "$flipt" "$a_port" | tee -a "$out"
  load "round=$r flipt_variant B" /evaluate/v1/variant "$flipt" "$b_port" | tee -a "$out"
done
python3 - "$out" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"round=\d+ (.+?) requests=.* rps=(\d+) .* errors=(\d+) non2xx=(\d+)", line)
    if m:
        rows.setdefault(m[1], []).append(int(m[2]))
        if m[3] != "0" or m[4] != "0":
            print(f"warning: {m[1]} had errors: {line.strip()}")
ceiling = statistics.median(rows.pop("ceiling"))
print("| Endpoint | binary | requests/s per round | median | % of ceiling |")
print("|---|---|---|---|---|")
print(f"| ceiling | | | {ceiling:.0f} | 100 % |")
for name, v in rows.items():
    endpoint, binary = name.rsplit(" ", 1)
    med = statistics.median(v)
    print(f"| {endpoint} | {binary} | {' / '.join(str(x) for x in v)} | {med:.0f} | {100 * med / ceiling:.1f} % |")
PY
