#!/usr/bin/env python3
"""Summarises one bench/run-population.sh run (bench/data/population/): for
each sync of W workers, the patients they processed, wall time, requests per
patient (the workers' own sync.requests log lines), adapter CPU and peak RSS
(/usr/bin/time -v), the server's CPU per patient, and the adapter's request
rate as a share of the server's capacity for the same mix (wrk at the same
total concurrency). Writes population.json and population.md, prints the table
and one row per configuration across its runs (docs/performance.md section 8).

    summarize_population.py OUT_DIR POPULATION_DIR
"""
import glob
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize_e2e import parse_time_v, write_report  # noqa: E402

CAPACITY_TARGET = 0.8  # issue #15: at least 80 % of capacity at every concurrency
# Issue #15: at most 6 requests per patient on a revision. The full syncs are
# the revisions: each revises every plan an earlier sync made.
REVISION_TARGET = 6
STATUSES = ("2xx", "3xx", "4xx", "5xx", "no_response")


def worker_log(path):
    """The cycle's counts, the patients done, the pending count and the
    time at exit, and the request counts one worker logged."""
    cycle, requests, done, exit_pending = {}, None, set(), None
    for line in open(path, errors="replace"):
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        if e.get("event") == "patient.done":
            done.add(e.get("patient"))
        elif e.get("event") == "sync.cycle":
            for k in ("processed", "written", "unchanged", "skipped", "failed"):
                cycle[k] = cycle.get(k, 0) + int(e.get(k, 0))
            exit_pending = (e.get("ts", ""), int(e.get("pending", 0)))
        elif e.get("event") == "sync.requests":
            requests = {s: int(e.get(s, 0)) for s in STATUSES}
    if requests is None:
        sys.exit(f"summarize_population: {path} has no sync.requests line (an adapter too old?)")
    return cycle, requests, done, exit_pending


