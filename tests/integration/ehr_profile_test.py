"""The adapter through mst-fault-proxy --profile (tests/tools/ehr_proxy): an
EHR-shaped endpoint in front of the test HAPI server, once per vendor profile.

Each profile runs the steps named in STEPS, in order, one function each:
  check         `mst-adapter check` reports what the profile takes away
                (CarePlan create, transactions) and nothing it keeps, and
                names the note shape and the re-pull it allows.
  pull          every fixture patient's `explain` report (considerations,
                goals, evidence) through the proxy equals the one read
                from HAPI directly with default settings: the pull got all
                of the patient's data despite the profile's restrictions.
  pull_paged    the same with pages of 3 resources, so every search follows
                the profile's paging links (opaque tokens, absolute URLs).
  write_refused a plain `run` (one transaction Bundle, after looking up its
                earlier plan by identifier) fails with a clear error
                through the profile, and nothing reaches the server.
  repository_write  the shape "EHR read + FHIR repository write": source =
                the profile, target = a second, plain HAPI (fixture
                hapi_target). `check` names the shape and exits 0; `sync
                --once` of a Group created on the source writes the members'
                plans to the target, a second writes nothing; `run` of every
                fixture puts its plan on the target, a re-run writes nothing.
  note_write    the shape "EHR read + note write": source and target = the
                profile, write.mode=document. The same, with a file
                population and DocumentReference notes instead of plans.
Through the profile nothing may search without the patient or with
_lastUpdated: the proxy refuses it, so each step also proves that.
More steps are functions of the same shape added to STEPS (write_refused
is not in the default list: the shapes replace it); `--steps` picks some,
`--write-mode MODE`
(the write.mode key, as MST_WRITE_MODE), `--env KEY=VALUE` and
`--adapter-arg ARG` (both repeatable) pass settings to every adapter call.

Environment: MST_ADAPTER, MST_FAULT_PROXY, MST_HAPI_STATE_DIR,
MST_HAPI_TARGET_STATE_DIR (the second HAPI, for repository_write)."""

import argparse
import concurrent.futures
import re
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, OWN_SYSTEM, REPO, FaultProxyProcess, Fhir,  # noqa: E402
                         base_url, expected, load_prefixed, run_adapter, run_json,
                         unique_prefix)

PROFILES = os.path.join(REPO, "tests", "tools", "ehr_proxy", "profiles")
# What `check` must say the plan modes lack through each profile: they take
# notes, so `auto` chooses `document` and nothing is MISSING.
CHECK_LACKS = {
    "epic-r4.json": ["create CarePlan", "system transaction"],
    "oracle-millennium-r4.json": ["create CarePlan", "system transaction"],
}
CHECK_PRESENT = ["read Patient", "search Condition", "search Observation"]
# Every profile takes notes and requires the patient on Condition searches.
CHECK_SHAPE = "shape:    EHR read + note write (set write.mode=document)"
CHECK_SYNC = "population search refused without a patient"
# Fixtures the sync steps use (every fixture goes through `run`): CI time.
SYNC_PATIENTS = 3
# Adapter calls at once per profile (patients are independent; the profiles
# run side by side too): each call mostly waits on HAPI, so the test's wall
# time is cut by about this factor over one call at a time (CI time).
PARALLEL = 3


