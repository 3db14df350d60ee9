#!/usr/bin/env python3
"""Git host load (issue 13): Git requests per minute at a real Git HTTP server (lighttpd +
`git http-backend`, started here on loopback, counted from its access log) for
  - `direct`: REPLICAS replicas that each poll Git, and
  - `relay`:  1 upstream polling Git + REPLICAS-1 relays following its relay stream,
each run for SECONDS seconds with poll_interval POLL and a commit pushed every PUSH_EVERY
seconds (so the count includes pack downloads, not only ref advertisements). The window opens
once every process serves the first commit (initial clones are not counted).

Usage: githost.py BINARY [--replicas 10] [--seconds 120] [--poll 5s] [--push-every 20] [--json OUT]
Ends with `githost: N passed, M failed`.
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request

from common import check, flags, free_port, results


ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--replicas", type=int, default=10)
ap.add_argument("--seconds", type=float, default=120)
ap.add_argument("--poll", default="5s")
ap.add_argument("--push-every", type=float, default=20)
ap.add_argument("--json")
args = ap.parse_args()

TOKEN = "githost-admin-token-0123456789abcdef"
work = tempfile.mkdtemp(prefix="githost-")
procs = []


def run(*a, cwd=None):
    return subprocess.run(a, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def git(*a):
    return run("git", "-c", "user.name=githost", "-c", "user.email=githost@example.com", *a, cwd=tree)


def serving(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/ofrep/v1/evaluate/flags/f", method="POST",
                                 data=b'{"context":{"targetingKey":"u"}}',
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.headers.get("X-Switchyard-Commit")
    except OSError:
        return None


def wait_all(ports, sha, within=60):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(serving(p) == sha for p in ports):
            return True
        time.sleep(0.1)
    return False


def start(name, config):
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen([args.binary, "serve", "--config", config], stdout=log, stderr=log,
                         env={**os.environ, "RUST_LOG": "warn"})
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


def git_config(name, port, seed):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        f.write(f"""storage:
  default:
    remote: http://127.0.0.1:{git_port}/git/flags.git
    branch: main
    poll_interval: {args.poll}
environments:
  default:
    storage: default
    default: true
sync:
  poll_jitter_seed: {seed}
{AUTH}server:
  host: 127.0.0.1
  http_port: {port}
""")
    return path


def relay_config(name, port, upstream_port):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        f.write(f"""upstream:
  url: http://127.0.0.1:{upstream_port}
  token: {TOKEN}
{AUTH}server:
  host: 127.0.0.1
  http_port: {port}
""")
    return path


def requests_since(offset):
    with open(access_log, "rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    polls = sum(1 for l in lines if "info/refs" in l)
    posts = sum(1 for l in lines if "POST" in l and "git-upload-pack" in l)
    return len(lines), polls, posts


def scenario(name, count):
    """Starts the processes, opens the window, pushes, counts; returns the figures."""
    first = git("rev-parse", "HEAD")
    ports = [free_port() for _ in range(count)]
    started = []
    if name == "direct":
        for i, p in enumerate(ports):
            started.append(start(f"{name}-{i}", git_config(f"{name}-{i}", p, 1000 + i)))
    else:
        started.append(start(f"{name}-upstream", git_config(f"{name}-upstream", ports[0], 2000)))
        for i, p in enumerate(ports[1:]):
            started.append(start(f"{name}-relay{i}", relay_config(f"{name}-relay{i}", p, ports[0])))
    ok = wait_all(ports, first)
    check(ok, f"[{name}] {count} processes serve the first commit")
    time.sleep(1.0)
    offset = os.path.getsize(access_log)
    t0 = time.monotonic()
    pushes = 0
    next_push = t0 + args.push_every
    while time.monotonic() < t0 + args.seconds:
        if time.monotonic() >= next_push:
            pushes += 1
            with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
                f.write(flags(pushes + 1000 * len(name)))
            git("commit", "-q", "-am", f"{name} commit {pushes}")
            git("push", "-q", "origin", "main")
            next_push += args.push_every
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    total, polls, posts = requests_since(offset)
    last = git("rev-parse", "HEAD")
    check(wait_all(ports, last, within=30), f"[{name}] every process serves the last commit pushed")
    for p in started:
        p.terminate()
    for p in started:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    per_min = total / elapsed * 60
    print(f"[{name}] {total} Git requests in {elapsed:.0f} s ({polls} GET info/refs, one per fetch attempt; {posts} POST git-upload-pack, "
          f"ls-refs and pack negotiation; "
          f"{pushes} pushes): {per_min:.1f} per minute", flush=True)
    return {"processes": count, "git_requests": total, "info_refs_gets": polls,
            "upload_pack_posts": posts, "pushes": pushes, "seconds": round(elapsed, 1),
            "git_requests_per_minute": round(per_min, 1)}


# the Git server: lighttpd + git http-backend (CGI), plain HTTP on loopback, an access log
repos = os.path.join(work, "repos")
bare, tree = os.path.join(repos, "flags.git"), os.path.join(work, "tree")
os.makedirs(repos)
run("git", "init", "-q", "--bare", "-b", "main", bare)
run("git", "-C", bare, "config", "http.receivepack", "false")
run("git", "init", "-q", "-b", "main", tree)
os.makedirs(os.path.join(tree, "default"))
with open(os.path.join(tree, "default", "features.yaml"), "w") as f:
    f.write(flags(0))
git("add", "-A")
git("commit", "-q", "-m", "commit 0")
git("remote", "add", "origin", "file://" + bare)
git("push", "-q", "origin", "main")
git_port = free_port()
access_log = os.path.join(work, "access.log")
backend = os.path.join(run("git", "--exec-path"), "git-http-backend")
os.makedirs(os.path.join(work, "www"))
conf = os.path.join(work, "lighttpd.conf")
with open(conf, "w") as f:
    f.write(f"""server.modules = ("mod_alias", "mod_setenv", "mod_cgi", "mod_accesslog")
server.bind = "127.0.0.1"
server.port = {git_port}
server.document-root = "{work}/www"
server.errorlog = "{work}/lighttpd-error.log"
accesslog.filename = "{access_log}"
alias.url += ("/git" => "{backend}")
$HTTP["url"] =~ "^/git" {{
  cgi.assign = ("" => "")
  setenv.set-environment = ("GIT_PROJECT_ROOT" => "{repos}", "GIT_HTTP_EXPORT_ALL" => "1")
}}
""")
lighttpd = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
try:
    procs.append(subprocess.Popen([lighttpd, "-D", "-f", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 10
    while not os.path.exists(access_log) and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", git_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    figures = {"poll_interval": args.poll, "push_every_s": args.push_every,
               "direct": scenario("direct", args.replicas), "relay": scenario("relay", args.replicas)}
    d, r = figures["direct"]["git_requests_per_minute"], figures["relay"]["git_requests_per_minute"]
    figures["ratio_direct_to_relay"] = round(d / r, 1) if r else None
    check(r > 0 and d >= (args.replicas - 1) * r,
          f"1 upstream + {args.replicas - 1} relays cost the Git host about one replica's requests ({r}/min vs {d}/min)")
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
    print(f"githost: {results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(1 if results["failed"] else 0)
