"""Issue #17 items 2 and 3 against HAPI: a target without transactions
(mst-fault-proxy --refuse-bundles in front of HAPI: 405 to transaction
Bundles, /metadata without them) gets every fixture patient's plan by batch
or individual conditional requests, and a re-run writes nothing; a target
that takes notes gets a DocumentReference per patient, and a re-run writes
nothing.

Environment: MST_ADAPTER, MST_FAULT_PROXY (binaries), MST_HAPI_STATE_DIR."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, OWN_SYSTEM, Fhir, FaultProxyProcess, base_url,  # noqa: E402
                         expected, goal_codes, goal_mismatches, load_prefixed, run_adapter,
                         run_json, unique_prefix)

POLICY = {"batch": "http://hl7.org/fhir/R4/http.html#brules",
          "individual": "http://hl7.org/fhir/R4/http.html#ccreate"}


def refusing_proxy(upstream, refuse, tmp):
    """mst-fault-proxy with no faults, refusing the given Bundle types."""
    return FaultProxyProcess(upstream, ["--rate", "0", "--refuse-bundles", refuse], tmp,
                             name="proxy-" + refuse.replace(",", "-"))


def versions(fhir, pid):
    return sorted((p["id"], p["meta"]["versionId"]) for p in fhir.plans_of(pid))


def provenance_policies(fhir, plan):
    out = []
    for prov in fhir.search("Provenance", target=f"CarePlan/{plan['id']}"):
        out += prov.get("policy", [])
    return out


def provenance_count(fhir, plan):
    return len(fhir.search("Provenance", target=f"CarePlan/{plan['id']}"))


class WithoutTransactions(unittest.TestCase):
    """Every fixture patient through a target that refuses transactions."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mst-writemodes-")
        cls.fhir = Fhir(base_url())
        cls.proxy = refusing_proxy(cls.fhir.base, "transaction", cls.tmp)
        cls.prefix = unique_prefix("wm")
        cls.ids = load_prefixed(cls.fhir, cls.prefix)  # straight to HAPI
        cls.expected = expected()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()

    def test_check_then_every_plan_then_a_rerun_that_writes_nothing(self):
        p = run_adapter("check", "--server", self.proxy.url)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("impossible   transaction: lacks system transaction", p.stdout)
        chosen = "batch" if "write mode: batch (chosen by auto)" in p.stdout else "individual"
        self.assertIn(f"write mode: {chosen} (chosen by auto)", p.stdout)

        for pid in self.ids:
            with self.subTest(patient=pid):
                exp = self.expected[pid.split("-", 1)[1]]
                out, _ = run_json("run", "--server", self.proxy.url, "--patient", pid,
                                  "--as-of", AS_OF)
                plans = self.fhir.plans_of(pid)
                if not exp["plan"]:
                    self.assertEqual(out["outcome"], "skipped", out)
                    self.assertEqual(plans, [])
                    continue
                self.assertEqual(out["outcome"], "written", out)
                self.assertEqual(len(plans), 1)
                self.assertEqual(goal_mismatches(exp, goal_codes(self.fhir, plans[0])), [])
                self.assertIn(POLICY[chosen], provenance_policies(self.fhir, plans[0]))
        # auto read the CapabilityStatement and never tried a transaction.
        self.assertEqual(self.proxy.stats()["refused_bundles"], 0)

        for pid in self.ids:
            with self.subTest(rerun=pid):
                before = versions(self.fhir, pid)
                out, _ = run_json("run", "--server", self.proxy.url, "--patient", pid,
                                  "--as-of", AS_OF)
                self.assertIn(out["outcome"], ("unchanged", "skipped"), out)
                self.assertEqual(versions(self.fhir, pid), before)


