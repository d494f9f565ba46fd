#!/usr/bin/env python3
"""The same patient in another coding must get the same plan.

    tests/metamorphic/metamorphic_test.py MST_ADAPTER [--keep DIR] [--patient ID] [--variant NAME] [--matrix]

Generates the variants (generate_variants.py) into a temporary folder, runs
`MST_ADAPTER run --input FILE --patient ID --dry-run --format json --as-of DAY`
on each canonical fixture and on each of its variants, and compares their plan
signatures: whether a plan is written, the emergency pathway, the overall
urgency, each Goal's code and priority, each referral's discipline and
priority. Prints one line per mismatch and `N passed, N failed`; exits 1 on
any failure. A difference is accepted only when ALLOWED below names it exactly.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_variants  # noqa: E402

# Reviewed differences: a variant that truly loses clinical information may
# change the plan, and only in exactly this way. Each entry: patient, variant,
# the exact difference lines (as printed by this test), and why that is right.
# An entry whose difference no longer occurs fails too, so the list stays true.
ALLOWED = [
    # Every other variant generate_variants.py writes carries the same clinical
    # information (text-only writes the vertebral level as text,
    # spine-as-bodysite keeps every level, and units convert exactly enough for
    # every threshold in mappings/tables/thresholds.json).
    {
        "patient": "mst-p12",
        "variant": "who-icd10",
        "difference": [
            "emergency: False -> True",
            "goal improve-function-ambulation: high-priority -> absent",
            "goal pain-relief: high-priority -> medium-priority",
            "goal preserve-neurologic-function: absent -> high-priority",
            "referral diagnostic-radiology: absent -> urgent",
            "referral radiation-oncology: urgent -> asap",
            "referral rehabilitation: routine -> absent",
            "urgency: urgent -> asap",
        ],
        "why": "ICD-10-CM G82.21 says complete paraplegia, which the tables read as unable to "
               "walk; WHO ICD-10 has no such code (G82.2 is paraplegia, unspecified: "
               "fhir-coding.md §16.4, WHO stops at four characters), so the WHO record no longer "
               "says the patient cannot walk, nor that the deficit is complete. With a complete "
               "deficit older than 48 h the ESCC 3 compression has no function left to preserve "
               "and the plan is palliative (docs/clinical-rules.md, 'The palliative pathway'); "
               "with paraplegia of unknown completeness there may be function left, so row 5's "
               "urgent radiotherapy with dexamethasone rightly applies (hard rule 3: a short "
               "prognosis never cancels it), and the walking goal needs another source.",
    },
    {
        "patient": "rw-33",
        "variant": "who-icd10",
        "difference": [
            "emergency: False -> True",
            "goal pain-relief: high-priority -> medium-priority",
            "goal preserve-neurologic-function: absent -> high-priority",
            "referral diagnostic-radiology: absent -> urgent",
            "referral radiation-oncology: urgent -> asap",
            "referral spine-surgery: absent -> urgent",
            "urgency: urgent -> stat",
        ],
        "why": "As mst-p12: WHO ICD-10 G82.2 does not say the paraplegia is complete (SNOMED 60389000 "
               "is not in the tables, fhir-coding.md §8 verified none), so the recorded compression "
               "may still have function to preserve and NICE NG234's emergency rightly applies; "
               "with ECOG 4 the surgeon is asked for an urgent opinion, not a decompression "
               "(docs/clinical-rules.md row 1, NOMS 'S').",
    },
    {
        "patient": "rw-36",
        "variant": "who-icd10",
        "difference": [
            "goal improve-function-ambulation: medium-priority -> absent",
            "referral rehabilitation: routine -> absent",
        ],
        "why": "As mst-p12: WHO G82.2 does not say the patient cannot walk, so the established-"
               "deficit goal (seating, transfers, skin, continence) needs an ambulation Observation.",
    },
]
TIMEOUT_S = 60


def signature(adapter, bundle, pid, as_of, extra_args=()):
    """The plan signature of one run, or {"error": ...} when the run fails."""
    cmd = [str(adapter), "run", "--input", str(bundle), "--patient", pid, "--dry-run", "--format", "json",
           "--as-of", as_of, "--log-level", "error", *extra_args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {TIMEOUT_S} s"}
    summary = None
    # A dry run prints the Bundle on stdout and the summary on stderr; with no
    # plan the summary is on stdout. The summary is the last JSON line.
    for stream in (p.stderr, p.stdout):
        for line in reversed(stream.splitlines()):
            line = line.strip()
            if line.startswith("{") and line.endswith("}"):
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                if isinstance(doc, dict) and doc.get("patient") == pid:
                    summary = doc
                    break
        if summary:
            break
    if p.returncode not in (0, 1) or summary is None:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {p.returncode}: {tail[:200]}"}
    if summary.get("outcome") != "built" or not summary.get("applicable"):
        return {"plan": False, "reason": summary.get("reason", summary.get("outcome"))}
    return {
        "plan": True,
        "emergency": bool(summary.get("emergency")),
        "urgency": summary.get("urgency"),
        "goals": {g["code"]: g.get("priority") for g in summary.get("goals", [])},
        "referrals": {r["to"]: r.get("priority") for r in summary.get("referrals", [])},
    }


def differences(canonical, variant):
    """Difference lines 'what: canonical -> variant', sorted; empty when the plans agree."""
    if "error" in canonical:
        return [f"canonical run failed: {canonical['error']}"]
    if "error" in variant:
        return [f"run failed: {variant['error']}"]
    if canonical["plan"] != variant["plan"]:
        c = "plan" if canonical["plan"] else f"no plan ({canonical.get('reason')})"
        v = "plan" if variant["plan"] else f"no plan ({variant.get('reason')})"
        return [f"plan: {c} -> {v}"]
    if not canonical["plan"]:
        return []
    out = []
    for key in ("emergency", "urgency"):
        if canonical[key] != variant[key]:
            out.append(f"{key}: {canonical[key]} -> {variant[key]}")
    for kind in ("goals", "referrals"):
        c, v = canonical[kind], variant[kind]
        for code in sorted(set(c) | set(v)):
            if c.get(code) != v.get(code):
                out.append(f"{kind[:-1]} {code}: {c.get(code, 'absent')} -> {v.get(code, 'absent')}")
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("adapter", help="path to the mst-adapter binary")
    ap.add_argument("--keep", help="write the variants here and keep them (default: a temporary folder)")
    ap.add_argument("--patient", action="append", help="only these patients")
    ap.add_argument("--variant", action="append", choices=sorted(generate_variants.VARIANTS), help="only these variants")
    ap.add_argument("--fixtures", action="append", help="fixture folder (default: patients and realworld)")
    ap.add_argument("--matrix", action="store_true", help="also print the patient x variant matrix")
    a = ap.parse_args()
    if not Path(a.adapter).is_file():
        print(f"no adapter binary at {a.adapter}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="mst-metamorphic-") as tmp:
        out_dir = Path(a.keep or tmp)
        manifest = generate_variants.generate(out_dir, a.fixtures or generate_variants.DEFAULT_FIXTURES, a.variant)
        return run(a, manifest)


def run(a, manifest):
    allowed = {(e["patient"], e["variant"]): e for e in ALLOWED}
    used = set()
    passed = failed = skipped = 0
    matrix = {}
    for p in manifest["patients"]:
        pid = p["patient"]
        if a.patient and pid not in a.patient:
            continue
        canonical = signature(a.adapter, p["canonical"], pid, p["as_of"])
        for name, info in p["variants"].items():
            if "skipped" in info:
                skipped += 1
                matrix[(pid, name)] = "skip"
                continue
            diff = differences(canonical, signature(a.adapter, info["file"], pid, p["as_of"], info["args"]))
            entry = allowed.get((pid, name))
            if entry is not None:
                used.add((pid, name))
                if diff == sorted(entry["difference"]):
                    passed += 1
                    matrix[(pid, name)] = "allowed"
                    continue
                diff = diff + [f"allow-list expects {sorted(entry['difference'])}"]
            if diff:
                failed += 1
                matrix[(pid, name)] = "FAIL"
                print(f"FAIL {pid} {name}: " + "; ".join(diff))
            else:
                passed += 1
                matrix[(pid, name)] = "pass"
    for key in sorted(set(allowed) - used):
        if a.patient and key[0] not in a.patient or a.variant and key[1] not in a.variant:
            continue
        failed += 1
        print(f"FAIL {key[0]} {key[1]}: allow-list entry matches no variant that was run")
    if a.matrix:
        print_matrix(matrix)
    print(f"{skipped} variants skipped (nothing to re-express, or not clinically equivalent: see manifest.json)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def print_matrix(matrix):
    patients = sorted({k[0] for k in matrix})
    variants = list(generate_variants.VARIANTS)
    width = max(len(v) for v in variants)
    print("")
    print(" " * width + " " + " ".join(f"{p[-7:]:>7}" for p in patients))
    for v in variants:
        print(f"{v:<{width}} " + " ".join(f"{matrix.get((p, v), '-'):>7}" for p in patients))
    print("")


if __name__ == "__main__":
    sys.exit(main())
