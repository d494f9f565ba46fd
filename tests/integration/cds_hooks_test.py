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
5. SIGTERM stops it with exit 0;
6. without serve.issuers a non-loopback --listen exits 2; with an issuer
   whose JWKS file the test writes, a service call needs an ES384 JWT the
   test signs (python3-cryptography): none, a bad signature, a wrong aud and
   a replayed jti get 401, good ES384 and RS384 tokens 200; discovery stays
   open.
The client (keys, prefetch, the card check) is cds_client.py.
Needs no FHIR server.

Usage: cds_hooks_test.py /path/to/mst-adapter
"""
import json
import os
import tempfile
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cds_client import SERVICE, EhrKey, call, card_problems, prefetch_from_resources  # noqa: E402

ADAPTER = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MST_ADAPTER", "mst-adapter")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "patients")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base, proc):
    for _ in range(100):
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}")
        try:
            if call(base, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not start")


def authenticated(body):
    """Phase 6: serve with serve.issuers; `body` is a patient-view call that
    answers 200 when the caller is trusted."""
    # Without issuers, only loopback.
    port = free_port()
    refused = subprocess.run([ADAPTER, "serve", "--listen", f"0.0.0.0:{port}"],
                             capture_output=True, text=True, timeout=30)
    expect(refused.returncode == 2 and "serve.issuers" in refused.stderr,
           f"non-loopback without issuers: exit {refused.returncode} {refused.stderr[-300:]}")

    iss = "https://ehr.test.example"
    key, stranger = EhrKey("ehr-1"), EhrKey("ehr-1")  # same kid, another key
    rsa = EhrKey("ehr-rsa", "RS384")
    with tempfile.TemporaryDirectory() as tmp:
        jwks = os.path.join(tmp, "jwks.json")
        with open(jwks, "w") as f:
            json.dump({"keys": [key.jwk(), rsa.jwk()]}, f)
        base = f"http://127.0.0.1:{port}"
        config = os.path.join(tmp, "adapter.json")
        with open(config, "w") as f:
            json.dump({"serve": {"public_url": base, "issuers": [f"{iss} {jwks}"]}}, f)
        proc = subprocess.Popen([ADAPTER, "serve", "--config", config, "--listen", f"127.0.0.1:{port}",
                                 "--as-of", "2026-11-20"], stderr=subprocess.PIPE, text=True)
        try:
            wait_healthy(base, proc)
            aud = f"{base}/cds-services/{SERVICE}"
            status, _ = call(base, "/cds-services")
            expect(status == 200, f"discovery stays open: {status}")
            for token, why in ((None, "no token"),
                               (stranger.token(iss, aud, "s-1"), "another key's signature"),
                               (key.token(iss, f"{base}/cds-services/other", "a-1"), "wrong aud"),
                               (key.token("https://evil.example", aud, "e-1"), "unknown iss"),
                               (key.token(iss, aud, "l-1", lifetime=600), "lifetime over 5 min")):
                status, text = call(base, f"/cds-services/{SERVICE}", body, token=token)
                expect(status == 401, f"{why}: {status}, wanted 401")
                expect(json.loads(text)["resourceType"] == "OperationOutcome", f"{why}: error body")
            good = key.token(iss, aud, "g-1")
            status, text = call(base, f"/cds-services/{SERVICE}", body, token=good)
            expect(status == 200, f"good token: {status} {text[:300]}")
            status, _ = call(base, f"/cds-services/{SERVICE}", body, token=good)
            expect(status == 401, f"replayed jti: {status}, wanted 401")
            status, text = call(base, f"/cds-services/{SERVICE}", body, token=rsa.token(iss, aud, "r-1"))
            expect(status == 200, f"good RS384 token: {status} {text[:300]}")
            feedback = {"feedback": [{"card": "0f1e2d3c-4b5a-4968-8776-655443322110",
                                      "outcome": "accepted", "outcomeTimestamp": "2026-11-20T10:00:00Z"}]}
            status, _ = call(base, f"/cds-services/{SERVICE}/feedback", feedback)
            expect(status == 401, f"feedback without a token: {status}, wanted 401")
            status, _ = call(base, f"/cds-services/{SERVICE}/feedback", feedback,
                             token=key.token(iss, aud + "/feedback", "f-1"))
            expect(status == 200, f"feedback with a token: {status}")
            proc.send_signal(signal.SIGTERM)
            expect(proc.wait(timeout=20) == 0, "SIGTERM")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err = proc.stderr.read()
        expect("serve.unauthorized" in err, "refusals logged")
        expect(good not in err, "the token is never logged")


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
        auth_body = None
        for name in sorted(os.listdir(FIXTURES)):
            if not name.startswith("mst-p") or not name.endswith(".json"):
                continue
            bundle = json.load(open(os.path.join(FIXTURES, name)))
            patient_id, prefetch = prefetch_from_resources(
                [e["resource"] for e in bundle["entry"] if "resource" in e], templates)
            status, text = call(base, f"/cds-services/{SERVICE}", {
                "hook": "patient-view", "hookInstance": f"test-{name}",
                "context": {"userId": "Practitioner/1", "patientId": patient_id},
                "prefetch": prefetch})
            expect(status == 200, f"{name}: patient-view {status} {text[:300]}")
            cards = json.loads(text)["cards"]
            for card in cards:
                cards_seen += 1
                problems = card_problems(card)
                expect(not problems, f"{name}: {problems}")
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
            if cards and auth_body is None:
                auth_body = {"hook": "patient-view", "hookInstance": "auth-test",
                             "context": {"userId": "Practitioner/1", "patientId": patient_id},
                             "prefetch": prefetch}
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
    expect("serve.unauthenticated" in err, "the unauthenticated start is warned about")
    authenticated(auth_body)
    print(f"cds_hooks: ok ({cards_seen} cards, authenticated calls)")


if __name__ == "__main__":
    main()