def sync_row(out, meta):
    name = meta["name"]
    patients, requests, cpu, rss = 0, 0, 0.0, 0
    outcomes, statuses = {}, dict.fromkeys(STATUSES, 0)
    per_worker, distinct, exits = [], set(), []
    for i in range(1, meta["workers"] + 1):
        cycle, req, done, exit_pending = worker_log(os.path.join(out, f"{name}-w{i}.log"))
        distinct |= done
        if exit_pending:
            exits.append(exit_pending)
        t = parse_time_v(os.path.join(out, f"{name}-w{i}.time"))
        n = cycle.get("processed", 0)
        patients += n
        requests += sum(req.values())
        for k, v in req.items():
            statuses[k] += v
        for k in ("written", "unchanged", "skipped", "failed"):
            outcomes[k] = outcomes.get(k, 0) + cycle.get(k, 0)
        cpu += t["user_s"] + t["sys_s"]
        rss = max(rss, t["max_rss_kib"])
        per_worker.append({"worker": i, "patients": n, "requests": sum(req.values()),
                           "cpu_s": t["user_s"] + t["sys_s"], "max_rss_kib": t["max_rss_kib"]})
    wrk_path = os.path.join(out, f"{name}-wrk.json")
    wrk = json.load(open(wrk_path)) if os.path.exists(wrk_path) else None
    wall = meta["wall_s"]
    req_s = requests / wall if wall > 0 else None
    # A sync that processed nobody made only its fixed requests: no share.
    share = req_s / wrk["rps"] if wrk and wrk.get("rps") and req_s and patients else None
    # The same comparison by the server's CPU (cores busy during the sync over
    # cores busy under wrk): it does not depend on the two mixes being alike,
    # and a sync's mix is not the recorded one (repeats, incremental revisions).
    busy = (meta["hapi_cpu_s"] / wall) / (wrk["hapi_cpu_s"] / wrk["duration_s"]) \
        if wrk and wrk.get("hapi_cpu_s") and wrk.get("duration_s") and wall > 0 and patients else None

    def per_patient(x):
        return x / patients if patients else None

    # Workers that scan at different moments can each queue a patient another
    # has done or holds (docs/performance.md section 8): processed counts the
    # repeats, distinct does not; what the last worker to exit saw pending
    # waits for the next cycle.
    return {**meta, "kind": name.split("-")[0], "patients": patients,
            "distinct_patients": len(distinct),
            "left_pending": max(exits)[1] if exits else None, "outcomes": outcomes,
            "requests": requests, "statuses": statuses,
            "requests_per_patient": per_patient(requests),
            "patients_per_s": patients / wall if wall > 0 else None, "requests_per_s": req_s,
            "adapter_cpu_s": cpu,
            "adapter_cpu_ms_per_patient": per_patient(1000 * cpu),
            "server_cpu_ms_per_patient": per_patient(1000 * meta["hapi_cpu_s"]),
            "adapter_peak_rss_kib": rss, "per_worker": per_worker, "capacity": wrk,
            "share_of_capacity": share, "server_busy_share": busy}


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def configuration_rows(rows):
    """One row per sync kind and worker count: each run's patients (distinct),
    left pending and shares, and the median of the rest."""
    def runs(sel, key, spec):
        return " / ".join(fmt(r[key], spec) for r in sel)

    def median(sel, key, spec, scale=1):
        xs = [r[key] / scale for r in sel if r[key] is not None]
        return fmt(statistics.median(xs) if xs else None, spec)

    lines = ["| sync | workers x concurrency | patients (distinct), each run | left pending | "
             "wall s | patients/s | requests/patient | adapter CPU ms/patient | "
             "adapter peak RSS MiB | server CPU ms/patient | share of capacity, each run | "
             "server busy vs wrk, each run |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in ("full", "incremental"):
        for w in sorted({r["workers"] for r in rows}):
            sel = [r for r in rows if r["kind"] == kind and r["workers"] == w]
            if not sel:
                continue
            patients = (" / ".join(str(r["patients"]) for r in sel) + " (" +
                        " / ".join(str(r["distinct_patients"]) for r in sel) + ")")
            lines.append(
                f"| {kind} | {w} x {sel[0]['concurrency']} | {patients} | "
                f"{runs(sel, 'left_pending', 'd')} | {median(sel, 'wall_s', '.1f')} | "
                f"{median(sel, 'patients_per_s', '.2f')} | "
                f"{median(sel, 'requests_per_patient', '.1f')} | "
                f"{median(sel, 'adapter_cpu_ms_per_patient', '.0f')} | "
                f"{median(sel, 'adapter_peak_rss_kib', '.0f', 1024)} | "
                f"{median(sel, 'server_cpu_ms_per_patient', '.0f')} | "
                f"{runs(sel, 'share_of_capacity', '.0%')} | "
                f"{runs(sel, 'server_busy_share', '.0%')} |")
    return lines


def main():
    out, pop = sys.argv[1], sys.argv[2]
    manifest = json.load(open(os.path.join(pop, "manifest.json")))
    load = json.load(open(os.path.join(out, "load.json")))
    metas = [json.load(open(p)) for p in glob.glob(os.path.join(out, "*.json"))
             if re.fullmatch(r"(full|incremental)-w\d+-r\d+\.json", os.path.basename(p))]
    metas.sort(key=lambda m: (int(m["name"].rsplit("-r", 1)[1]), m["workers"], m["name"]))
    rows = [sync_row(out, m) for m in metas]

    loads = "; ".join(f"`load {x['args']}` {x['patients']} patients in {x['load_s']:.0f} s"
                      for x in load["loads"])
    lines = [f"Population {pop} ({manifest['patients']} generated): {load['patients']} patients "
             f"on the server ({loads}; load average at the end {load['loadavg']}).", "",
             "| sync | workers x concurrency | patients (distinct) | left pending | outcomes | wall s | patients/s | "
             "requests/patient | adapter CPU ms/patient | adapter peak RSS MiB (max worker) | "
             "server CPU ms/patient | wrk req/s | share of capacity | server busy vs wrk | load average |",
             "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        cap = r["capacity"]
        outcomes = ", ".join(f"{k} {v}" for k, v in r["outcomes"].items() if v)
        lines.append(
            f"| {r['name']} (as-of {r['as_of']}) | {r['workers']} x {r['concurrency']} | "
            f"{r['patients']} ({r['distinct_patients']}) | {fmt(r['left_pending'], 'd')} | "
            f"{outcomes or '-'} | {r['wall_s']:.1f} | "
            f"{fmt(r['patients_per_s'], '.2f')} | {fmt(r['requests_per_patient'], '.1f')} | "
            f"{fmt(r['adapter_cpu_ms_per_patient'], '.0f')} | {r['adapter_peak_rss_kib'] / 1024:.0f} | "
            f"{fmt(r['server_cpu_ms_per_patient'], '.0f')} | {fmt(cap and cap['rps'], '.1f')} | "
            f"{fmt(r['share_of_capacity'], '.0%')} | {fmt(r['server_busy_share'], '.0%')} | "
            f"{r['loadavg']} |")
    lines.append("")
    # The issue's two targets, per configuration, across the runs.
    verdicts = []
    for kind in ("full", "incremental"):
        for w in sorted({r["workers"] for r in rows}):
            sel = [r for r in rows if r["kind"] == kind and r["workers"] == w]
            shares = [r["share_of_capacity"] for r in sel]
            met = sum(1 for s in shares if s is not None and s >= CAPACITY_TARGET)
            text = f"{kind} sync, {w} worker(s): >= {CAPACITY_TARGET:.0%} of capacity in {met} of {len(sel)} run(s)"
            if kind == "full":
                rpp = [r["requests_per_patient"] for r in sel if r["requests_per_patient"] is not None]
                text += (f"; requests/patient {max(rpp):.1f} at most (target <= {REVISION_TARGET})"
                         if rpp else "; no patient processed")
            verdicts.append(text)
    lines += [f"- {v}" for v in verdicts]
    lines += [""] + configuration_rows(rows)
    summary = {"population": pop, "manifest": {k: v for k, v in manifest.items() if k != "rows"},
               "load": load, "syncs": rows, "verdicts": verdicts}
    write_report(out, "population", summary, lines)


if __name__ == "__main__":
    main()
