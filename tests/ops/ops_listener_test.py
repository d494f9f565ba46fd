#!/usr/bin/env python3
"""`mst-adapter sync --listen` against a fake FHIR server (issue #12).

1. Leaks (findings 5, 6): the server's error text names a patient, echoes a
   token and carries terminal escapes; none of it may reach the log (stderr),
   the state file or /readyz, while status and issue code do.
2. Load (finding 7): with 100 idle connections and 8 slow-loris clients open,
   /healthz answers within 1 s, every time.
3. Exclusive bind: a second sync on the same --listen port exits 2 and says why.

Usage: ops_listener_test.py /path/to/mst-adapter
"""
import http.server
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ADAPTER = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MST_ADAPTER", "mst-adapter")
TOKEN = "eyJhbGciOiJSUzM4NCJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
# The token starts before the old 300-character cut and ends after it.
DIAGNOSTICS = ("HAPI-0389: Patient Jane Smith DOB 1961-04-02 MRN 00123456 \x1b[31m\u202e "
               + "x" * 200 + " Authorization: Bearer " + TOKEN + "\x1b[0m")
LEAKS = ["Jane", "Smith", "1961", "00123456", TOKEN[:12], "\x1b", "\u202e"]

mode = {"scan": "fail"}


class FakeFhir(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0].strip("/").split("/")
        leaky = {"resourceType": "OperationOutcome",
                 "issue": [{"severity": "error", "code": "processing", "diagnostics": DIAGNOSTICS}]}
        if path[-1] == "metadata":
            return self.reply(200, {"resourceType": "CapabilityStatement", "status": "active",
                                    "fhirVersion": "4.0.1", "kind": "instance", "format": ["json"]})
        if len(path) == 2 and path[0] == "Patient":
            return self.reply(400, leaky)  # the patient's pull fails: state row and log
        if path[0] == "ConceptMap" or mode["scan"] == "ok":
            entries = []
            if path[0] == "Condition" and mode["scan"] == "ok":
                entries = [{"resource": {"resourceType": "Condition", "id": "c1",
                                         "subject": {"reference": "Patient/p1"}},
                            "search": {"mode": "match"}}]
            return self.reply(200, {"resourceType": "Bundle", "type": "searchset",
                                    "total": len(entries), "entry": entries})
        return self.reply(400, leaky)  # the scan fails: /readyz and log


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, timeout=5.0):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace"), time.monotonic() - start


def wait_for(what, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, sqlite3.Error, IndexError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


failures = []


def check(cond, message):
    if not cond:
        failures.append(message)
        print("FAIL:", message)


def assert_clean(where, text):
    for leak in LEAKS:
        check(leak not in text, f"{where} leaks {leak!r}: {text[:400]!r}")


def main():
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeFhir)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="mst-ops-")
    port = free_port()
    env = dict(os.environ, MST_ADAPTER_CANONICAL_BASE="https://mst-ops-test.invalid/fhir")
    base = [ADAPTER, "sync", "--server", f"http://127.0.0.1:{fake.server_address[1]}",
            "--listen", f"127.0.0.1:{port}", "--interval", "1"]
    log_path = os.path.join(tmp, "sync.log")
    state = os.path.join(tmp, "state.db")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(base + ["--state", state], stdout=log, stderr=log, env=env)
    try:
        # 1. Leaks: /readyz while the scan fails, then the state row once a
        # patient's pull fails.
        wait_for("/readyz 503", lambda: http_get(port, "/readyz")[0] == 503)
        status, body, _ = http_get(port, "/readyz")
        print("/readyz:", body.strip())
        check("HTTP 400" in body and "(processing)" in body, "/readyz lost status or issue code")
        assert_clean("/readyz", body)
        mode["scan"] = "ok"

        def failure_row():
            with sqlite3.connect(state) as db:
                rows = [r for r in db.execute("SELECT * FROM sqlite_master WHERE type='table'")]
                for (_, name, *_rest) in rows:
                    for row in db.execute(f'SELECT * FROM "{name}"'):
                        text = " ".join(str(v) for v in row)
                        if "HTTP 400" in text:
                            return text
            return None

        wait_for("a failed patient in the state file", lambda: failure_row() is not None)
        row = failure_row()
        print("state row:", row)
        check("(processing)" in row, "state row lost the issue code")
        assert_clean("state file", row)

        # 2. Load: idle connections and slow-loris clients, then probes.
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
        stop = threading.Event()

        def slow_loris():
            try:
                with socket.create_connection(("127.0.0.1", port)) as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\n")
                    while not stop.wait(0.5):
                        s.sendall(b"X-a: b\r\n")
            except OSError:
                pass  # dropped by the server: that is the point

        loris = [threading.Thread(target=slow_loris, daemon=True) for _ in range(8)]
        for t in loris:
            t.start()
        time.sleep(0.5)
        worst = 0.0
        for _ in range(10):
            try:
                status, body, took = http_get(port, "/healthz", timeout=3.0)
            except OSError as e:  # refused, reset or timed out: the probe failed
                status, body, took = 0, repr(e), 3.0
            worst = max(worst, took)
            check(status == 200 and body == "ok\n", f"/healthz answered {status} {body!r}")
            time.sleep(0.3)
        print(f"/healthz under load: slowest of 10 in {worst:.3f} s")
        check(worst < 1.0, f"/healthz took {worst:.3f} s with idle and slow clients")
        stop.set()
        for s in idle:
            s.close()

        # 3. A second process on the same port.
        second = subprocess.run(base + ["--state", os.path.join(tmp, "other.db"), "--once"],
                                capture_output=True, text=True, env=env, timeout=60)
        print("second sync:", second.returncode, second.stderr.strip()[-200:])
        check(second.returncode == 2, f"second sync on the same port exited {second.returncode}")
        check("in use" in second.stderr, "second sync did not say the port is in use")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        fake.shutdown()
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log_text = f.read()
    print("log lines with errors:",
          sum(1 for line in log_text.splitlines() if "HTTP 400" in line))
    check("HTTP 400" in log_text, "the log has no error line to check")
    assert_clean("log", log_text)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
