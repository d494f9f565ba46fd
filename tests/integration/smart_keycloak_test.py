"""SMART Backend Services against software we did not write: Keycloak 26 as
the authorization server (scripts/keycloak), and our HAPI launcher validating
its tokens and enforcing SMART scopes per interaction (docs/hapi-server.md).

`check`, `run` and `sync` authenticate with a JWT signed by an RS384 or an
ES384 key; a client lacking a scope fails with exit 4 naming it; a sync that
outlives several short-lived tokens renews them and processes each patient
exactly once. The authenticating server is private to this test (its own
fixture), so a first sync sees only the patients loaded here.

Environment: MST_ADAPTER, MST_KEYCLOAK_STATE_DIR, MST_HAPI_STATE_DIR (of the
authenticating server); MST_SMART_SYNC_PREFIXES (default 4: copies of the 13
fixture patients the sync processes)."""

import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, Fhir, base_url, expected, goal_codes, goal_mismatches,  # noqa: E402
                         load_prefixed, run_adapter, unique_prefix)

KEYCLOAK = os.environ["MST_KEYCLOAK_STATE_DIR"]
KEYS = {"RS384": ("rs384.pem", "rs384-1"), "ES384": ("es384.pem", "es384-1")}

# The adapter asks for its own default scope (derived from what it does:
# adapter/src/pipeline/server_interactions.cc), so these tests fail when the
# default misses an interaction the server enforces. The client without
# Procedure scopes asks for that default minus Procedure (pinned in
# tests/unit/adapter/server_interactions_test.cc).
ADAPTER_SCOPE = None
DEFAULT_SCOPE = ("system/Patient.r system/Observation.rs system/Condition.rs "
                 "system/CarePlan.crus system/Procedure.rs system/Goal.crus system/Consent.rs "
                 "system/ServiceRequest.crus system/MedicationRequest.rs "
                 "system/MedicationAdministration.rs system/MedicationStatement.rs "
                 "system/Medication.r system/CareTeam.crus system/Device.crs "
                 "system/Provenance.crs")
WITHOUT_PROCEDURE = " ".join(s for s in DEFAULT_SCOPE.split() if "/Procedure." not in s)
SYNC_ENV = {"MST_SYNC_OVERLAP_S": "0"}


def short_token_lifespan_s():
    with open(os.path.join(os.path.dirname(__file__), "keycloak", "mst-realm.json")) as f:
        realm = json.load(f)
    client = next(c for c in realm["clients"] if c["clientId"] == "mst-adapter-short")
    return int(client["attributes"]["access.token.lifespan"])


