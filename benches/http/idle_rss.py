"""RSS per idle keep-alive connection of a running server: opens N connections, sends one
GET /health on each, reads the answer, leaves them open, and compares the server's VmRSS.

    python3 benches/http/idle_rss.py PID PORT [N]     # N defaults to 2000 (mind `ulimit -n`)
"""
import socket
import sys
import time

pid, port = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000


def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS")


before = rss_kib()
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    conns.append(s)
for s in conns:
    s.recv(4096)
time.sleep(0.5)  # let the server's allocator settle before reading RSS
after = rss_kib()
print(f"{n} idle keep-alive connections: RSS {before} -> {after} KiB, {(after - before) / n:.1f} KiB each")
