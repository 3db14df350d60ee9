"""Commit-to-client latency over webhook + SSE, measured without any SDK.

For each round: `git commit` a flag change, POST a signed GitHub push webhook, wait for the
`refetchEvaluation` event on the OFREP SSE stream, then POST the bulk evaluation (what the
OFREP web provider does) and check the new value. Prints min / median / p90 / max.

python3 latency.py URL REPO_DIR REMOTE SECRET [ROUNDS=20]
"""
import hashlib
import hmac
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

url, repo, remote, secret = sys.argv[1:5]
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 20
u = urllib.parse.urlparse(url)
events = []
cond = threading.Condition()


def sse_reader():
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("GET", "/ofrep/v1/_stream/default/default/events", headers={"Accept": "text/event-stream"})
    r = c.getresponse()
    assert r.status == 200, r.status
    while True:
        line = r.fp.readline()
        if not line:
            return
        if line.startswith(b"data:") and b"refetchEvaluation" in line:
            with cond:
                events.append(time.perf_counter())
                cond.notify_all()


def git(*args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid",
                        "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.invalid",
                        "PATH": "/usr/bin:/bin", "HOME": repo})


def post(path, body, headers):
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


threading.Thread(target=sse_reader, daemon=True).start()
time.sleep(0.5)
path = f"{repo}/default/features.yml"
text = open(path).read()
hook = json.dumps({"ref": "refs/heads/main", "repository": {"clone_url": remote, "full_name": "bench/flags"}}).encode()
sig = "sha256=" + hmac.new(secret.encode(), hook, hashlib.sha256).hexdigest()
total, to_event = [], []
for i in range(rounds):
    # Flip checkoutExperiment's default variant between control and variant-b.
    on = i % 2 == 0
    new = text.replace("- key: control\n        default: true", "- key: control") \
              .replace("- key: variant-b\n", "- key: variant-b\n        default: true\n") if on else text
    n = len(events)
    t0 = time.perf_counter()
    open(path, "w").write(new)
    git("commit", "-qam", f"latency round {i}")
    s, body = post("/api/v1/webhooks/github", hook, {"Content-Type": "application/json",
                   "X-GitHub-Event": "push", "X-Hub-Signature-256": sig})
    assert s == 202 and b'"default"' in body, (s, body)
    with cond:
        if not cond.wait_for(lambda: len(events) > n, timeout=5):
            sys.exit(f"round {i}: no refetchEvaluation within 5 s")
    t_event = events[n]
    s, body = post("/ofrep/v1/evaluate/flags", b'{"context":{"targetingKey":"user-1"}}', {"Content-Type": "application/json"})
    t_end = time.perf_counter()
    want = "variant-b" if on else "control"
    got = next(f["value"] for f in json.loads(body)["flags"] if f["key"] == "checkoutExperiment")
    assert got == want, (i, got, want)
    total.append((t_end - t0) * 1000)
    to_event.append((t_event - t0) * 1000)
    time.sleep(0.1)


def stats(xs):
    xs = sorted(xs)
    return (f"min {xs[0]:.1f} ms, median {statistics.median(xs):.1f} ms, "
            f"p90 {xs[int(0.9 * (len(xs) - 1))]:.1f} ms, max {xs[-1]:.1f} ms")


print(f"LATENCY rounds={rounds}")
print(f"LATENCY commit->SSE event: {stats(to_event)}")
print(f"LATENCY commit->new value (SSE + bulk refetch): {stats(total)}")
