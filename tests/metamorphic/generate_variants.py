#!/usr/bin/env python3
"""Re-expresses every fixture patient in several codings that carry the same
clinical information (the metamorphic variants; see README.md).

    tests/metamorphic/generate_variants.py OUT_DIR [--fixtures DIR ...]

Reads tests/fixtures/patients/mst-*.json and, when present,
tests/fixtures/realworld/rw-*.json, and writes OUT_DIR/<patient>/<variant>.json
(plus local-codes.conceptmap.json) and OUT_DIR/manifest.json, which lists per
patient and variant the file, the extra adapter arguments, what changed, what
had no equivalent and was kept, and why a variant was skipped. Only codings,
values and units change: ids, references, dates and statuses stay, except in
spine-as-bodysite, which removes the metastasis Conditions it folds into the
primary (and re-points references to them). Deterministic: same input, same
bytes.
"""

import argparse
import copy
import json
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__

import terms as T  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURES = [ROOT / "tests/fixtures/patients", ROOT / "tests/fixtures/realworld"]
DEFAULT_AS_OF = "2026-11-20"
CLINICAL = {
    "Condition", "Observation", "Procedure", "CarePlan", "MedicationRequest",
    "MedicationAdministration", "MedicationStatement", "Medication",
}
LEVEL_TEXT = re.compile(r"\b([CTLS])\s?([1-9]|1[0-2])\b", re.IGNORECASE)


# ---- walking a bundle --------------------------------------------------------


def resources(bundle, *types):
    for e in bundle.get("entry", []):
        r = e.get("resource")
        if isinstance(r, dict) and (not types or r.get("resourceType") in types):
            yield r


