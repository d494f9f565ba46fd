#!/usr/bin/env python3
"""Prints the markdown tables of bench/run-serve-latency.sh from its output
directory (results.jsonl, nofetch.json, machine.txt), ready to paste into
docs/performance.md, and writes them to summary.md there.

    summarize_serve.py OUT_DIR
Exits 1 when a run had errors: such a run is not a result.
"""
import json
import os
import sys

P99_TARGET_MS = 50.0      # full prefetch, concurrency 8
NOFETCH_TARGET = 1.10     # serve without prefetch / the server's own time


def fmt(x):
    return f"{x:,.1f}" if isinstance(x, (int, float)) else str(x)


def cpu_per_call(run):
    if "serve_cpu_s" not in run or not run["answered"]:
        return "-"
    return f"{run['serve_cpu_s'] * 1e3 / run['answered']:.2f}"


def main():
    out = sys.argv[1]
    runs = [json.loads(x) for x in open(os.path.join(out, "results.jsonl")) if x.strip()]
    machine = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(out, "machine.txt"))
                   if "=" in line)
    lines = [f"Machine: {machine.get('cpu', '?')}; load average {machine.get('load_before', '?')} before, "
             f"{machine.get('load_after', '?')} after; {machine.get('date', '')}, commit "
             f"{machine.get('commit', '?')}, mst-adapter build {machine.get('adapter', '?').rsplit(' ', 1)[-1]}.", "",
             "| patient-view | concurrency | calls | errors | p50 ms | p90 ms | p99 ms | max ms | calls/s "
             "| serve CPU ms/call |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    bad = 0
    for r in runs:
        kind = r["label"].rsplit(" c=", 1)[0]
        lines.append(f"| {kind} | {r['concurrency']} | {r['answered']:,} | {r['errors']} | {fmt(r['p50_ms'])} | "
                     f"{fmt(r['p90_ms'])} | {fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | {r['rps']:,.0f} | "
                     f"{cpu_per_call(r)} |")
        bad += r["errors"] + (r["requests"] - r["answered"])
    target = next((r for r in runs if r["label"] == "prefetch c=8"), None)
    lines.append("")
    if target:
        met = "met" if target["p99_ms"] <= P99_TARGET_MS else "NOT met"
        lines.append(f"Full prefetch, c=8: p99 {target['p99_ms']:.1f} ms against the target of "
                     f"{P99_TARGET_MS:.0f} ms: **{met}**.")
    nofetch_path = os.path.join(out, "nofetch.json")
    if os.path.exists(nofetch_path):
        n = json.load(open(nofetch_path))
        bad += n["errors"]
        lines += ["", f"Without prefetch ({n['patients']} patients x {n['rounds']} rounds, sequential; "
                  f"{n['requests_per_patient']} requests to the server per patient, asking for "
                  f"{n.get('gets_per_patient', n['requests_per_patient'])} reads):", "",
                  "| per patient | p50 ms | p90 ms | p99 ms | mean ms |", "|---|---:|---:|---:|---:|"]
        for key, what in (("serve", "serve patient-view, fhirServer only"),
                          ("fhir_at_once", "HAPI alone, the same requests all at once (as serve sends them)"),
                          ("fhir_gets_at_once", "HAPI alone, the same reads as separate GETs all at once"),
                          ("fhir_one_by_one", "HAPI alone, the same reads as GETs one after another")):
            if key not in n:
                continue
            s = n[key]
            lines.append(f"| {what} | {fmt(s['p50_ms'])} | {fmt(s['p90_ms'])} | {fmt(s['p99_ms'])} | "
                         f"{fmt(s['mean_ms'])} |")
        met = "met" if n["ratio_p50"] <= NOFETCH_TARGET else "NOT met"
        lines += ["", f"serve / HAPI's own time (at once): p50 {n['ratio_p50']:.2f}, mean {n['ratio_mean']:.2f}, "
                  f"p99 {n['ratio_p99']:.2f}; target <= {NOFETCH_TARGET:.2f} at p50: **{met}**."]
    if bad:
        lines += ["", f"**{bad} errors or unanswered calls: these runs are not a result.**"]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    print(text, end="")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
