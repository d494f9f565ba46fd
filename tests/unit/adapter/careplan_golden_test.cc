// Golden files: the full transaction Bundle for hand-built patients, byte
// for byte. After an intended change, regenerate with
//   MST_UPDATE_GOLDEN=1 build/tests/unit/adapter_careplan_test --gtest_filter='Golden*'
// and review the diff of tests/golden/ like any other change.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "considerations_fixture.h"
#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/goals/goal_engine.h"

namespace mst::adapter {
namespace {

using namespace testing;

void check_golden(const std::string& name, const Considerations& c, const BuildOptions& o = {}) {
  const std::string path = std::string(MST_SOURCE_DIR) + "/tests/golden/" + name + ".json";
  BuildOptions opts = o;
  opts.device_version = "0.1.0";  // the golden files must not change with the project version
  const std::string actual = build_transaction(c, propose(c), opts).dump(true) + "\n";
  const char* update = std::getenv("MST_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run with MST_UPDATE_GOLDEN=1 to create it";
  std::ostringstream expected_text;
  expected_text << in.rdbuf();
  if (actual == expected_text.str()) return;
  // Report the first differing line, not two 60 kB strings.
  std::istringstream want(expected_text.str());
  std::istringstream got(actual);
  std::string w, g;
  int line = 0;
  while (true) {
    ++line;
    const bool more_w = static_cast<bool>(std::getline(want, w));
    const bool more_g = static_cast<bool>(std::getline(got, g));
    if (!more_w && !more_g) break;
    if (w != g || more_w != more_g) break;
  }
  ADD_FAILURE() << "golden file " << path << " differs at line " << line << "\n  expected: " << w
                << "\n  actual:   " << g
                << "\nIf the change is intended, regenerate with MST_UPDATE_GOLDEN=1 and review "
                   "the diff.";
}

// New leg weakness, high-grade compression from renal cell carcinoma,
// potentially unstable spine, on targeted therapy.
Considerations emergency() {
  auto c = stable_patient();
  c.patient_ref = "Patient/golden-emergency";
  set_cancer(c, "kidney", "Renal cell carcinoma", Radiosensitivity::kResistant);
  set_escc(c, EsccGrade::k3);
  set_sins(c, 10);
  set_pain(c, 7);
  set_lesions(c, {"T12"});
  c.quality_of_life.mechanical_pain = true;
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  c.treatments.clear();
  add_treatment(c, TreatmentKind::kTargeted, "Cabozantinib", "MedicationRequest/cabo");
  c.data_gaps.push_back({"life expectancy", "revised Tokuhashi incomplete: 2 of 6 inputs missing"});
  c.ignored.push_back({"Observation/hb-1", "valueQuantity has no value"});
  c.used = {"Condition/deficit",      "Condition/met-spine",    "Condition/primary",
            "MedicationRequest/cabo", "Observation/ecog",       "Observation/escc",
            "Observation/pain",       "Observation/preference", "Observation/prognosis",
            "Observation/sins",       "Observation/walk"};
  return c;
}

// Breast cancer, low-grade compression, painful but stable, declines
// radiotherapy, no bone-targeted agent: a routine plan with a preference.
Considerations routine_with_preference() {
  auto c = stable_patient();
  c.patient_ref = "Patient/golden-routine";
  set_cancer(c, "breast", "Breast carcinoma", Radiosensitivity::kSensitive);
  set_escc(c, EsccGrade::k1a);
  set_pain(c, 5);
  set_lesions(c, {"T4", "T5", "L3"});
  c.treatments.clear();
  add_treatment(c, TreatmentKind::kEndocrine, "Letrozole", "CarePlan/letrozole");
  c.preferences.clear();
  add_preference(c, PreferenceKind::kDeclinesRadiotherapy, "I have had enough radiation",
                 "Observation/pref-rt");
  c.used = {"CarePlan/letrozole",  "Condition/met-spine",   "Condition/primary",
            "Observation/ecog",    "Observation/escc",      "Observation/pain",
            "Observation/pref-rt", "Observation/prognosis", "Observation/sins",
            "Observation/walk"};
  return c;
}

TEST(Golden, EmergencyPlanBundle) { check_golden("careplan-emergency", emergency()); }

TEST(Golden, RoutinePlanWithPreferenceBundle) {
  check_golden("careplan-routine-declines-radiotherapy", routine_with_preference());
}

TEST(Golden, UpdateOfAnExistingDraftBundle) {
  BuildOptions o;
  o.existing = ExistingDraft{"cp-1001", "4"};
  check_golden("careplan-emergency-update", emergency(), o);
}

}  // namespace
}  // namespace mst::adapter
