#!/usr/bin/env python3
"""Upstream killed and restarted (issue 13): one upstream (`local` backend) following a real Git
repository (file:// remote) and RELAYS relays (`local` backend). ROUNDS times: SIGKILL the
upstream, wait DOWN seconds (the relays' reconnection back-off reaches its longest delay),
push a commit, start the upstream again on the same address, and time
  - `return`: the upstream answers /health again;
  - `upstream serves`: it serves the new commit (X-Switchyard-Commit);
  - each relay serves the new commit.
While the upstream is down every relay must keep answering from its last good commit.
Figures: catch-up of the last relay after the return, and after the upstream serves the commit
(p50, max); the target is within 1 s of the return.

Usage: restart.py BINARY [--relays 3] [--rounds 10] [--down 3] [--json OUT] [--max-ms MS]
Ends with `restart: N passed, M failed`.
"""
import argparse, json, os, shutil, signal, statistics, subprocess, sys, tempfile
import threading, time, http.client

from common import check, flags, free_port, results

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--relays", type=int, default=3)
ap.add_argument("--rounds", type=int, default=10)
ap.add_argument("--down", type=float, default=3.0)
ap.add_argument("--json")
ap.add_argument("--max-ms", type=float, default=None,
                help="fail when the last relay catches up later than this after the return")
args = ap.parse_args()

TOKEN = "restart-admin-token-0123456789abcdef"
work = tempfile.mkdtemp(prefix="restart-")
procs = []
BODY = b'{"context":{"targetingKey":"u"}}'


def git(*a):
    return subprocess.run(["git", "-c", "user.name=restart", "-c", "user.email=restart@example.com", *a],
                          cwd=tree, check=True, capture_output=True, text=True).stdout.strip()


def commit_of(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("POST", "/ofrep/v1/evaluate/flags/f", BODY,
                  {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        r = c.getresponse()
        r.read()
        return r.getheader("X-Switchyard-Commit") if r.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


def healthy(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        c.request("GET", "/health")
        return c.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        c.close()


def first_time(cond, within=20.0, step=0.002):
    """The monotonic time `cond` first held, or None."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if cond():
            return time.monotonic()
        time.sleep(step)
    return None


def start(name, config):
    log = open(os.path.join(work, name + ".log"), "a")
    p = subprocess.Popen([args.binary, "serve", "--config", config], stdout=log, stderr=log,
                         env={**os.environ, "RUST_LOG": "info"})
    procs.append(p)
    return p


AUTH = f"""authentication:
  methods:
    token:
      enabled: true
      storage:
        tokens:
          admin:
            credential: {TOKEN}
"""

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

up_port = free_port()
up_cfg = os.path.join(work, "upstream.yml")
with open(up_cfg, "w") as f:
    f.write(f"""storage:
  default:
    remote: file://{bare}
    branch: main
    poll_interval: 1s
    backend:
      type: local
      path: {work}/upstream-data
environments:
  default:
    storage: default
    default: true
{AUTH}server:
  host: 127.0.0.1
  http_port: {up_port}
""")
relay_ports = [free_port() for _ in range(args.relays)]
for i, port in enumerate(relay_ports):
    with open(os.path.join(work, f"relay{i}.yml"), "w") as f:
        f.write(f"""upstream:
  url: http://127.0.0.1:{up_port}
  token: {TOKEN}
  backend:
    type: local
    path: {work}/relay{i}-data
{AUTH}server:
  host: 127.0.0.1
  http_port: {port}
""")

try:
    upstream = start("upstream", up_cfg)
    relays = [start(f"relay{i}", os.path.join(work, f"relay{i}.yml")) for i in range(args.relays)]
    head = git("rev-parse", "HEAD")
    ok = all(first_time(lambda p=p: commit_of(p) == head, within=60) for p in [up_port, *relay_ports])
    check(ok, f"upstream and {args.relays} relays serve the first commit")
    if not ok:
        raise SystemExit(1)
    from_return, from_serving, served_while_down = [], [], True
    for n in range(1, args.rounds + 1):
        upstream.send_signal(signal.SIGKILL)
        upstream.wait()
        time.sleep(args.down)
        served_while_down &= all(commit_of(p) == head for p in relay_ports)
        with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
            f.write(flags(n))
        git("commit", "-q", "-am", f"commit {n}")
        git("push", "-q", "origin", "main")
        head = git("rev-parse", "HEAD")
        caught = [None] * args.relays
        watchers = [threading.Thread(target=lambda i=i, p=p: caught.__setitem__(i, first_time(lambda: commit_of(p) == head)))
                    for i, p in enumerate(relay_ports)]
        for w in watchers:
            w.start()
        upstream = start("upstream", up_cfg)
        returned = first_time(lambda: healthy(up_port))
        up_serves = first_time(lambda: commit_of(up_port) == head)
        for w in watchers:
            w.join()
        if None in caught or returned is None or up_serves is None:
            print(f"round {n}: returned {returned}, upstream serves {up_serves}, relays {caught}", flush=True)
            from_return.append(float("inf"))
            continue
        last = max(caught)
        from_return.append(last - returned)
        from_serving.append(max(0.0, last - up_serves))
        print(f"round {n}: upstream back (health) -> serves the new commit {1000 * (up_serves - returned):.0f} ms, "
              f"last relay {1000 * (last - returned):.0f} ms after the return", flush=True)
    check(served_while_down, "every relay kept serving its last good commit while the upstream was down")
    finite = [x for x in from_return if x != float("inf")]
    check(len(finite) == args.rounds, f"every relay caught up in every round ({len(finite)} of {args.rounds})")
    ms = lambda xs, q: round(statistics.quantiles(xs, n=100, method="inclusive")[q - 1] * 1000, 1) if len(xs) >= 2 else (round(xs[0] * 1000, 1) if xs else None)
    figures = {"relays": args.relays, "rounds": args.rounds, "down_s": args.down,
               "catch_up_after_return_ms_p50": ms(finite, 50),
               "catch_up_after_return_ms_max": round(max(finite) * 1000, 1) if finite else None,
               "catch_up_after_upstream_serves_ms_p50": ms(from_serving, 50),
               "catch_up_after_upstream_serves_ms_max": round(max(from_serving) * 1000, 1) if from_serving else None}
    if args.max_ms is not None and finite:
        check(max(finite) * 1000 <= args.max_ms, f"the last relay caught up within {args.max_ms:.0f} ms of the return "
                                                 f"in every round (worst {max(finite) * 1000:.0f} ms)")
    print("figures: " + json.dumps(figures), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if results["failed"]:
        print(f"logs kept in {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"restart: {results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(1 if results["failed"] else 0)