def each_patient(fn, patients):
    """[fn(pid) for pid in patients], PARALLEL at a time, in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(fn, patients))
# The site settings each profile needs for the pull (docs/configuration.md).
# The direct run in `pull` uses none, so it also shows they lose nothing.
PROFILE_ENV = {
    "epic-r4.json": {"MST_SERVER_SEARCH_OBSERVATION_CODE_CATEGORIES":
                     "laboratory,vital-signs,social-history"},
    "oracle-millennium-r4.json": {},
}


def profile_proxy(upstream_base, profile, tmp):
    """mst-fault-proxy with a profile and no faults, in front of HAPI."""
    return FaultProxyProcess(upstream_base, ["--rate", "0", "--profile", profile], tmp)


class Context:
    def __init__(self, args, profile, proxy, fhir, patients):
        self.args, self.profile, self.proxy, self.fhir, self.patients = (
            args, profile, proxy, fhir, patients)

    def adapter(self, *argv, server=None, check=False):
        env = {} if server else dict(PROFILE_ENV[self.profile])
        env.update(kv.split("=", 1) for kv in self.args.env)
        if self.args.write_mode:
            env["MST_WRITE_MODE"] = self.args.write_mode
        return run_adapter(*argv, "--server", server or self.proxy.url, *self.args.adapter_arg,
                           check=check, timeout=600, env=env)


def considerations(explain_text):
    """`explain`'s report without the lines on server warnings, which a
    profile adds on purpose (outcome entries in searchsets)."""
    return [line for line in explain_text.splitlines() if "server warning" not in line]


def step_check(ctx):
    p = ctx.adapter("check")
    out = p.stdout + p.stderr
    problems = []
    lacks = next((line for line in out.splitlines()
                  if line.startswith("  impossible   transaction: lacks ")), "")
    for what in CHECK_LACKS[ctx.profile]:
        if what not in lacks:
            problems.append(f"check does not say the transaction mode lacks '{what}'")
    for what in CHECK_PRESENT:
        if f"ok       {what}" not in out:
            problems.append(f"check does not accept '{what}'")
    for line in ("write mode: document (chosen by auto)", CHECK_SHAPE, CHECK_SYNC,
                 "sync:     re-pull"):
        if line not in out:
            problems.append(f"check does not print '{line}'")
    if p.returncode != 0:
        problems.append(f"check exits {p.returncode} although the note mode works")
    return problems, out


# `explain` read from HAPI directly, per patient: the same for every profile
# and step (no profile settings), so it is run once (CI time).
DIRECT_EXPLAIN = {}


def direct_explain(ctx, pid):
    if pid not in DIRECT_EXPLAIN:
        DIRECT_EXPLAIN[pid] = ctx.adapter("explain", "--patient", pid, "--as-of", AS_OF,
                                          server=ctx.fhir.base)
    return DIRECT_EXPLAIN[pid]


def pull_one(ctx, pid):
    """(problems, detail line) of one patient's `explain` through the proxy
    against the direct one."""
    direct = direct_explain(ctx, pid)
    proxied = ctx.adapter("explain", "--patient", pid, "--as-of", AS_OF)
    # 1 is a patient without a plan; anything else is an error.
    if proxied.returncode != direct.returncode or direct.returncode not in (0, 1):
        return [f"{pid}: explain through the proxy exited {proxied.returncode} "
                f"(direct: {direct.returncode}): {proxied.stderr.strip()[-400:]}"], None
    a, b = considerations(direct.stdout), considerations(proxied.stdout)
    problems = []
    if a != b:
        only_direct = [x for x in a if x not in b][:5]
        only_proxied = [x for x in b if x not in a][:5]
        problems.append(f"{pid}: the report differs through the proxy; only direct: "
                        f"{only_direct}; only proxied: {only_proxied}")
    return problems, f"{pid}: {len(b)} report lines"


def step_pull(ctx):
    problems, lines = [], []
    for found, line in each_patient(lambda pid: pull_one(ctx, pid), ctx.patients):
        problems += found
        if line:
            lines.append(line)
    return problems, "\n".join(lines)


def step_write_refused(ctx):
    pid = ctx.patients[0]
    p = ctx.adapter("run", "--patient", pid, "--as-of", AS_OF)
    problems = []
    if p.returncode in (0, 1):
        problems.append(f"run through {ctx.profile} exited {p.returncode}; expected the write "
                        f"to be refused")
    if not re.search(r"^mst-adapter: run failed for Patient/\S+: .*HTTP 4\d\d", p.stderr, re.M):
        problems.append(f"no one-line error naming the refused request: {p.stderr[-400:]}")
    if ctx.fhir.plans_of(pid):
        problems.append(f"{pid}: a plan reached the server although the write was refused")
    return problems, p.stderr.strip()


def step_pull_paged(ctx):
    """`pull` again through the same profile with pages of 3 resources, so
    every search pages and the profile's link form is followed."""
    with open(os.path.join(PROFILES, ctx.profile)) as f:
        profile = json.load(f)
    profile["count"] = {"default": 3, "max": 3, "over_max": "reduce"}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "paged-" + ctx.profile)
        with open(path, "w") as f:
            json.dump(profile, f)
        proxy = profile_proxy(ctx.fhir.base, path, tmp)
        try:
            return step_pull(Context(ctx.args, ctx.profile, proxy, ctx.fhir, ctx.patients))
        finally:
            proxy.stop()


def target_url():
    with open(os.path.join(os.environ["MST_HAPI_TARGET_STATE_DIR"], "url")) as f:
        return f.read().strip()


def profile_env(ctx, **extra):
    env = dict(PROFILE_ENV[ctx.profile])
    env.update(kv.split("=", 1) for kv in ctx.args.env)
    env.update(extra)
    return env


