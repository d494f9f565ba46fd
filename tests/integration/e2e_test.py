"""End-to-end scenarios of the adapter against the real HAPI FHIR server of
the CTest fixture: on-demand runs per fixture patient, idempotent re-runs,
scheduled sync with a checkpoint, clinician-owned plans, concurrent writers,
a killed sync, a server that fails for a while, and the ops endpoints of a
running sync."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, OWN_SYSTEM, Fhir, InterceptingProxy, adapter_path,  # noqa: E402
                         base_url, expected, goal_codes, goal_mismatches, http_call, load_prefixed,
                         run_adapter, run_json, unique_prefix, wait_for)

NAMING_BASE = OWN_SYSTEM.rsplit("/", 1)[0]  # <canonical base>/NamingSystem


def written_resources(fhir, plan):
    out = [plan]
    for ref in [*(r["reference"] for r in plan.get("goal", [])),
                *(r["reference"] for r in plan.get("careTeam", [])),
                *(a["reference"]["reference"] for a in plan.get("activity", []) if "reference" in a)]:
        type_, id_ = ref.split("/")[-2:]
        out.append(fhir.read(type_, id_))
    return out


class OnDemandRuns(unittest.TestCase):
    """`run --patient` for every fixture patient: the plan the cited rules imply."""

    @classmethod
    def setUpClass(cls):
        cls.fhir = Fhir(base_url())
        cls.prefix = unique_prefix("od")
        cls.ids = load_prefixed(cls.fhir, cls.prefix)
        cls.expected = expected()
        cls.first = {}
        for pid in cls.ids:
            cls.first[pid] = run_json("run", "--server", cls.fhir.base, "--patient", pid, "--as-of", AS_OF)

    def fixture(self, pid):
        return self.expected[pid.split("-", 1)[1]]

    def test_each_patient_gets_the_plan_its_rules_imply(self):
        for pid in self.ids:
            with self.subTest(patient=pid):
                exp = self.fixture(pid)
                out, _ = self.first[pid]
                plans = self.fhir.plans_of(pid)
                if not exp["plan"]:
                    self.assertEqual(out["outcome"], "skipped", out)
                    self.assertIn("spinal metastasis", out["detail"])
                    self.assertEqual(plans, [])
                    continue
                self.assertEqual(out["outcome"], "written", out)
                self.assertEqual(len(plans), 1)
                plan = plans[0]
                self.assertEqual(plan["status"], "draft")
                self.assertEqual(plan["intent"], "proposal")
                self.assertEqual(goal_mismatches(exp, goal_codes(self.fhir, plan)), [])
                if exp.get("urgency"):
                    self.assertIn(out["urgency"], exp["urgency"])
                referred = {r["to"] for r in out["referrals"]}
                for d in exp.get("referrals_include", []):
                    self.assertIn(d, referred)
                for d in exp.get("referrals_exclude", []):
                    self.assertNotIn(d, referred)

    def test_every_written_resource_validates_on_hapi(self):
        for pid in self.ids:
            for plan in self.fhir.plans_of(pid):
                for res in written_resources(self.fhir, plan):
                    with self.subTest(resource=f"{res['resourceType']}/{res['id']}"):
                        self.assertEqual(self.fhir.validate(res), [])

    def test_a_second_run_writes_nothing(self):
        for pid in self.ids:
            before = [(p["id"], p["meta"]["versionId"]) for p in self.fhir.plans_of(pid)]
            out, _ = run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
            after = [(p["id"], p["meta"]["versionId"]) for p in self.fhir.plans_of(pid)]
            with self.subTest(patient=pid):
                self.assertEqual(before, after)
                self.assertIn(out["outcome"], ("unchanged", "skipped"))


class WriteSafety(unittest.TestCase):
    def setUp(self):
        self.fhir = Fhir(base_url())

    def test_a_plan_a_clinician_activated_is_left_untouched(self):
        [pid] = load_prefixed(self.fhir, unique_prefix("act"), ["mst-p02"])
        run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
        [plan] = self.fhir.plans_of(pid)
        plan["status"] = "active"
        status, saved = self.fhir.put(plan)
        self.assertEqual(status, 200)
        # New data that would change the plan.
        obs = self.fhir.search("Observation", subject=f"Patient/{pid}", code="http://loinc.org|72514-3")
        obs[0]["valueQuantity"]["value"] = 9
        self.assertEqual(self.fhir.put(obs[0])[0], 200)
        out, _ = run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
        self.assertEqual(out["outcome"], "skipped")
        self.assertIn("active", out["detail"])
        [after] = self.fhir.plans_of(pid)
        self.assertEqual(after["meta"]["versionId"], saved["meta"]["versionId"])
        self.assertEqual(after["status"], "active")

    def worsen_pain(self, pid):
        """New data that changes mst-p02's plan."""
        obs = self.fhir.search("Observation", subject=f"Patient/{pid}", code="http://loinc.org|72514-3")
        obs[0]["valueQuantity"]["value"] = 9
        self.assertEqual(self.fhir.put(obs[0])[0], 200)

    def test_a_rerun_leaves_what_a_clinician_took_over(self):
        # Issue #12, finding 1: each kind, changed by a clinician on HAPI, then
        # a re-run after an input changed.
        [pid] = load_prefixed(self.fhir, unique_prefix("own"), ["mst-p02"])
        run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
        [plan] = self.fhir.plans_of(pid)
        goal = self.fhir.read(*plan["goal"][0]["reference"].split("/")[-2:])
        request = self.fhir.read(*plan["activity"][0]["reference"]["reference"].split("/")[-2:])
        team = self.fhir.read(*plan["careTeam"][0]["reference"].split("/")[-2:])
        goal["lifecycleStatus"] = "accepted"
        goal["note"] = [{"text": "Agreed with the patient."}] + goal.get("note", [])
        request["status"] = "active"
        team["status"] = "active"
        taken = []
        for res in (goal, request, team):
            status, saved = self.fhir.put(res)
            self.assertEqual(status, 200, saved)
            taken.append(saved)
        untouched = self.fhir.read(*plan["goal"][1]["reference"].split("/")[-2:])
        self.worsen_pain(pid)

        out, _ = run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
        self.assertEqual(out["outcome"], "written", out)
        self.assertIn("left 3 resource(s)", out["detail"])
        for saved in taken:
            with self.subTest(resource=saved["resourceType"]):
                now = self.fhir.read(saved["resourceType"], saved["id"])
                self.assertEqual(now["meta"]["versionId"], saved["meta"]["versionId"])
        self.assertEqual(self.fhir.read("Goal", goal["id"])["note"][0]["text"],
                         "Agreed with the patient.")
        [revised] = self.fhir.plans_of(pid)
        refs = json.dumps(revised)
        for saved in taken:
            self.assertIn(f'"{saved["resourceType"]}/{saved["id"]}"', refs)
        # The adapter's own untouched Goal is revised in place, not copied (HAPI
        # keeps the version when the content is the same).
        code = untouched["description"]["coding"][0]["code"]
        for ref in (g["reference"] for g in revised["goal"]):
            now = self.fhir.read(*ref.split("/")[-2:])
            if now["description"]["coding"][0]["code"] == code:
                self.assertEqual(now["id"], untouched["id"])
        goals = self.fhir.search("Goal", subject=f"Patient/{pid}")
        self.assertEqual(len({g["description"]["coding"][0]["code"] for g in goals}), len(goals))

    def test_a_look_alike_plan_is_reported_never_modified(self):
        # Issue #12, finding 3: another system's plan, for another patient,
        # carrying this patient's plan identifier.
        [pid, other] = load_prefixed(self.fhir, unique_prefix("look"), ["mst-p02", "mst-p03"])
        run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
        [plan] = self.fhir.plans_of(pid)
        original = json.loads(json.dumps(plan))
        plan["subject"] = {"reference": f"Patient/{other}"}
        plan["author"] = {"display": "Another system"}
        status, saved = self.fhir.put(plan)
        self.assertEqual(status, 200, saved)
        # Later tests sync the whole server: give the plan back afterwards.
        self.addCleanup(lambda: self.fhir.put({**original, "meta": {}}))
        self.worsen_pain(pid)
        p = run_adapter("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF,
                        "--format", "json", check=False)
        out = json.loads(p.stdout)
        self.assertEqual(out["outcome"], "failed", out)
        self.assertIn(f"CarePlan/{saved['id']}", out["detail"])
        self.assertIn("never modifies", out["detail"])
        now = self.fhir.read("CarePlan", saved["id"])
        self.assertEqual(now["meta"]["versionId"], saved["meta"]["versionId"])
        self.assertEqual(now["subject"]["reference"], f"Patient/{other}")

    def test_a_deceased_patients_draft_is_withdrawn(self):
        [pid] = load_prefixed(self.fhir, unique_prefix("dead"), ["mst-p02"])
        run_json("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF)
        [plan] = self.fhir.plans_of(pid)
        patient = self.fhir.read("Patient", pid)
        patient["deceasedDateTime"] = "2026-11-19"
        self.assertEqual(self.fhir.put(patient)[0], 200)
        p = run_adapter("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF,
                        "--format", "json", check=False)
        out = json.loads(p.stdout)
        self.assertEqual(out["outcome"], "skipped", out)
        self.assertIn(f"Withdrew the adapter's draft CarePlan/{plan['id']}", out["detail"])
        now = self.fhir.read("CarePlan", plan["id"])
        self.assertEqual(now["status"], "revoked")
        for ref in plan["goal"]:
            self.assertEqual(self.fhir.read(*ref["reference"].split("/")[-2:])["lifecycleStatus"],
                             "cancelled")
        # HAPI accepts what was written as valid R4.
        self.assertEqual(self.fhir.validate(now), [])

    def test_two_concurrent_runs_leave_one_draft(self):
        [pid] = load_prefixed(self.fhir, unique_prefix("cc"), ["mst-p03"])
        cmd = [adapter_path(), "run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF]
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        for p in procs:
            p.wait(timeout=300)
        run_adapter("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF, check=False)
        self.assertEqual(len(self.fhir.plans_of(pid)), 1)

    def test_dry_run_prints_the_transaction_and_writes_nothing(self):
        [pid] = load_prefixed(self.fhir, unique_prefix("dry"), ["mst-p04"])
        p = run_adapter("run", "--server", self.fhir.base, "--patient", pid, "--as-of", AS_OF, "--dry-run")
        bundle = json.loads(p.stdout)
        self.assertEqual(bundle["resourceType"], "Bundle")
        self.assertEqual(bundle["type"], "transaction")
        self.assertEqual(self.fhir.plans_of(pid), [])


class FlakyProxy(InterceptingProxy):
    """Answers 503 (Retry-After: 1) to every request while `outage` is set,
    and to every third request for the first `flaky_requests` after it: a
    server having a bad time."""

    def __init__(self, upstream, flaky_requests=60):
        self.outage = True
        self.failed = 0
        self.flaky_left = flaky_requests
        self.lock = threading.Lock()
        super().__init__(upstream, self.flaky)

    def flaky(self, method, path):
        with self.lock:
            fail = self.outage
            if not fail and self.flaky_left > 0:
                self.flaky_left -= 1
                fail = self.flaky_left % 3 == 0
            if fail:
                self.failed += 1
        if not fail:
            return None
        msg = b'{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}'
        return 503, msg, {"Retry-After": "1"}


class ServerTrouble(unittest.TestCase):
    def test_a_server_returning_503_for_a_while_delays_the_sync_but_loses_nothing(self):
        fhir = Fhir(base_url())
        ids = load_prefixed(fhir, unique_prefix("flaky"))
        spinal = [pid for pid in ids if expected()[pid.split("-", 1)[1]]["plan"]]
        proxy = FlakyProxy(fhir.base)
        try:
            threading.Timer(3.0, lambda: setattr(proxy, "outage", False)).start()
            with tempfile.TemporaryDirectory() as tmp:
                state = os.path.join(tmp, "state.db")
                args = ["sync", "--once", "--server", proxy.url, "--state", state, "--as-of", AS_OF,
                        "--concurrency", "4"]
                # Failed patients wait for their retry time; a later cycle takes them.
                for _ in range(6):
                    p = run_adapter(*args, check=False, timeout=600,
                                    env={"MST_SYNC_RETRY_BASE_S": "1"})
                    # 5: some patients failed and wait for a retry; 6: the change
                    # scan itself outlived its retries inside the outage, and the
                    # next cycle scans again from the same checkpoint.
                    scan_failed = p.returncode == 6 and "sync.scan_failed" in p.stderr
                    self.assertTrue(p.returncode in (0, 5) or scan_failed, p.stderr[-2000:])
                    if p.returncode == 0 and all(len(fhir.plans_of(pid)) == 1 for pid in spinal):
                        break
                    time.sleep(2)
        finally:
            proxy.close()
        self.assertGreater(proxy.failed, 0)
        for pid in spinal:
            self.assertEqual(len(fhir.plans_of(pid)), 1, pid)


def metric(text, series):
    """The value of one series ('name' or 'name{label="v"}') in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


class OpsEndpoints(unittest.TestCase):
    """`sync --listen` serves /healthz, /readyz and /metrics from the binary
    while it runs; readiness follows the server's health."""

    def test_a_running_sync_reports_health_readiness_and_metrics(self):
        fhir = Fhir(base_url())
        ids = load_prefixed(fhir, unique_prefix("ops"), ["mst-p01", "mst-p02"])
        outage = threading.Event()
        msg = b'{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}'
        proxy = InterceptingProxy(fhir.base,
                                  lambda method, path: (503, msg, {}) if outage.is_set() else None)
        lines = []

        def drain(stream):
            for line in stream:
                lines.append(line)

        def port():
            for line in list(lines):
                try:
                    e = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if e.get("event") == "ops.listening":
                    return int(e["port"])
            return None

        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.Popen(
                [adapter_path(), "sync", "--server", proxy.url, "--state",
                 os.path.join(tmp, "state.db"), "--as-of", AS_OF, "--interval", "1",
                 "--listen", "127.0.0.1:0", "--log-format", "json"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "MST_SERVER_RETRY_MAX_ATTEMPTS": "1"})
            reader = threading.Thread(target=drain, args=(proc.stderr,), daemon=True)
            reader.start()
            try:
                self.assertTrue(wait_for(lambda: port() is not None, timeout=30), "".join(lines))
                ops = f"http://127.0.0.1:{port()}"
                self.assertEqual(http_call(ops + "/healthz"), (200, "ok\n"))
                # The first cycle writes our patients' plans (and any other
                # changed patient's on the shared server).
                self.assertTrue(wait_for(lambda: all(len(fhir.plans_of(pid)) == 1 for pid in ids),
                                         timeout=300), "".join(lines[-20:]))
                self.assertTrue(wait_for(lambda: (metric(http_call(ops + "/metrics")[1],
                                                         "mst_sync_last_success_timestamp_seconds")
                                                  or 0) > 0, timeout=300))
                status, text = http_call(ops + "/metrics")
                self.assertEqual(status, 200)
                self.assertGreaterEqual(metric(text, 'mst_patients_processed_total{outcome="written"}')
                                        or 0, 2)
                self.assertGreater(metric(text, 'mst_fhir_requests_total{status="2xx"}') or 0, 0)
                self.assertIsNotNone(metric(text, "mst_sync_pending_patients"))
                self.assertEqual(http_call(ops + "/readyz"), (200, "ready\n"))
                # The server fails: the next scan fails and readiness says so.
                outage.set()
                self.assertTrue(wait_for(lambda: http_call(ops + "/readyz")[0] == 503, timeout=60))
                self.assertTrue(http_call(ops + "/readyz")[1].startswith("not ready: "))
                self.assertEqual(http_call(ops + "/healthz")[0], 200)  # alive, just not ready
                outage.clear()
                self.assertTrue(wait_for(lambda: http_call(ops + "/readyz")[0] == 200, timeout=60))
                self.assertEqual(http_call(ops + "/nowhere")[0], 404)
                self.assertEqual(http_call(ops + "/metrics", method="POST")[0], 405)
                proc.send_signal(signal.SIGTERM)
                self.assertIn(proc.wait(timeout=120), (0, 5), "".join(lines[-20:]))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                reader.join(timeout=10)
                proc.stderr.close()
                proxy.close()
        self.assertTrue(any('"sync.stopped"' in line for line in lines))
        for pid in ids:
            self.assertEqual(len(fhir.plans_of(pid)), 1, pid)


class BadServerAnswers(unittest.TestCase):
    """An answer the adapter cannot use ends the run with one clear line and
    exit 6 (docs/exit-codes.md), and nothing is written."""

    def test_malformed_json_in_a_search_writes_nothing(self):
        fhir = Fhir(base_url())
        [pid] = load_prefixed(fhir, unique_prefix("bad"), ["mst-p02"])

        def corrupt(method, path):
            if method == "GET" and path.startswith(f"{urllib.parse.urlsplit(fhir.base).path}/Condition?") \
                    and pid in path:
                return 200, b'{"resourceType":"Bundle","type":"searchset","entry":[{"resource":', {}
            return None

        proxy = InterceptingProxy(fhir.base, corrupt)
        try:
            p = run_adapter("run", "--server", proxy.url, "--patient", pid, "--as-of", AS_OF, check=False)
        finally:
            proxy.close()
        self.assertEqual(p.returncode, 6, p.stderr)
        errors = [line for line in p.stderr.splitlines() if line.startswith("mst-adapter: ")]
        self.assertEqual(len(errors), 1, p.stderr)
        self.assertIn("malformed JSON", errors[0])
        self.assertEqual(fhir.plans_of(pid), [])
        # Over a clean connection the same patient gets a plan: the refusal
        # above was the bad answer's doing.
        out, _ = run_json("run", "--server", fhir.base, "--patient", pid, "--as-of", AS_OF)
        self.assertEqual(out["outcome"], "written", out)


class LogHygiene(unittest.TestCase):
    """Logs carry resource ids only: no names, birth dates or clinical values
    above debug level, and never a token."""

    def test_logs_hold_ids_not_patient_data_or_tokens(self):
        fhir = Fhir(base_url())
        [pid] = load_prefixed(fhir, unique_prefix("log"), ["mst-p02"])
        patient = fhir.read("Patient", pid)
        token = "tok-" + unique_prefix("secret") + "-do-not-log"
        env = {"MST_E2E_TOKEN": token}
        outputs = []
        for fmt in ("text", "json"):
            p = run_adapter("run", "--server", fhir.base, "--patient", pid, "--as-of", AS_OF,
                            "--auth", "bearer", "--token-env", "MST_E2E_TOKEN", "--log-format", fmt,
                            env=env)
            outputs.append(p.stderr)
            self.assertNotIn(token, p.stdout + p.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            p = run_adapter("sync", "--once", "--server", fhir.base, "--state", os.path.join(tmp, "s.db"),
                            "--as-of", AS_OF, "--auth", "bearer", "--token-env", "MST_E2E_TOKEN",
                            "--log-format", "json", env=env, timeout=600)
            outputs.append(p.stderr)
            self.assertNotIn(token, p.stdout + p.stderr)
        logs = "\n".join(outputs)
        self.assertIn(pid, logs)  # ids are logged
        for name in patient["name"]:
            self.assertNotIn(name["family"], logs)
            for given in name.get("given", []):
                self.assertNotIn(given, logs)
        self.assertNotIn(patient["birthDate"], logs)
        pain = self.fhir_value(fhir, pid, "http://loinc.org|72514-3")
        self.assertNotIn(f"pain={pain}", logs)
        self.assertNotIn(f'"pain":"{pain}"', logs)

    @staticmethod
    def fhir_value(fhir, pid, code):
        [obs] = fhir.search("Observation", subject=f"Patient/{pid}", code=code)
        return obs["valueQuantity"]["value"]


class ScheduledSync(unittest.TestCase):
    def setUp(self):
        self.fhir = Fhir(base_url())
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state.db")

    def tearDown(self):
        self.tmp.cleanup()

    def sync(self, *extra, check=True):
        return run_adapter("sync", "--once", "--server", self.fhir.base, "--state", self.state,
                           "--as-of", AS_OF, *extra, check=check, timeout=600)

    def test_a_changed_observation_updates_exactly_that_patients_draft(self):
        ids = load_prefixed(self.fhir, unique_prefix("sy"), ["mst-p01", "mst-p02", "mst-p05"])
        self.sync()
        versions = {pid: [p["meta"]["versionId"] for p in self.fhir.plans_of(pid)] for pid in ids}
        for pid in ids:
            self.assertEqual(len(versions[pid]), 1, pid)
        # A clinician records a new pain score for one patient: mst-p01's pain
        # (7 of 10) is the only reason for its pain-relief goal.
        changed = ids[0]
        [plan] = self.fhir.plans_of(changed)
        self.assertIn("pain-relief", goal_codes(self.fhir, plan))
        obs = self.fhir.search("Observation", subject=f"Patient/{changed}", code="http://loinc.org|72514-3")
        obs[0]["valueQuantity"]["value"] = 2 if obs[0]["valueQuantity"]["value"] > 3 else 9
        self.assertEqual(self.fhir.put(obs[0])[0], 200)
        self.sync()
        for pid in ids:
            now = [p["meta"]["versionId"] for p in self.fhir.plans_of(pid)]
            if pid == changed:
                self.assertNotEqual(now, versions[pid], pid)
            else:
                self.assertEqual(now, versions[pid], pid)
        # The revision dropped the goal: the same transaction cancelled the old
        # Goal, and nothing the adapter proposed is left unreferenced.
        [plan] = self.fhir.plans_of(changed)
        self.assertNotIn("pain-relief", goal_codes(self.fhir, plan))
        referenced = {"/".join(r["reference"].split("/")[-2:]) for r in
                      [*plan.get("goal", []), *plan.get("careTeam", []),
                       *(a["reference"] for a in plan.get("activity", []) if "reference" in a)]}
        cancelled = []
        for type_, system, proposed in (("Goal", "mst-goal", "proposed"),
                                        ("ServiceRequest", "mst-servicerequest", "draft"),
                                        ("CareTeam", "mst-careteam", "proposed")):
            for r in self.fhir.search(type_, subject=f"Patient/{changed}",
                                      identifier=f"{NAMING_BASE}/{system}|"):
                status = r["lifecycleStatus" if type_ == "Goal" else "status"]
                ref = f"{type_}/{r['id']}"
                if ref in referenced:
                    self.assertEqual(status, proposed, ref)
                else:
                    self.assertNotEqual(status, proposed, f"{ref} left proposed but unreferenced")
                    if type_ == "Goal":
                        cancelled.append(r["description"]["coding"][0]["code"])
                        self.assertEqual(status, "cancelled", ref)
        self.assertEqual(cancelled, ["pain-relief"])
        # And the next sync, with nothing changed, writes nothing.
        self.sync()
        self.assertEqual([p["meta"]["versionId"] for p in self.fhir.plans_of(changed)],
                         [plan["meta"]["versionId"]])

    def test_a_killed_sync_resumes_and_writes_each_plan_once(self):
        prefix = unique_prefix("kill")
        ids = []
        for i in range(3):
            ids += load_prefixed(self.fhir, f"{prefix}{i}")
        spinal = [pid for pid in ids if expected()[pid.split("-", 1)[1]]["plan"]]
        proc = subprocess.Popen([adapter_path(), "sync", "--once", "--server", self.fhir.base,
                                 "--state", self.state, "--as-of", AS_OF, "--concurrency", "1",
                                 "--log-format", "json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        done = 0
        for line in proc.stderr:
            if '"patient.done"' in line:
                done += 1
                if done == 5:
                    proc.send_signal(signal.SIGKILL)
                    break
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
        self.sync()
        for pid in spinal:
            self.assertEqual(len(self.fhir.plans_of(pid)), 1, pid)

    def test_sigterm_finishes_in_flight_work_and_exits_cleanly(self):
        ids = load_prefixed(self.fhir, unique_prefix("term"))
        proc = subprocess.Popen([adapter_path(), "sync", "--once", "--server", self.fhir.base,
                                 "--state", self.state, "--as-of", AS_OF, "--concurrency", "1",
                                 "--log-format", "json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:
            if '"patient.done"' in line:
                proc.send_signal(signal.SIGTERM)
                break
        rest = proc.stderr.read()
        self.assertIn(proc.wait(timeout=120), (0, 5))
        proc.stdout.close()
        proc.stderr.close()
        self.assertIn('"interrupted":"true"', rest)
        self.sync()
        for pid in ids:
            n = len(self.fhir.plans_of(pid))
            self.assertEqual(n, 1 if expected()[pid.split("-", 1)[1]]["plan"] else 0, pid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
