"""The conformance package (conformance/, docs/conformance.md) on the HAPI
server of the CTest fixture: it loads, its checked-in snapshots are the ones
HAPI generates, and every resource the adapter writes for every fixture
patient validates against its profile (`$validate?profile=`) with no error,
no warning about our own canonical URLs, and no kind of warning that
docs/conformance.md does not list and explain."""

import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, REPO, Fhir, base_url, load_prefixed,  # noqa: E402
                         run_json, unique_prefix)

BASE = "http://mst-adapter.example.org/fhir"
PROFILES = {
    "CarePlan": "mst-draft-careplan",
    "Goal": "mst-goal",
    "ServiceRequest": "mst-servicerequest",
    "CareTeam": "mst-careteam",
    "Provenance": "mst-provenance",
}
DOC = os.path.join(REPO, "docs", "conformance.md")
# docs/conformance.md lists the accepted kinds of warning between these lines.
LIST_START, LIST_END = "<!-- accepted-warnings -->", "<!-- /accepted-warnings -->"


def warning_kind(resource_type, issue):
    """A warning without the codes it names: a new code of a known system is
    the same kind; a new system, a new kind."""
    text = issue.get("diagnostics", "")
    text = re.sub(r" for '[^']*'$", "", text)
    return f"{resource_type}: {text}"


def accepted_warnings():
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    start, end = doc.find(LIST_START), doc.find(LIST_END)
    assert 0 <= start < end, f"{DOC} has no {LIST_START} ... {LIST_END} list"
    block = doc[start + len(LIST_START):end]
    return {line.strip()[2:].strip("`") for line in block.splitlines() if line.strip().startswith("- ")}


def written_by_plan(fhir, plan):
    """The plan, the members it names, and the Provenance of its writes."""
    out = [plan]
    for ref in [*(r["reference"] for r in plan.get("goal", [])),
                *(r["reference"] for r in plan.get("careTeam", [])),
                *(a["reference"]["reference"] for a in plan.get("activity", []) if "reference" in a)]:
        type_, id_ = ref.split("/")[-2:]
        out.append(fhir.read(type_, id_))
    out += fhir.search("Provenance", target=f"CarePlan/{plan['id']}")
    return out


