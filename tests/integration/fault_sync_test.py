"""`mst-adapter sync` of >= 100 patients through mst-fault-proxy (resets,
truncated answers, 429, 503, latency at a 10% rate), repeated with the same
state file until nothing is pending, then checked against HAPI directly:
one draft per eligible patient, none lost, no duplicates, the goals the
fixtures expect, a correct checkpoint, and a clean re-run that writes nothing.

The sync starts as an established one: a first run against a server with no
patients sets the checkpoint, so the runs through the proxy see exactly the
changes made after it (the load). Registered RUN_SERIAL so that no other
test changes data on the shared server meanwhile (this sync would process
their patients too, racing their own plans).

Environment: MST_ADAPTER, MST_FAULT_PROXY (binaries), MST_HAPI_STATE_DIR;
MST_FAULT_PATIENTS (default 104), MST_FAULT_SEED (default 20261127)."""

import datetime
import json
import os
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "e2e"))
from e2e_support import (AS_OF, FaultProxyProcess, Fhir, base_url, establish_checkpoint,  # noqa: E402
                         expected, goal_codes, goal_mismatches, log_events, run_adapter,
                         unique_prefix)
import load_patients  # noqa: E402

FAULTS = ["latency", "reset", "truncate", "429", "503"]
MAX_RUNS = 12
# Short waits so the test does not sleep through the sync's backoff, and the
# overlap off: back-to-back runs would otherwise re-read the whole load.
SYNC_ENV = {"MST_SYNC_RETRY_BASE_S": "1", "MST_SYNC_RETRY_MAX_S": "4", "MST_SYNC_OVERLAP_S": "0",
            "MST_SERVER_RETRY_BASE_DELAY_MS": "100", "MST_SERVER_RETRY_MAX_DELAY_MS": "1000"}


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def fault_proxy(upstream, seed, tmp):
    return FaultProxyProcess(upstream, ["--rate", "0.1", "--seed", str(seed), "--faults",
                                        ",".join(FAULTS), "--latency-ms", "200"], tmp)


class State:
    """The sync's SQLite state file, read with Python's own sqlite3."""

    def __init__(self, path):
        self.path = path

    def query(self, sql, *args):
        if not os.path.exists(self.path):
            return []  # before the first run; connecting would create it
        con = sqlite3.connect(self.path)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def meta(self, key):
        rows = self.query("SELECT value FROM meta WHERE key = ?", key)
        return rows[0][0] if rows else None

    def patients(self):
        cols = ["id", "plan_ref", "last_outcome", "last_error", "failures", "next_retry_ms",
                "pending", "quarantined"]
        return {r[0]: dict(zip(cols, r))
                for r in self.query(f"SELECT {', '.join(cols)} FROM patient")}