def concepts(node, path=""):
    """Yields (path, CodeableConcept) under node, outside meta and narrative."""
    if isinstance(node, dict):
        if isinstance(node.get("coding"), list):
            yield path, node
        for k, v in node.items():
            if k not in ("meta", "text", "coding"):
                yield from concepts(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from concepts(v, f"{path}[{i}]")


def rid(r):
    return f"{r['resourceType']}/{r.get('id', '?')}"


def set_codings(cc, codings):
    seen, out = set(), []
    for c in codings:
        key = (c.get("system"), c.get("code"))
        if key not in seen:
            seen.add(key)
            out.append(c)
    if out:
        cc["coding"] = out
    else:
        cc.pop("coding", None)


def set_value(obs, key, value):
    """Replaces Observation (or component) value[x] by key=value, in place of the old one."""
    items = list(obs.items())
    obs.clear()
    placed = False
    for k, v in items:
        if k.startswith("value"):
            if not placed:
                obs[key] = value
                placed = True
            continue
        obs[k] = v
    if not placed:
        obs[key] = value


def first_key(cc):
    for c in cc.get("coding", []):
        return (c.get("system"), c.get("code"))
    return None


def has_level(condition):
    for site in condition.get("bodySite", []):
        if any(c.get("system") == T.SCT and c.get("code") in T.LEVEL_CODES for c in site.get("coding", [])):
            return True
        if LEVEL_TEXT.search(site.get("text", "")):
            return True
    return False


class Result:
    """One variant of one patient: the bundle, or why there is none."""

    def __init__(self):
        self.changes = []
        self.kept = []
        self.files = {}  # name -> JSON document written next to the variant
        self.args = []  # extra adapter arguments; "{file:NAME}" is replaced by its path
        self.skipped = None


# ---- the variants ------------------------------------------------------------


def snomed_only(bundle, res):
    """ICD-10-CM and LOINC codings re-expressed in SNOMED CT where an equivalent exists."""
    for r in resources(bundle, *CLINICAL):
        for path, cc in concepts(r):
            codings = cc["coding"]
            has_sct = any(c.get("system") == T.SCT for c in codings)
            out = []
            for c in codings:
                system, code = c.get("system"), c.get("code")
                if system == T.ICD10CM and code in T.ICD_TO_SCT:
                    sct, src = T.ICD_TO_SCT[code]
                    out.append({"system": T.SCT, "code": sct})
                    res.changes.append(f"{rid(r)} {path}: ICD-10-CM {code} -> SNOMED {sct} ({src})")
                elif system == T.ICD10CM and has_sct:
                    res.changes.append(f"{rid(r)} {path}: ICD-10-CM {code} dropped (the record co-codes it in SNOMED)")
                elif system == T.LOINC and code in T.LOINC_TO_SCT:
                    sct, src = T.LOINC_TO_SCT[code]
                    out.append({"system": T.SCT, "code": sct})
                    res.changes.append(f"{rid(r)} {path}: LOINC {code} -> SNOMED {sct} ({src})")
                else:
                    if system in (T.ICD10CM, T.LOINC):
                        res.kept.append(f"{rid(r)} {path}: {code} kept (no SNOMED equivalent in terms.py)")
                    out.append(c)
            set_codings(cc, out)


def icd10cm_only(bundle, res):
    """Condition codes in ICD-10-CM only where an equivalent exists; bodySite untouched."""
    for r in resources(bundle, "Condition"):
        cc = r.get("code", {})
        if "coding" not in cc:
            continue
        has_icd = any(c.get("system") == T.ICD10CM for c in cc["coding"])
        related = any(e.get("url") == T.CONDITION_RELATED for e in r.get("extension", []))
        out = []
        for c in cc["coding"]:
            code = c.get("code")
            target = None
            if c.get("system") == T.SCT:
                if code in T.SCT_TO_ICD:
                    target = T.SCT_TO_ICD[code]
                elif code in T.SPINE_REGION_METS and has_level(r):
                    target = ("C79.51", "fc §2a, §16.5: the level is in bodySite")
                elif code in T.COMBINED_BONE_METS and related:
                    target = ("C79.51", "fc §2a: the primary is its own Condition (condition-related)")
            if target is None:
                if c.get("system") == T.SCT:
                    res.kept.append(f"{rid(r)} code: SNOMED {code} kept (no ICD-10-CM equivalent)")
                out.append(c)
            elif has_icd:
                res.changes.append(f"{rid(r)} code: SNOMED {code} dropped (the record co-codes it in ICD-10-CM)")
            else:
                out.append({"system": T.ICD10CM, "code": target[0]})
                res.changes.append(f"{rid(r)} code: SNOMED {code} -> ICD-10-CM {target[0]} ({target[1]})")
        set_codings(cc, out)


def who_icd10(bundle, res):
    """ICD-10-CM codings replaced by WHO ICD-10 (system http://hl7.org/fhir/sid/icd-10)."""
    for r in resources(bundle, *CLINICAL):
        for path, cc in concepts(r):
            for c in cc["coding"]:
                if c.get("system") != T.ICD10CM:
                    continue
                code = c.get("code")
                if code in T.CM_TO_WHO:
                    who, src = T.CM_TO_WHO[code]
                    c.clear()
                    c.update({"system": T.ICD10, "code": who})
                    res.changes.append(f"{rid(r)} {path}: ICD-10-CM {code} -> WHO {who} ({src})")
                else:
                    res.kept.append(f"{rid(r)} {path}: ICD-10-CM {code} kept (no WHO ICD-10 counterpart)")


def oid_systems(bundle, res):
    """The same codes under urn:oid: system identifiers."""
    for r in resources(bundle, *CLINICAL):
        for path, cc in concepts(r):
            for c in cc["coding"]:
                if c.get("system") in T.OID_SYSTEMS:
                    oid, _ = T.OID_SYSTEMS[c["system"]]
                    res.changes.append(f"{rid(r)} {path}: {c['system']} -> {oid}")
                    c["system"] = oid


def local_codes(bundle, res):
    """Observation codes and coded answers as a hospital's flowsheet codes, plus the ConceptMap back."""
    groups = {}  # (source system, target system) -> {local code: [(target code, display)]}
    displays = {}

    def localise(r, path, cc, source_system, prefix):
        out = []
        for c in cc["coding"]:
            system, code = c.get("system"), c.get("code")
            if system not in (T.LOINC, T.MST_OBS, T.SCT):
                out.append(c)
                continue
            local, display = T.LOCAL_CODES.get((system, code), (prefix + code, c.get("display", code)))
            targets = groups.setdefault((source_system, system), {}).setdefault(local, [])
            if (code, c.get("display")) not in targets:
                targets.append((code, c.get("display")))
            displays[local] = display
            out.append({"system": source_system, "code": local, "display": display})
            res.changes.append(f"{rid(r)} {path}: {system}|{code} -> {source_system}|{local}")
        set_codings(cc, out)

    for r in resources(bundle, "Observation"):
        if "coding" in r.get("code", {}):
            localise(r, "code", r["code"], T.LOCAL_ROW, "FS-")
        for i, comp in enumerate(r.get("component", [])):
            if "coding" in comp.get("code", {}):
                localise(r, f"component[{i}].code", comp["code"], T.LOCAL_ROW, "FS-")
            if "coding" in comp.get("valueCodeableConcept", {}):
                localise(r, f"component[{i}].valueCodeableConcept", comp["valueCodeableConcept"], T.LOCAL_ANSWER, "ANS-")
        if "coding" in r.get("valueCodeableConcept", {}):
            localise(r, "valueCodeableConcept", r["valueCodeableConcept"], T.LOCAL_ANSWER, "ANS-")
    if not groups:
        return
    pid = next((p["id"] for p in resources(bundle, "Patient")), "patient")
    cmap = {
        "resourceType": "ConceptMap",
        "id": f"{pid}-flowsheet-to-standard",
        "url": T.LOCAL_CONCEPT_MAP_URL,
        "version": "1",
        "name": "FlowsheetToStandard",
        "title": "Synthetic hospital flowsheet rows and answers to the codes the adapter reads (test data)",
        "status": "active",
        "group": [
            {
                "source": source,
                "target": target,
                "element": [
                    {
                        "code": local,
                        "display": displays[local],
                        "target": [
                            {"code": code, **({"display": d} if d else {}), "equivalence": "equivalent"}
                            for code, d in codes
                        ],
                    }
                    for local, codes in sorted(elements.items())
                ],
            }
            for (source, target), elements in sorted(groups.items())
        ],
    }
    res.files["conceptmap"] = cmap
    res.args = ["--concept-maps", "{file:conceptmap}"]


def _phrase(cc, *, site=False):
    if cc.get("text"):
        return cc["text"]
    for c in cc.get("coding", []):
        key = (c.get("system"), c.get("code"))
        if site and key[0] == T.SCT and key[1] in T.LEVEL_CODES:
            return f"{T.LEVEL_CODES[key[1]]} vertebra"
        if site and key[0] == T.SCT and key[1] in T.REGION_TEXT:
            return T.REGION_TEXT[key[1]]
        if key in T.PHRASES:
            return T.PHRASES[key]
        if key[0] == T.MST_OBS and key[1].startswith("escc-"):
            return f"Bilsky grade {key[1][5:]}"
    for c in cc.get("coding", []):
        if c.get("display"):
            return re.sub(r" \((disorder|finding|procedure|situation|body structure)\)$", "", c["display"])
    return None


def text_only(bundle, res):
    """Condition and Observation codes, body sites and coded values as text only."""

    def to_text(r, path, cc, site=False):
        if "coding" not in cc:
            return
        phrase = _phrase(cc, site=site)
        if phrase is None:
            res.kept.append(f"{rid(r)} {path}: no text could be written, coding kept")
            return
        old = [c.get("code") for c in cc["coding"]]
        cc.clear()
        cc["text"] = phrase
        res.changes.append(f"{rid(r)} {path}: {old} -> text {phrase!r}")

    for r in resources(bundle, "Condition", "Observation"):
        if "code" in r:
            to_text(r, "code", r["code"])
        sites = r.get("bodySite")
        for i, s in enumerate(sites if isinstance(sites, list) else [sites] if sites else []):
            to_text(r, f"bodySite[{i}]", s, site=True)
        if "valueCodeableConcept" in r:
            to_text(r, "valueCodeableConcept", r["valueCodeableConcept"])
        for i, comp in enumerate(r.get("component", [])):
            to_text(r, f"component[{i}].code", comp.get("code", {}))
            if "valueCodeableConcept" in comp:
                to_text(r, f"component[{i}].valueCodeableConcept", comp["valueCodeableConcept"])


HAEM_SCT = {"109989006", "118600007", "118601006", "118599009", "415112005", "426336007", "188718006"}
METS_SCT = {"94222008", "128462008"} | set(T.SPINE_REGION_METS) | set(T.COMBINED_BONE_METS)


def _codes(r):
    return [(c.get("system"), c.get("code", "")) for c in r.get("code", {}).get("coding", [])]


def _icd(code):
    return code.split(".")[0]


def _is_metastasis(r):
    for system, code in _codes(r):
        if system in (T.ICD10CM, T.ICD10) and _icd(code) in ("C77", "C78", "C79", "C7B"):
            return True
        if system == T.SCT and code in METS_SCT:
            return True
    return False


def _is_haematological(r):
    for system, code in _codes(r):
        if system in (T.ICD10CM, T.ICD10) and re.fullmatch(r"C(8[1-9]|9[0-6])", _icd(code)):
            return True
        if system == T.SCT and code in HAEM_SCT:
            return True
    return False


def _is_malignant(r):
    for system, code in _codes(r):
        if system in (T.ICD10CM, T.ICD10) and re.fullmatch(r"C\d\d|C7A", _icd(code)):
            return True
        if system == T.SCT and (code in HAEM_SCT or code in T.SCT_TO_ICD and T.SCT_TO_ICD[code][0].startswith("C")):
            return True
    return False


def _entered_in_error(r):
    return any(c.get("code") == "entered-in-error" for c in r.get("verificationStatus", {}).get("coding", []))


def spine_as_bodysite(bundle, res):
    """Haematological disease: the vertebral levels as bodySite of the primary, no metastasis Condition."""
    conditions = list(resources(bundle, "Condition"))
    spinal = [r for r in conditions if _is_metastasis(r) and has_level(r) and not _entered_in_error(r)]
    if not spinal:
        res.skipped = "no spinal metastasis Condition to move"
        return
    by_id = {r.get("id"): r for r in conditions}
    primaries = set()
    for r in spinal:
        for e in r.get("extension", []):
            if e.get("url") == T.CONDITION_RELATED:
                primaries.add(e.get("valueReference", {}).get("reference", "").split("/")[-1])
    if not primaries:
        primaries = {r.get("id") for r in conditions if not _is_metastasis(r) and _is_malignant(r)}
    if len(primaries) != 1 or next(iter(primaries)) not in by_id:
        res.skipped = "the spinal lesions are not linked to one primary Condition"
        return
    primary = by_id[next(iter(primaries))]
    if not _is_haematological(primary):
        res.skipped = (
            "solid primary: its spinal lesions are metastases, and a vertebral bodySite on the primary "
            "Condition states where the primary tumour is (fc §1 'Histology and site'), a different "
            "clinical statement; the metastasis Conditions also carry their own onset and link"
        )
        return
    sites = primary.setdefault("bodySite", [])
    gone = set()
    for r in spinal:
        if any(not has_level({"bodySite": [s]}) for s in r.get("bodySite", [])):
            res.skipped = f"{rid(r)} has a non-vertebral bodySite as well; moving it would change its meaning"
            return
        for s in r["bodySite"]:
            if s not in sites:
                sites.append(copy.deepcopy(s))
        gone.add(rid(r))
        res.changes.append(f"{rid(r)} removed; its bodySite moved to {rid(primary)} (fc §16.6: myeloma and lymphoma bone lesions are part of the primary)")
    bundle["entry"] = [e for e in bundle["entry"] if rid(e.get("resource", {})) not in gone]

    def repoint(node):
        if isinstance(node, dict):
            if node.get("reference") in gone:
                res.changes.append(f"reference {node['reference']} -> {rid(primary)}")
                node["reference"] = rid(primary)
            for v in node.values():
                repoint(v)
        elif isinstance(node, list):
            for v in node:
                repoint(v)

    repoint(bundle)


def _kind(obs):
    key = first_key(obs.get("code", {}))
    if key:
        return key[1] if key[0] in (T.MST_OBS, T.LOINC) else None
    text = obs.get("code", {}).get("text", "").lower()
    if "sins" in text:
        return "sins-total"
    if "bilsky" in text or "escc" in text:
        return "escc-grade"
    return None


def _grade(cc):
    for c in cc.get("coding", []):
        if c.get("system") == T.MST_OBS and c.get("code", "").startswith("escc-"):
            return c["code"][5:]
    m = re.search(r"\b(0|1[abc]|2|3)\b", cc.get("text", ""))
    return m.group(1) if m else None


def values_as_strings(bundle, res):
    """Scores and coded answers as valueString ("SINS 9", "Grade 2", "ECOG 2", "7/10") or text-only answers."""
    for r in resources(bundle, "Observation"):
        kind = _kind(r)
        before = {k: v for k, v in r.items() if k.startswith("value")}
        if kind == "sins-total" and "valueInteger" in r:
            set_value(r, "valueString", f"SINS {r['valueInteger']}")
        elif kind and kind.startswith("sins-") and "valueInteger" in r:
            set_value(r, "valueString", str(r["valueInteger"]))
        elif kind == "escc-grade" and "valueCodeableConcept" in r:
            grade = _grade(r["valueCodeableConcept"])
            if grade:
                set_value(r, "valueString", f"Grade {grade}")
        elif kind == "89247-1" and "valueInteger" in r:
            set_value(r, "valueString", f"ECOG {r['valueInteger']}")
        elif kind == "89247-1" and "valueCodeableConcept" in r:
            set_value(r, "valueCodeableConcept", {"text": _phrase({"coding": r["valueCodeableConcept"].get("coding", [])})})
        elif kind == "89243-0" and "valueInteger" in r:
            set_value(r, "valueString", f"Karnofsky {r['valueInteger']}%")
        elif kind == "72514-3" and "valueQuantity" in r:
            set_value(r, "valueString", f"{_num(r['valueQuantity']['value'])}/10")
        elif kind == "estimated-survival-months" and "valueQuantity" in r:
            set_value(r, "valueString", f"{_num(r['valueQuantity']['value'])} months")
        elif kind in ("ambulatory-status", "treatment-preference") and "valueCodeableConcept" in r:
            set_value(r, "valueCodeableConcept", {"text": _phrase(r["valueCodeableConcept"])})
        for comp in r.get("component", []):
            if "valueInteger" in comp:
                old = comp["valueInteger"]
                set_value(comp, "valueString", str(old))
                res.changes.append(f"{rid(r)} component {first_key(comp.get('code', {}))}: {old} -> {str(old)!r}")
        after = {k: v for k, v in r.items() if k.startswith("value")}
        if after != before:
            res.changes.append(f"{rid(r)}: {json.dumps(before)} -> {json.dumps(after)}")


def _num(v):
    return int(v) if float(v).is_integer() else v


def _thresholds(unit):
    path = ROOT / "mappings/tables/thresholds.json"
    entries = json.loads(path.read_text(encoding="utf-8")).get("entries", [])
    return [e["value"] for e in entries if e.get("unit") == unit and isinstance(e.get("value"), (int, float))]


def _rounded(value, convert, back, unit):
    """convert(value, digits) at the coarsest precision (1, then 2 decimals) whose
    back-conversion stays on the same side of every threshold in `unit`; None if none does."""
    for digits in (1, 2):
        out = convert(value, digits)
        again = back(out)
        if all((value < t) == (again < t) for t in _thresholds(unit)):
            return out
    return None


def other_units(bundle, res):
    """Haemoglobin in mmol/L, HbA1c in mmol/mol (IFCC), whole years in 'a', other months as 'MO',
    pain scores in UCUM unity '1'; mm[Hg] unchanged."""
    for r in resources(bundle, "Observation"):
        q = r.get("valueQuantity")
        kind = _kind(r)
        if not q or "value" not in q:
            continue
        before = dict(q)
        if kind == "718-7" and q.get("code") in ("g/dL", "g/L"):
            g_dl = q["value"] / (10 if q["code"] == "g/L" else 1)
            mmol = _rounded(g_dl, lambda v, n: round(v * T.HB_MMOL_PER_G_DL, n), lambda m: m / T.HB_MMOL_PER_G_DL, "g/dL")
            if mmol is None:
                res.kept.append(f"{rid(r)}: {g_dl} g/dL kept: no rounding in mmol/L keeps it on its side of a threshold")
            else:
                q.update({"value": mmol, "unit": "mmol/l", "system": T.UCUM, "code": "mmol/L"})
        elif kind == "4548-4" and q.get("code") == "%":
            ifcc = _rounded(
                q["value"],
                lambda v, n: round((v - T.HBA1C_NGSP_INTERCEPT) / T.HBA1C_NGSP_SLOPE, n - 1 or None),
                lambda m: m * T.HBA1C_NGSP_SLOPE + T.HBA1C_NGSP_INTERCEPT,
                "%",
            )
            if ifcc is None:
                res.kept.append(f"{rid(r)}: {q['value']} % kept: no rounding in mmol/mol keeps it on its side of a threshold")
            else:
                q.update({"value": ifcc, "unit": "mmol/mol", "system": T.UCUM, "code": "mmol/mol"})
        elif kind == "estimated-survival-months" and q.get("code") == "mo":
            if q["value"] % 12 == 0:
                q.update({"value": _num(q["value"] / 12), "unit": "years", "code": "a"})
            else:
                q.update({"unit": "MO", "code": "MO"})  # UCUM's case-insensitive form of 'mo'
        elif kind == "72514-3" and q.get("code") == "{score}":
            q.update({"unit": "score", "system": T.UCUM, "code": "1"})  # UCUM unity: the annotation is optional
        if q != before:
            res.changes.append(f"{rid(r)}: {before.get('value')} {before.get('code')} -> {q['value']} {q['code']}")


VARIANTS = {
    "snomed-only": snomed_only,
    "icd10cm-only": icd10cm_only,
    "who-icd10": who_icd10,
    "oid-systems": oid_systems,
    "local-codes": local_codes,
    "text-only": text_only,
    "spine-as-bodysite": spine_as_bodysite,
    "values-as-strings": values_as_strings,
    "other-units": other_units,
}


# ---- driver ------------------------------------------------------------------


def fixture_bundles(dirs):
    """(path, bundle, patient id, as-of day) of every canonical fixture Bundle."""
    out = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            continue
        expected = {}
        if (d / "expected.json").is_file():
            expected = json.loads((d / "expected.json").read_text(encoding="utf-8"))
        for path in sorted(list(d.glob("mst-*.json")) + list(d.glob("rw-*.json"))):
            bundle = json.loads(path.read_text(encoding="utf-8"))
            if bundle.get("resourceType") != "Bundle":
                continue
            pids = [r["id"] for r in resources(bundle, "Patient") if "id" in r]
            if len(pids) != 1:
                continue
            exp = expected.get(pids[0]) or expected.get(path.stem) or {}
            as_of = exp.get("as_of", DEFAULT_AS_OF) if isinstance(exp, dict) else DEFAULT_AS_OF
            out.append((path, bundle, pids[0], as_of))
    return out


def dump(doc):
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def generate(out_dir, fixture_dirs=DEFAULT_FIXTURES, only=None):
    out_dir = Path(out_dir)
    manifest = {"patients": []}
    for path, bundle, pid, as_of in fixture_bundles(fixture_dirs):
        entry = {"patient": pid, "canonical": str(path), "as_of": as_of, "variants": {}}
        for name, make in VARIANTS.items():
            if only and name not in only:
                continue
            variant = copy.deepcopy(bundle)
            res = Result()
            make(variant, res)
            if res.skipped is None and not res.changes:
                res.skipped = "nothing to re-express in this patient"
            info = {"changes": res.changes, "kept": res.kept}
            if res.skipped is not None:
                info["skipped"] = res.skipped
            else:
                pdir = out_dir / pid
                pdir.mkdir(parents=True, exist_ok=True)
                variant["id"] = f"{bundle.get('id', pid)}-{name}"
                (pdir / f"{name}.json").write_text(dump(variant), encoding="utf-8")
                files = {}
                for fname, doc in res.files.items():
                    fpath = pdir / f"{name}.{fname}.json"
                    fpath.write_text(dump(doc), encoding="utf-8")
                    files[fname] = str(fpath)
                info["file"] = str(pdir / f"{name}.json")
                info["args"] = [re.sub(r"\{file:(\w+)\}", lambda m: files[m.group(1)], a) for a in res.args]
            entry["variants"][name] = info
        manifest["patients"].append(entry)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").write_text(dump(manifest), encoding="utf-8")
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--fixtures", action="append", help="fixture folder (repeatable; default: patients and realworld)")
    ap.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="only these variants")
    a = ap.parse_args()
    manifest = generate(a.out_dir, a.fixtures or DEFAULT_FIXTURES, a.variant)
    written = sum("file" in v for p in manifest["patients"] for v in p["variants"].values())
    skipped = sum("skipped" in v for p in manifest["patients"] for v in p["variants"].values())
    print(f"{len(manifest['patients'])} patients: {written} variants written, {skipped} skipped (see manifest.json)")


if __name__ == "__main__":
    main()
