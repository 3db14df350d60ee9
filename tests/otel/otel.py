#!/usr/bin/env python3
"""OpenTelemetry end to end: a real OTLP receiver (receiver.py, gRPC and HTTP/protobuf) on
loopback, the real `switchyard serve` on a real Git repository (file:// remote) with the
standard OTEL_* variables pointed at it, a real commit pushed and synced, real requests.

1. gRPC, sampler always_on: the sync attempt's trace (sync.attempt > sync.fetch, sync.read,
   sync.compile, sync.swap; environment, commit, outcome), a request span continuing the
   client's W3C traceparent with the HTTP semantic-convention attributes, the resource, and the
   metrics (evaluations, sync attempts, request durations); the access log's JSON lines.
2. HTTP/protobuf, traceidratio 0: sync traces arrive, no request span does; metrics arrive.
3. An invalid OTEL_* value stops the start with a precise error (exit 2).
4. A 5xx answer is logged with its request id and cause.

Ends with `otel: N passed, M failed`.  Usage: otel.py BINARY
"""
import http.client, json, os, re, socket, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from receiver import Receiver  # noqa: E402

BIN = sys.argv[1]
work = tempfile.mkdtemp(prefix="otel-")
procs = []
results = {"passed": 0, "failed": 0}
WAIT = 30.0


def check(ok, what):
    results["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*a, cwd):
    subprocess.run(["git", "-c", "user.name=otel", "-c", "user.email=otel@example.com", *a],
                   cwd=cwd, check=True, capture_output=True)


def request(port, method, path, body=None, headers=None, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


def wait_until(what, cond, within=WAIT):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            v = cond()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.05)
    print(f"timed out: {what}", flush=True)
    return None


def flags(n):
    return ("version: \"1.4\"\nnamespace: default\nflags:\n  - key: f\n    name: F\n"
            f"    description: \"commit {n}\"\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n")


bare, tree = os.path.join(work, "flags.git"), os.path.join(work, "tree")
subprocess.run(["git", "init", "-q", "--bare", "-b", "main", bare], check=True)
subprocess.run(["git", "init", "-q", "-b", "main", tree], check=True)
os.makedirs(os.path.join(tree, "default"))


def commit(n):
    with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
        f.write(flags(n))
    git("add", "-A", cwd=tree)
    git("commit", "-q", "-m", f"commit {n}", cwd=tree)
    git("push", "-q", "origin", "main", cwd=tree)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=tree, capture_output=True,
                          text=True).stdout.strip()


with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
    f.write(flags(0))
git("add", "-A", cwd=tree)
git("commit", "-q", "-m", "commit 0", cwd=tree)
git("remote", "add", "origin", "file://" + bare, cwd=tree)
git("push", "-q", "origin", "main", cwd=tree)


def config(name, port, remote, extra="", storage_extra=""):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        f.write(f"""storage:
  default:
    remote: {remote}
    branch: main
    poll_interval: 1h
{storage_extra}environments:
  default:
    storage: default
    default: true
server:
  host: 127.0.0.1
  http_port: {port}
{extra}""")
    return path


