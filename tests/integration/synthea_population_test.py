"""A Synthea population with our spinal-metastasis module through `sync`
(issue #15 item 4; docs/population.md).

Generates a small population (fixed seed; only the cancer modules and ours,
ages 50-85, every cancer patient given spinal metastases so a CI-sized run
still holds several), loads it into a HAPI server of its own (Synthea's
organisations and practitioners would pollute the shared one, and its heap),
runs `mst-adapter sync --once` and checks: no crash, no failed patient;
every living patient whose record holds an active cord or cauda equina
compression, or a deficit inside the 14-day new-symptom window, gets an
emergency plan (its narrative opens "Emergency pathway"); no patient without
cancer or spinal disease gets a plan.

Environment: MST_ADAPTER; MST_POPULATION_STATE_DIR (this test's HAPI state
directory); MST_SYNTHEA_LIB (optional, Synthea's jars)."""

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import REPO, Fhir, adapter_path, state_url  # noqa: E402

AS_OF = "2026-11-01"
NEW_WINDOW_DAYS = 14
HAPI = os.path.join(REPO, "scripts", "hapi")
POPULATION = os.path.join(REPO, "scripts", "population")


def days_before(as_of, when):
    a = datetime.date.fromisoformat(as_of)
    return (a - datetime.date.fromisoformat(when[:10])).days


def expects_emergency(row):
    if row.get("deceased"):
        return False  # a deceased patient gets no plan (docs/operations.md)
    for d in row["deficits"]:
        if d["compression"] and not d["abated"]:
            return True
        if 0 <= days_before(AS_OF, d["onset"]) <= NEW_WINDOW_DAYS:
            return True
    return False


class SyntheaPopulation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.state_dir = os.environ.get("MST_POPULATION_STATE_DIR", os.path.join(cls.tmp.name, "hapi"))
        env = dict(os.environ, MST_HAPI_STATE_DIR=cls.state_dir)
        env.setdefault("MST_HAPI_JAVA_OPTS", "-Xms256m -Xmx2g -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "
                       "-XX:+ExitOnOutOfMemoryError")
        cls.env = env
        # The server starts while Synthea generates (both take about a
        # minute of mostly one core each); the test waits for it before the
        # load (CI time).
        cls.starting = subprocess.Popen([HAPI, "start"], env=env)

    @classmethod
    def tearDownClass(cls):
        if cls.starting.poll() is None:
            cls.starting.wait(timeout=900)
        subprocess.run([HAPI, "stop"], env=cls.env)
        cls.tmp.cleanup()

    def server(self):
        """The test's HAPI server, once `scripts/hapi start` has finished."""
        self.assertEqual(self.starting.wait(timeout=900), 0, "scripts/hapi start failed")
        return Fhir(state_url(self.state_dir, "MST_POPULATION_STATE_DIR"))

    def test_population(self):
        phases, mark = [], time.time()

        def done(name):
            nonlocal mark
            phases.append(f"{name}={time.time() - mark:.0f}s")
            mark = time.time()

        out = os.path.join(self.tmp.name, "pop")
        subprocess.run([POPULATION, "generate", "--patients", "60", "--seed", "11", "--out", out,
                        "--ages", "50-85", "--modules", "cancer", "--years-of-history", "5",
                        "--reference-date", AS_OF.replace("-", ""), "--spinal-share", "1.0",
                        "--deficit-share", "0.6"], check=True)
        with open(os.path.join(out, "manifest.json")) as f:
            manifest = json.load(f)
        self.assertGreaterEqual(manifest["with_spinal_metastasis"], 3, manifest)
        self.assertGreaterEqual(manifest["with_deficit"], 1, manifest)

        done("generate")
        self.fhir = self.server()
        done("server_wait")
        subprocess.run([POPULATION, "load", "--server", self.fhir.base, out], check=True)
        with open(os.path.join(out, "load-report.json")) as f:
            report = json.load(f)
        self.assertEqual(report["failed"], [])
        server_id = {r["file"]: r["patient"] for r in report["loaded"] if "patient" in r}
        done("load")

        p = subprocess.run([adapter_path(), "sync", "--once", "--server", self.fhir.base,
                            "--state", os.path.join(self.tmp.name, "state.db"), "--as-of", AS_OF],
                           capture_output=True, text=True, timeout=900)
        self.assertEqual(p.returncode, 0, f"sync exited {p.returncode}\n{p.stdout}\n{p.stderr[-4000:]}")

        done("sync")
        missed, unexpected, unplanned, expected = [], [], [], 0
        for row in manifest["patient_rows"]:
            pid = server_id[row["file"]]
            plans = self.fhir.plans_of(pid)
            text = " ".join(pl.get("text", {}).get("div", "") for pl in plans).lower()
            if expects_emergency(row):
                expected += 1
            if expects_emergency(row) and "<b>emergency pathway" not in text:
                missed.append({"patient": pid, "file": row["file"], "metastasis": row["spinal_metastasis"],
                               "deficits": row["deficits"], "plans": len(plans)})
            if not row["cancer"] and not row["spinal_metastasis"] and plans:
                unexpected.append({"patient": pid, "file": row["file"], "plans": len(plans)})
            # Every coding the module uses (a SNOMED region, or C79.51 with
            # the SINS and ESCC scores but no level) must read as spinal.
            if row["spinal_metastasis"] and not row.get("deceased") and not plans:
                unplanned.append({"patient": pid, "file": row["file"],
                                  "metastasis": row["spinal_metastasis"]})
        done("check")
        print("synthea-population: " + " ".join(phases), file=sys.stderr)
        self.assertGreaterEqual(expected, 1, "the population holds no patient the test can check")
        self.assertEqual(unexpected, [], "patients without cancer got a plan")
        self.assertEqual(unplanned, [], "living patients with a spinal metastasis got no plan:\n"
                         + json.dumps(unplanned, indent=1))
        self.assertEqual(missed, [], "patients with a compression or a new deficit got no emergency plan:\n"
                         + json.dumps(missed, indent=1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