class FaultInjectedSync(unittest.TestCase):
    def test_a_sync_through_injected_faults_writes_each_plan_exactly_once(self):
        started = time.time()
        fhir = Fhir(base_url())
        count = int(os.environ.get("MST_FAULT_PATIENTS", "104"))
        seed = int(os.environ.get("MST_FAULT_SEED", "20261127"))
        with tempfile.TemporaryDirectory() as tmp:
            state = State(os.path.join(tmp, "state.db"))
            p = establish_checkpoint(fhir.base, state.path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIsNotNone(state.meta("checkpoint"))
            time.sleep(1.1)  # the checkpoint has second precision: load in a later second
            load_started = time.time()
            loaded = load_patients.load(fhir.base, count, unique_prefix("fault"))
            ids = [pid for pid, _ in loaded]
            newest_input = max(instant(t) for _, t in loaded)
            exp = {pid: expected()[pid.split("-", 1)[1]] for pid in ids}
            eligible = [pid for pid in ids if exp[pid]["plan"]]
            loaded_at = time.time()
            proxy = fault_proxy(fhir.base, seed, tmp)
            runs, failures, scan_failures, scanned = [], 0, 0, False
            try:
                for _ in range(MAX_RUNS):
                    left = [r["id"] for r in state.patients().values()
                            if r["pending"] and not r["quarantined"]]
                    t0 = time.time()
                    # The proxy is the same server the state was started on.
                    p = run_adapter("sync", "--once", "--server", proxy.url, "--state", state.path,
                                    "--state-server-moved", "--as-of", AS_OF, "--concurrency", "4", "--log-format", "json",
                                    check=False, timeout=600, env=SYNC_ENV)
                    events = log_events(p.stderr)
                    names = [e.get("event") for e in events]
                    runs.append((p.returncode, round(time.time() - t0, 1)))
                    # 0: all done; 5: some patients failed and stay pending; 3 or 6:
                    # the scan itself failed after its retries (nothing lost).
                    scan_failed = "sync.scan_failed" in names
                    self.assertTrue(p.returncode in (0, 5) or (p.returncode in (3, 6) and scan_failed),
                                    f"exit {p.returncode}\n{p.stderr[-3000:]}")
                    scan_failures += scan_failed
                    cycle = [e for e in events if e.get("event") == "sync.cycle"]
                    if scanned and cycle:
                        # After a scan that got through, a retry run takes up what was
                        # left and redoes nothing finished: no data changed since.
                        self.assertLessEqual(int(cycle[0]["processed"]), len(left), cycle[0])
                    scanned = scanned or "sync.scan" in names
                    failures += names.count("patient.failed") + names.count("patient.quarantined")
                    if p.returncode == 0 and state.meta("checkpoint") == state.meta("candidate") and not any(
                            r["pending"] and not r["quarantined"] for r in state.patients().values()):
                        break
                    # Wait until every pending patient is due; the short backoff keeps it to seconds.
                    waits = [r["next_retry_ms"] / 1000 - time.time()
                             for r in state.patients().values() if r["pending"] and not r["quarantined"]]
                    time.sleep(min(max(waits + [0.2]), 5))
                stats = proxy.stats()
            finally:
                proxy_rc, proxy_out = proxy.stop()
            fault_wall = time.time() - loaded_at
            self.assertEqual(proxy_rc, 0, proxy_out)

            # The sync finished: nothing pending, nothing quarantined, checkpoint set.
            rows = state.patients()
            self.assertEqual([(r["id"], r["last_outcome"], r["last_error"])
                              for r in rows.values() if r["pending"]], [],
                             f"still pending or quarantined after {len(runs)} runs {runs}")
            checkpoint = state.meta("checkpoint")
            self.assertIsNotNone(checkpoint)
            self.assertEqual(checkpoint, state.meta("candidate"))
            # Second precision, cut down: the next scan re-reads that second.
            self.assertGreaterEqual(instant(checkpoint), newest_input.replace(microsecond=0))
            server_now = instant(fhir.request("GET", "/Patient?_count=0")[1]["meta"]["lastUpdated"])
            self.assertLessEqual(instant(checkpoint), server_now)

            # Against HAPI directly: one draft per eligible patient, none for the rest.
            plans = {}
            for pid in ids:
                found = fhir.plans_of(pid)
                with self.subTest(patient=pid):
                    if not exp[pid]["plan"]:
                        self.assertEqual(found, [])
                        self.assertEqual(rows[pid]["last_outcome"], "skipped")
                        continue
                    self.assertEqual(len(found), 1, [p["id"] for p in found])
                    plan = found[0]
                    plans[pid] = (plan["id"], plan["meta"]["versionId"])
                    self.assertEqual((plan["status"], plan["intent"]), ("draft", "proposal"))
                    self.assertEqual(goal_mismatches(exp[pid], goal_codes(fhir, plan)), [])
                    self.assertIn(rows[pid]["last_outcome"], ("written", "unchanged"))
                    self.assertEqual(rows[pid]["plan_ref"], f"CarePlan/{plan['id']}")
            self.assertEqual(len(plans), len(eligible))

            # Faults of every kind reached the adapter: the run above was not fault-free.
            for kind in FAULTS:
                self.assertGreater(stats["faults"][kind], 0, stats)

            # A re-run over a clean connection, same state, re-reading every
            # change since the load began: each patient again, nothing to write.
            overlap = int(time.time() - load_started) + 60
            p = run_adapter("sync", "--once", "--server", fhir.base, "--state", state.path,
                            "--state-server-moved", "--as-of", AS_OF, "--log-format", "json", check=False, timeout=600,
                            env={"MST_SYNC_OVERLAP_S": str(overlap)})
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            outcomes = {e["patient"]: e["outcome"] for e in log_events(p.stderr)
                        if e.get("event") == "patient.done" and e.get("patient") in exp}
            self.assertEqual(outcomes, {pid: "unchanged" if exp[pid]["plan"] else "skipped"
                                        for pid in ids})
            for pid, before in plans.items():
                found = fhir.plans_of(pid)
                self.assertEqual([(f["id"], f["meta"]["versionId"]) for f in found], [before], pid)

        print(f"fault-sync: patients={count} eligible={len(eligible)} runs={len(runs)} "
              f"run_exits_and_seconds={runs} patient_failures_retried={failures} "
              f"scan_failures={scan_failures} requests={stats['requests']} "
              f"forwarded={stats['forwarded']} faults={json.dumps(stats['faults'], sort_keys=True)} "
              f"faulty_sync_wall_s={fault_wall:.1f} total_wall_s={time.time() - started:.1f}",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
