#!/usr/bin/env python3
"""Gives a share of the patients the adapter has planned for a new finding,
so that the next incremental sync has real revisions to make: a pain score
(LOINC 72514-3, 0-10 numeric rating; shared/reference/fhir-coding.md §5)
recorded on DAY, as an EHR would POST it.

    add_findings.py BASE_URL SHARE DAY
Takes every round(1/SHARE)-th planned patient in id order; prints how many
it changed.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from e2e_support import OWN_SYSTEM, Fhir  # noqa: E402


def pain_score(patient_id, day, value):
    return {"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "survey"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3",
                                 "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}]},
            "subject": {"reference": f"Patient/{patient_id}"},
            "effectiveDateTime": f"{day}T09:00:00Z",
            "valueQuantity": {"value": value, "unit": "{score}", "system": "http://unitsofmeasure.org",
                              "code": "{score}"}}


def main():
    base, share, day = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    if not 0 < share <= 1:
        sys.exit("add_findings: SHARE must lie in (0, 1]")
    fhir = Fhir(base.rstrip("/"))
    plans = fhir.search("CarePlan", identifier=f"{OWN_SYSTEM}|", _elements="subject", _count="500")
    patients = sorted({p["subject"]["reference"].split("/", 1)[1] for p in plans if "subject" in p})
    step = max(1, round(1 / share))
    changed = 0
    for i, pid in enumerate(patients[::step]):
        status, body = fhir.request("POST", "/Observation", pain_score(pid, day, 5 + i % 5))
        if status != 201:
            sys.exit(f"add_findings: POST Observation for Patient/{pid}: {status} {json.dumps(body)[:300]}")
        changed += 1
    print(changed)


if __name__ == "__main__":
    main()
