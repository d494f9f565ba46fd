#!/usr/bin/env python3
"""Summarises one bench/run-benchmarks.sh run (the files in bench/data/).

Every C++ ratio is computed inside each mst-bench run (both numbers saw the
same load), then the median over runs is reported with its range. Times are
CPU times: on a loaded shared machine wall time mostly measures waiting.
Writes summary.json and summary.md next to the inputs and prints the table.
"""
import glob
import json
import os
import re
import statistics
import sys

UNIT_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}

STAGES = [
    ("BM_RapidJsonParse", "(a) RapidJSON parse alone (floor)"),
    ("BM_JsonDocumentParse", "(b) fhir::JsonDocument::parse"),
    ("BM_ParseAndRecord", "    parse + PatientRecord"),
    ("BM_Record", "    PatientRecord alone, parsed document"),
    ("BM_FullPipeline", "(c) parse+record+extract+propose+build+dump"),
    ("BM_DeriveAndBuild", "(d) extract+propose+build+dump, prepared record"),
    ("BM_Extract", "    extract alone"),
    ("BM_Propose", "    propose alone"),
    ("BM_BuildAndDump", "    build_transaction + dump alone"),
]


def med(values):
    return statistics.median(values) if values else None


def load_runs(data):
    runs = []
    for path in sorted(glob.glob(os.path.join(data, "bench-run-*.json"))):
        with open(path) as f:
            doc = json.load(f)
        run = {"load_avg": doc["context"].get("load_avg"), "bench": {}}
        for b in doc["benchmarks"]:
            if b.get("error_occurred"):
                sys.exit(f"summarize: {b['name']} failed: {b.get('error_message')}")
            k = UNIT_MS[b["time_unit"]]
            run["bench"][b["name"]] = {
                "cpu_ms": b["cpu_time"] * k,
                "wall_ms": b["real_time"] * k,
                "output_bytes": b.get("output_bytes"),
            }
        runs.append(run)
    if not runs:
        sys.exit("summarize: no bench-run-*.json in " + data)
    return runs


def ratio(run, num_minus, num, den):
    b = run["bench"]
    if num not in b or den not in b:
        return None
    top = b[num]["cpu_ms"] - (b[num_minus]["cpu_ms"] if num_minus else 0)
    return top / b[den]["cpu_ms"]


