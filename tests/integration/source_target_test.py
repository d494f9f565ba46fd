"""Issue #17, item 1: records read from one HAPI server (the source: the
fixture `hapi` shared by the integration tests) and plans written to another
(the target: fixture `hapi_target`, a second HAPI that accepts references to
other servers). check, run and sync with source != target; every plan lands
on the target with references valid there, nothing is written to the source,
and a re-run writes nothing."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, OWN_SYSTEM, Fhir, base_url, load_prefixed,  # noqa: E402
                         run_adapter, run_json, unique_prefix)


def target_url():
    with open(os.path.join(os.environ["MST_HAPI_TARGET_STATE_DIR"], "url")) as f:
        return f.read().strip()


class SourceAndTarget(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.source = Fhir(base_url())
        cls.target = Fhir(target_url())
        cls.ids = load_prefixed(cls.source, unique_prefix("st"))

    def servers(self):
        return ["--server", self.source.base, "--target", self.target.base, "--as-of", AS_OF]

    def plans_on_target(self, pid):
        return self.target.search("CarePlan", subject=f"{self.source.base}/Patient/{pid}",
                                  identifier=f"{OWN_SYSTEM}|")

    def assert_nothing_written_to_source(self):
        for pid in self.ids:
            self.assertEqual(self.source.plans_of(pid), [], pid)

    def assert_references_valid_on_target(self, pid, plan):
        self.assertEqual(plan["subject"]["reference"], f"{self.source.base}/Patient/{pid}")
        for ref in [*plan.get("goal", []), *plan.get("careTeam", []),
                    *(a["reference"] for a in plan.get("activity", []) if "reference" in a)]:
            type_, id_ = ref["reference"].split("/")
            self.target.read(type_, id_)  # a local reference: resolves on the target
        for ref in [*plan.get("addresses", []), *plan.get("supportingInfo", [])]:
            url = ref["reference"]
            self.assertTrue(url.startswith(self.source.base + "/"), url)
            type_, id_ = url[len(self.source.base) + 1:].split("/")
            self.source.read(type_, id_)  # evidence: resolves on the source

    def test_1_check_names_both_servers(self):
        p = run_adapter("check", "--server", self.source.base, "--target", self.target.base)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"source:   {self.source.base}", p.stdout)
        self.assertIn(f"target:   {self.target.base}", p.stdout)
        self.assertIn("ok       source: search Condition", p.stdout)
        self.assertIn("ok       target: create CarePlan", p.stdout)
        self.assertNotIn("source: create", p.stdout)

    def test_2_run_writes_every_plan_to_the_target_and_a_rerun_nothing(self):
        written = {}
        for pid in self.ids:
            summary, p = run_json("run", "--patient", pid, *self.servers())
            if summary["outcome"] != "written":
                continue  # fixtures without a plan (no spinal metastasis)
            [plan] = self.plans_on_target(pid)
            self.assert_references_valid_on_target(pid, plan)
            written[pid] = plan["meta"]["versionId"]
        self.assertGreaterEqual(len(written), 5, written)
        self.assert_nothing_written_to_source()
        for pid, version in written.items():
            summary, _ = run_json("run", "--patient", pid, *self.servers())
            self.assertEqual(summary["outcome"], "unchanged", (pid, summary))
            [plan] = self.plans_on_target(pid)
            self.assertEqual(plan["meta"]["versionId"], version, pid)

    def test_3_sync_reads_the_source_writes_the_target(self):
        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "state.db")
            args = ["sync", "--once", "--state", state, *self.servers()]
            p = run_adapter(*args, timeout=900)
            self.assertIn(p.returncode, (0, 5), p.stderr[-2000:])
            versions = {}
            for pid in self.ids:
                plans = self.plans_on_target(pid)
                self.assertLessEqual(len(plans), 1, pid)
                for plan in plans:
                    self.assert_references_valid_on_target(pid, plan)
                    versions[pid] = plan["meta"]["versionId"]
            self.assertGreaterEqual(len(versions), 5, versions)
            self.assert_nothing_written_to_source()
            # Same servers, nothing changed: nothing written.
            run_adapter(*args, timeout=900)
            for pid, version in versions.items():
                [plan] = self.plans_on_target(pid)
                self.assertEqual(plan["meta"]["versionId"], version, pid)
            # The state belongs to this source and target: another target is refused.
            other = run_adapter("sync", "--once", "--state", state, "--server", self.source.base,
                                "--as-of", AS_OF, check=False)
            self.assertEqual(other.returncode, 2, other.stderr)
            self.assertIn(" -> ", other.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
