"""Three `mst-adapter sync` workers sharing one PostgreSQL state over HAPI,
through mst-fault-proxy (10 % faults), one of them SIGKILLed mid-run; rounds
of workers repeat until nothing is pending. Then, against HAPI directly:
exactly one draft per eligible patient, none for the rest, nothing written
twice (every plan at its first version, and a clean re-run writes nothing),
and the killed worker's leased patients were finished by the others.

The issue's 500 patients (MST_PG_WORKERS_PATIENTS). The sync follows the
_lastUpdated feed, which takes every patient changed on its server: on the
shared HAPI it would plan other tests' patients and would have to run alone,
so it has a HAPI of its own (fixture hapi_pg, tests/integration/postgres.cmake)
and runs beside the other tests. The last line gives each phase's wall time
and HAPI CPU seconds.

Environment: MST_ADAPTER, MST_FAULT_PROXY (binaries), MST_HAPI_STATE_DIR,
MST_PG_STATE_DIR (the postgres fixture's), MST_PG_WORKERS_PATIENTS,
MST_FAULT_SEED."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "e2e"))
from e2e_support import (AS_OF, OWN_SYSTEM, FaultProxyProcess, Fhir, adapter_path, base_url,  # noqa: E402
                         establish_checkpoint, expected, log_events, run_adapter,
                         unique_prefix)
import load_patients  # noqa: E402

WORKERS = 3
# Patients each worker pulls at once. A claim is 2 x this many patients and
# must finish within LEASE_S through the proxy's faults.
CONCURRENCY = 2
MAX_ROUNDS = 12
LEASE_S = 20
# Patients per load transaction: one fixture cycle (13) holds the shared
# Organization once.
PER_TRANSACTION = 13
SYNC_ENV = {"MST_SYNC_RETRY_BASE_S": "1", "MST_SYNC_RETRY_MAX_S": "4", "MST_SYNC_OVERLAP_S": "0",
            "MST_SYNC_LEASE_S": str(LEASE_S),
            "MST_SERVER_RETRY_BASE_DELAY_MS": "100", "MST_SERVER_RETRY_MAX_DELAY_MS": "1000"}


def hapi_cpu_s():
    """CPU seconds HAPI has used so far (its pid file, /proc), or 0: the
    phase report's measure of server work, which a busy machine's wall time
    hides."""
    try:
        with open(os.path.join(os.environ["MST_HAPI_STATE_DIR"], "pid")) as f:
            pid = f.read().strip()
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, KeyError):
        return 0.0


class Phases:
    """Wall and HAPI CPU seconds per phase of the test, for its last line."""

    def __init__(self):
        self.rows, self.mark = [], (time.time(), hapi_cpu_s())

    def done(self, name):
        now = (time.time(), hapi_cpu_s())
        self.rows.append((name, now[0] - self.mark[0], now[1] - self.mark[1]))
        self.mark = now

    def __str__(self):
        return " ".join(f"{n}={w:.0f}s/{c:.0f}cpu" for n, w, c in self.rows)


def admin_url():
    with open(os.path.join(os.environ["MST_PG_STATE_DIR"], "url")) as f:
        return f.read().strip()


def psql(url, sql):
    p = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                        "-d", url, "-c", sql], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"psql: {sql}: {p.stderr}")
    return [line.split("\t") for line in p.stdout.splitlines() if line]


class Database:
    """A database of the test's own on the fixture's server."""

    def __init__(self):
        self.admin = admin_url()
        self.name = unique_prefix("pgw").replace("-", "_").lower()
        psql(self.admin, f"CREATE DATABASE {self.name}")
        self.url = self.admin.rsplit("/", 1)[0] + "/" + self.name

    def drop(self):
        psql(self.admin, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def meta(self, key):
        rows = psql(self.url, f"SELECT value FROM meta WHERE key = '{key}'")
        return rows[0][0] if rows else None

    def patients(self):
        cols = ["id", "plan_ref", "last_outcome", "last_error", "pending", "quarantined",
                "next_retry_ms", "lease_owner", "lease_expires_ms"]
        return {r[0]: dict(zip(cols, r))
                for r in psql(self.url, f"SELECT {', '.join(cols)} FROM patient")}

    def unfinished(self):
        return [r for r in self.patients().values() if r["pending"] == "1" and r["quarantined"] == "0"]


def plans_by_patient(fhir, ids, chunk=50):
    """{patient id: [our CarePlans whose subject it is]} for every id in
    `ids`, by one search per `chunk` patients (subject=a,b,... is an OR)
    rather than one per patient: 500 patients cost 10 searches, not 500."""
    found = {pid: [] for pid in ids}
    for i in range(0, len(ids), chunk):
        subjects = ",".join(f"Patient/{pid}" for pid in ids[i:i + chunk])
        for plan in fhir.search("CarePlan", subject=subjects, identifier=f"{OWN_SYSTEM}|",
                                _count="200"):
            pid = plan["subject"]["reference"].split("/")[-1]
            found.setdefault(pid, []).append(plan)
    return found


def start_worker(n, proxy_url, state_url, tmp, rnd):
    env = dict(os.environ)
    env.update(SYNC_ENV)
    env["MST_SYNC_WORKER_ID"] = f"w{n}-r{rnd}"
    err = open(os.path.join(tmp, f"w{n}-r{rnd}.log"), "w+")
    p = subprocess.Popen([adapter_path(), "sync", "--once", "--server", proxy_url, "--state",
                          state_url, "--state-server-moved", "--as-of", AS_OF, "--concurrency",
                          str(CONCURRENCY), "--log-format", "json"],
                         stdout=subprocess.DEVNULL, stderr=err, text=True, env=env)
    return p, err


class PostgresWorkersSync(unittest.TestCase):
    def test_three_workers_one_killed_write_each_plan_exactly_once(self):
        started = time.time()
        phases = Phases()
        fhir = Fhir(base_url())
        count = int(os.environ.get("MST_PG_WORKERS_PATIENTS", "500"))
        seed = int(os.environ.get("MST_FAULT_SEED", "20261205"))
        db = Database()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                p = establish_checkpoint(fhir.base, db.url)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIsNotNone(db.meta("checkpoint"))
                time.sleep(1.1)  # the checkpoint has second precision: load in a later second
                phases.done("checkpoint")
                loaded = load_patients.load(fhir.base, count, unique_prefix("pgw"),
                                            per_transaction=PER_TRANSACTION)
                phases.done("load")
                ids = [pid for pid, _ in loaded]
                exp = {pid: expected()[pid.split("-", 1)[1]] for pid in ids}
                eligible = [pid for pid in ids if exp[pid]["plan"]]
                proxy = FaultProxyProcess(fhir.base, ["--rate", "0.1", "--seed", str(seed),
                                                      "--faults", "latency,reset,truncate,429,503",
                                                      "--latency-ms", "200"], tmp)
                rounds, killed_leases, workers = [], None, []
                try:
                    for rnd in range(MAX_ROUNDS):
                        workers = [start_worker(n, proxy.url, db.url, tmp, rnd)
                                   for n in range(WORKERS)]
                        if rnd == 0:
                            # Kill worker 0 once it holds leases and has finished some.
                            victim, log = workers[0]
                            # The first scan of 500 patients takes a while on a busy machine.
                            deadline = time.time() + 600
                            while time.time() < deadline and victim.poll() is None:
                                log.seek(0)
                                done = sum(e.get("event") == "patient.done"
                                           for e in log_events(log.read()))
                                held = [r for r in db.patients().values()
                                        if r["lease_owner"] == "w0-r0"]
                                if done >= 3 and held:
                                    victim.send_signal(signal.SIGKILL)
                                    killed_leases = [r["id"] for r in held]
                                    break
                                time.sleep(0.2)
                            self.assertIsNotNone(killed_leases, "worker 0 never held a lease")
                        exits = []
                        for n, (p, log) in enumerate(workers):
                            p.wait(timeout=900)
                            exits.append(p.returncode)
                            log.seek(0)
                            text = log.read()
                            log.close()
                            if rnd == 0 and n == 0:
                                self.assertEqual(p.returncode, -signal.SIGKILL)
                                continue
                            events = log_events(text)
                            scan_failed = any(e.get("event") == "sync.scan_failed" for e in events)
                            self.assertTrue(p.returncode in (0, 5)
                                            or (p.returncode in (3, 6) and scan_failed),
                                            f"worker {n} exit {p.returncode}\n{text[-3000:]}")
                        rounds.append(exits)
                        phases.done(f"round{rnd}")
                        left = db.unfinished()
                        if not left and db.meta("checkpoint") == db.meta("candidate"):
                            break
                        # Wait for retries and for the killed worker's leases.
                        now_ms = time.time() * 1000
                        waits = [max(int(r["next_retry_ms"]), int(r["lease_expires_ms"])) - now_ms
                                 for r in left]
                        time.sleep(min(max(waits + [200]) / 1000, LEASE_S + 1))
                        phases.done(f"wait{rnd}")
                finally:
                    for p, _ in workers:  # a failed assertion leaves none running
                        if p.poll() is None:
                            p.kill()
                            p.wait()
                    proxy_rc, proxy_out = proxy.stop()
                self.assertEqual(proxy_rc, 0, proxy_out)

                rows = db.patients()
                self.assertEqual([(r["id"], r["last_outcome"], r["last_error"])
                                  for r in rows.values() if r["pending"] == "1"], [],
                                 f"still pending after rounds {rounds}")
                self.assertEqual(db.meta("checkpoint"), db.meta("candidate"))
                # The killed worker's patients were finished by the others.
                for pid in killed_leases:
                    self.assertIn(rows[pid]["last_outcome"], ("written", "unchanged", "skipped"), pid)
                    self.assertEqual(rows[pid]["lease_owner"], "", pid)

                plans = {}
                by_patient = plans_by_patient(fhir, ids)
                self.assertEqual(sorted(by_patient), sorted(ids), "a plan for a patient not loaded")
                for pid in ids:
                    found = by_patient[pid]
                    with self.subTest(patient=pid):
                        if not exp[pid]["plan"]:
                            self.assertEqual(found, [])
                            continue
                        self.assertEqual(len(found), 1, [p["id"] for p in found])
                        # Written once: no second version from a second worker.
                        self.assertEqual(found[0]["meta"]["versionId"], "1", pid)
                        plans[pid] = (found[0]["id"], found[0]["meta"]["versionId"])
                        self.assertEqual(rows[pid]["plan_ref"], f"CarePlan/{found[0]['id']}")
                self.assertEqual(len(plans), len(eligible))
                phases.done("check")

                # A clean re-run by one worker writes nothing.
                p = run_adapter("sync", "--once", "--server", fhir.base, "--state", db.url,
                                "--state-server-moved", "--as-of", AS_OF, "--log-format", "json",
                                check=False, timeout=600,
                                env={"MST_SYNC_OVERLAP_S": str(int(time.time() - started) + 60)})
                self.assertEqual(p.returncode, 0, p.stderr[-3000:])
                phases.done("rerun")
                after = plans_by_patient(fhir, ids)
                for pid in ids:
                    self.assertEqual([(f["id"], f["meta"]["versionId"]) for f in after[pid]],
                                     [plans[pid]] if pid in plans else [], pid)
                phases.done("recheck")
        finally:
            db.drop()
        print(f"pg-workers-sync: patients={count} eligible={len(eligible)} workers={WORKERS} "
              f"rounds={rounds} killed_worker_leases={len(killed_leases or [])} "
              f"wall_s={time.time() - started:.1f} phases (wall/HAPI CPU): {phases}", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