class Shape:
    """One deployment shape through ctx's profile: the adapter's arguments
    and environment, and where what it writes is found."""

    def __init__(self, ctx, name, argv, env, written):
        self.ctx, self.name, self.argv, self.env, self.written = ctx, name, argv, env, written

    def adapter(self, *argv, timeout=600):
        return run_adapter(*argv, *self.argv, *self.ctx.args.adapter_arg, check=False,
                           timeout=timeout, env=self.env)

    def versions(self, pids):
        """{pid: [versionId of each resource the adapter wrote for pid]}."""
        return {pid: sorted(r["meta"]["versionId"] for r in self.written(pid)) for pid in pids}


def check_shape(shape, expected_line, problems):
    p = shape.adapter("check")
    out = p.stdout + p.stderr
    if p.returncode != 0:
        problems.append(f"check in the {shape.name} shape exited {p.returncode}")
    if expected_line not in out:
        problems.append(f"check does not print '{expected_line}'")
    return out


def sync_twice(shape, population, members, problems):
    """`sync --once` twice with `population`: the first writes the members'
    plans (or notes), the second nothing. Returns the log."""
    log = []
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state.db")
        args = ("sync", "--once", "--state", state, "--as-of", AS_OF,
                "--population", population(tmp))
        first = shape.adapter(*args)
        log.append(first.stderr[-1500:])
        if first.returncode != 0:
            problems.append(f"{shape.name}: first sync exited {first.returncode}")
            return log
        before = shape.versions(members)
        if not any(before.values()):
            problems.append(f"{shape.name}: the first sync wrote nothing for {members}")
        if any(len(v) > 1 for v in before.values()):
            problems.append(f"{shape.name}: more than one written per patient: {before}")
        second = shape.adapter(*args)
        log.append(second.stderr[-1500:])
        if second.returncode != 0:
            problems.append(f"{shape.name}: second sync exited {second.returncode}")
        after = shape.versions(members)
        if after != before:
            problems.append(f"{shape.name}: the second sync wrote: {before} -> {after}")
    return log


def run_every_patient(shape, problems):
    """`run` of every fixture writes its plan (or note), a re-run nothing.
    Patients run side by side: each has its own plan."""

    def first(pid):
        summary, p = run_json("run", "--patient", pid, "--as-of", AS_OF, *shape.argv,
                              check=False, env=shape.env)
        outcome = summary.get("outcome")
        if p.returncode not in (0, 1):
            return outcome, [f"{shape.name}: run {pid} exited {p.returncode}: {p.stderr[-400:]}"], None
        if outcome not in ("written", "unchanged"):
            return outcome, [], None
        v = shape.versions([pid])[pid]
        if len(v) != 1:
            return outcome, [f"{shape.name}: {pid} has {len(v)} written resources: {v}"], v
        return outcome, [], v

    def again(item):
        pid, v = item
        summary, p = run_json("run", "--patient", pid, "--as-of", AS_OF, *shape.argv,
                              check=False, env=shape.env)
        found = []
        if summary.get("outcome") != "unchanged":
            found.append(f"{shape.name}: re-run of {pid}: {summary.get('outcome')} "
                         f"{summary.get('detail', '')}")
        if shape.versions([pid])[pid] != v:
            found.append(f"{shape.name}: re-run of {pid} changed the versions")
        return found

    lines, written = [], {}
    for pid, (outcome, found, v) in zip(shape.ctx.patients,
                                        each_patient(first, shape.ctx.patients)):
        lines.append(f"{pid}: {outcome}")
        problems += found
        if v is not None:
            written[pid] = v
    if len(written) < 5:
        problems.append(f"{shape.name}: only {len(written)} fixtures got a plan: {lines}")
    for found in each_patient(again, list(written.items())):
        problems += found
    return lines


