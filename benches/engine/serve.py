"""Serves one client snapshot to Flipt's FFI engine for benches/engine/run.sh.

Usage: python3 serve.py SNAPSHOT.json
Listens on 127.0.0.1 at an ephemeral port, prints `port N` on stdout once listening, and answers
GET /internal/v1/evaluation/snapshot/namespace/default with the file's bytes and an ETag (304 to a
matching If-None-Match); every other path is 404. Runs until terminated.
"""

import hashlib
import http.server
import sys

SNAPSHOT_PATH = "/internal/v1/evaluation/snapshot/namespace/default"


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: serve.py SNAPSHOT.json", file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        body = f.read()
    etag = '"' + hashlib.sha1(body).hexdigest() + '"'

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path.split("?", 1)[0] != SNAPSHOT_PATH:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
