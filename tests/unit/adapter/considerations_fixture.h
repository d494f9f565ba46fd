// Hand-built Considerations for the goal engine and CarePlan builder tests.
// `stable_patient()` is a patient with one spinal metastasis for whom no
// rule proposes anything urgent; each test adds the finding it exercises.
#pragma once

#include <string>

#include "mst/mappings/considerations.h"

namespace mst::adapter::testing {

using namespace mst::mappings;

inline fhir::DateTime day(int y, int m, int d) { return fhir::DateTime::from_ymd(y, m, d); }

inline VertebralLevel level(const std::string& name) {
  static const char* names[] = {"C1", "C2", "C3", "C4", "C5", "C6", "C7",  "T1",  "T2",  "T3",
                                "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12", "L1",
                                "L2", "L3", "L4", "L5", "S1", "S2", "S3",  "S4",  "S5"};
  VertebralLevel v;
  v.name = name;
  for (int i = 0; i < 29; ++i) {
    if (name == names[i]) v.ordinal = i + 1;
  }
  v.region = v.ordinal <= 7    ? SpineRegion::kCervical
             : v.ordinal <= 19 ? SpineRegion::kThoracic
             : v.ordinal <= 24 ? SpineRegion::kLumbar
                               : SpineRegion::kSacral;
  const bool junctional = name == "C1" || name == "C2" || name == "C7" || name == "T1" ||
                          name == "T2" || name == "T11" || name == "T12" || name == "L1" ||
                          name == "L5" || name == "S1";
  v.sins_location = junctional                           ? SinsLocation::kJunctional
                    : v.region == SpineRegion::kSacral   ? SinsLocation::kRigid
                    : v.region == SpineRegion::kThoracic ? SinsLocation::kSemiRigid
                                                         : SinsLocation::kMobile;
  return v;
}

inline void set_lesions(Considerations& c, std::initializer_list<const char*> names) {
  c.spine.lesions.clear();
  for (const char* n : names) {
    c.spine.lesions.push_back(SpinalLesion{level(n), {"Condition/met-spine"}});
  }
  bool contiguous = true;
  for (std::size_t i = 1; i < c.spine.lesions.size(); ++i) {
    if (c.spine.lesions[i].level.ordinal != c.spine.lesions[i - 1].level.ordinal + 1) {
      contiguous = false;
    }
  }
  c.spine.contiguous = contiguous;
  c.spine.any_junctional = false;
  for (const auto& l : c.spine.lesions) {
    if (l.level.sins_location == SinsLocation::kJunctional) c.spine.any_junctional = true;
  }
}

inline void set_cancer(Considerations& c, const std::string& key, const std::string& label,
                       Radiosensitivity r, bool haematological = false) {
  PrimaryCancer p;
  p.key = key;
  p.label = label;
  p.radiosensitivity = r;
  p.haematological = haematological;
  p.code = SourceCode{"http://snomed.info/sct", "0", label};
  p.evidence = {"Condition/primary"};
  c.cancer = p;
}

inline void set_escc(Considerations& c, EsccGrade g, fhir::DateTime when = day(2024, 3, 1)) {
  c.neurology.escc = Fact<EsccGrade>{g, {"Observation/escc"}, when, false};
}

inline void set_sins(Considerations& c, int total) {
  c.mechanics.sins_total = Fact<int>{total, {"Observation/sins"}, day(2024, 3, 1), false};
  c.mechanics.band = total >= 13  ? SinsBand::kUnstable
                     : total >= 7 ? SinsBand::kIndeterminate
                                  : SinsBand::kStable;
  c.mechanics.evidence = {"Observation/sins"};
}

inline void set_ecog(Considerations& c, int ecog) {
  c.quality_of_life.ecog = Fact<int>{ecog, {"Observation/ecog"}, day(2024, 3, 1), false};
}

inline void set_survival(Considerations& c, double months) {
  c.life_expectancy.stated_months =
      Fact<double>{months, {"Observation/prognosis"}, day(2024, 3, 1), false};
}

inline void set_pain(Considerations& c, double score) {
  c.quality_of_life.pain_score = Fact<double>{score, {"Observation/pain"}, day(2024, 3, 4), false};
}

inline void add_new_deficit(Considerations& c, const std::string& label,
                            fhir::DateTime onset = day(2024, 3, 4)) {
  c.neurology.deficits.push_back(NeurologicDeficit{label, onset, true, {"Condition/deficit"}});
}

inline void add_treatment(Considerations& c, TreatmentKind kind, const std::string& label,
                          const std::string& ref = "MedicationRequest/chemo") {
  c.treatments.push_back(ActiveTreatment{kind, label, day(2024, 1, 10), std::nullopt, {ref}});
}

inline void add_preference(Considerations& c, PreferenceKind kind, const std::string& text,
                           const std::string& ref = "Observation/preference") {
  c.preferences.push_back(Preference{kind, text, {ref}});
}

// One thoracic metastasis from a radioresistant lung cancer; no compression,
// stable, fit, pain-free, walking, 10 months expected survival, on a
// bone-targeted agent, preferences recorded.
inline Considerations stable_patient() {
  Considerations c;
  c.patient_ref = "Patient/p1";
  c.as_of = day(2024, 3, 5);
  c.spine.present = true;
  c.spine.evidence = {"Condition/met-spine"};
  set_lesions(c, {"T8"});
  set_cancer(c, "lung", "Non-small cell lung cancer", Radiosensitivity::kResistant);
  set_escc(c, EsccGrade::k0);
  set_sins(c, 4);
  set_ecog(c, 1);
  set_pain(c, 0);
  set_survival(c, 10);
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kIndependent, {"Observation/walk"}, day(2024, 3, 1), false};
  add_treatment(c, TreatmentKind::kBoneTargeted, "Denosumab", "MedicationRequest/denosumab");
  add_preference(c, PreferenceKind::kOther, "Wants to keep working as long as possible");
  c.metastasis_conditions = {"Condition/met-spine"};
  c.primary_conditions = {"Condition/primary"};
  c.used = {"Condition/met-spine",    "Condition/primary",     "MedicationRequest/denosumab",
            "Observation/ecog",       "Observation/escc",      "Observation/pain",
            "Observation/preference", "Observation/prognosis", "Observation/sins",
            "Observation/walk"};
  return c;
}

}  // namespace mst::adapter::testing