def start(name, cfg, otel):
    log = open(os.path.join(work, name + ".log"), "w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update({"RUST_LOG": "info", "NO_COLOR": "1", **otel})
    p = subprocess.Popen([BIN, "serve", "--config", cfg], stdout=log, stderr=log, env=env)
    procs.append(p)
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def log_text(name):
    with open(os.path.join(work, name + ".log")) as f:
        return f.read()


def ready(port):
    return request(port, "GET", "/ready")[0] == 200


def ofrep(port, headers=None):
    return request(port, "POST", "/ofrep/v1/evaluate/flags/f",
                   json.dumps({"context": {"targetingKey": "user-1"}}),
                   {"Content-Type": "application/json", **(headers or {})})


def push_and_sync(port):
    sha = commit(int(time.time() * 1000) % 100000)
    request(port, "POST", "/api/v1/sync")
    ok = wait_until("the new commit is served",
                    lambda: ofrep(port)[2].get("x-switchyard-commit") == sha)
    return sha if ok else None


def sync_trace(rec, sha):
    """The sync.attempt span of `sha` and its children, once all have arrived."""
    spans, _ = rec.snapshot()
    roots = [s for s in spans if s["name"] == "sync.attempt"
             and s["attributes"].get("commit") == sha
             and s["attributes"].get("outcome") == "applied"]
    if not roots:
        return None
    root = roots[0]
    kids = {s["name"]: s for s in spans if s["parent_span_id"] == root["span_id"]}
    if not {"sync.fetch", "sync.read", "sync.compile", "sync.swap"} <= set(kids):
        return None
    return root, kids


try:
    rec = Receiver()
    grpc_port, http_port = free_port(), free_port()
    # kept referenced: a gRPC server that is garbage-collected stops accepting connections
    servers = [rec.start_grpc(grpc_port), rec.start_http(http_port)]
    common = {"OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_METRIC_EXPORT_INTERVAL": "500"}

    # 1. gRPC, always_on
    port = free_port()
    access = os.path.join(work, "access.jsonl")
    p = start("grpc", config("grpc", port, "file://" + bare, f"  access_log: {access}\n"), {
        **common,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{grpc_port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_SERVICE_NAME": "switchyard-otel-test",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test,team=flags%20team",
        "OTEL_TRACES_SAMPLER": "always_on",
    })
    check(wait_until("grpc server ready", lambda: ready(port)) is not None, "gRPC: server ready")
    sha = push_and_sync(port)
    check(sha is not None, "gRPC: a pushed commit is synced and served")
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    st, body, hdrs = ofrep(port, {"traceparent": f"00-{trace_id}-{parent}-01",
                                 "x-request-id": "otel-test-request-1"})
    check(st == 200, f"gRPC: OFREP answers 200 (got {st})")
    request(port, "GET", "/no/such/route")
    got = wait_until("the sync trace over gRPC", lambda: sync_trace(rec, sha))
    if check(got is not None, "gRPC: sync.attempt arrives with children sync.fetch, sync.read, sync.compile, sync.swap"):
        root, kids = got
        a = root["attributes"]
        check(root["parent_span_id"] == "", "gRPC: sync.attempt is a trace's root")
        check(a.get("environment") == "default" and a.get("storage") == "default",
              f"gRPC: sync.attempt has environment and storage ({a})")
        check(all(k["trace_id"] == root["trace_id"] for k in kids.values()),
              "gRPC: the steps are in the attempt's trace")
        check(kids["sync.swap"]["attributes"].get("environment") == "default"
              and kids["sync.compile"]["attributes"].get("outcome") == "valid",
              f"gRPC: sync.swap/sync.compile carry environment and outcome ({kids['sync.compile']['attributes']})")
        check(root["resource"].get("service.name") == "switchyard-otel-test"
              and root["resource"].get("deployment.environment") == "test"
              and root["resource"].get("team") == "flags team",
              f"gRPC: resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES ({root['resource']})")
        check(root["transport"] == "grpc", "gRPC: spans came over gRPC")

    def request_span():
        spans, _ = rec.snapshot()
        return next((s for s in spans if s["trace_id"] == trace_id), None)
    s = wait_until("the request span", request_span)
    if check(s is not None, "gRPC: the OFREP request's span continues the client's traceparent"):
        a = s["attributes"]
        check(s["parent_span_id"] == parent, f"gRPC: its parent is the traceparent's span ({s['parent_span_id']})")
        check(s["name"] == "POST /ofrep/v1/evaluate/flags/{key}", f"gRPC: span name is method and route ({s['name']!r})")
        check(s["kind"] == 2, f"gRPC: span kind SERVER ({s['kind']})")
        check(a.get("http.request.method") == "POST" and a.get("http.route") == "/ofrep/v1/evaluate/flags/{key}"
              and a.get("http.response.status_code") == 200 and a.get("url.path") == "/ofrep/v1/evaluate/flags/f",
              f"gRPC: HTTP semantic-convention attributes ({a})")

    def metrics_arrived():
        _, points = rec.snapshot()
        names = {(p["name"], p["transport"]) for p in points}
        need = {("flipt_evaluations_requests", "grpc"), ("switchyard_sync_attempts", "grpc"),
                ("http.server.request.duration", "grpc")}
        return points if need <= names else None
    points = wait_until("metrics over gRPC", metrics_arrived)
    if check(points is not None, "gRPC: metrics arrive (evaluations, sync attempts, request durations)"):
        ev = [p for p in points if p["name"] == "flipt_evaluations_requests"
              and p["attributes"].get("flipt_flag") == "f"
              and p["attributes"].get("flipt_environment") == "default" and p["value"] >= 1]
        check(bool(ev), "gRPC: flipt_evaluations_requests counts flag f in environment default")
        sa = [p for p in points if p["name"] == "switchyard_sync_attempts"
              and p["attributes"].get("outcome") == "applied" and p["value"] >= 1]
        check(bool(sa), "gRPC: switchyard_sync_attempts has outcome applied")
        du = [p for p in points if p["name"] == "http.server.request.duration"
              and p["attributes"].get("http.route") == "/ofrep/v1/evaluate/flags/{key}"
              and p["kind"] == "histogram" and p["value"] >= 1]
        check(bool(du), "gRPC: http.server.request.duration histogram by route")
    stop(p)

    # the access log of run 1
    lines = [json.loads(l) for l in open(access) if l.strip()]
    mine = [l for l in lines if l.get("request_id") == "otel-test-request-1"]
    if check(len(mine) == 1, f"access log: one JSON line for the OFREP request ({len(lines)} lines)"):
        l = mine[0]
        check(l["method"] == "POST" and l["path"] == "/ofrep/v1/evaluate/flags/f" and l["status"] == 200
              and l["route"] == "/ofrep/v1/evaluate/flags/{key}" and l["commit"] == sha
              and isinstance(l["bytes"], int) and l["bytes"] == len(body)
              and isinstance(l["duration_ms"], float)
              and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z", l["time"]),
              f"access log: time, method, path, route, status, duration, bytes, request id, commit ({l})")
    nf = [l for l in lines if l.get("path") == "/no/such/route"]
    check(len(nf) == 1 and nf[0]["status"] == 404 and nf[0]["route"] is None,
          "access log: an unmatched path is logged with status 404 and no route")

    # 2. HTTP/protobuf, ratio 0
    before = len(rec.snapshot()[0])
    port = free_port()
    p = start("http", config("http", port, "file://" + bare), {
        **common,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{http_port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0",
    })
    check(wait_until("http server ready", lambda: ready(port)) is not None, "HTTP: server ready")
    sha2 = push_and_sync(port)
    check(sha2 is not None, "HTTP: a pushed commit is synced and served")
    trace_id2 = "5bf92f3577b34da6a3ce929d0e0e4737"
    for _ in range(20):
        ofrep(port, {"traceparent": f"00-{trace_id2}-{parent}-01"})
    got = wait_until("the sync trace over HTTP", lambda: sync_trace(rec, sha2))
    check(got is not None and got[0]["transport"] == "http",
          "HTTP: sync.attempt and its steps arrive over OTLP/HTTP with sampling at 0")
    time.sleep(1.0)  # five batch delays: a request span made would have been sent by now
    spans = rec.snapshot()[0][before:]
    req_spans = [s for s in spans if not s["name"].startswith("sync.")]
    check(req_spans == [] and not any(s["trace_id"] == trace_id2 for s in spans),
          f"HTTP: no request span with ratio 0, even for a sampled traceparent ({len(req_spans)} seen)")
    m = wait_until("metrics over HTTP", lambda: any(
        p["transport"] == "http" and p["name"] == "flipt_evaluations_requests" for p in rec.snapshot()[1]))
    check(bool(m), "HTTP: metrics arrive over OTLP/HTTP")
    stop(p)

    # 3. an invalid value stops the start
    r = subprocess.run([BIN, "serve", "--config", config("bad", free_port(), "file://" + bare)],
                       env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
                            "OTEL_TRACES_SAMPLER": "sometimes"},
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and 'OTEL_TRACES_SAMPLER="sometimes" is not valid: expected always_on' in r.stderr,
          f"invalid OTEL_TRACES_SAMPLER: exit 2 with the variable and the accepted values ({r.returncode}: {r.stderr.strip()[:160]})")

    # 4. a 5xx answer is logged with its request id and cause
    port = free_port()
    p = start("unready", config("unready", port, "file://" + os.path.join(work, "missing.git"),
                             storage_extra="    fetch_policy: lenient\n"), {})
    st = wait_until("the unready server answers", lambda: ofrep(port, {"x-request-id": "otel-5xx-1"})[0])
    check(st == 503, f"unready server: OFREP answers 503 ({st})")
    line = wait_until("the 5xx log line", lambda: next(
        (l for l in log_text("unready").splitlines() if "otel-5xx-1" in l), None), within=5)
    check(line is not None and "WARN" in line and "503" in line and "cause=" in line
          and "no valid snapshot yet" in line and "/ofrep/v1/evaluate/flags/f" in line,
          f"5xx logged at warn with request id, path, status and cause ({line})")
    stop(p)
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
    if results["failed"]:
        print(f"logs kept in {work}")
    print(f"otel: {results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(1 if results["failed"] else 0)
