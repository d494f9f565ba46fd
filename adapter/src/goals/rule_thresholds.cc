#include "mst/adapter/goals/rule_thresholds.h"

#include <fstream>
#include <sstream>

#include "mst/fhir/errors.h"
#include "mst/fhir/json.h"

namespace mst::adapter {

const std::vector<ThresholdInfo>& threshold_table() {
  using T = RuleThresholds;
  // Sources cite clinical-decision.md (CD) sections and its reference numbers.
  static const std::vector<ThresholdInfo> table = {
      {"sins_consult_min", &T::sins_consult_min, 0, 18,
       "SINS 7-18: surgical consultation recommended. SOSG, Fisher 2010 [R1]; Fisher 2014 [R3]. "
       "CD 1.2, 8"},
      {"sins_unstable_min", &T::sins_unstable_min, 0, 18,
       "SINS 13-18: unstable. SOSG, Fisher 2010 [R1]. CD 1.2, 8"},
      {"patchell_min_survival_months", &T::patchell_min_survival_months, 0, 120,
       "Expected survival >= 3 months for decompressive surgery. Patchell 2005 [R35]. CD 7.4, 8"},
      {"paraplegia_window_hours", &T::paraplegia_window_hours, 0, 720,
       "Total paraplegia > 48 h excluded from Patchell 2005 [R35]. CD 7.4, 8"},
      {"poor_prognosis_months", &T::poor_prognosis_months, 0, 120,
       "Stated survival below this reads as poor prognosis; aligned with the revised Tokuhashi "
       "< 6 months band [R9]. Team synthesis [S]. CD 4.1, 9 row 14"},
      {"favourable_survival_months", &T::favourable_survival_months, 0, 240,
       "Stated survival at or above this reads as favourable; aligned with the revised Tokuhashi "
       ">= 1 year band [R9]. Team synthesis [S]. CD 4.1, 9 row 13"},
      {"tokuhashi_poor_max", &T::tokuhashi_poor_max, 0, 15,
       "Revised Tokuhashi 0-8: < 6 months, conservative or palliative. Tokuhashi 2005 [R9]. CD "
       "4.1"},
      {"tokuhashi_single_vertebra_min", &T::tokuhashi_single_vertebra_min, 0, 15,
       "Revised Tokuhashi 9-11: excisional procedure if a single vertebra. Tokuhashi 2005 [R9]. "
       "CD 4.1, 8"},
      {"tokuhashi_favourable_min", &T::tokuhashi_favourable_min, 0, 15,
       "Revised Tokuhashi 12-15: >= 1 year, excisional procedure. Tokuhashi 2005 [R9]. CD 4.1, 8"},
      {"s_gate_ecog_min", &T::s_gate_ecog_min, 0, 5,
       "ECOG 3-4 lowers surgical candidacy (NOMS 'S'). Laufer 2013 [R6, R7]; cut-off is team "
       "synthesis [S]. CD 9 row 15"},
      {"s_gate_kps_below", &T::s_gate_kps_below, 0, 100,
       "Karnofsky < 50 lowers surgical candidacy (NOMS 'S'). [R7]; cut-off is team synthesis "
       "[S]. CD 9 row 15"},
      {"sbrt_max_ecog", &T::sbrt_max_ecog, 0, 5,
       "SBRT selection: ECOG 0-2. CCTG SC.24, Sahgal 2021 [R37]; ASTRO 2024 [R32]. CD 7.5, 8"},
      {"sbrt_min_kps", &T::sbrt_min_kps, 0, 100,
       "Karnofsky equivalent of ECOG 2 (KPS 60-70). Buccheri 1996 [R25]; use is team synthesis "
       "[S]. CD 6"},
      {"sbrt_max_sins", &T::sbrt_max_sins, 0, 18,
       "SBRT selection: SINS < 12. CCTG SC.24 [R37]. CD 7.5, 8"},
      {"sbrt_max_levels", &T::sbrt_max_levels, 1, 29,
       "SBRT selection: <= 3 consecutive segments. CCTG SC.24 [R37]. CD 7.5, 8"},
      {"pain_goal_min", &T::pain_goal_min, 0, 10,
       "Numeric rating 4 or more (moderate or severe) gets a pain-relief goal even when no "
       "section-9 row names one; the usual NRS bands (4-6 moderate, 7-10 severe). Team "
       "synthesis [S]"},
      {"severe_pain_min", &T::severe_pain_min, 0, 10,
       "Numeric rating 7-10 read as severe pain (raises SINS 7-12 referrals to urgent). Team "
       "synthesis [S]. CD 9 row 9"},
      {"pain_target_max", &T::pain_target_max, 0, 10,
       "Pain-relief target: score at or below this on LOINC 72514-3 (0-10). Team synthesis [S]"},
      {"rt_min_survival_weeks", &T::rt_min_survival_weeks, 0, 52,
       "RT conditionally recommended for quality of life when life expectancy >= 4 weeks. "
       "ASTRO 2024 [R32]. CD 7.2, 8"},
      {"bone_agent_min_survival_months", &T::bone_agent_min_survival_months, 0, 120,
       "Zoledronate or denosumab for solid tumours with bone metastases and life expectancy >= 3 "
       "months. ESMO 2020 [R34]. CD 7.3, 8"},
      {"mscc_mri_hours", &T::mscc_mri_hours, 1, 168,
       "Whole-spine MRI within 24 h for suspected MSCC. NICE NG234 [R26]; CG75 [R27]. CD 7.1"},
      {"rt_start_hours", &T::rt_start_hours, 1, 168,
       "RT within 24 h of the decision when surgery is not suitable. NICE QS56 [R28]. CD 7.1"},
      {"dexamethasone_mg", &T::dexamethasone_mg, 0, 100,
       "Dexamethasone 16 mg for neurological symptoms or signs of MSCC. NICE NG234 [R26] "
       "(secondary summary). CD 7.1"},
  };
  return table;
}

namespace {

const ThresholdInfo* find_info(std::string_view name) {
  for (const auto& info : threshold_table()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

void check_consistent(const RuleThresholds& t) {
  if (t.sins_consult_min > t.sins_unstable_min) {
    throw ThresholdsError("thresholds: sins_consult_min must not exceed sins_unstable_min");
  }
  if (t.tokuhashi_poor_max >= t.tokuhashi_single_vertebra_min ||
      t.tokuhashi_single_vertebra_min > t.tokuhashi_favourable_min) {
    throw ThresholdsError(
        "thresholds: Tokuhashi bands must satisfy poor_max < single_vertebra_min <= "
        "favourable_min");
  }
  if (t.poor_prognosis_months > t.favourable_survival_months) {
    throw ThresholdsError(
        "thresholds: poor_prognosis_months must not exceed favourable_survival_months");
  }
}

}  // namespace

RuleThresholds with_table_cutoffs(const mappings::CodeTables& tables, RuleThresholds base) {
  base.sins_consult_min = tables.value("sins.indeterminate-from");
  base.sins_unstable_min = tables.value("sins.unstable-from");
  // Tokuhashi totals are whole points: 0 to six-months-from - 1 is the poor band.
  base.tokuhashi_poor_max = tables.value("tokuhashi.six-months-from") - 1;
  base.tokuhashi_single_vertebra_min = tables.value("tokuhashi.six-months-from");
  base.tokuhashi_favourable_min = tables.value("tokuhashi.twelve-months-from");
  check_consistent(base);
  return base;
}

RuleThresholds thresholds_from_json(std::string_view json_text, RuleThresholds base) {
  RuleThresholds t = base;
  try {
    auto doc = fhir::JsonDocument::parse(json_text);
    fhir::Node root = doc.root();
    if (!root.is_object()) throw ThresholdsError("thresholds: the document is not a JSON object");
    fhir::Node table = root.object("thresholds");
    if (!table.present()) throw ThresholdsError("thresholds: no \"thresholds\" object");
    const rapidjson::Value& raw = *table.raw();
    for (auto it = raw.MemberBegin(); it != raw.MemberEnd(); ++it) {
      std::string_view name(it->name.GetString(), it->name.GetStringLength());
      const ThresholdInfo* info = find_info(name);
      if (info == nullptr) {
        throw ThresholdsError("thresholds: unknown threshold \"" + std::string(name) + "\"");
      }
      fhir::Node entry(&it->value, name);
      double value = 0;
      if (it->value.IsNumber()) {
        value = entry.as_number();
      } else if (it->value.IsObject()) {
        auto v = entry.number("value");
        if (!v) {
          throw ThresholdsError("thresholds: \"" + std::string(name) + "\" has no numeric value");
        }
        entry.string("source");  // optional, but must be a string when present
        value = *v;
      } else {
        throw ThresholdsError("thresholds: \"" + std::string(name) +
                              "\" must be a number or {\"value\": n}");
      }
      if (!(value >= info->min && value <= info->max)) {
        std::ostringstream msg;
        msg << "thresholds: \"" << name << "\" = " << value << " is outside [" << info->min << ", "
            << info->max << "]";
        throw ThresholdsError(msg.str());
      }
      t.*(info->member) = value;
    }
  } catch (const fhir::Error& e) {
    throw ThresholdsError(std::string("thresholds: ") + e.what());
  }
  check_consistent(t);
  return t;
}

RuleThresholds load_thresholds_file(const std::string& path, RuleThresholds base) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ThresholdsError("thresholds: cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ThresholdsError("thresholds: cannot read " + path);
  return thresholds_from_json(text.str(), base);
}

}  // namespace mst::adapter
