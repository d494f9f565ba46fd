// Cross-check of the goal engine against the team's fixture expectations
// (tests/fixtures/patients/expected.json): each patient's "considerations"
// block is turned into Considerations by hand (no extractor involved), and
// the plan must fire the listed rows, propose the goals at the stated
// priorities, reach the stated urgency and include/exclude the referrals.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "considerations_fixture.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/fhir/json.h"

namespace mst::adapter {
namespace {

using namespace testing;

const std::string kExpected =
    std::string(MST_SOURCE_DIR) + "/tests/fixtures/patients/expected.json";

// What the considerations blocks leave out: the code-table key of each
// primary (row 18 reads it), when walking was lost, and which comorbidities
// the README says are meant to be severe.
const std::map<std::string, std::string> kCancerKey = {
    {"mst-p01", "kidney"},     {"mst-p02", "breast"},   {"mst-p03", "prostate"},
    {"mst-p04", "myeloma"},    {"mst-p05", "melanoma"}, {"mst-p06", "lung"},
    {"mst-p07", "colorectal"}, {"mst-p08", "thyroid"},  {"mst-p09", "lymphoma"},
    {"mst-p10", "rectum"},     {"mst-p11", "prostate"}, {"mst-p12", "unknown"},
    {"mst-p13", "lung"}};
const std::map<std::string, std::string> kNonAmbulatorySince = {{"mst-p07", "2026-11-19T06:00:00Z"},
                                                                {"mst-p12", "2026-09-15"}};
const std::set<std::string> kSevere = {"mst-p04/anaemia", "mst-p06/diabetes",
                                       "mst-p06/hypertension"};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

EsccGrade grade(std::string_view g) {
  if (g == "0") return EsccGrade::k0;
  if (g == "1a") return EsccGrade::k1a;
  if (g == "1b") return EsccGrade::k1b;
  if (g == "1c") return EsccGrade::k1c;
  if (g == "2") return EsccGrade::k2;
  return EsccGrade::k3;
}

Considerations from_block(const std::string& id, fhir::Node patient) {
  fhir::Node k = patient["considerations"];
  Considerations c;
  c.patient_ref = "Patient/" + id;
  c.as_of = *fhir::DateTime::parse(*patient.string("as_of"));
  const auto recent = day(2026, 11, 10);
  c.spine.present = k.boolean("spinal_disease_present").value_or(true);
  c.spine.evidence = {"Condition/" + id + "-met"};
  c.metastasis_conditions = c.spine.evidence;
  std::vector<std::string> levels;
  for (fhir::Node l : k.array("spinal_levels")) levels.emplace_back(l.as_string());
  c.spine.lesions.clear();
  for (const auto& l : levels) c.spine.lesions.push_back({level(l), c.spine.evidence});
  c.spine.contiguous = true;
  for (std::size_t i = 1; i < c.spine.lesions.size(); ++i) {
    if (c.spine.lesions[i].level.ordinal != c.spine.lesions[i - 1].level.ordinal + 1) {
      c.spine.contiguous = false;
    }
  }
  if (auto r = k.string("radiosensitivity")) {
    set_cancer(c, kCancerKey.at(id), id + " primary",
               *r == "sensitive"   ? Radiosensitivity::kSensitive
               : *r == "resistant" ? Radiosensitivity::kResistant
                                   : Radiosensitivity::kUnknown,
               k.boolean("haematological").value_or(false));
  }
  if (auto e = k.string("escc")) set_escc(c, grade(*e), recent);
  if (auto s = k.integer("sins_total")) {
    set_sins(c, static_cast<int>(*s));
    c.mechanics.sins_computed = k.boolean("sins_computed").value_or(false);
  }
  for (fhir::Node m : k.array("sins_missing_components")) {
    c.mechanics.missing_components.emplace_back(m.as_string());
  }
  c.quality_of_life.mechanical_pain = k.boolean("mechanical_pain").value_or(false);
  c.mechanics.pathological_fracture = k.boolean("pathological_fracture").value_or(false);
  if (k.boolean("new_neuro_deficit").value_or(false)) {
    add_new_deficit(c, "New limb weakness", day(2026, 11, 17));
  }
  if (k.boolean("new_back_pain").value_or(false)) {
    c.quality_of_life.new_back_pain =
        Fact<bool>{true, {"Condition/" + id + "-backpain"}, day(2026, 11, 15)};
  }
  if (k.string("ambulation") == std::optional<std::string_view>("non-ambulatory")) {
    c.quality_of_life.ambulation =
        Fact<Ambulation>{Ambulation::kNonAmbulatory, {"Observation/" + id + "-walk"}, recent};
    c.quality_of_life.non_ambulatory_since = fhir::DateTime::parse(kNonAmbulatorySince.at(id));
    if (id == "mst-p12") {
      c.neurology.deficits.push_back(
          NeurologicDeficit{"Complete paraplegia", day(2026, 9, 15), false, {"Condition/para"}});
    }
  }
  if (auto e = k.integer("ecog")) set_ecog(c, static_cast<int>(*e));
  if (auto kps = k.integer("karnofsky")) {
    c.quality_of_life.karnofsky = Fact<int>{static_cast<int>(*kps), {"Observation/kps"}, recent};
  }
  if (auto p = k.number("pain_score")) set_pain(c, *p);
  if (auto m = k.number("stated_life_expectancy_months")) set_survival(c, *m);
  c.other_metastases.visceral = k.boolean("visceral_metastases").value_or(false);
  for (fhir::Node cm : k.array("comorbidities_include")) {
    const std::string kind(cm.as_string());
    Comorbidity x;
    x.kind = kind == "anaemia"    ? ComorbidityKind::kAnaemia
             : kind == "diabetes" ? ComorbidityKind::kDiabetes
                                  : ComorbidityKind::kHypertension;
    x.label = kind;
    x.basis = "condition";
    x.severe = kSevere.count(id + "/" + kind) != 0;
    x.evidence = {"Condition/" + id + "-" + kind};
    c.general_condition.comorbidities.push_back(x);
  }
  for (fhir::Node t : k.array("treatment_kinds")) {
    const std::string kind(t.as_string());
    const TreatmentKind tk = kind == "bone-targeted"   ? TreatmentKind::kBoneTargeted
                             : kind == "chemotherapy"  ? TreatmentKind::kChemotherapy
                             : kind == "endocrine"     ? TreatmentKind::kEndocrine
                             : kind == "immunotherapy" ? TreatmentKind::kImmunotherapy
                                                       : TreatmentKind::kTargeted;
    add_treatment(c, tk, kind, "CarePlan/" + id + "-" + kind);
  }
  for (fhir::Node p : k.array("preferences")) {
    const std::string kind(p.as_string());
    add_preference(c,
                   kind == "declines-surgery"  ? PreferenceKind::kDeclinesSurgery
                   : kind == "comfort-focused" ? PreferenceKind::kComfortFocused
                                               : PreferenceKind::kOther,
                   kind);
  }
  return c;
}

std::vector<std::string> as_list(fhir::Node n) {
  std::vector<std::string> out;
  if (n.is_string()) {
    out.emplace_back(n.as_string());
  } else {
    for (fhir::Node x : n.elements()) out.emplace_back(x.as_string());
  }
  return out;
}

TEST(FixtureExpectations, EnginePlansMatchExpectedJson) {
  const std::string text = read_file(kExpected);
  ASSERT_FALSE(text.empty()) << kExpected;
  auto doc = fhir::JsonDocument::parse(text);
  const rapidjson::Value& root = *doc.root().raw();
  int checked = 0;
  for (auto it = root.MemberBegin(); it != root.MemberEnd(); ++it) {
    const std::string id(it->name.GetString(), it->name.GetStringLength());
    fhir::Node patient(&it->value, id);
    if (!patient.is_object() || !patient["considerations"].is_object()) continue;
    SCOPED_TRACE(id);
    ++checked;
    const auto plan = propose(from_block(id, patient));
    ASSERT_EQ(plan.applicable, *patient.boolean("plan"));
    if (!plan.applicable) continue;
    for (fhir::Node row : patient.array("rows")) {
      EXPECT_TRUE(plan.fired(static_cast<int>(row.as_integer()))) << "row " << row.as_integer();
    }
    const rapidjson::Value& goals = *patient["goals"].raw();
    for (auto g = goals.MemberBegin(); g != goals.MemberEnd(); ++g) {
      const std::string code = g->name.GetString();
      const std::string want = g->value.GetString();
      const ProposedGoal* found = nullptr;
      for (const auto& pg : plan.goals) {
        if (code_of(pg.code) == code) found = &pg;
      }
      ASSERT_NE(found, nullptr) << "goal " << code;
      if (want != "any") {
        EXPECT_EQ(code_of(found->priority), want + "-priority") << code;
      }
    }
    for (const auto& absent : as_list(patient["goals_absent"])) {
      for (const auto& pg : plan.goals) {
        EXPECT_NE(code_of(pg.code), absent);
      }
    }
    const auto urgencies = as_list(patient["urgency"]);
    EXPECT_NE(std::find(urgencies.begin(), urgencies.end(), std::string(code_of(plan.urgency))),
              urgencies.end())
        << "urgency " << code_of(plan.urgency);
    for (const auto& d : as_list(patient["referrals_include"])) {
      bool present = false;
      for (const auto& r : plan.referrals) present = present || code_of(r.to) == d;
      EXPECT_TRUE(present) << "missing referral " << d;
    }
    for (const auto& d : as_list(patient["referrals_exclude"])) {
      for (const auto& r : plan.referrals) {
        EXPECT_NE(code_of(r.to), d);
      }
      for (const auto& t : plan.team) {
        EXPECT_NE(code_of(t.discipline), d);
      }
    }
    // Ranking and grouping hold for every fixture (clinical-rules.md).
    int high = 0;
    for (const auto& g : plan.goals) high += g.priority == Priority::kHigh ? 1 : 0;
    EXPECT_LE(high, 3) << "high goals";
    std::set<std::pair<Discipline, Urgency>> keys;
    for (const auto& r : plan.referrals) {
      EXPECT_TRUE(keys.insert({r.to, r.priority}).second) << code_of(r.to);
      EXPECT_EQ(r.after_emergency, plan.emergency && r.priority == Urgency::kRoutine);
    }
  }
  EXPECT_EQ(checked, 13);
}

}  // namespace
}  // namespace mst::adapter
