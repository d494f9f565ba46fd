#!/usr/bin/env python3
"""A recording HTTP proxy for bench/run-e2e.sh: forwards every request to one
upstream FHIR server on loopback and appends one JSON line per request
(method, path, body, status) to a log, so the adapter's request mix can be
replayed by a plain load tool. Not for timing: it adds its own latency.

    record_proxy.py UPSTREAM_BASE LOG_FILE PORT_FILE
Prints nothing; writes the port it listens on to PORT_FILE; runs until killed.
"""
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = sys.argv[1].rstrip("/")
LOG = open(sys.argv[2], "a", buffering=1)
LOCK = threading.Lock()
UP = urllib.parse.urlsplit(UPSTREAM)
if UP.hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("record_proxy: the upstream must be on loopback")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        # The adapter addresses the proxy with the upstream's path prefix.
        url = f"{UP.scheme}://{UP.netloc}{self.path}"
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "content-length", "accept-encoding")}
        req = urllib.request.Request(url, data=body, method=self.command, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                status, rh, data = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, rh, data = e.code, e.headers, e.read()
        # Links in search pages name the upstream: point them back at the proxy.
        data = data.replace(f"{UP.scheme}://{UP.netloc}".encode(),
                            f"http://{self.headers.get('Host')}".encode())
        with LOCK:
            LOG.write(json.dumps({"method": self.command, "path": self.path, "status": status,
                                  "content_type": self.headers.get("Content-Type"),
                                  "body": body.decode("utf-8") if body else None}) + "\n")
        self.send_response(status)
        for k, v in rh.items():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = forward


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[3], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