def memory(data):
    out = {}
    for mode in ("read", "parse", "pipeline"):
        rows = []
        for txt in sorted(glob.glob(os.path.join(data, f"memory-{mode}-*.txt"))):
            with open(txt) as f:
                line = f.read().strip()
            if not line:
                continue
            row = json.loads(line)
            with open(txt[:-4] + ".time") as f:
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
            row["time_v_max_rss_kib"] = int(m.group(1)) if m else None
            rows.append(row)
        if rows:
            out[mode] = {
                "input_bytes": rows[0]["input_bytes"],
                "start_rss_kib": med([r["start_rss_kib"] for r in rows]),
                "peak_rss_kib": med([r["peak_rss_kib"] for r in rows]),
                "time_v_max_rss_kib": med([r["time_v_max_rss_kib"] for r in rows]),
                "output_bytes": rows[0]["output_bytes"],
                "runs": len(rows),
            }
    return out


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data")
    runs = load_runs(data)
    machine = {}
    with open(os.path.join(data, "machine.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            machine[k] = v
    size = os.path.getsize(os.path.join(data, "record.json"))

    summary = {"machine": machine, "input_bytes": size, "runs": len(runs), "stages": {}, "ratios": {}}
    lines = []
    p = lines.append
    p(f"Input: bench/data/record.json, {size / 1e6:.2f} MB; {len(runs)} runs of mst-bench; "
      f"load {machine.get('load_before')} -> {machine.get('load_after')}")
    p("")
    p("| stage | CPU ms (median) | range over runs | MB/s (CPU) | wall ms (median) |")
    p("|---|---:|---:|---:|---:|")
    for name, label in STAGES:
        cpu = [r["bench"][name]["cpu_ms"] for r in runs if name in r["bench"]]
        wall = [r["bench"][name]["wall_ms"] for r in runs if name in r["bench"]]
        if not cpu:
            continue
        m = med(cpu)
        rate = size / 1e6 / (m / 1e3) if name not in ("BM_Propose", "BM_BuildAndDump") else None
        summary["stages"][name] = {"cpu_ms_median": m, "cpu_ms_min": min(cpu), "cpu_ms_max": max(cpu),
                                   "wall_ms_median": med(wall), "mb_per_s_cpu": rate}
        rate_s = f"{rate:.0f}" if rate else "-"
        p(f"| {label.strip()} | {m:.3f} | {min(cpu):.3f}-{max(cpu):.3f} | {rate_s} | {med(wall):.3f} |")
    out_bytes = [r["bench"]["BM_FullPipeline"]["output_bytes"] for r in runs if "BM_FullPipeline" in r["bench"]]
    if out_bytes and out_bytes[0]:
        summary["output_bytes"] = out_bytes[0]

    p("")
    p("| ratio (computed per run, then median) | median | range | target |")
    p("|---|---:|---:|---|")
    defs = [
        ("parse_overhead", "(b-a)/a: JsonDocument over bare RapidJSON", "BM_RapidJsonParse", "BM_JsonDocumentParse",
         "BM_RapidJsonParse", None),
        ("adapter_beyond_parse", "(c-a)/a: the adapter's work beyond the bare parse", "BM_RapidJsonParse",
         "BM_FullPipeline", "BM_RapidJsonParse", 1.0),
        ("beyond_our_parse", "(c-b)/b: beyond our own parse", "BM_JsonDocumentParse", "BM_FullPipeline",
         "BM_JsonDocumentParse", 1.0),
        ("derive_build_vs_floor", "d/a: derive+build alone vs the bare parse", None, "BM_DeriveAndBuild",
         "BM_RapidJsonParse", None),
    ]
    for key, label, minus, num, den, target in defs:
        vals = [v for v in (ratio(r, minus, num, den) for r in runs) if v is not None]
        if not vals:
            continue
        summary["ratios"][key] = {"median": med(vals), "min": min(vals), "max": max(vals), "target_max": target}
        t = f"<= {target:.1f}" if target is not None else "-"
        p(f"| {label} | {med(vals):.2f} | {min(vals):.2f}-{max(vals):.2f} | {t} |")

    small_path = os.path.join(data, "bench-small.json")
    if os.path.exists(small_path):
        with open(small_path) as f:
            doc = json.load(f)
        med_ms = {b["run_name"]: b["cpu_time"] * UNIT_MS[b["time_unit"]] for b in doc["benchmarks"]
                  if b.get("aggregate_name") == "median"}
        size_small = os.path.getsize(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                                  "fixtures", "patients", "mst-p11.json"))
        summary["small"] = {"input_bytes": size_small, "cpu_ms_median": med_ms}
        p("")
        p(f"Fixture-sized patient (mst-p11.json, {size_small / 1e3:.1f} KB), median of 5 repetitions:")
        p("")
        p("| stage | CPU ms | x (a) |")
        p("|---|---:|---:|")
        floor = med_ms.get("BM_RapidJsonParse")
        for name, label in STAGES:
            if name in med_ms:
                p(f"| {label.strip()} | {med_ms[name]:.3f} | {med_ms[name] / floor:.1f} |")

    mem = memory(data)
    if mem:
        summary["memory"] = mem
        p("")
        p("| peak memory (3 runs, median) | max RSS (time -v) | peak - start RSS | x input |")
        p("|---|---:|---:|---:|")
        for mode, label in (("read", "read the file only"), ("parse", "read + JsonDocument::parse"),
                            ("pipeline", "read + whole pipeline + dump")):
            if mode not in mem:
                continue
            m = mem[mode]
            work = (m["peak_rss_kib"] - m["start_rss_kib"]) * 1024
            m["working_bytes"] = work
            m["working_x_input"] = work / m["input_bytes"]
            p(f"| {label} | {m['time_v_max_rss_kib'] / 1024:.1f} MiB | {work / 2**20:.1f} MiB | "
              f"{m['working_x_input']:.2f} |")

    hapi_path = os.path.join(data, "hapi.json")
    if os.path.exists(hapi_path) and os.path.getsize(hapi_path) > 0 and "BM_FullPipeline" in summary["stages"]:
        with open(hapi_path) as f:
            hapi = json.load(f)
        ours = summary["stages"]["BM_FullPipeline"]
        summary["hapi"] = hapi
        summary["ratios"]["hapi_parse_vs_our_pipeline_cpu"] = {"median": hapi["cpu_ms_median"] / ours["cpu_ms_median"]}
        summary["ratios"]["hapi_parse_vs_our_pipeline_wall"] = {
            "median": hapi["wall_ms_median"] / ours["wall_ms_median"]}
        p("")
        p("| peer | CPU ms (median) | wall ms (median) | vs our (c), CPU | vs our (c), wall |")
        p("|---|---:|---:|---:|---:|")
        p(f"| {hapi['parser']} (parse only; {hapi['rounds']} rounds after {hapi['warmup']} warm-up) | "
          f"{hapi['cpu_ms_median']:.1f} | {hapi['wall_ms_median']:.1f} | "
          f"{summary['ratios']['hapi_parse_vs_our_pipeline_cpu']['median']:.1f}x | "
          f"{summary['ratios']['hapi_parse_vs_our_pipeline_wall']['median']:.1f}x |")

    with open(os.path.join(data, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(data, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
