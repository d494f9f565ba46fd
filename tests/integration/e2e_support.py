"""Helpers for the end-to-end tests: the HAPI server of the CTest fixture,
the mst-adapter binary, and fixture patients loaded under a unique prefix so
tests sharing one server never see each other's data."""

import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "patients")
AS_OF = "2026-11-20"
OWN_SYSTEM = "http://mst-adapter.example.org/fhir/NamingSystem/mst-careplan"


def base_url():
    state = os.environ.get("MST_HAPI_STATE_DIR", os.path.join(REPO, ".hapi"))
    with open(os.path.join(state, "url")) as f:
        return f.read().strip()


def adapter_path():
    return os.environ["MST_ADAPTER"]


def expected():
    with open(os.path.join(FIXTURES, "expected.json")) as f:
        return json.load(f)


def fixture_ids():
    return sorted(k for k in expected().keys())


class Fhir:
    """A few FHIR calls over urllib, for checking what the adapter wrote."""

    def __init__(self, base):
        self.base = base

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        h = {"Accept": "application/fhir+json", "Cache-Control": "no-cache"}
        if body is not None:
            h["Content-Type"] = "application/fhir+json"
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def search(self, type_, **params):
        q = urllib.parse.urlencode(params)
        status, bundle = self.request("GET", f"/{type_}?{q}")
        assert status == 200, (status, bundle)
        out = [e["resource"] for e in bundle.get("entry", []) if "resource" in e]
        while any(l["relation"] == "next" for l in bundle.get("link", [])):
            nxt = next(l["url"] for l in bundle["link"] if l["relation"] == "next")
            with urllib.request.urlopen(urllib.request.Request(nxt, headers={"Accept": "application/fhir+json"})) as r:
                bundle = json.loads(r.read())
            out += [e["resource"] for e in bundle.get("entry", []) if "resource" in e]
        return out

    def read(self, type_, id_):
        status, res = self.request("GET", f"/{type_}/{id_}")
        assert status == 200, (status, res)
        return res

    def put(self, resource):
        return self.request("PUT", f"/{resource['resourceType']}/{resource['id']}", resource)

    def validate(self, resource):
        """Error issues of $validate (HAPI answers 200 with issues, or 4xx)."""
        status, oo = self.request("POST", f"/{resource['resourceType']}/$validate", resource)
        return [i for i in oo.get("issue", []) if i.get("severity") in ("error", "fatal")]

    def plans_of(self, patient_id):
        return self.search("CarePlan", subject=f"Patient/{patient_id}", identifier=f"{OWN_SYSTEM}|")


def load_prefixed(fhir, prefix, patient_ids=None):
    """Loads fixture bundles with every 'mst-p' id rewritten to '<prefix>-mst-p'.
    Returns the new patient ids."""
    loaded = []
    for pid in patient_ids or fixture_ids():
        with open(os.path.join(FIXTURES, pid + ".json")) as f:
            text = f.read().replace("mst-p", prefix + "-mst-p")
        status, body = fhir.request("POST", "", json.loads(text))
        assert status == 200, (pid, status, json.dumps(body)[:500])
        loaded.append(f"{prefix}-{pid}")
    return loaded


def unique_prefix(tag):
    return f"{tag}{uuid.uuid4().hex[:6]}"


def run_adapter(*args, check=True, timeout=300, env=None):
    cmd = [adapter_path(), *args]
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)
    if check and p.returncode not in (0, 1):
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def run_json(*args, **kw):
    p = run_adapter(*args, "--format", "json", **kw)
    try:
        return json.loads(p.stdout), p
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON: {p.stdout!r}\nstderr: {p.stderr}")


def wait_for(predicate, timeout=60, interval=0.2):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False