def keycloak_file(name):
    with open(os.path.join(KEYCLOAK, name)) as f:
        return f.read().strip()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def client_token(client_id, scope):
    """An access token for `client_id` (RS384 assertion signed with openssl),
    for the test's own reads and writes."""
    endpoint = keycloak_file("token_endpoint")
    header = b64url(json.dumps({"alg": "RS384", "kid": "rs384-1", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"iss": client_id, "sub": client_id, "aud": endpoint,
                                "exp": int(time.time()) + 60,
                                "jti": base64.b16encode(os.urandom(16)).decode()}).encode())
    signed = f"{header}.{claims}".encode()
    sig = subprocess.run(["openssl", "dgst", "-sha384", "-sign",
                          os.path.join(KEYCLOAK, "keys", "rs384.pem")],
                         input=signed, capture_output=True, check=True).stdout
    form = urllib.parse.urlencode({
        "grant_type": "client_credentials", "scope": scope,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": f"{header}.{claims}.{b64url(sig)}"}).encode()
    with urllib.request.urlopen(urllib.request.Request(endpoint, data=form), timeout=60) as r:
        return json.loads(r.read())["access_token"]


class AuthFhir(Fhir):
    """e2e_support's FHIR helper with a bearer token (every type, all permissions)."""

    def __init__(self, base):
        super().__init__(base)
        self.token = client_token("mst-adapter", "system/*.cruds")

    def request(self, method, path, body=None, headers=None):
        h = {"Authorization": f"Bearer {self.token}"}
        h.update(headers or {})
        return super().request(method, path, body, h)

    def search(self, type_, **params):
        # Only first pages: the helpers here search for a patient's own plan.
        status, bundle = self.request("GET", f"/{type_}?{urllib.parse.urlencode(params)}")
        assert status == 200, (status, bundle)
        assert not any(l["relation"] == "next" for l in bundle.get("link", [])), bundle
        return [e["resource"] for e in bundle.get("entry", []) if "resource" in e]


def smart_args(base, client="mst-adapter", alg="RS384", scope=ADAPTER_SCOPE):
    key, kid = KEYS[alg]
    args = ["--server", base, "--auth", "smart", "--client-id", client,
            "--private-key", os.path.join(KEYCLOAK, "keys", key), "--key-id", kid, "--alg", alg]
    return args + (["--scope", scope] if scope else [])


def server_log():
    with open(os.path.join(os.environ["MST_HAPI_STATE_DIR"], "server.log")) as f:
        return f.read()


def tokens_used(log, client):
    return re.findall(r"smart-auth: new token jti=(\S+) client=" + re.escape(client) + r" ", log)


class SmartBackendServicesAgainstKeycloak(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fhir = AuthFhir(base_url())
        cls.exp = expected()

    def test_the_server_refuses_requests_without_a_valid_token(self):
        # Otherwise every test below would pass against an open server.
        status, outcome = Fhir(self.fhir.base).request("GET", "/Patient?_count=1")
        self.assertEqual(status, 401, outcome)
        p = run_adapter("run", "--server", self.fhir.base, "--patient", "nobody", "--as-of", AS_OF,
                        check=False)
        self.assertEqual(p.returncode, 4, p.stderr)

    def test_check_accepts_the_server_with_either_key(self):
        for alg in KEYS:
            with self.subTest(alg=alg):
                p = run_adapter("check", *smart_args(self.fhir.base, alg=alg), check=False)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertIn("result: the server supports everything the adapter needs", p.stdout)

    def test_run_writes_the_plan_with_either_key(self):
        prefix = unique_prefix("smartrun")
        pids = load_prefixed(self.fhir, prefix, ["mst-p01", "mst-p02"])
        for pid, alg in zip(pids, KEYS):
            with self.subTest(patient=pid, alg=alg):
                p = run_adapter("run", *smart_args(self.fhir.base, alg=alg), "--patient", pid,
                                "--as-of", AS_OF, check=False)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                plans = self.fhir.plans_of(pid)
                self.assertEqual(len(plans), 1, plans)
                exp = self.exp[pid.split("-", 1)[1]]
                self.assertEqual(goal_mismatches(exp, goal_codes(self.fhir, plans[0])), [])

    def test_a_token_without_a_needed_scope_fails_with_exit_4_naming_it(self):
        # The client may not have Procedure scopes; it asks for the rest, gets
        # a token, and the server refuses the Procedure search: 403.
        pid = load_prefixed(self.fhir, unique_prefix("smartscope"), ["mst-p01"])[0]
        p = run_adapter("run", *smart_args(self.fhir.base, client="mst-adapter-no-procedure",
                                           scope=WITHOUT_PROCEDURE),
                        "--patient", pid, "--as-of", AS_OF, check=False)
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        self.assertIn("403", p.stderr)
        self.assertIn("system/Procedure.", p.stderr)
        self.assertEqual(self.fhir.plans_of(pid), [])

    def test_a_client_asking_for_a_scope_it_lacks_is_refused_with_exit_4(self):
        # Keycloak refuses the token request itself (invalid_scope).
        p = run_adapter("check", *smart_args(self.fhir.base, client="mst-adapter-no-procedure"),
                        check=False)
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        self.assertIn("invalid_scope", p.stderr)
        self.assertIn("system/Procedure.", p.stderr)

    def test_a_key_the_client_did_not_register_is_refused_with_exit_4(self):
        with tempfile.TemporaryDirectory() as tmp:
            key = os.path.join(tmp, "other.pem")
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                            "ec_paramgen_curve:P-384", "-out", key], check=True)
            args = smart_args(self.fhir.base, alg="ES384")
            args[args.index("--private-key") + 1] = key
            p = run_adapter("check", *args, check=False)
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        self.assertIn("token endpoint", p.stderr)

    def test_sync_renews_short_lived_tokens_and_processes_each_patient_once(self):
        # mst-adapter-short's tokens live a few seconds (keycloak/mst-realm.json);
        # one patient at a time, the sync outlives several of them.
        copies = int(os.environ.get("MST_SMART_SYNC_PREFIXES", "4"))
        lifespan = short_token_lifespan_s()
        ids = []
        for _ in range(copies):
            ids += load_prefixed(self.fhir, unique_prefix("smartsync"))
        tokens_before = len(tokens_used(server_log(), "mst-adapter-short"))
        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "state.db")
            started = time.time()
            p = run_adapter("sync", "--once", *smart_args(self.fhir.base, client="mst-adapter-short",
                                                          alg="ES384"),
                            "--state", state, "--concurrency", "1", "--as-of", AS_OF,
                            "--log-format", "json", check=False, timeout=900, env=SYNC_ENV)
            wall = time.time() - started
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            con = sqlite3.connect(state)
            try:
                pending = con.execute("SELECT id FROM patient WHERE pending").fetchall()
                checkpoint = con.execute("SELECT value FROM meta WHERE key = 'checkpoint'").fetchall()
            finally:
                con.close()
            self.assertEqual(pending, [])
            self.assertNotEqual(checkpoint, [])
        tokens = len(tokens_used(server_log(), "mst-adapter-short")) - tokens_before
        print(f"smart-sync: patients={len(ids)} wall_s={wall:.1f} tokens={tokens}", file=sys.stderr)
        # The point of the test: the sync ran past a token's expiry.
        self.assertGreater(wall, lifespan + 1, "the sync was too short to outlive a token: "
                                               "raise MST_SMART_SYNC_PREFIXES")
        self.assertGreaterEqual(tokens, 2)

        done = []
        for line in p.stderr.splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "patient.done" and event.get("patient") in ids:
                done.append((event["patient"], event["outcome"]))
        seen = [pid for pid, _ in done]
        self.assertEqual(sorted(pid for pid in set(seen) if seen.count(pid) > 1), [],
                         "patients processed twice")
        eligible = [pid for pid in ids if self.exp[pid.split("-", 1)[1]]["plan"]]
        self.assertEqual(sorted(set(eligible) - set(seen)), [], "patients lost")
        for pid, outcome in done:
            want = "written" if pid in eligible else "skipped"
            self.assertEqual(outcome, want, pid)
        for pid in ids:
            plans = self.fhir.plans_of(pid)
            self.assertEqual(len(plans), 1 if pid in eligible else 0, (pid, plans))

if __name__ == "__main__":
    unittest.main(verbosity=2)
