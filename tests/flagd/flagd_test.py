"""PyPI openfeature-provider-flagd (RPC resolver, LRU cache) with openfeature-sdk against
`switchyard serve` on a real Git repository: the same cases as flagd.test.mjs (boolean, string,
object, not found, type mismatch, Flagd-Selector, a Git commit arriving as
PROVIDER_CONFIGURATION_CHANGED with the cached STATIC value flushed). Prints `N passed, M failed`.

    SWITCHYARD_BIN=target/debug/switchyard .venv/bin/python flagd_test.py
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from enum import Enum

from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import CacheType, ResolverType
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent
from openfeature.exception import ProviderNotReadyError

FLAGS = """namespace: default
segments:
  - key: premium
    name: Premium
    match_type: ALL_MATCH_TYPE
    constraints:
      - { type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: premium }
flags:
  - key: static-bool
    name: Static boolean
    type: BOOLEAN_FLAG_TYPE
    enabled: %s
  - key: checkout
    name: Checkout
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - { key: control, default: true }
      - { key: variant-a, attachment: { discount: 10, labels: [a, b] } }
    rules:
      - segment: premium
        distributions:
          - { variant: variant-a, rollout: 100 }
"""

TEAM = """namespace: team
flags:
  - key: team-banner
    name: Team banner
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants:
      - { key: hello, default: true }
"""


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
               GIT_CONFIG_NOSYSTEM="1", HOME=repo)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text(v):
    return v.value if isinstance(v, Enum) else v


class Server:
    def __init__(self, binary):
        self.root = tempfile.mkdtemp(prefix="switchyard-pyflagd-")
        self.repo = os.path.join(self.root, "repo")
        os.makedirs(os.path.join(self.repo, "default"))
        os.makedirs(os.path.join(self.repo, "team"))
        git(self.repo, "init", "-q", "-b", "main")
        self.write(FLAGS % "true")
        with open(os.path.join(self.repo, "team/features.yml"), "w") as f:
            f.write(TEAM)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", "flags")
        self.grpc_port, port = free_port(), free_port()
        self.http = f"http://127.0.0.1:{port}"
        config = os.path.join(self.root, "switchyard.yml")
        with open(config, "w") as f:
            f.write(f"""storage:
  default: {{ remote: "file://{self.repo}", branch: main, poll_interval: 30s }}
environments:
  default: {{ storage: default, default: true }}
server:
  grpc_port: {self.grpc_port}
  shutdown_delay: 0s
""")
        self.log = os.path.join(self.root, "server.log")
        self.proc = subprocess.Popen([binary, "serve", "--config", config, "--listen", f"127.0.0.1:{port}"],
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
                                     env=dict(os.environ, NO_COLOR="1"))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{self.http}/ready", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("switchyard not ready within 30 s:\n" + open(self.log).read())

    def write(self, flags):
        with open(os.path.join(self.repo, "default/features.yml"), "w") as f:
            f.write(flags)

    def commit(self, flags, message):
        self.write(flags)
        git(self.repo, "commit", "-q", "-am", message)
        req = urllib.request.Request(f"{self.http}/api/v1/sync", method="POST")
        urllib.request.urlopen(req, timeout=10)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def client(server, domain, **options):
    provider = FlagdProvider(host="127.0.0.1", port=server.grpc_port, resolver_type=ResolverType.RPC,
                             cache=CacheType.LRU, deadline_ms=5000, **options)
    api.set_provider_and_wait(provider, domain)
    return api.get_client(domain)


CTX = EvaluationContext(targeting_key="u1", attributes={"plan": "free"})
PREMIUM = EvaluationContext(targeting_key="u1", attributes={"plan": "premium"})


def test_boolean(s):
    c = client(s, "bool")
    d = c.get_boolean_details("static-bool", False, CTX)
    assert (d.value, text(d.reason), d.variant) == (True, "STATIC", "true"), d
    again = c.get_boolean_details("static-bool", False, CTX)
    assert text(again.reason) == "CACHED", again


def test_string(s):
    c = client(s, "string")
    d = c.get_string_details("checkout", "x", PREMIUM)
    assert (d.value, d.variant, text(d.reason)) == ("variant-a", "variant-a", "TARGETING_MATCH"), d
    d = c.get_string_details("checkout", "x", CTX)
    assert (d.value, text(d.reason)) == ("control", "DEFAULT"), d


def test_object(s):
    c = client(s, "object")
    d = c.get_object_details("checkout", {}, PREMIUM)
    assert d.value == {"discount": 10, "labels": ["a", "b"]}, d
    d = c.get_object_details("checkout", {"fallback": True}, CTX)
    assert (d.value, text(d.error_code)) == ({"fallback": True}, "TYPE_MISMATCH"), d


def test_not_found(s):
    c = client(s, "missing")
    d = c.get_boolean_details("no-such-flag", True, CTX)
    assert (d.value, text(d.error_code)) == (True, "FLAG_NOT_FOUND"), d


def test_type_mismatch(s):
    c = client(s, "mismatch")
    d = c.get_string_details("static-bool", "d", CTX)
    assert (d.value, text(d.error_code)) == ("d", "TYPE_MISMATCH"), d
    d = c.get_integer_details("checkout", 7, CTX)
    assert (d.value, text(d.error_code)) == (7, "TYPE_MISMATCH"), d
    d = c.get_float_details("checkout", 1.5, CTX)
    assert (d.value, text(d.error_code)) == (1.5, "TYPE_MISMATCH"), d


def test_selector(s):
    c = client(s, "team", selector="flagSetId=default/team")
    d = c.get_string_details("team-banner", "x", CTX)
    assert (d.value, text(d.reason)) == ("hello", "STATIC"), d
    # an unknown environment: the event stream is refused (NOT_FOUND), the provider never ready
    try:
        client(s, "nowhere", selector="flagSetId=staging/default")
        raise AssertionError("a provider selecting an unknown environment became ready")
    except ProviderNotReadyError:
        pass
    d = api.get_client("nowhere").get_string_details("checkout", "x", CTX)
    assert text(d.error_code) in ("FLAG_NOT_FOUND", "PROVIDER_NOT_READY"), d


def test_change(s):
    c = client(s, "change")
    assert c.get_boolean_value("static-bool", False, CTX) is True
    assert text(c.get_boolean_details("static-bool", False, CTX).reason) == "CACHED"
    changed = threading.Event()
    seen = []

    def on_change(details):
        seen.append(list(details.flags_changed or []))
        changed.set()

    c.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, on_change)
    s.commit(FLAGS % "false", "turn static-bool off")
    assert changed.wait(15), "no PROVIDER_CONFIGURATION_CHANGED within 15 s"
    assert seen[0] == ["static-bool"], seen
    d = c.get_boolean_details("static-bool", True, CTX)
    assert (d.value, text(d.reason)) == (False, "STATIC"), d


def main():
    server = Server(os.environ["SWITCHYARD_BIN"])
    passed = failed = 0
    try:
        for name, fn in list(globals().items()):
            if not name.startswith("test_"):
                continue
            try:
                fn(server)
                passed += 1
                print(f"ok   {name}")
            except Exception:  # noqa: BLE001 - every failure is reported and counted
                failed += 1
                print(f"FAIL {name}\n{traceback.format_exc()}")
    finally:
        api.shutdown()
        server.stop()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
