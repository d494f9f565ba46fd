#!/usr/bin/env python3
"""Summarises one bench/run-e2e.sh run (bench/data/e2e/): for each sync, its
wall time, patients per second, the adapter's CPU (from /usr/bin/time -v)
and the server's CPU over the same span; then the server's capacity for the
adapter's recorded request mix (wrk) and the adapter's throughput as a
fraction of it. Writes e2e-summary.json and e2e-summary.md, prints the table.
"""
import collections
import glob
import json
import os
import re
import sys


def parse_time_v(path):
    text = open(path).read()

    def num(label):
        m = re.search(re.escape(label) + r":\s*([0-9.:]+)", text)
        return m.group(1) if m else None

    wall = num("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return {"wall_s": secs, "user_s": float(num("User time (seconds)")),
            "sys_s": float(num("System time (seconds)")),
            "max_rss_kib": int(num("Maximum resident set size (kbytes)"))}


def outcomes(log_path):
    c = collections.Counter()
    for line in open(log_path):
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        if e.get("event") == "patient.done":
            c[e.get("outcome", "?")] += 1
        elif e.get("event") in ("patient.failed", "patient.quarantined"):
            c["failed"] += 1
    return c


def kind(r):
    """'GET Observation', 'POST transaction', 'GET next page', ... for a request."""
    path = r["path"].split("?", 1)
    parts = [p for p in path[0].split("/") if p]
    if len(parts) >= 2:
        return f"{r['method']} {parts[1]}"
    if r["method"] == "POST":
        return "POST transaction"
    if len(path) > 1 and "_getpages" in path[1]:
        return "GET next page"
    return f"{r['method']} {r['path']}"


def main():
    out = sys.argv[1]
    recorded = [json.loads(l) for l in open(os.path.join(out, "requests.jsonl")) if l.strip()]
    rec_patients = sum(outcomes(os.path.join(out, "recorded.log")).values())
    per_patient = len(recorded) / rec_patients if rec_patients else None
    mix = collections.Counter(kind(r) for r in recorded)
    load = dict(l.strip().split("=", 1) for l in open(os.path.join(out, "load.txt")) if "=" in l)

    wrk = {}
    for path in glob.glob(os.path.join(out, "wrk-c*.json")):
        w = json.loads(open(path).read())
        wrk[w["connections"]] = w

    summary = {"patients_loaded": sum(1 for _ in open(os.path.join(out, "patients.txt"))),
               "load": load, "requests_per_patient": per_patient, "request_mix": dict(mix),
               "syncs": [], "capacity": wrk}
    lines = [f"{summary['patients_loaded']} patients loaded in {load.get('load_s')} s; "
             f"recorded mix: {len(recorded)} requests for {rec_patients} patients "
             f"({per_patient:.1f} per patient: "
             + ", ".join(f"{k} {v}" for k, v in sorted(mix.items())) + ")", "",
             "| sync | patients | outcomes | wall s | patients/s | req/s | adapter CPU s | adapter cores | "
             "server CPU s | CPU ms/patient adapter : server | adapter share of CPU | vs wrk capacity |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ("sync-c1", "sync-c4", "sync-c16", "rerun-c4"):
        tpath = os.path.join(out, name + ".time")
        if not os.path.exists(tpath):
            continue
        t = parse_time_v(tpath)
        meta = json.load(open(os.path.join(out, name + ".json")))
        oc = outcomes(os.path.join(out, name + ".log"))
        n = sum(oc.values())
        cpu = t["user_s"] + t["sys_s"]
        rps = n * per_patient / t["wall_s"] if per_patient and name != "rerun-c4" else None
        cap = wrk.get(meta["concurrency"])
        frac = rps / cap["rps"] if rps and cap else None
        share = cpu / (cpu + meta["hapi_cpu_s"]) if cpu + meta["hapi_cpu_s"] > 0 else None
        row = {"name": name, "concurrency": meta["concurrency"], "as_of": meta["as_of"],
               "patients": n, "outcomes": dict(oc), **t, "adapter_cpu_s": cpu,
               "adapter_cores": cpu / t["wall_s"], "hapi_cpu_s": meta["hapi_cpu_s"],
               "patients_per_s": n / t["wall_s"], "requests_per_s": rps,
               "adapter_cpu_share": share, "fraction_of_capacity": frac,
               "adapter_cpu_ms_per_patient": 1000 * cpu / n if n else None,
               "server_cpu_ms_per_patient": 1000 * meta["hapi_cpu_s"] / n if n else None}
        summary["syncs"].append(row)
        lines.append(
            f"| {name} (as-of {meta['as_of']}) | {n} | "
            + ", ".join(f"{k} {v}" for k, v in sorted(oc.items()))
            + f" | {t['wall_s']:.1f} | {n / t['wall_s']:.2f} | "
            + (f"{rps:.1f}" if rps else "-")
            + f" | {cpu:.2f} | {cpu / t['wall_s']:.2f} | {meta['hapi_cpu_s']:.1f} | "
            + f"{1000 * cpu / n:.1f} : {1000 * meta['hapi_cpu_s'] / n:.0f} | "
            + (f"{share:.1%}" if share is not None else "-") + " | "
            + (f"{frac:.0%}" if frac else "-") + " |")
    lines += ["", "| wrk replay of the recorded mix | req/s | p50 ms | p99 ms | statuses | server CPU s | "
              "server CPU ms/request |", "|---|---:|---:|---:|---|---:|---:|"]
    for c in sorted(wrk):
        w = wrk[c]
        lines.append(f"| {c} connection(s), {w['duration_s']:.0f} s | {w['rps']:.1f} | "
                     f"{w['latency_p50_ms']:.1f} | {w['latency_p99_ms']:.1f} | "
                     + ", ".join(f"{k}: {v}" for k, v in sorted(w["statuses"].items()))
                     + f" | {w['hapi_cpu_s']:.1f} | {1000 * w['hapi_cpu_s'] / w['requests']:.1f} |")
    lines.append("")
    lines.append(f"Load average before/after: {load.get('load_before', '?')} / {load.get('load_after', '?')}")
    write_report(out, "e2e-summary", summary, lines)


def write_report(out, stem, summary, lines):
    """OUT/STEM.json holds the figures, OUT/STEM.md and stdout the table."""
    with open(os.path.join(out, stem + ".json"), "w") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(out, stem + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
