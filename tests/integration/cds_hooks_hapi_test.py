#!/usr/bin/env python3
"""`mst-adapter serve` called by our CDS client (cds_client.py) as an EHR
calls it, with the fixture patients on the shared test HAPI server (#14):

- patient-view with full prefetch (the templates run against HAPI), partial
  prefetch (Patient and Conditions; serve reads the rest from fhirServer with
  fhirAuthorization's token) and none: the three cards agree with each other,
  with `run --dry-run` (the Goals) and with `explain` (pathway, urgency, goal
  priorities), and each card keeps CDS Hooks 2.0's Card rules;
- the EHR's JWTs, ES384 and RS384 from one JWKS; bad, replayed or
  wrong-audience tokens get 401;
- bad calls (too large, not JSON, wrong hook, no patientId, prefetch of the
  wrong type) get a 4xx with an OperationOutcome, and nothing is written;
- the fhirAuthorization token reaches fhirServer only: never a server a
  paging link names, never HAPI's own address.

Runs under the CTest hapi fixture (MST_HAPI_STATE_DIR, MST_ADAPTER)."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cds_client import (SERVICE, EhrKey, call, card_problems, card_resources, goals_of,  # noqa: E402
                        prefetch_from_server)
from e2e_support import (AS_OF, Fhir, InterceptingProxy, adapter_path, base_url, expected,  # noqa: E402
                         http_call, load_prefixed, run_adapter, run_json,
                         unique_prefix, wait_for)

ISS = "https://ehr.cds-test.example"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def explained(pid, server):
    """(pathway line, {goal name: priority}) of `explain` for the patient."""
    text = run_adapter("explain", "--server", server, "--patient", pid, "--as-of", AS_OF).stdout
    lines = text.splitlines()
    heading = "PATHWAY AND ACTIONS NOW"
    pathway = lines[lines.index(heading) + 1].strip() if heading in lines else None
    goals = {}
    if "GOALS (priority, urgency, target, why)" in lines:
        for line in lines[lines.index("GOALS (priority, urgency, target, why)") + 1:]:
            m = re.match(r"  - (.+?): (High|Medium|Low), ", line)
            if not m:
                break
            goals[m.group(1)] = m.group(2)
    return pathway, goals


def declares_batch(method, path):
    """An InterceptingProxy answer: a CapabilityStatement declaring batch."""
    if method == "GET" and path.split("?")[0].endswith("/metadata"):
        statement = {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "kind": "instance",
                     "rest": [{"mode": "server",
                               "interaction": [{"code": "transaction"}, {"code": "batch"}]}]}
        return 200, json.dumps(statement).encode(), {}
    return None


class CdsHooksAgainstHapi(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fhir = Fhir(base_url())
        cls.ids = load_prefixed(cls.fhir, unique_prefix("cds"))
        cls.tmp = tempfile.TemporaryDirectory()
        cls.es, cls.rs = EhrKey("ehr-ec", "ES384"), EhrKey("ehr-rsa", "RS384")
        jwks = os.path.join(cls.tmp.name, "jwks.json")
        with open(jwks, "w") as f:
            json.dump({"keys": [cls.es.jwk(), cls.rs.jwk()]}, f)
        port = free_port()
        cls.base = f"http://127.0.0.1:{port}"
        config = os.path.join(cls.tmp.name, "adapter.json")
        with open(config, "w") as f:
            json.dump({"serve": {"public_url": cls.base, "issuers": [f"{ISS} {jwks}"]}}, f)
        cls.log = open(os.path.join(cls.tmp.name, "serve.log"), "w+")
        cls.proc = subprocess.Popen([adapter_path(), "serve", "--config", config, "--listen",
                                     f"127.0.0.1:{port}", "--as-of", AS_OF],
                                    stdout=subprocess.DEVNULL, stderr=cls.log)
        ok = wait_for(lambda: cls.proc.poll() is None and cls._healthy(), timeout=30)
        if not ok:
            cls.tearDownClass()
            raise AssertionError("serve did not start")
        cls.aud = f"{cls.base}/cds-services/{SERVICE}"
        cls.templates = json.loads(call(cls.base, "/cds-services")[1])["services"][0]["prefetch"]
        # The EHR's FHIR server as serve sees it: HAPI behind a proxy that
        # records each request's Authorization header, and declares the batch
        # interaction HAPI takes but does not declare (HAPI 8.8 lists only
        # transaction), as an EHR that batches reads does.
        cls.ehr = InterceptingProxy(cls.fhir.base, declares_batch)

    @classmethod
    def _healthy(cls):
        try:
            return http_call(cls.base + "/healthz")[0] == 200
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
        if hasattr(cls, "ehr"):
            cls.ehr.close()
        cls.log.close()
        cls.tmp.cleanup()

    def token(self, key=None):
        return (key or self.es).token(ISS, self.aud, uuid.uuid4().hex)

    def view(self, pid, prefetch=None, fhir_server=None, access_token=None, key=None):
        body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/cds-test", "patientId": pid}}
        if prefetch is not None:
            body["prefetch"] = prefetch
        if fhir_server:
            body["fhirServer"] = fhir_server
            body["fhirAuthorization"] = {"access_token": access_token, "token_type": "Bearer",
                                         "expires_in": 300, "scope": "patient/*.read", "subject": "mst"}
        return call(self.base, f"/cds-services/{SERVICE}", body, token=self.token(key))

    def cards(self, pid, **kw):
        status, text = self.view(pid, **kw)
        self.assertEqual(status, 200, f"{pid}: {text[:400]}")
        return json.loads(text)["cards"]

    def serve_log(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def test_full_partial_and_no_prefetch_give_the_card_run_and_explain_give(self):
        want = expected()
        seen_cards = 0
        for pid in self.ids:
            fixture = pid.split("-", 1)[1]
            access = "ehr-access-" + uuid.uuid4().hex
            before = len(self.ehr.seen)
            full = self.cards(pid, prefetch=prefetch_from_server(self.fhir, self.templates, pid))
            self.assertEqual(len(self.ehr.seen), before, "a complete prefetch reads nothing")
            partial = self.cards(pid, prefetch=prefetch_from_server(self.fhir, self.templates, pid,
                                                                    keys={"patient", "condition"}),
                                 fhir_server=self.ehr.url, access_token=access, key=self.rs)
            after_partial = len(self.ehr.seen)
            none = self.cards(pid, fhir_server=self.ehr.url, access_token=access)
            reads = self.ehr.seen[before:]
            # HAPI declares batch: each call's missing keys are one batch
            # Bundle (server.read_mode=auto), whatever part was prefetched;
            # the CapabilityStatement is read once per server, not per call.
            for name, part in (("partial", self.ehr.seen[before:after_partial]),
                               ("none", self.ehr.seen[after_partial:])):
                self.assertEqual([m for m, p, _ in part if not p.split("?")[0].endswith("/metadata")],
                                 ["POST"], f"{pid} {name}: one batch request per call")
            self.assertTrue(reads, f"{pid}: serve read nothing from fhirServer")
            self.assertEqual({auth for _, _, auth in reads}, {"Bearer " + access},
                             f"{pid}: every read carries fhirAuthorization's token, only it")
            self.assertEqual(bool(full), want[fixture]["plan"], pid)
            for name, cards in (("partial", partial), ("none", none)):
                self.assertEqual(len(cards), len(full), f"{pid} {name}")
                for a, b in zip(full, cards):
                    for field in ("summary", "indicator", "detail", "source", "overrideReasons"):
                        self.assertEqual(a[field], b[field], f"{pid} {name}: {field}")
                    self.assertEqual(goals_of(card_resources(a)), goals_of(card_resources(b)), pid)
            if not full:
                continue
            card = full[0]
            seen_cards += 1
            for c in (full + partial + none):
                self.assertEqual(card_problems(c), [], pid)
            # The plan `run` would write, and the reasoning `explain` shows.
            bundle, _ = run_json("run", "--server", self.fhir.base, "--patient", pid, "--dry-run",
                                 "--as-of", AS_OF)
            dry = [e["resource"] for e in bundle["entry"] if "resource" in e]
            self.assertEqual(goals_of(card_resources(card)), goals_of(dry), f"{pid}: goals vs run --dry-run")
            pathway, goals = explained(pid, self.fhir.base)
            self.assertIsNotNone(pathway, pid)
            self.assertEqual(card["detail"].splitlines()[0].strip("*"), pathway, f"{pid}: pathway and urgency")
            for goal, priority in goals.items():
                self.assertIn(f"**{goal}** ({priority} priority", card["detail"], pid)
            self.assertEqual(len(goals), len(goals_of(dry)), pid)
            want_indicator = "critical" if "Emergency pathway" in pathway else None
            if want_indicator:
                self.assertEqual(card["indicator"], want_indicator, pid)
        self.assertGreater(seen_cards, 0)
        self.assertEqual(sum(p.split("?")[0].endswith("/metadata") for _, p, _ in self.ehr.seen), 1,
                         "the CapabilityStatement read once for all calls")

    def test_the_token_never_leaves_fhir_server(self):
        pid = self.ids[0]
        access = "ehr-access-" + uuid.uuid4().hex
        elsewhere = InterceptingProxy(self.fhir.base, lambda method, path: (404, b"{}", {}))

        def paging_elsewhere(method, path):
            # A server that declares batch but refuses a batch of reads:
            # serve reads by searches instead, whose
            # Condition search has its next page on another server.
            if method == "GET" and path.split("?")[0].endswith("/metadata"):
                return declares_batch(method, path)
            if method == "POST":
                refusal = {"resourceType": "OperationOutcome",
                           "issue": [{"severity": "error", "code": "not-supported"}]}
                return 400, json.dumps(refusal).encode(), {}
            if method == "GET" and "/Condition?" in path:
                page = {"resourceType": "Bundle", "type": "searchset", "entry": [],
                        "link": [{"relation": "next", "url": elsewhere.url + "/Condition?page=2"}]}
                return 200, json.dumps(page).encode(), {}
            return None
        ehr = InterceptingProxy(self.fhir.base, paging_elsewhere)
        try:
            # The prefetch's fullUrls name yet another server: only data.
            prefetch = prefetch_from_server(self.fhir, self.templates, pid, keys={"patient"})
            prefetch["patient"]["meta"] = {"source": elsewhere.url}
            status, text = self.view(pid, prefetch=prefetch, fhir_server=ehr.url, access_token=access)
            self.assertIn(status, (200, 502), text[:300])
            self.assertTrue(ehr.seen, "serve read from fhirServer")
            methods = [m for m, p, _ in ehr.seen if not p.split("?")[0].endswith("/metadata")]
            self.assertEqual(methods[0], "POST", "the batch first")
            self.assertGreater(methods.count("GET"), 1, "then the searches, after the refusal")
            self.assertTrue(all(auth == "Bearer " + access for _, _, auth in ehr.seen))
            self.assertEqual(elsewhere.seen, [], "nothing sent to a server a link names")
        finally:
            ehr.close()
            elsewhere.close()
        self.assertNotIn(access, self.serve_log(), "the token is never logged")

    def test_bad_tokens_get_401(self):
        pid = self.ids[0]
        prefetch = prefetch_from_server(self.fhir, self.templates, pid)
        body = {"hook": "patient-view", "hookInstance": "t", "context": {"patientId": pid},
                "prefetch": prefetch}
        stranger = EhrKey("ehr-rsa", "RS384")  # the kid of our RSA key, another key
        path = f"/cds-services/{SERVICE}"
        replayed = self.rs.token(ISS, self.aud, "replay-" + uuid.uuid4().hex)
        self.assertEqual(call(self.base, path, body, token=replayed)[0], 200)
        for token, why in (("not.a.jwt", "garbage"),
                           (stranger.token(ISS, self.aud, uuid.uuid4().hex), "another key's signature"),
                           (self.es.token(ISS, self.base + "/cds-services", uuid.uuid4().hex), "wrong aud"),
                           (self.rs.token(ISS, "https://other.example/cds-services/" + SERVICE,
                                          uuid.uuid4().hex), "another service's aud"),
                           (replayed, "replayed jti"),
                           (None, "no token")):
            status, text = call(self.base, path, body, token=token)
            self.assertEqual(status, 401, why)
            self.assertEqual(json.loads(text)["resourceType"], "OperationOutcome", why)

    def announce_huge_body(self):
        """The status serve answers a call announcing a 17 MiB body, read
        before the body is sent (serve closes the socket after answering, so
        sending it all would end in a reset instead of the answer)."""
        host, port = self.base.split("//", 1)[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.putrequest("POST", f"/cds-services/{SERVICE}")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Authorization", "Bearer " + self.token())
            conn.putheader("Content-Length", str(17 << 20))
            conn.endheaders()
            conn.send(b'{"hook": "patient-view", "padding": "' + b"x" * 65536)
            response = conn.getresponse()
            body = json.loads(response.read())
            self.assertEqual(body["resourceType"], "OperationOutcome")
            return response.status
        finally:
            conn.close()

    def test_bad_calls_get_a_clear_4xx_and_write_nothing(self):
        pid = self.ids[0]
        prefetch = prefetch_from_server(self.fhir, self.templates, pid)
        plans_before = len(self.fhir.search("CarePlan", subject=f"Patient/{pid}"))
        good = {"hook": "patient-view", "hookInstance": "bad", "context": {"patientId": pid},
                "prefetch": prefetch}
        wrong_type = json.loads(json.dumps(good))
        wrong_type["prefetch"]["condition"] = prefetch["patient"]
        mixed = json.loads(json.dumps(good))
        mixed["prefetch"]["condition"]["entry"].append({"resource": prefetch["patient"]})
        no_patient = json.loads(json.dumps(good))
        del no_patient["context"]["patientId"]
        self.assertEqual(self.announce_huge_body(), 413, "over serve's 16 MiB")
        for raw, want, why in (
                (b'{"hook": "patient-view", ', 400, "not JSON"),
                (json.dumps({**good, "hook": "order-select"}).encode(), 400, "another hook"),
                (json.dumps(no_patient).encode(), 400, "no context.patientId"),
                (json.dumps(wrong_type).encode(), 400, "a Patient as the Condition search"),
                (json.dumps(mixed).encode(), 400, "a Patient among the Conditions")):
            status, text = call(self.base, f"/cds-services/{SERVICE}", raw=raw, token=self.token())
            self.assertEqual(status, want, f"{why}: {text[:300]}")
            outcome = json.loads(text)
            self.assertEqual(outcome["resourceType"], "OperationOutcome", why)
            self.assertTrue(outcome["issue"][0].get("diagnostics"), why)
        self.assertEqual(len(self.fhir.search("CarePlan", subject=f"Patient/{pid}")), plans_before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
