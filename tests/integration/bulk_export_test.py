"""`mst-adapter sync` finding changed patients with a FHIR Bulk Data `$export`
against HAPI (issue #17, item 4; docs/operations.md "Bulk export").

The population is a Group of fixture patients; each cycle kicks off
`Group/<id>/$export` with `_since` the previous export's `transactionTime`,
polls the status URL, reads the NDJSON files for patient ids and pulls those
patients. The first export (no checkpoint) covers every member; an export
after a cycle that only wrote the adapter's own resources finds nobody; a
clinician's new Observation brings exactly that patient back.

The test HAPI server runs Batch2 maintenance every 2 s
(tests/hapi-server application.properties) and the sync polls at most every
3 s, so an export completes in seconds. Ids are unique per run and a Group export sees only its members, so
the test need not run serially.

Environment: MST_ADAPTER, MST_HAPI_STATE_DIR."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, Fhir, base_url, load_prefixed, log_events,  # noqa: E402
                         run_adapter, unique_prefix)


class BulkExportSync(unittest.TestCase):
    def setUp(self):
        self.fhir = Fhir(base_url())
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state.db")

    def tearDown(self):
        self.tmp.cleanup()

    def sync(self, gid, changes="bulk-export", expect_rc=0, state=None, extra=(), env=None):
        p = run_adapter("sync", "--once", "--server", self.fhir.base, "--state", state or self.state,
                        "--as-of", AS_OF, "--population", f"group:{gid}", "--changes", changes,
                        "--log-format", "json", *extra, check=False, timeout=900,
                        # HAPI asks for 120 s between polls whatever the progress.
                        env={"MST_SYNC_BULK_MAX_POLL_S": "3", **(env or {})})
        if expect_rc is None:  # a patient may be refused a plan (exit 5 for a bad fixture)
            self.assertIn(p.returncode, (0, 5), p.stderr[-3000:])
        else:
            self.assertEqual(p.returncode, expect_rc, p.stderr[-3000:])
        events = log_events(p.stderr)
        done = {e["patient"]: e["outcome"] for e in events if e.get("event") == "patient.done"}
        return events, done

    def versions(self, ids):
        return {pid: [p["meta"]["versionId"] for p in self.fhir.plans_of(pid)] for pid in ids}

    def test_each_cycle_exports_since_the_last_and_pulls_only_who_changed(self):
        prefix = unique_prefix("bulk")
        ids = load_prefixed(self.fhir, prefix, ["mst-p01", "mst-p02"])
        [outsider] = load_prefixed(self.fhir, prefix, ["mst-p05"])
        gid = prefix + "-spine-mdt"
        group = {"resourceType": "Group", "id": gid, "type": "person", "actual": True,
                 "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in ids]}
        self.assertIn(self.fhir.put(group)[0], (200, 201))

        # First cycle, and `auto`: HAPI declares Group $export, and a Group
        # population has no _lastUpdated scan, so the export is chosen.
        events, done = self.sync(gid, changes="auto")
        [mode] = [e for e in events if e.get("event") == "sync.changes"]
        self.assertEqual(mode["mode"], "bulk-export")
        self.assertEqual(done, {pid: "written" for pid in ids})
        self.assertEqual(self.fhir.plans_of(outsider), [])  # not a member: not exported
        first = self.versions(ids)

        # Only the adapter's own plans were written since (HAPI adds the
        # Conditions they address, older than _since): nobody is pulled.
        events, done = self.sync(gid)
        self.assertEqual(done, {})
        self.assertEqual(self.versions(ids), first)

        # A clinician records a new pain score for one member.
        changed = ids[1]
        obs = self.fhir.search("Observation", subject=f"Patient/{changed}",
                               code="http://loinc.org|72514-3")
        self.assertTrue(obs, "fixture has a pain score")
        obs[0]["valueQuantity"]["value"] = 2 if obs[0]["valueQuantity"]["value"] > 3 else 9
        self.assertEqual(self.fhir.put(obs[0])[0], 200)
        events, done = self.sync(gid)
        self.assertEqual(done, {changed: "written"})
        after = self.versions(ids)
        self.assertNotEqual(after[changed], first[changed])
        self.assertEqual(after[ids[0]], first[ids[0]])

        # A patient joins the Group: pulled without a change of their own;
        # one leaves: their changes are no longer taken.
        group["member"] = [{"entity": {"reference": f"Patient/{pid}"}} for pid in (changed, outsider)]
        self.assertIn(self.fhir.put(group)[0], (200, 201))
        obs = self.fhir.search("Observation", subject=f"Patient/{ids[0]}",
                               code="http://loinc.org|72514-3")
        obs[0]["valueQuantity"]["value"] = 2 if obs[0]["valueQuantity"]["value"] > 3 else 9
        self.assertEqual(self.fhir.put(obs[0])[0], 200)
        events, done = self.sync(gid)
        [population] = [e for e in events if e.get("event") == "sync.population"]
        self.assertEqual((population["joined"], population["left"]), ("1", "1"))
        self.assertEqual(done, {outsider: "written"})
        self.assertEqual(self.versions([ids[0]]), {ids[0]: first[ids[0]]})

    def test_plans_built_from_the_export_equal_those_built_from_pulls(self):
        # sync.bulk_data=records: the first (full) export's resources are the
        # records; no patient is pulled. Then a per-patient pull of the same
        # patients, from a fresh state, builds the same plans: each is
        # "unchanged" (the plan's fingerprint matches the one written), and
        # the patients given no plan are given none again.
        prefix = unique_prefix("bulkrec")
        ids = load_prefixed(self.fhir, prefix)
        gid = prefix + "-spine-mdt"
        group = {"resourceType": "Group", "id": gid, "type": "person", "actual": True,
                 "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in ids]}
        self.assertIn(self.fhir.put(group)[0], (200, 201))

        events, from_export = self.sync(gid, extra=("--bulk-data", "records"), expect_rc=None)
        self.assertEqual(set(from_export), set(ids))
        self.assertEqual([e for e in events if e.get("event") == "sync.bulk_record_pulled"], [])
        [export] = [e for e in events if e.get("event") == "sync.bulk_export"]
        self.assertGreater(int(export["records_kept"]), len(ids))
        written = {pid for pid, outcome in from_export.items() if outcome == "written"}
        self.assertGreater(len(written), 5)
        plans = self.versions(ids)

        _, from_pulls = self.sync(gid, changes="repull", expect_rc=None,
                                  state=os.path.join(self.tmp.name, "pulls.db"))
        expected = {pid: ("unchanged" if outcome == "written" else outcome)
                    for pid, outcome in from_export.items()}
        self.assertEqual(from_pulls, expected)
        self.assertEqual(self.versions(ids), plans)

        # The next cycle exports `_since` the first one's transactionTime:
        # only changes, so its patients are pulled (here: nobody changed).
        events, done = self.sync(gid, extra=("--bulk-data", "records"), expect_rc=None)
        self.assertEqual(done, {})

    def test_the_server_takes_a_type_filter_and_leaves_out_what_it_excludes(self):
        # sync.bulk_type_filter sends _typeFilter on the Group export: HAPI
        # takes it (no 400), reports a change the filter keeps, and leaves
        # out one it excludes (docs/operations.md "Bulk export": why the
        # filter is off by default).
        prefix = unique_prefix("bulktf")
        ids = load_prefixed(self.fhir, prefix, ["mst-p01", "mst-p02"])
        gid = prefix + "-spine-mdt"
        group = {"resourceType": "Group", "id": gid, "type": "person", "actual": True,
                 "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in ids]}
        self.assertIn(self.fhir.put(group)[0], (200, 201))
        pain_only = {"MST_SYNC_BULK_TYPE_FILTER": "Observation?code=http://loinc.org|72514-3"}

        def change(pid, code):
            [obs] = self.fhir.search("Observation", subject=f"Patient/{pid}",
                                     code=f"http://loinc.org|{code}")
            obs["valueQuantity"]["value"] = obs["valueQuantity"]["value"] + 1
            self.assertEqual(self.fhir.put(obs)[0], 200)

        _, done = self.sync(gid, env=pain_only)
        self.assertEqual(done, {pid: "written" for pid in ids})
        change(ids[1], "72514-3")  # a pain score: kept by the filter
        _, done = self.sync(gid, env=pain_only)
        self.assertEqual(done, {ids[1]: "written"})
        change(ids[0], "718-7")  # a haemoglobin: excluded by the filter
        _, done = self.sync(gid, env=pain_only)
        self.assertEqual(done, {}, "HAPI ignored the Group export's _typeFilter")

    def test_an_export_of_a_missing_group_fails_the_cycle_and_keeps_the_checkpoint(self):
        prefix = unique_prefix("bulkbad")
        events, done = self.sync(prefix + "-none", expect_rc=6)  # the server's 404
        self.assertTrue(any(e.get("event") == "sync.scan_failed" for e in events))
        self.assertEqual(done, {})


if __name__ == "__main__":
    unittest.main(verbosity=2)