class ExplicitModes(unittest.TestCase):
    """--write-mode batch and individual; a forced transaction is refused."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mst-writemodes-")
        cls.fhir = Fhir(base_url())
        cls.no_tx = refusing_proxy(cls.fhir.base, "transaction", cls.tmp)
        cls.no_bundles = refusing_proxy(cls.fhir.base, "transaction,batch", cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.no_tx.stop()
        cls.no_bundles.stop()

    def run_mode(self, proxy, mode, fixtures):
        prefix = unique_prefix(mode[:2])
        ids = load_prefixed(self.fhir, prefix, fixtures)
        for pid in ids:
            with self.subTest(mode=mode, patient=pid):
                out, _ = run_json("run", "--server", proxy.url, "--patient", pid, "--as-of", AS_OF,
                                  "--write-mode", mode)
                self.assertEqual(out["outcome"], "written", out)
                plans = self.fhir.plans_of(pid)
                self.assertEqual(len(plans), 1)
                self.assertIn(POLICY[mode], provenance_policies(self.fhir, plans[0]))
                before = versions(self.fhir, pid)
                provenances = provenance_count(self.fhir, plans[0])
                again, _ = run_json("run", "--server", proxy.url, "--patient", pid, "--as-of",
                                    AS_OF, "--write-mode", mode)
                self.assertEqual(again["outcome"], "unchanged", again)
                self.assertEqual(versions(self.fhir, pid), before)
                # HAPI finds the plan's Provenance by target: no repair written.
                self.assertEqual(provenance_count(self.fhir, plans[0]), provenances, again)

    def test_batches(self):
        self.run_mode(self.no_tx, "batch", ["mst-p01", "mst-p02"])

    def test_individual_requests(self):
        self.run_mode(self.no_bundles, "individual", ["mst-p01", "mst-p02"])
        p = run_adapter("check", "--server", self.no_bundles.url)
        self.assertIn("write mode: individual (chosen by auto)", p.stdout)

    def test_a_forced_transaction_fails_clearly_and_writes_nothing(self):
        pid = load_prefixed(self.fhir, unique_prefix("tx"), ["mst-p02"])[0]
        out, p = run_json("run", "--server", self.no_tx.url, "--patient", pid, "--as-of", AS_OF,
                          "--write-mode", "transaction", check=False)
        self.assertEqual(out["outcome"], "failed", out)
        self.assertIn("405", json.dumps(out) + p.stderr)
        self.assertEqual(self.fhir.plans_of(pid), [])


class NoteWrites(unittest.TestCase):
    """write.mode=document: one preliminary note per patient, on HAPI."""

    def test_each_patient_gets_one_note_and_a_rerun_writes_nothing(self):
        fhir = Fhir(base_url())
        ids = load_prefixed(fhir, unique_prefix("dr"), ["mst-p01", "mst-p02", "mst-p05"])
        for pid in ids:
            with self.subTest(patient=pid):
                out, _ = run_json("run", "--server", fhir.base, "--patient", pid, "--as-of",
                                  AS_OF, "--write-mode", "document")
                notes = fhir.search("DocumentReference", subject=f"Patient/{pid}",
                                    identifier=f"{OWN_SYSTEM}|")
                if out["outcome"] == "skipped":
                    self.assertEqual(notes, [])
                    continue
                self.assertEqual(out["outcome"], "written", out)
                self.assertEqual(len(notes), 1)
                note = notes[0]
                self.assertEqual(note["docStatus"], "preliminary")
                self.assertEqual(note["status"], "current")
                self.assertEqual(note["type"]["coding"][0]["code"], "18776-5")
                self.assertEqual([c["attachment"]["contentType"] for c in note["content"]],
                                 ["application/xhtml+xml", "text/plain; charset=utf-8"])
                self.assertEqual(fhir.plans_of(pid), [])
                self.assertEqual(fhir.validate(note), [])
                again, _ = run_json("run", "--server", fhir.base, "--patient", pid, "--as-of",
                                    AS_OF, "--write-mode", "document")
                self.assertEqual(again["outcome"], "unchanged", again)
                self.assertEqual(fhir.read("DocumentReference", note["id"])["meta"]["versionId"],
                                 note["meta"]["versionId"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
