#!/usr/bin/env python3
"""Fan-out at scale (issue 13): one upstream `switchyard serve` following a real Git repository
(file:// remote) and STREAMS lightweight followers, each one HTTP/1.1 connection reading
`GET /api/v1/relay/stream` as a relay does (NDJSON lines in a chunked body, decoded here).

For each of COMMITS commits: commit, `POST /api/v1/sync` on the upstream, and time the arrival
of the commit's `state` line on every stream. Figures per commit:
  - from the upstream's swap (the line's `appliedAtMs`, the upstream's clock, same machine) to
    the last stream's arrival (the target is <= 1 s for 1,000 streams);
  - from the sync request to the last arrival;
and the upstream's RSS (VmRSS) before the streams open and with all of them open, per follower.

Arrival times are taken when this single-threaded asyncio client reads the line, so a busy
client inflates them (the figure is an upper bound of the server's fan-out).

Usage: fanout.py BINARY [--streams N] [--commits N] [--json OUT] [--max-all-ms MS]
Ends with `fanout: N passed, M failed`.
"""
import argparse, asyncio, json, os, resource, shutil, statistics, subprocess, sys
import tempfile, time, urllib.request

from common import check, flags, free_port, results

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--streams", type=int, default=1000)
ap.add_argument("--commits", type=int, default=20)
ap.add_argument("--json")
ap.add_argument("--max-all-ms", type=float, default=None,
                help="fail when a commit takes longer than this to reach every stream")
args = ap.parse_args()

TOKEN = "fanout-admin-token-0123456789abcdef"
WAIT = 60.0
work = tempfile.mkdtemp(prefix="fanout-")


def git(*a):
    return subprocess.run(["git", "-c", "user.name=fanout", "-c", "user.email=fanout@example.com", *a],
                          cwd=tree, check=True, capture_output=True, text=True).stdout.strip()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def http(method, path, timeout=10):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 headers={"Authorization": f"Bearer {TOKEN}"}, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def commit(n):
    with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
        f.write(flags(n))
    git("commit", "-q", "-am", f"commit {n}")
    git("push", "-q", "origin", "main")
    return git("rev-parse", "HEAD")


# Every stream needs a descriptor here; the upstream fits its own limit to `ulimit -n`.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
need = args.streams + 256
if soft < need:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

bare, tree = os.path.join(work, "flags.git"), os.path.join(work, "tree")
subprocess.run(["git", "init", "-q", "--bare", "-b", "main", bare], check=True)
subprocess.run(["git", "init", "-q", "-b", "main", tree], check=True)
os.makedirs(os.path.join(tree, "default"))
with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
    f.write(flags(0))
git("add", "-A")
git("commit", "-q", "-m", "commit 0")
git("remote", "add", "origin", "file://" + bare)
git("push", "-q", "origin", "main")

port = free_port()
cfg = os.path.join(work, "upstream.yml")
with open(cfg, "w") as f:
    f.write(f"""storage:
  default:
    remote: file://{bare}
    branch: main
    poll_interval: 1h
environments:
  default:
    storage: default
    default: true
authentication:
  methods:
    token:
      enabled: true
      storage:
        tokens:
          admin:
            credential: {TOKEN}
server:
  host: 127.0.0.1
  http_port: {port}
""")
log = open(os.path.join(work, "upstream.log"), "w")
upstream = subprocess.Popen([args.binary, "serve", "--config", cfg], stdout=log, stderr=log,
                            env={**os.environ, "RUST_LOG": "warn"})


