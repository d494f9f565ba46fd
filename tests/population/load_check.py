"""What `scripts/population load` sends (unit label, no server): --skip-types
leaves out only the types named, and --thin keeps a Patient and its
Conditions, with no reference left to an Encounter it dropped."""

import importlib.machinery
import importlib.util
import json
import os
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "population")
loader = importlib.machinery.SourceFileLoader("population", SCRIPT)
population = importlib.util.module_from_spec(importlib.util.spec_from_loader("population", loader))
loader.exec_module(population)


def entry(type_, n, **fields):
    return {"fullUrl": f"urn:uuid:{type_}-{n}", "resource": {"resourceType": type_, **fields},
            "request": {"method": "POST", "url": type_}}


BUNDLE = {"resourceType": "Bundle", "type": "transaction", "entry": [
    entry("Patient", 1),
    entry("Encounter", 1, subject={"reference": "urn:uuid:Patient-1"}),
    entry("Condition", 1, subject={"reference": "urn:uuid:Patient-1"},
          encounter={"reference": "urn:uuid:Encounter-1"}),
    entry("Observation", 1, subject={"reference": "urn:uuid:Patient-1"}),
    entry("Claim", 1, patient={"reference": "urn:uuid:Patient-1"}),
]}


def types(body):
    return [e["resource"]["resourceType"] for e in json.loads(body)["entry"]]


class LoadCheck(unittest.TestCase):
    def test_skip_types_leaves_out_only_those(self):
        body = population.trimmed(json.dumps(BUNDLE), {"Claim"}, thin=False)
        self.assertEqual(types(body), ["Patient", "Encounter", "Condition", "Observation"])
        self.assertEqual(json.loads(body)["entry"][2]["resource"]["encounter"],
                         {"reference": "urn:uuid:Encounter-1"})

    def test_thin_keeps_the_patient_and_conditions_without_dangling_references(self):
        body = population.trimmed(json.dumps(BUNDLE), set(), thin=True)
        self.assertEqual(types(body), ["Patient", "Condition"])
        self.assertNotIn("urn:uuid:Encounter-1", body.decode())
        self.assertEqual(json.loads(body)["entry"][1]["request"], {"method": "POST", "url": "Condition"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
