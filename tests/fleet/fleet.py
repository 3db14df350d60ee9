#!/usr/bin/env python3
"""A fleet on loopback: one upstream `switchyard serve` following a real Git repository
(file:// remote), RELAYS relays (`serve --upstream`) behind a real HAProxy; steady load through
the balancer; COMMITS pushes each announced by a signed GitHub webhook sent to the balancer; then
a rolling restart (SIGTERM, restart) of every relay under load.

Every response's X-Switchyard-Commit and X-Switchyard-Replica (set by HAProxy) is recorded.
Checks: every commit reaches every relay; no response after convergence on a commit older than
the newest the balancer has served; no failed request, also during the rolling restart.
Prints the figures and ends with `fleet: N passed, M failed`.

Usage: fleet.py BINARY [--commits N] [--relays N] [--restarts] [--json OUT]
"""
import argparse, hashlib, hmac, http.client, json, os, signal, socket, statistics, subprocess
import sys, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--commits", type=int, default=10)
ap.add_argument("--relays", type=int, default=3)
ap.add_argument("--threads", type=int, default=4)
ap.add_argument("--json")
args = ap.parse_args()

SECRET = "fleet-webhook-secret-0123456789"
TOKEN = "fleet-admin-token-0123456789abcdef"
WAIT = 60.0
work = tempfile.mkdtemp(prefix="fleet-")
procs = []
results = {"passed": 0, "failed": 0}


