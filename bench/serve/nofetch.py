#!/usr/bin/env python3
"""`patient-view` without prefetch (serve reads the record from `fhirServer`)
against the FHIR server's own time for exactly the searches serve makes.

    nofetch.py load FHIR_BASE
        PUTs every fixture bundle (tests/fixtures/patients, .../realworld).
    nofetch.py record SERVE_URL CALLS PROXY_LOG OUT_JSON
        Calls serve once per patient, sequentially, with fhirServer pointing
        at bench/e2e/record_proxy.py; the log lines each call adds are that
        patient's requests (a GET, or the POST of a batch Bundle of GETs;
        the CapabilityStatement read serve makes once per server is left
        out). Writes {patient: [{"method", "path", "body"}, ...]}.
    nofetch.py measure SERVE_URL CALLS REQUESTS_JSON FHIR_BASE ROUNDS
        Per round and patient, in this order: serve's patient-view (with
        fhirServer = FHIR_BASE); the same requests sent to FHIR_BASE all at
        once (as serve sends them: one batch, or its GETs at once); the
        GETs those requests ask for (a batch's entries) all at once, as
        separate requests; then the GETs one after another. Prints one JSON
        line with the latency percentiles of each.

Interleaving puts the three under the same server state and machine load;
every answer must be 200 (serve's with a card) or the run counts an error.
"""
import concurrent.futures
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load_patients  # noqa: E402  (bench/e2e: posts a transaction, retries 409)
import serve_calls  # noqa: E402
from load_driver import has_card, percentile  # noqa: E402
import http.client  # noqa: E402


def load(fhir_base):
    for _, path in serve_calls.fixtures():
        with open(path) as f:
            load_patients.post(fhir_base.rstrip("/"), f.read())


class Connections:
    """One keep-alive connection per thread, as serve's client pool keeps."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def send(self, method, path, body=None, headers=None):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.request(method, path, body, headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise


def post_call(conns, path, body):
    return conns.send("POST", path, body, {"Content-Type": "application/json"})


def record(serve_url, calls_file, proxy_log, out_file):
    with open(calls_file) as f:
        calls = json.load(f)
    conns = Connections(serve_url)
    path = urllib.parse.urlsplit(serve_url).path
    out = {}
    for call in calls:
        before = sum(1 for _ in open(proxy_log))
        status, data = post_call(conns, path, json.dumps(call["body"]).encode())
        if status != 200 or not has_card(data):
            sys.exit(f"nofetch: {call['patient']}: serve answered {status} {data[:200]!r}")
        with open(proxy_log) as f:
            lines = [json.loads(x) for x in list(f)[before:]]
        lines = [x for x in lines if not x["path"].split("?")[0].endswith("/metadata")]
        if not lines or any(x["status"] != 200 or x["method"] not in ("GET", "POST") for x in lines):
            sys.exit(f"nofetch: {call['patient']}: unexpected requests {lines[:3]}")
        out[call["patient"]] = [{"method": x["method"], "path": x["path"], "body": x["body"]}
                                for x in lines]
    with open(out_file, "w") as f:
        json.dump(out, f, indent=1)
    n = sum(map(len, out.values()))
    print(f"nofetch: {n} requests for {len(out)} patients ({n / len(out):.1f} each) -> {out_file}",
          file=sys.stderr)


def gets_of(requests):
    """The GET paths `requests` ask for: each GET, and each entry of a batch."""
    paths = []
    for r in requests:
        if r["method"] == "GET":
            paths.append(r["path"])
            continue
        base = r["path"].split("?")[0].rstrip("/")
        for e in json.loads(r["body"]).get("entry", []):
            paths.append(base + "/" + e["request"]["url"])
    return paths


def summary(ms):
    ms = sorted(ms)
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p90_ms": round(percentile(ms, 90), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(ms[-1], 2),
            "mean_ms": round(sum(ms) / len(ms), 2)}


def measure(serve_url, calls_file, requests_file, fhir_base, rounds):
    with open(calls_file) as f:
        calls = json.load(f)
    with open(requests_file) as f:
        paths = json.load(f)
    serve = Connections(serve_url)
    serve_path = urllib.parse.urlsplit(serve_url).path
    fhir = Connections(fhir_base)
    gets = {patient: gets_of(rs) for patient, rs in paths.items()}
    width = max(len(p) for p in gets.values())
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=width)
    accept = {"Accept": "application/fhir+json"}
    times = {"serve": [], "fhir_at_once": [], "fhir_gets_at_once": [], "fhir_one_by_one": []}
    errors = {}

    def count(kind):
        errors[kind] = errors.get(kind, 0) + 1

    def fhir_get(p):
        return fhir.send("GET", p, headers=accept)[0]

    def fhir_send(r):
        if r["method"] == "GET":
            return fhir_get(r["path"])
        headers = dict(accept, **{"Content-Type": "application/fhir+json"})
        status, data = fhir.send("POST", r["path"], r["body"].encode(), headers)
        # A batch answers 200 with each entry's own status: all must be 200.
        if status == 200 and any(not e.get("response", {}).get("status", "").startswith("200")
                                 for e in json.loads(data).get("entry", [])):
            return 0
        return status

    for _ in range(rounds):
        for call in calls:
            body = json.dumps(call["body"]).encode()
            mine = paths[call["patient"]]
            my_gets = gets[call["patient"]]
            t0 = time.perf_counter()
            status, data = post_call(serve, serve_path, body)
            t1 = time.perf_counter()
            if status != 200 or not has_card(data):
                count(f"serve {status}")
            times["serve"].append((t1 - t0) * 1e3)

            t0 = time.perf_counter()
            statuses = list(pool.map(fhir_send, mine))
            t1 = time.perf_counter()
            times["fhir_at_once"].append((t1 - t0) * 1e3)
            for s in statuses:
                if s != 200:
                    count(f"fhir {s}")

            t0 = time.perf_counter()
            statuses = list(pool.map(fhir_get, my_gets))
            times["fhir_gets_at_once"].append((time.perf_counter() - t0) * 1e3)
            for s in statuses:
                if s != 200:
                    count(f"fhir GET {s}")

            t0 = time.perf_counter()
            for p in my_gets:
                if fhir_get(p) != 200:
                    count("fhir one by one")
            times["fhir_one_by_one"].append((time.perf_counter() - t0) * 1e3)
    pool.shutdown()
    result = {k: summary(v) for k, v in times.items()}
    result["ratio_p50"] = round(result["serve"]["p50_ms"] / result["fhir_at_once"]["p50_ms"], 3)
    result["ratio_mean"] = round(result["serve"]["mean_ms"] / result["fhir_at_once"]["mean_ms"], 3)
    result["ratio_p99"] = round(result["serve"]["p99_ms"] / result["fhir_at_once"]["p99_ms"], 3)
    result["requests_per_patient"] = round(sum(map(len, paths.values())) / len(paths), 1)
    result["gets_per_patient"] = round(sum(map(len, gets.values())) / len(gets), 1)
    result["patients"] = len(calls)
    result["rounds"] = rounds
    result["errors"] = sum(errors.values())
    result["error_kinds"] = errors
    print(json.dumps(result))


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "load":
        load(a[1])
    elif len(a) == 5 and a[0] == "record":
        record(*a[1:])
    elif len(a) == 6 and a[0] == "measure":
        measure(a[1], a[2], a[3], a[4], int(a[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
