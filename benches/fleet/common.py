"""What the fleet benchmarks (fanout.py, githost.py, restart.py) share: the pass/fail tally,
a free loopback port, and the flag file of commit n."""
import socket

results = {"passed": 0, "failed": 0}


def check(ok, what):
    results["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flags(n):
    return ("version: \"1.4\"\nnamespace: default\nflags:\n  - key: f\n    name: F\n"
            f"    description: \"commit {n}\"\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n")