def step_repository_write(ctx):
    """EHR read (the profile) + FHIR repository write (the second HAPI)."""
    target = Fhir(target_url())

    def plans(pid):
        return target.search("CarePlan", subject=f"{ctx.proxy.url}/Patient/{pid}",
                             identifier=f"{OWN_SYSTEM}|")

    shape = Shape(ctx, "repository_write", ["--server", ctx.proxy.url, "--target", target.base],
                  profile_env(ctx), plans)
    problems = []
    log = [check_shape(shape, "shape:    EHR read + FHIR repository write (set target.base_url)",
                       problems)]
    members = ctx.patients[:SYNC_PATIENTS]
    gid = f"{ctx.patients[0].split('-')[0]}-group"
    group = {"resourceType": "Group", "id": gid, "type": "person", "actual": True,
             "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in members]}
    status, body = ctx.fhir.put(group)  # on the source, behind the proxy
    if status not in (200, 201):
        return [f"cannot create Group/{gid} on the source: {status} {body}"], ""
    log += sync_twice(shape, lambda tmp: f"group:{gid}", members, problems)
    log += run_every_patient(shape, problems)
    for pid in ctx.patients:
        if ctx.fhir.plans_of(pid):
            problems.append(f"{pid}: a plan was written to the source")
    return problems, "\n".join(log)


def step_note_write(ctx):
    """EHR read + note write: the profile both ways, write.mode=document."""

    def notes(pid):
        found = ctx.fhir.search("DocumentReference", subject=f"Patient/{pid}")
        return [n for n in found
                if any(i.get("system") == OWN_SYSTEM for i in n.get("identifier", []))]

    shape = Shape(ctx, "note_write", ["--server", ctx.proxy.url],
                  profile_env(ctx, MST_WRITE_MODE="document"), notes)
    problems = []
    log = [check_shape(shape, CHECK_SHAPE, problems)]
    members = ctx.patients[SYNC_PATIENTS:2 * SYNC_PATIENTS]

    def population_file(tmp):
        path = os.path.join(tmp, "patients.txt")
        with open(path, "w") as f:
            f.write("".join(pid + "\n" for pid in members))
        return f"file:{path}"

    log += sync_twice(shape, population_file, members, problems)
    log += run_every_patient(shape, problems)
    for pid in ctx.patients:
        if ctx.fhir.plans_of(pid):
            problems.append(f"{pid}: a CarePlan was written in document mode")
    return problems, "\n".join(log)


STEPS = {"check": step_check, "pull": step_pull, "pull_paged": step_pull_paged,
         "repository_write": step_repository_write, "note_write": step_note_write,
         "write_refused": step_write_refused}
DEFAULT_STEPS = ["check", "pull", "pull_paged", "repository_write", "note_write"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", action="append",
                    help="profile file name in tests/tools/ehr_proxy/profiles (default: all)")
    ap.add_argument("--steps", default=",".join(DEFAULT_STEPS),
                    help=f"comma-separated, in order, of {', '.join(STEPS)}")
    ap.add_argument("--write-mode", default="", help="the write.mode key (MST_WRITE_MODE)")
    ap.add_argument("--env", action="append", default=[],
                    help="KEY=VALUE in every adapter call's environment (MST_* config keys)")
    ap.add_argument("--adapter-arg", action="append", default=[],
                    help="extra argument for every adapter call")
    ap.add_argument("--patients", type=int, default=0, help="first N fixtures only (0: all)")
    args = ap.parse_args()
    steps = [s for s in args.steps.split(",") if s]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        ap.error(f"unknown steps {unknown}; known: {', '.join(STEPS)}")
    profiles = args.profile or sorted(CHECK_LACKS)

    fhir = Fhir(base_url())
    ids = sorted(expected())
    if args.patients:
        ids = ids[:args.patients]
    # The profiles run side by side, each on patients and a proxy of its own;
    # their reports are printed in order once all are done.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(profiles)) as pool:
        results = list(pool.map(lambda profile: run_profile(args, profile, steps, fhir, ids),
                                profiles))
    failures = 0
    for failed, report in results:
        print(report, end="")
        failures += failed
    print(f"{failures} step(s) failed")
    return 1 if failures else 0


def run_profile(args, profile, steps, fhir, ids):
    """Runs `steps` through one profile; returns (steps failed, report text)."""
    failures, out = 0, []
    # Fresh patients per profile: the proxy's URL is in the plans' subjects
    # on the target, so another profile's plans would be look-alikes.
    patients = load_prefixed(fhir, unique_prefix("ehr"), ids)
    with tempfile.TemporaryDirectory() as tmp:
        proxy = profile_proxy(fhir.base, os.path.join(PROFILES, profile), tmp)
        try:
            ctx = Context(args, profile, proxy, fhir, patients)
            for name in steps:
                problems, detail = STEPS[name](ctx)
                status = "FAIL" if problems else "ok"
                out.append(f"[{status}] {profile} {name}")
                out += [f"    {line}" for line in problems]
                if problems:
                    out.append("    --- detail ---\n    " + detail.replace("\n", "\n    "))
                failures += bool(problems)
        finally:
            proxy.stop()
    return failures, "".join(line + "\n" for line in out)


if __name__ == "__main__":
    sys.exit(main())
