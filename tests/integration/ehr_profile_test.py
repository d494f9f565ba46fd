"""The adapter through mst-fault-proxy --profile (tests/tools/ehr_proxy): an
EHR-shaped endpoint in front of the test HAPI server, once per vendor profile.

Each profile runs the steps named in STEPS, in order, one function each:
  check         `mst-adapter check` reports what the profile takes away
                (CarePlan create, transactions) and nothing it keeps.
  pull          every fixture patient's `explain` report (considerations,
                goals, evidence) through the proxy equals the one read
                from HAPI directly with default settings: the pull got all
                of the patient's data despite the profile's restrictions.
  pull_paged    the same with pages of 3 resources, so every search follows
                the profile's paging links (opaque tokens, absolute URLs).
  write_refused a plain `run` (one transaction Bundle, after looking up its
                earlier plan by identifier) fails with a clear error
                through the profile, and nothing reaches the server.
  sync_refused  `sync --once` stops with a clear error at its first scan
                (unscoped searches, _lastUpdated), writing nothing.
More steps (a write in another mode, sync by population) are functions of
the same shape added to STEPS; `--steps` picks some, `--write-mode MODE`
(the write.mode key, as MST_WRITE_MODE), `--env KEY=VALUE` and
`--adapter-arg ARG` (both repeatable) pass settings to every adapter call.

Environment: MST_ADAPTER, MST_FAULT_PROXY, MST_HAPI_STATE_DIR."""

import argparse
import re
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from e2e_support import (AS_OF, REPO, Fhir, base_url, expected, load_prefixed,  # noqa: E402
                         run_adapter, unique_prefix)

PROFILES = os.path.join(REPO, "tests", "tools", "ehr_proxy", "profiles")
# What `check` must report as MISSING through each profile (and what it must not).
CHECK_MISSING = {
    "epic-r4.json": ["create CarePlan", "system transaction"],
    "oracle-millennium-r4.json": ["create CarePlan", "system transaction"],
}
CHECK_PRESENT = ["read Patient", "search Condition", "search Observation"]
# The site settings each profile needs for the pull (docs/configuration.md).
# The direct run in `pull` uses none, so it also shows they lose nothing.
PROFILE_ENV = {
    "epic-r4.json": {"MST_SERVER_SEARCH_OBSERVATION_CODE_CATEGORIES":
                     "laboratory,vital-signs,social-history"},
    "oracle-millennium-r4.json": {},
}


class ProfileProxy:
    """mst-fault-proxy with a profile and no faults, in front of HAPI."""

    def __init__(self, upstream_base, profile, tmp):
        parts = urllib.parse.urlsplit(upstream_base)
        port_file = os.path.join(tmp, "proxy.port")
        self.proc = subprocess.Popen(
            [os.environ["MST_FAULT_PROXY"], "--upstream", f"{parts.scheme}://{parts.netloc}",
             "--listen", "127.0.0.1:0", "--rate", "0", "--profile", profile,
             "--port-file", port_file],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        end = time.time() + 30
        port = ""
        while not port:
            if self.proc.poll() is not None or time.time() > end:
                raise AssertionError(f"mst-fault-proxy did not start: {self.proc.stderr.read()}")
            time.sleep(0.05)
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
        self.url = f"http://127.0.0.1:{port}{parts.path}"

    def stop(self):
        self.proc.terminate()
        self.proc.communicate(timeout=30)


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
    for what in CHECK_MISSING[ctx.profile]:
        if f"MISSING  {what}" not in out:
            problems.append(f"check does not report 'MISSING  {what}'")
    for what in CHECK_PRESENT:
        if f"ok       {what}" not in out:
            problems.append(f"check does not accept '{what}'")
    if p.returncode == 0:
        problems.append("check exits 0 although requirements are missing")
    return problems, out


def step_pull(ctx):
    problems, lines = [], []
    for pid in ctx.patients:
        args = ("explain", "--patient", pid, "--as-of", AS_OF)
        direct = ctx.adapter(*args, server=ctx.fhir.base)
        proxied = ctx.adapter(*args)
        # 1 is a patient without a plan; anything else is an error.
        if proxied.returncode != direct.returncode or direct.returncode not in (0, 1):
            problems.append(f"{pid}: explain through the proxy exited {proxied.returncode} "
                            f"(direct: {direct.returncode}): {proxied.stderr.strip()[-400:]}")
            continue
        a, b = considerations(direct.stdout), considerations(proxied.stdout)
        if a != b:
            only_direct = [x for x in a if x not in b][:5]
            only_proxied = [x for x in b if x not in a][:5]
            problems.append(f"{pid}: the report differs through the proxy; only direct: "
                            f"{only_direct}; only proxied: {only_proxied}")
        lines.append(f"{pid}: {len(b)} report lines")
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
        proxy = ProfileProxy(ctx.fhir.base, path, tmp)
        try:
            return step_pull(Context(ctx.args, ctx.profile, proxy, ctx.fhir, ctx.patients))
        finally:
            proxy.stop()


def step_sync_refused(ctx):
    with tempfile.TemporaryDirectory() as tmp:
        p = ctx.adapter("sync", "--once", "--state", os.path.join(tmp, "state.db"),
                        "--as-of", AS_OF)
    problems = []
    if p.returncode in (0, 1):
        problems.append(f"sync through {ctx.profile} exited {p.returncode}; expected its "
                        f"population scan to be refused")
    if not re.search(r"^mst-adapter: GET \S+: HTTP 400", p.stderr, re.M):
        problems.append(f"no one-line error naming the refused search: {p.stderr[-400:]}")
    for pid in ctx.patients:
        if ctx.fhir.plans_of(pid):
            problems.append(f"{pid}: a plan reached the server")
    return problems, p.stderr.strip()


STEPS = {"check": step_check, "pull": step_pull, "pull_paged": step_pull_paged,
         "write_refused": step_write_refused, "sync_refused": step_sync_refused}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", action="append",
                    help="profile file name in tests/tools/ehr_proxy/profiles (default: all)")
    ap.add_argument("--steps", default=",".join(STEPS), help="comma-separated, in order")
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
    profiles = args.profile or sorted(CHECK_MISSING)

    fhir = Fhir(base_url())
    ids = sorted(expected())
    if args.patients:
        ids = ids[:args.patients]
    patients = load_prefixed(fhir, unique_prefix("ehr"), ids)
    failures = 0
    for profile in profiles:
        with tempfile.TemporaryDirectory() as tmp:
            proxy = ProfileProxy(fhir.base, os.path.join(PROFILES, profile), tmp)
            try:
                ctx = Context(args, profile, proxy, fhir, patients)
                for name in steps:
                    problems, detail = STEPS[name](ctx)
                    status = "FAIL" if problems else "ok"
                    print(f"[{status}] {profile} {name}")
                    for line in problems:
                        print(f"    {line}")
                    if problems:
                        print("    --- detail ---\n    " + detail.replace("\n", "\n    "))
                    failures += bool(problems)
            finally:
                proxy.stop()
    print(f"{failures} step(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