class Follower:
    """One relay stream: the arrival time of each label's `state` line."""

    def __init__(self):
        self.arrivals = {}
        self.error = None
        self.task = None

    async def run(self, opened):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
            writer.write((f"GET /api/v1/relay/stream?environments=default HTTP/1.1\r\n"
                          f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200") or b"chunked" not in head.lower():
                raise RuntimeError(f"unexpected answer: {head[:200]!r}")
            pending = b""
            first = True
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    raise RuntimeError("the upstream ended the stream")
                chunk = await reader.readexactly(size + 2)
                now = time.time()
                pending += chunk[:-2]
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    msg = json.loads(line)
                    if msg.get("type") in ("state", "current"):
                        self.arrivals.setdefault(msg["label"], (now, msg.get("appliedAtMs")))
                        if first:
                            first = False
                            opened.release()
        except Exception as e:  # recorded and reported as a failed check
            self.error = repr(e)
            opened.release()


async def main():
    figures = {"streams": args.streams, "commits": args.commits}
    deadline = time.monotonic() + WAIT
    while True:
        try:
            if http("GET", "/ready")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            check(False, "upstream ready")
            return figures
        await asyncio.sleep(0.05)
    check(True, "upstream ready")
    await asyncio.sleep(0.5)
    rss0 = rss_kib(upstream.pid)
    followers = [Follower() for _ in range(args.streams)]
    opened = asyncio.Semaphore(0)
    start = time.monotonic()
    for i, fo in enumerate(followers):
        fo.task = asyncio.create_task(fo.run(opened))
        if i % 100 == 99:
            await asyncio.sleep(0)  # let the connections start before opening more
    for _ in followers:
        await asyncio.wait_for(opened.acquire(), timeout=WAIT)
    errors = [fo.error for fo in followers if fo.error]
    check(not errors, f"{args.streams} relay streams open, each with the served state "
                      f"({time.monotonic() - start:.2f} s; errors: {errors[:3]})")
    await asyncio.sleep(1.0)
    rss1 = rss_kib(upstream.pid)
    figures.update({"upstream_rss_kib_idle": rss0, "upstream_rss_kib_with_streams": rss1,
                    "upstream_rss_kib_per_stream": round((rss1 - rss0) / args.streams, 1)})
    from_swap, from_request, missing = [], [], 0
    for n in range(1, args.commits + 1):
        sha = await asyncio.to_thread(commit, n)
        requested = time.time()
        await asyncio.to_thread(http, "POST", "/api/v1/sync")
        until = time.monotonic() + 20
        while time.monotonic() < until and not all(sha in fo.arrivals for fo in followers):
            await asyncio.sleep(0.005)
        got = [fo.arrivals[sha] for fo in followers if sha in fo.arrivals]
        missing += args.streams - len(got)
        if len(got) == args.streams:
            last = max(t for t, _ in got)
            applied = got[0][1] / 1000.0 if got[0][1] else None
            if applied is not None:
                from_swap.append(last - applied)
            from_request.append(last - requested)
        await asyncio.sleep(0.2)
    errors = [fo.error for fo in followers if fo.error]
    check(missing == 0 and not errors,
          f"every commit reached all {args.streams} streams ({missing} missing; errors: {errors[:3]})")
    rss2 = rss_kib(upstream.pid)
    ms = lambda xs, q: round(statistics.quantiles(xs, n=100, method="inclusive")[q - 1] * 1000, 1) if len(xs) >= 2 else (round(xs[0] * 1000, 1) if xs else None)
    figures.update({
        "all_streams_from_swap_ms_p50": ms(from_swap, 50), "all_streams_from_swap_ms_max": round(max(from_swap) * 1000, 1) if from_swap else None,
        "all_streams_from_sync_request_ms_p50": ms(from_request, 50),
        "all_streams_from_sync_request_ms_max": round(max(from_request) * 1000, 1) if from_request else None,
        "upstream_rss_kib_after_commits": rss2,
    })
    if args.max_all_ms is not None and from_swap:
        worst = max(from_swap) * 1000
        check(worst <= args.max_all_ms, f"every commit on every stream within {args.max_all_ms:.0f} ms of the swap (worst {worst:.1f} ms)")
    for fo in followers:
        fo.task.cancel()
    return figures


try:
    figures = asyncio.run(main())
    print("figures: " + json.dumps(figures), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
finally:
    upstream.kill()
    upstream.wait()
    if results["failed"]:
        print(f"logs kept in {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"fanout: {results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(1 if results["failed"] else 0)