def check(ok, what):
    results["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*a, cwd):
    subprocess.run(["git", "-c", "user.name=fleet", "-c", "user.email=fleet@example.com", *a],
                   cwd=cwd, check=True, capture_output=True)


def flags(n):
    return ("version: \"1.4\"\nnamespace: default\nflags:\n  - key: f\n    name: F\n"
            f"    description: \"commit {n}\"\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n"
            f"  - key: n{n % 7}\n    name: N\n    type: BOOLEAN_FLAG_TYPE\n    enabled: false\n")


def get(port, path, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        c.close()


def wait_until(what, cond, within=WAIT):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if cond():
                return True
        except OSError:
            pass
        time.sleep(0.02)
    print(f"timed out: {what}", flush=True)
    return False


def start(name, config, extra=()):
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen([args.binary, "serve", "--config", config, *extra],
                         stdout=log, stderr=log, env={**os.environ, "RUST_LOG": "info"})
    procs.append(p)
    return p


# the Git repository: a bare remote and a work tree that pushes to it
bare, tree = os.path.join(work, "flags.git"), os.path.join(work, "tree")
subprocess.run(["git", "init", "-q", "--bare", "-b", "main", bare], check=True)
subprocess.run(["git", "init", "-q", "-b", "main", tree], check=True)
os.makedirs(os.path.join(tree, "default"))
with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
    f.write(flags(0))
git("add", "-A", cwd=tree)
git("commit", "-q", "-m", "commit 0", cwd=tree)
git("remote", "add", "origin", "file://" + bare, cwd=tree)
git("push", "-q", "origin", "main", cwd=tree)
order = [subprocess.run(["git", "rev-parse", "HEAD"], cwd=tree, capture_output=True,
                        text=True).stdout.strip()]

up_port = free_port()
up_cfg = os.path.join(work, "upstream.yml")
with open(up_cfg, "w") as f:
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
  exclude:
    evaluation: true
  methods:
    token:
      enabled: true
      storage:
        tokens:
          admin:
            credential: {TOKEN}
server:
  host: 127.0.0.1
  http_port: {up_port}
  shutdown_delay: 1s
webhooks:
  github:
    secret: {SECRET}
""")
start("upstream", up_cfg)
relay_ports = [free_port() for _ in range(args.relays)]
relay_cfgs = []
for i, port in enumerate(relay_ports):
    path = os.path.join(work, f"relay{i}.yml")
    with open(path, "w") as f:
        f.write(f"""upstream:
  url: http://127.0.0.1:{up_port}
  token: {TOKEN}
server:
  host: 127.0.0.1
  http_port: {port}
  shutdown_delay: 1s
  shutdown_grace_period: 5s
""")
    relay_cfgs.append(path)
relays = [start(f"relay{i}", c) for i, c in enumerate(relay_cfgs)]

lb_port = free_port()
lb_cfg = os.path.join(work, "haproxy.cfg")
servers = "\n".join(
    f"  server relay{i} 127.0.0.1:{p} check inter 100ms fall 2 rise 1" for i, p in enumerate(relay_ports))
with open(lb_cfg, "w") as f:
    f.write(f"""global
  maxconn 2000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout
frontend fleet
  bind 127.0.0.1:{lb_port}
  default_backend relays
backend relays
  balance roundrobin
  option httpchk GET /ready
  http-check expect status 200
  http-response set-header X-Switchyard-Replica %s
{servers}
""")
lb = subprocess.Popen(["haproxy", "-f", lb_cfg, "-db"], stdout=open(os.path.join(work, "haproxy.log"), "w"),
                      stderr=subprocess.STDOUT)
procs.append(lb)


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


try:
    ok = wait_until("upstream ready", lambda: get(up_port, "/ready")[0] == 200)
    ok = ok and all(wait_until(f"relay {i} ready", lambda p=p: get(p, "/ready")[0] == 200)
                    for i, p in enumerate(relay_ports))
    ok = ok and wait_until("balancer serves", lambda: get(lb_port, "/ready")[0] == 200)
    check(ok, "upstream, relays and balancer ready")
    if not ok:
        raise SystemExit(1)

    # steady load through the balancer
    stop = threading.Event()
    records = []  # (sent, received, replica, commit index or -1, ok)
    lock = threading.Lock()
    index = {sha: i for i, sha in enumerate(order)}
    body = b'{"context":{"targetingKey":"user-1"}}'

    def load():
        conn = None
        while not stop.is_set():
            sent = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", lb_port, timeout=10)
                conn.request("POST", "/ofrep/v1/evaluate/flags/f", body,
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                rec = (sent, time.monotonic(), r.getheader("X-Switchyard-Replica", "?"),
                       r.getheader("X-Switchyard-Commit", ""), r.status == 200)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                rec = (sent, time.monotonic(), "?", "", False)
                print(f"request failed: {e!r}", flush=True)
                conn = None
            with lock:
                records.append(rec)

    threads = [threading.Thread(target=load, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()

    # the upstream's swap times, watched directly
    up_seen = {}

    def watch_upstream():
        c = None
        while not stop.is_set():
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", up_port, timeout=10)
                c.request("POST", "/ofrep/v1/evaluate/flags/f", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                sha = r.getheader("X-Switchyard-Commit", "")
                if sha and sha not in up_seen:
                    up_seen[sha] = time.monotonic()
            except (OSError, http.client.HTTPException):
                c = None
    threading.Thread(target=watch_upstream, daemon=True).start()

    def push(n):
        with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
            f.write(flags(n))
        git("commit", "-q", "-am", f"commit {n}", cwd=tree)
        git("push", "-q", "origin", "main", cwd=tree)
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tree, capture_output=True,
                             text=True).stdout.strip()
        order.append(sha)
        index[sha] = len(order) - 1
        payload = json.dumps({"ref": "refs/heads/main", "after": sha,
                              "repository": {"clone_url": "file://" + bare, "full_name": "local/flags"}}).encode()
        sig = "sha256=" + hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
        c = http.client.HTTPConnection("127.0.0.1", lb_port, timeout=10)
        c.request("POST", "/api/v1/webhooks/github", payload,
                  {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": sig})
        r = c.getresponse()
        r.read()
        c.close()
        return sha, r.status

    time.sleep(0.5)  # steady load before the first push (not a synchronisation)
    statuses = []
    for n in range(1, args.commits + 1):
        sha, status = push(n)
        statuses.append(status)
        # the next push once the upstream serves this one
        wait_until(f"upstream serves commit {n}", lambda: sha in up_seen, within=20)
    check(all(200 <= s < 300 for s in statuses), f"webhooks through the balancer accepted ({set(statuses)})")
    newest = order[-1]
    def _commit(port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("POST", "/ofrep/v1/evaluate/flags/f", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read(); c.close()
        return r.getheader("X-Switchyard-Commit")
    converged = all(wait_until(f"relay {i} serves the last commit", lambda p=p: _commit(p) == newest, within=20)
                    for i, p in enumerate(relay_ports))
    check(converged, f"all {args.relays} relays serve the last of {args.commits} commits")
    time.sleep(0.3)  # a little load on the converged fleet (not a synchronisation)

    with lock:
        recs = list(records)
    replicas = sorted({r[2] for r in recs if r[4]})
    # per commit and replica: the first response from it
    first = {}
    for sent, recv, rep, sha, ok_ in recs:
        if ok_ and sha in index:
            first.setdefault((index[sha], rep), recv)
    lags, missing = [], 0
    for k in range(1, len(order)):
        times = [first.get((k, rep)) for rep in replicas]
        if None in times or order[k] not in up_seen:
            missing += 1  # a commit some replica never answered with (superseded at once)
            continue
        lags.append(max(0.0, max(times) - up_seen[order[k]]))
    # stale: a response from a commit older than one every replica already answered with
    converged_at = {}
    for k in range(len(order)):
        times = [first.get((k, rep)) for rep in replicas]
        if None not in times:
            converged_at[k] = max(times)
    stale = 0
    for sent, recv, rep, sha, ok_ in recs:
        if ok_ and sha in index:
            newer = [k for k, t in converged_at.items() if t < sent and k > index[sha]]
            stale += bool(newer)
    failed_load = sum(1 for r in recs if not r[4])
    per_replica = {rep: sum(1 for r in recs if r[2] == rep) for rep in replicas}
    p = lambda q: (statistics.quantiles(lags, n=100, method="inclusive")[q - 1] if len(lags) >= 2 else (lags[0] if lags else float("nan")))
    figures = {
        "commits": args.commits, "relays": args.relays, "responses": len(recs),
        "responses_per_replica": per_replica,
        "commits_seen_on_every_replica": len(lags), "commits_superseded_before_every_replica_answered": missing,
        "lag_ms_p50": round(p(50) * 1000, 1), "lag_ms_p99": round(p(99) * 1000, 1),
        "lag_ms_max": round(max(lags) * 1000, 1) if lags else None,
        "stale_after_convergence": stale, "failed_requests_during_pushes": failed_load,
    }
    print("figures: " + json.dumps(figures), flush=True)
    check(len(replicas) == args.relays, f"every relay answered through the balancer ({replicas})")
    check(stale == 0, f"no response from an older commit after convergence ({stale})")
    check(failed_load == 0, f"no failed request during the pushes ({failed_load})")

    # rolling restart of every relay under load
    with lock:
        before = len(records)
    restart_ok = True
    for i, port in enumerate(relay_ports):
        relays[i].send_signal(signal.SIGTERM)
        try:
            code = relays[i].wait(timeout=20)
        except subprocess.TimeoutExpired:
            code = None
        restart_ok &= code == 0
        check(code == 0, f"relay {i} exits 0 on SIGTERM ({code})")
        relays[i] = start(f"relay{i}-restarted", relay_cfgs[i])
        restart_ok &= wait_until(f"relay {i} ready again", lambda p=port: get(p, "/ready")[0] == 200)
        # HAProxy sees it up again before the next one goes down
        time.sleep(0.3)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    with lock:
        during = records[before:]
    failed_restart = sum(1 for r in during if not r[4])
    figures.update({"restart_responses": len(during), "failed_requests_during_rolling_restart": failed_restart})
    print("figures: " + json.dumps(figures), flush=True)
    check(restart_ok, "every relay restarted and ready")
    check(failed_restart == 0 and len(during) > 0,
          f"no failed request during the rolling restart ({failed_restart} of {len(during)})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
finally:
    cleanup()
    if results["failed"]:
        print(f"logs kept in {work}", flush=True)
    print(f"fleet: {results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(1 if results["failed"] else 0)
