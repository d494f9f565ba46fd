"""Static checks of our Synthea module (unit label, no Java): every
transition names a state, every distribution sums to 1, every code names a
system Synthea exports, and the shares scripts/population rewrites exist."""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = os.path.join(HERE, "modules", "spinal_metastasis.json")
SYSTEMS = {"SNOMED-CT", "LOINC", "ICD10-CM", "DICOM-DCM", "DICOM-SOP", "http://radelement.org"}


def transitions(state):
    out = []
    if "direct_transition" in state:
        out.append(state["direct_transition"])
    for key in ("distributed_transition", "conditional_transition"):
        out += [t["transition"] for t in state.get(key, [])]
    return out


def codes(node):
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield node
        for v in node.values():
            yield from codes(v)
    elif isinstance(node, list):
        for v in node:
            yield from codes(v)


class ModuleCheck(unittest.TestCase):
    def setUp(self):
        with open(MODULE) as f:
            self.states = json.load(f)["states"]

    def test_transitions_name_states(self):
        for name, state in self.states.items():
            for target in transitions(state):
                self.assertIn(target, self.states, f"{name} -> {target}")
            if state["type"] != "Terminal":
                self.assertTrue(transitions(state), f"{name} has no transition")

    def test_distributions_sum_to_one(self):
        for name, state in self.states.items():
            dist = state.get("distributed_transition")
            if dist:
                self.assertAlmostEqual(sum(t["distribution"] for t in dist), 1.0, places=6, msg=name)

    def test_code_systems(self):
        for c in codes(self.states):
            self.assertIn(c["system"], SYSTEMS, c)

    def test_every_state_reachable(self):
        seen, todo = set(), ["Initial"]
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo += transitions(self.states[s])
        self.assertEqual(set(self.states) - seen, set())

    def test_shares_the_script_rewrites(self):
        for name in ("Spread_To_Spine", "Deficit_Or_Not"):
            self.assertEqual(len(self.states[name]["distributed_transition"]), 2, name)


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2))
