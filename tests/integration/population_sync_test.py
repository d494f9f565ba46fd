"""`mst-adapter sync` without `_lastUpdated` against HAPI (issue #17, item 4):
the population is a FHIR Group of fixture patients, re-read every cycle, and
every member is re-pulled. A second run writes nothing; after one patient's
record changes, only that patient's draft is rewritten; a member removed from
the Group is no longer processed; the re-pull budget bounds each cycle.

Ids are unique per run (the server is shared with parallel tests), and the
sync touches only the Group's members, so the test need not run serially.

Environment: MST_ADAPTER, MST_HAPI_STATE_DIR."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, Fhir, base_url, load_prefixed, log_events,  # noqa: E402
                         run_adapter, unique_prefix)



class PopulationSync(unittest.TestCase):
    def setUp(self):
        self.fhir = Fhir(base_url())
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state.db")

    def tearDown(self):
        self.tmp.cleanup()

    def put_group(self, gid, members):
        group = {"resourceType": "Group", "id": gid, "type": "person", "actual": True,
                 "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in members]}
        status, body = self.fhir.put(group)
        self.assertIn(status, (200, 201), body)

    def sync(self, gid, *extra):
        p = run_adapter("sync", "--once", "--server", self.fhir.base, "--state", self.state,
                        "--as-of", AS_OF, "--population", f"group:{gid}", "--changes", "repull",
                        "--log-format", "json", *extra, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        events = log_events(p.stderr)
        [cycle] = [e for e in events if e.get("event") == "sync.cycle"]
        [population] = [e for e in events if e.get("event") == "sync.population"]
        done = {e["patient"]: e["outcome"] for e in events if e.get("event") == "patient.done"}
        return cycle, population, done

    def versions(self, ids):
        return {pid: [p["meta"]["versionId"] for p in self.fhir.plans_of(pid)] for pid in ids}

    def test_a_group_population_is_re_pulled_and_only_a_changed_patient_is_rewritten(self):
        prefix = unique_prefix("pop")
        ids = load_prefixed(self.fhir, prefix, ["mst-p01", "mst-p02", "mst-p05"])
        [outsider] = load_prefixed(self.fhir, prefix, ["mst-p03"])
        gid = prefix + "-spine-mdt"
        self.put_group(gid, ids)

        cycle, population, done = self.sync(gid)
        self.assertEqual(population["members"], "3")
        self.assertEqual(done, {pid: "written" for pid in ids})
        first = self.versions(ids)
        for pid in ids:
            self.assertEqual(len(first[pid]), 1, pid)
        self.assertEqual(self.fhir.plans_of(outsider), [])  # not a member: not processed

        # Nothing changed: every member is pulled again, nothing is written.
        cycle, _, done = self.sync(gid)
        self.assertEqual(done, {pid: "unchanged" for pid in ids})
        self.assertEqual(cycle["written"], "0")
        self.assertEqual(self.versions(ids), first)

        # A clinician records a new pain score for one patient.
        changed = ids[0]
        obs = self.fhir.search("Observation", subject=f"Patient/{changed}",
                               code="http://loinc.org|72514-3")
        obs[0]["valueQuantity"]["value"] = 2 if obs[0]["valueQuantity"]["value"] > 3 else 9
        self.assertEqual(self.fhir.put(obs[0])[0], 200)
        cycle, _, done = self.sync(gid)
        self.assertEqual(done[changed], "written")
        self.assertEqual(cycle["written"], "1")
        after = self.versions(ids)
        for pid in ids:
            if pid == changed:
                self.assertNotEqual(after[pid], first[pid], pid)
            else:
                self.assertEqual(after[pid], first[pid], pid)

        # One member leaves the Group: no longer processed, its draft left as is.
        self.put_group(gid, ids[1:])
        cycle, population, done = self.sync(gid)
        self.assertEqual(population["left"], "1")
        self.assertNotIn(changed, done)
        self.assertEqual(self.versions([changed]), {changed: after[changed]})

        # A budget of one: one pull per cycle, the least recently checked first.
        pulled = []
        for _ in range(2):
            cycle, _, done = self.sync(gid, "--repull-budget", "1")
            self.assertEqual(cycle["processed"], "1")
            pulled += list(done)
        self.assertEqual(sorted(pulled), sorted(ids[1:]))

    def test_a_group_that_is_missing_or_malformed_fails_the_cycle_and_loses_nothing(self):
        prefix = unique_prefix("popbad")
        ids = load_prefixed(self.fhir, prefix, ["mst-p02"])
        p = run_adapter("sync", "--once", "--server", self.fhir.base, "--state", self.state,
                        "--as-of", AS_OF, "--population", f"group:{prefix}-none",
                        "--log-format", "json", check=False, timeout=600)
        self.assertEqual(p.returncode, 6, p.stderr[-2000:])  # the server's 404
        self.assertIn("sync.scan_failed", p.stderr)
        gid = prefix + "-bad"
        group = {"resourceType": "Group", "id": gid, "type": "person", "actual": True,
                 "quantity": 5, "member": [{"entity": {"reference": f"Patient/{ids[0]}"}}]}
        self.assertIn(self.fhir.put(group)[0], (200, 201))
        p = run_adapter("sync", "--once", "--server", self.fhir.base, "--state", self.state,
                        "--as-of", AS_OF, "--population", f"group:{gid}",
                        "--log-format", "json", check=False, timeout=600)
        self.assertEqual(p.returncode, 2, p.stderr[-2000:])
        self.assertIn("says it has 5 members but lists 1", p.stderr)
        self.assertEqual(self.fhir.plans_of(ids[0]), [])

    def test_hapi_lists_last_updated_so_auto_keeps_the_change_feed_there(self):
        # sync.changes=auto reads this: on HAPI it keeps the _lastUpdated scans.
        status, caps = self.fhir.request("GET", "/metadata")
        self.assertEqual(status, 200)
        [rest] = [r for r in caps["rest"] if r["mode"] == "server"]
        params = {r["type"]: {p["name"] for p in r.get("searchParam", [])} for r in rest["resource"]}
        for type_ in ("Condition", "Observation", "CarePlan", "Procedure", "Goal", "Consent",
                      "MedicationRequest", "MedicationAdministration", "MedicationStatement"):
            self.assertIn("_lastUpdated", params.get(type_, set()), type_)


if __name__ == "__main__":
    unittest.main(verbosity=2)
