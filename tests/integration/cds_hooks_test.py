#!/usr/bin/env python3
"""`mst-adapter serve` as a CDS Hooks 2.0 service, called over HTTP (issue #14).

Starts serve on a free loopback port with the fixtures' --as-of, then:
1. discovery lists the patient-view service with a Patient template and the
   pull's searches;
2. patient-view with full prefetch (built from a fixture bundle) answers a
   card with the spec's required fields, the indicator the pathway calls for,
   and a suggestion creating a draft CarePlan;
3. bad calls get a 4xx with an OperationOutcome: malformed JSON, no
   hookInstance, a missing prefetch without fhirServer (412);
4. feedback is accepted and counted in /metrics;
5. SIGTERM stops it with exit 0.
Needs no FHIR server.

Usage: cds_hooks_test.py /path/to/mst-adapter
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ADAPTER = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MST_ADAPTER", "mst-adapter")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "patients")
SERVICE = "mst-spine-careplan"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def prefetch_of(bundle, templates):
    """Every template key: the Patient for `patient`, all other resources in
    the first search's searchset, empty searchsets for the rest."""
    resources = [e["resource"] for e in bundle["entry"] if "resource" in e]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    others = [r for r in resources if r["resourceType"] != "Patient"]
    prefetch = {}
    first = True
    for key in templates:
        if key == "patient":
            prefetch[key] = patient
            continue
        entries = [{"resource": r, "search": {"mode": "match"}} for r in others] if first else []
        first = False
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    return patient["id"], prefetch


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([ADAPTER, "serve", "--listen", f"127.0.0.1:{port}", "--as-of", "2026-11-20"],
                            stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                if call(base, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not start")
        status, text = call(base, "/readyz")
        expect(status == 200 and text.startswith("ready"), f"/readyz: {status} {text}")

        status, text = call(base, "/cds-services")
        expect(status == 200, f"discovery: {status}")
        services = json.loads(text)["services"]
        expect(len(services) == 1, "one service")
        svc = services[0]
        for field in ("hook", "id", "description", "prefetch"):
            expect(field in svc, f"discovery lacks {field}")
        expect(svc["hook"] == "patient-view" and svc["id"] == SERVICE, "patient-view service")
        templates = svc["prefetch"]
        expect(templates["patient"] == "Patient/{{context.patientId}}", "patient template")
        expect(any(t.startswith("Condition?patient={{context.patientId}}") for t in templates.values()),
               "a Condition search")

        expected = json.load(open(os.path.join(FIXTURES, "expected.json")))
        cards_seen = 0
        for name in sorted(os.listdir(FIXTURES)):
            if not name.startswith("mst-p") or not name.endswith(".json"):
                continue
            bundle = json.load(open(os.path.join(FIXTURES, name)))
            patient_id, prefetch = prefetch_of(bundle, templates)
            status, text = call(base, f"/cds-services/{SERVICE}", {
                "hook": "patient-view", "hookInstance": f"test-{name}",
                "context": {"userId": "Practitioner/1", "patientId": patient_id},
                "prefetch": prefetch})
            expect(status == 200, f"{name}: patient-view {status} {text[:300]}")
            cards = json.loads(text)["cards"]
            for card in cards:
                cards_seen += 1
                for field in ("summary", "indicator", "source"):
                    expect(field in card, f"{name}: card lacks {field}")
                expect(len(card["summary"]) < 140, f"{name}: summary too long")
                expect(card["indicator"] in ("info", "warning", "critical"), f"{name}: indicator")
                expect("label" in card["source"], f"{name}: source.label")
                expect(card.get("uuid"), f"{name}: uuid")
                sug = card["suggestions"][0]
                expect(sug["label"] and card["selectionBehavior"] == "at-most-one", f"{name}: suggestion")
                types = [a["resource"]["resourceType"] for a in sug["actions"]]
                expect("CarePlan" in types, f"{name}: the suggestion creates the CarePlan")
                for a in sug["actions"]:
                    expect(a["type"] in ("create", "update") and a["description"], f"{name}: action")
                plan = next(a["resource"] for a in sug["actions"] if a["resource"]["resourceType"] == "CarePlan")
                expect(plan["status"] == "draft" and plan["intent"] == "proposal", f"{name}: draft plan")
            want = expected[name.removesuffix(".json")]
            expect(bool(cards) == want["plan"], f"{name}: a card iff the fixture expects a plan")
            if cards and 1 in want.get("rows", []):  # row 1: new deficit, the emergency pathway
                expect(cards[0]["indicator"] == "critical", f"{name}: emergency is critical")
        expect(cards_seen > 0, "no fixture patient gave a card")

        # Bad calls: a clear 4xx with an OperationOutcome, never a crash.
        for raw, want in ((b"{not json", 400),
                          (json.dumps({"hook": "patient-view", "context": {"patientId": "x"}}).encode(), 400),
                          (json.dumps({"hook": "order-select", "hookInstance": "i",
                                       "context": {"patientId": "x"}}).encode(), 400),
                          (json.dumps({"hook": "patient-view", "hookInstance": "i",
                                       "context": {"patientId": "x"}}).encode(), 412)):
            status, text = call(base, f"/cds-services/{SERVICE}", raw=raw)
            expect(status == want, f"bad call {raw[:40]!r}: {status}, wanted {want}")
            expect(json.loads(text)["resourceType"] == "OperationOutcome", "error body")
        status, _ = call(base, "/cds-services/no-such-service", {"hook": "patient-view"})
        expect(status == 404, f"unknown service: {status}")

        status, _ = call(base, f"/cds-services/{SERVICE}/feedback", {"feedback": [
            {"card": "0f1e2d3c-4b5a-4968-8776-655443322110", "outcome": "overridden",
             "overrideReason": {"reason": {"code": "disagree"}},
             "outcomeTimestamp": "2025-06-01T10:00:00Z"}]})
        expect(status == 200, f"feedback: {status}")
        status, metrics = call(base, "/metrics")
        expect('mst_cds_feedback_total{outcome="overridden"} 1' in metrics, "feedback counted")
        expect('mst_serve_requests_total{endpoint="patient-view"}' in metrics, "requests counted")
        expect("mst_serve_patient_view_duration_seconds_count" in metrics, "latency histogram")

        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        expect(code == 0, f"SIGTERM: exit {code}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err = proc.stderr.read()
        if err:
            sys.stderr.write(err[-2000:])
    print(f"cds_hooks: ok ({cards_seen} cards)")


if __name__ == "__main__":
    main()
