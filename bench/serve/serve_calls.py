#!/usr/bin/env python3
"""Builds the `patient-view` calls of bench/run-serve-latency.sh from the
fixture patients: one per fixture for which a plan is expected (so every
answer must carry a card), with FULL prefetch (every template key of the
running service's discovery) or with `fhirServer` only.

    serve_calls.py prefetch SERVE_BASE OUT_JSON
    serve_calls.py fhir-server SERVE_BASE FHIR_BASE OUT_JSON
Writes [{"patient": id, "body": {...}}] to OUT_JSON.
"""
import glob
import json
import os
import sys
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE_DIRS = [os.path.join(REPO, "tests", "fixtures", "patients"),
                os.path.join(REPO, "tests", "fixtures", "realworld")]
SERVICE = "mst-spine-careplan"

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from cds_client import prefetch_from_resources  # noqa: E402


def fixtures():
    """[(name, path)] of the fixture bundles whose expected.json wants a plan."""
    out = []
    for d in FIXTURE_DIRS:
        with open(os.path.join(d, "expected.json")) as f:
            expected = json.load(f)
        for path in sorted(glob.glob(os.path.join(d, "*.json"))):
            name = os.path.basename(path)[:-5]
            if name in expected and expected[name].get("plan"):
                out.append((name, path))
    return out


def discovery(serve_base):
    with urllib.request.urlopen(serve_base.rstrip("/") + "/cds-services", timeout=30) as r:
        services = json.load(r)["services"]
    return next(s for s in services if s["id"] == SERVICE)


def full_prefetch(bundle, templates):
    """Every template key filled as an EHR fills it (cds_client, the
    integration tests' CDS client: one way to build a prefetch)."""
    return prefetch_from_resources([e["resource"] for e in bundle["entry"] if "resource" in e],
                                   templates)


def calls(mode, serve_base, fhir_base=None):
    templates = discovery(serve_base)["prefetch"]
    out = []
    for name, path in fixtures():
        with open(path) as f:
            bundle = json.load(f)
        patient_id, prefetch = full_prefetch(bundle, templates)
        body = {"hook": "patient-view", "hookInstance": f"bench-{name}",
                "context": {"userId": "Practitioner/bench", "patientId": patient_id}}
        if mode == "prefetch":
            body["prefetch"] = prefetch
        else:
            # The bench's own HAPI ignores the token; serve needs one to fetch.
            body["fhirServer"] = fhir_base
            body["fhirAuthorization"] = {"access_token": "bench-token", "token_type": "Bearer",
                                         "expires_in": 3600, "scope": "patient/*.read",
                                         "subject": "mst-bench"}
        out.append({"patient": patient_id, "fixture": path, "body": body})
    return out


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "prefetch":
        result = calls("prefetch", args[1])
    elif len(args) == 4 and args[0] == "fhir-server":
        result = calls("fhir-server", args[1], args[2])
    else:
        sys.exit(__doc__)
    with open(args[-1], "w") as f:
        json.dump(result, f)
    print(f"serve_calls: {len(result)} {args[0]} calls -> {args[-1]}", file=sys.stderr)


if __name__ == "__main__":
    main()
