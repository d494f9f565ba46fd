// The engine's reading of one patient's Considerations along the NOMS axes
// (Neurologic, Oncologic, Mechanical, Systemic) plus prognosis, pain,
// treatment and preferences. Every yes/no question is three-valued: a
// missing input is kUnknown, never a favourable answer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/mappings/considerations.h"

namespace mst::adapter::detail {

enum class Tri { kNo, kYes, kUnknown };

enum class EsccClass { kUnknown, kLow, kGrey, kHigh };  // 0-1b | 1c | 2-3
enum class Onco { kUnknown, kSensitive, kResistant };

struct Assessment {
  const mappings::Considerations* c = nullptr;
  const RuleThresholds* t = nullptr;

  // ---- N: neurology and epidural compression
  std::optional<mappings::EsccGrade> escc;
  EsccClass escc_class = EsccClass::kUnknown;
  std::vector<const mappings::NeurologicDeficit*> deficits;      // all, sorted
  std::vector<const mappings::NeurologicDeficit*> new_deficits;  // is_new, sorted
  bool non_ambulatory = false;
  // Loss of walking inside the paraplegia window (Patchell). kUnknown when
  // non-ambulatory with no onset time.
  Tri walking_lost_in_window = Tri::kNo;
  bool window_uncertain = false;  // onset too coarse to be sure of the window
  // A new deficit, or loss of walking inside the window: the NICE emergency.
  bool new_neuro = false;
  // Active cord-compression or cauda-equina findings, whatever their age.
  std::vector<const mappings::NeurologicDeficit*> compressions;  // sorted
  // No ESCC grade but a recorded compression: read as high grade (escc_class
  // kHigh) until imaging grades it.
  bool escc_presumed = false;
  // Current or past cancer of any kind is recorded.
  bool has_cancer = false;
  // NICE NG234's suspected MSCC, evaluated before any "no spinal disease"
  // gate: cancer plus a new deficit, walking lost in the window, or a
  // recorded compression.
  bool mscc_suspected = false;
  // An ESCC grade documented on or after the latest new symptom.
  bool imaging_after_onset = false;
  // Walking lost longer ago than the paraplegia window, and no new deficit:
  // beyond what decompression can restore (Patchell excluded > 48 h).
  bool established_deficit = false;
  // An established deficit that is complete (complete paraplegia or
  // tetraplegia, Frankel or ASIA A-B): no function below it left to preserve,
  // so a compression that is not new is not re-treated as an emergency.
  bool established_complete = false;

  // ---- O: oncology
  Onco onco = Onco::kUnknown;
  bool haematological = false;
  std::string cancer_label;  // "the primary cancer" when unknown
  // The spinal disease is a primary malignant bone tumour of the spine itself
  // (chordoma, chondrosarcoma, C41.2): not a metastasis, so outside the
  // metastatic frameworks (docs/clinical-rules.md hard rule 9).
  bool primary_spine_tumour = false;

  // ---- M: mechanics
  std::optional<int> sins;
  bool subluxation = false;
  Tri gross_instability = Tri::kUnknown;  // SINS >= unstable or subluxation
  Tri sins_stable = Tri::kUnknown;        // SINS below the consultation threshold

  // ---- S: systemic condition
  std::optional<int> ecog;
  std::optional<int> kps;
  Tri poor_ps = Tri::kUnknown;
  Tri good_ps_for_sbrt = Tri::kUnknown;
  std::vector<const mappings::Comorbidity*> severe_comorbidities;  // sorted
  Tri s_gate = Tri::kUnknown;  // NOMS S: surgical candidacy lowered
  // Fit for surgery as far as the record shows. Poor performance status
  // alongside a new deficit reads kUnknown (the deficit may cause it).
  Tri operable = Tri::kUnknown;
  std::string s_gate_reasons;  // plain words, empty when the gate is closed
  // Poor performance status with no new deficit to explain it: no operation
  // or SBRT is proposed outside an emergency (NOMS 'S').
  bool ps_gates_procedures = false;

  // ---- Prognosis
  Tri survival_ge_patchell = Tri::kUnknown;
  Tri survival_ge_bone_agent = Tri::kUnknown;
  Tri survival_below_rt_min = Tri::kUnknown;
  Tri poor_prognosis = Tri::kUnknown;
  Tri favourable_prognosis = Tri::kUnknown;
  std::string prognosis_text;  // what the estimate rests on, plain words
  // Expected survival under the Patchell minimum (3 months by default).
  bool short_prognosis = false;
  // Comfort comes first: a short prognosis, or an established deficit with
  // poor performance status, and no new deficit. The palliative pathway
  // applies when no emergency row fired (rules_palliative.cc).
  bool palliative_candidate = false;
  mappings::Evidence prognosis_evidence;

  // ---- Pain
  Tri pain_present = Tri::kUnknown;
  bool severe_pain = false;
  bool new_back_pain = false;

  // ---- Spine extent
  Tri single_area = Tri::kUnknown;  // all levels contiguous
  std::string levels_text;          // "T11-T12", "T4, L2", or empty

  // ---- Treatment
  std::vector<const mappings::ActiveTreatment*> ongoing;  // sorted
  bool bone_agent_active = false;

  // ---- Preferences
  const mappings::Preference* declines_surgery = nullptr;
  const mappings::Preference* declines_radiotherapy = nullptr;
  const mappings::Preference* comfort_focused = nullptr;
  // The MDT's or a clinician's "not for surgery": a clinical decision.
  const mappings::Preference* not_for_surgery = nullptr;
};

Assessment assess(const mappings::Considerations& c, const RuleThresholds& t);

// ---- Plain-word helpers shared by the rules

std::string escc_name(mappings::EsccGrade g);                  // "0", "1a", ..., "3"
std::string number_text(double v);                             // 7 -> "7", 2.5 -> "2.5"
std::string day_text(const std::optional<fhir::DateTime>& d);  // " (2024-03-04)" or ""
std::string join(const std::vector<std::string>& items, std::string_view sep);
mappings::Evidence merge(std::initializer_list<const mappings::Evidence*> parts);
void add_evidence(mappings::Evidence& into, const mappings::Evidence& from);
std::string treatment_labels(const Assessment& a);
// Who leads systemic treatment: "haematology" for a haematological
// malignancy, else "medical oncology".
std::string systemic_team(const Assessment& a);  // "chemotherapy (Docetaxel), ..."
// Why care is comfort-focused, for the plan's text: "the patient's stated
// preference is comfort-focused treatment", or the POLST order when a
// clinician's portable medical order says so (fhir-coding.md §16.2).
// Requires a.comfort_focused.
std::string comfort_basis(const Assessment& a);

}  // namespace mst::adapter::detail