class ConformancePackage(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fhir = Fhir(base_url())
        subprocess.run([os.path.join(REPO, "scripts", "conformance"), "load", cls.fhir.base],
                       check=True, capture_output=True, text=True)
        cls.ids = load_prefixed(cls.fhir, unique_prefix("conf"))
        for pid in cls.ids:
            run_json("run", "--server", cls.fhir.base, "--patient", pid, "--as-of", AS_OF)

    def test_the_package_loads_twice(self):
        p = subprocess.run([os.path.join(REPO, "scripts", "conformance"), "load", self.fhir.base],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        for kind, name in [("StructureDefinition", v) for v in PROFILES.values()] + [
                ("StructureDefinition", "mst-content-fingerprint")]:
            found = self.fhir.search(kind, url=f"{BASE}/{kind}/{name}")
            self.assertEqual(len(found), 1, f"{kind} {name}")

    def test_the_requirements_statement_is_valid_r4(self):
        with open(os.path.join(REPO, "conformance", "capability", "mst-adapter-requirements.json")) as f:
            statement = json.load(f)
        status, oo = self.fhir.request("POST", "/CapabilityStatement/$validate", statement)
        issues = [i for i in oo.get("issue", []) if i.get("severity") in ("error", "fatal", "warning")]
        self.assertEqual(issues, [])
        self.assertEqual(len(self.fhir.search("CapabilityStatement", url=statement["url"])), 1)

    def test_the_checked_in_snapshots_are_hapis(self):
        folder = os.path.join(REPO, "conformance", "profiles")
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                sd = json.load(f)
            with self.subTest(profile=name):
                self.assertIn("snapshot", sd, "run scripts/conformance snapshot")
                definition = {k: v for k, v in sd.items() if k != "snapshot"}
                status, fresh = self.fhir.request("POST", "/StructureDefinition/$snapshot", {
                    "resourceType": "Parameters", "parameter": [{"name": "definition", "resource": definition}]})
                self.assertEqual(status, 200, fresh)
                self.assertEqual(sd["snapshot"], fresh["snapshot"],
                                 "stale snapshot: run scripts/conformance snapshot and review the diff")

    def profile_errors(self, res):
        t = res["resourceType"]
        profile = f"{BASE}/StructureDefinition/{PROFILES[t]}"
        _, oo = self.fhir.request("POST", f"/{t}/$validate?profile={profile}", res)
        return [f"{t}/{res['id']}: {i.get('expression')}: {i.get('diagnostics')}"
                for i in oo.get("issue", []) if i.get("severity") in ("error", "fatal")]

    def test_a_withdrawn_plan_still_meets_the_profiles(self):
        # The statuses are invariants rather than fixed values so that the
        # adapter's own withdrawals (revoked, cancelled, inactive) conform.
        [pid] = load_prefixed(self.fhir, unique_prefix("confdead"), ["mst-p02"])
        run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
        [plan] = self.fhir.search("CarePlan", subject=f"Patient/{pid}",
                                  identifier=f"{BASE}/NamingSystem/mst-careplan|")
        patient = self.fhir.read("Patient", pid)
        patient["deceasedDateTime"] = "2026-11-19"
        self.assertEqual(self.fhir.put(patient)[0], 200)
        run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
        now = written_by_plan(self.fhir, self.fhir.read("CarePlan", plan["id"]))
        self.assertEqual(now[0]["status"], "revoked")
        self.assertIn("cancelled", {r.get("lifecycleStatus") for r in now})
        errors = [e for r in now for e in self.profile_errors(r)]
        self.assertEqual(errors, [])

    def test_every_written_resource_validates_against_its_profile(self):
        accepted = accepted_warnings()
        validated, errors, ours, new_kinds, seen = 0, [], [], set(), set()
        for pid in self.ids:
            for plan in self.fhir.search("CarePlan", subject=f"Patient/{pid}",
                                         identifier=f"{BASE}/NamingSystem/mst-careplan|"):
                for res in written_by_plan(self.fhir, plan):
                    t = res["resourceType"]
                    profile = f"{BASE}/StructureDefinition/{PROFILES[t]}"
                    status, oo = self.fhir.request("POST", f"/{t}/$validate?profile={profile}", res)
                    validated += 1
                    where = f"{t}/{res['id']} ({pid})"
                    for issue in oo.get("issue", []):
                        sev, text = issue.get("severity"), issue.get("diagnostics", "")
                        if sev in ("error", "fatal"):
                            errors.append(f"{where}: {issue.get('expression')}: {text}")
                        elif sev == "warning":
                            kind = warning_kind(t, issue)
                            seen.add(kind)
                            if BASE in text:
                                ours.append(f"{where}: {text}")
                            elif kind not in accepted:
                                new_kinds.add(kind)
        self.assertGreater(validated, len(self.ids), "no plan was written")
        problems = [f"error: {e}" for e in errors]
        ours_kinds = sorted({re.sub(r"^\S+ \([^)]*\): ", "", o) for o in ours})
        ours_kinds = sorted({re.sub(r" for '[^']*'$", "", k) for k in ours_kinds})
        problems += [f"warning about our own canonical URLs ({len(ours)} in all): {k}" for k in ours_kinds]
        problems += [f"kind of warning not listed in docs/conformance.md: `{k}`" for k in sorted(new_kinds)]
        self.assertEqual(problems, [], "\n".join(problems))
        unseen = sorted(accepted - seen)
        if unseen:
            print(f"accepted warnings no longer seen (remove them from the list): {unseen}")

if __name__ == "__main__":
    unittest.main(verbosity=2)
