#include "mst/adapter/goals/assessment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

namespace mst::adapter::detail {

using mappings::Considerations;
using mappings::EsccGrade;

namespace {

constexpr std::int64_t kHourMs = std::int64_t{3600} * 1000;
constexpr double kWeeksPerMonth = 52.0 / 12.0;

std::int64_t start_or_min(const std::optional<fhir::DateTime>& d) {
  return d ? d->start_ms() : std::numeric_limits<std::int64_t>::min();
}

template <typename T>
void sort_by_key(std::vector<const T*>& v, auto key) {
  std::sort(v.begin(), v.end(), [&](const T* a, const T* b) { return key(*a) < key(*b); });
}

Tri at_least(double value, double threshold) { return value >= threshold ? Tri::kYes : Tri::kNo; }

// Survival band implied by a complete revised Tokuhashi total, in months:
// [lower, upper). Upper is infinite for the open bands.
std::pair<double, double> tokuhashi_band(int total, const RuleThresholds& t) {
  constexpr double kOpen = std::numeric_limits<double>::infinity();
  if (total >= t.tokuhashi_favourable_min) return {12, kOpen};
  if (total > t.tokuhashi_poor_max) return {6, kOpen};
  return {0, 6};
}

Tri band_at_least(std::pair<double, double> band, double months) {
  if (band.first >= months) return Tri::kYes;
  if (band.second <= months) return Tri::kNo;
  return Tri::kUnknown;
}

Tri band_below(std::pair<double, double> band, double months) {
  if (band.second <= months) return Tri::kYes;
  if (band.first >= months) return Tri::kNo;
  return Tri::kUnknown;
}

std::string levels_summary(const mappings::SpinalDisease& spine) {
  std::vector<const mappings::SpinalLesion*> ls;
  for (const auto& l : spine.lesions) ls.push_back(&l);
  sort_by_key(ls, [](const mappings::SpinalLesion& l) { return l.level.ordinal; });
  std::vector<std::string> runs;
  for (std::size_t i = 0; i < ls.size();) {
    std::size_t j = i;
    while (j + 1 < ls.size() && ls[j + 1]->level.ordinal <= ls[j]->level.ordinal + 1) ++j;
    runs.push_back(i == j ? ls[i]->level.name : ls[i]->level.name + "-" + ls[j]->level.name);
    i = j + 1;
  }
  return join(runs, ", ");
}

void assess_neurology(const Considerations& c, const RuleThresholds& t, Assessment& a) {
  if (c.neurology.escc) {
    a.escc = c.neurology.escc->value;
    switch (*a.escc) {
      case EsccGrade::k0:
      case EsccGrade::k1a:
      case EsccGrade::k1b:
        a.escc_class = EsccClass::kLow;
        break;
      case EsccGrade::k1c:
        a.escc_class = EsccClass::kGrey;
        break;
      case EsccGrade::k2:
      case EsccGrade::k3:
        a.escc_class = EsccClass::kHigh;
        break;
    }
  }
  for (const auto& d : c.neurology.deficits) {
    a.deficits.push_back(&d);
    if (d.is_new) a.new_deficits.push_back(&d);
    if (d.cord_compression) a.compressions.push_back(&d);
  }
  auto key = [](const mappings::NeurologicDeficit& d) {
    return std::make_tuple(d.label, start_or_min(d.onset), d.evidence);
  };
  sort_by_key(a.deficits, key);
  sort_by_key(a.new_deficits, key);
  sort_by_key(a.compressions, key);
  if (!a.escc && !a.compressions.empty()) {
    a.escc_presumed = true;
    a.escc_class = EsccClass::kHigh;
  }

  const auto& qol = c.quality_of_life;
  a.non_ambulatory = qol.ambulation.value == mappings::Ambulation::kNonAmbulatory;
  std::optional<fhir::DateTime> latest_onset;
  bool onset_unknown = false;
  std::vector<const mappings::NeurologicDeficit*> triggers = a.new_deficits;
  triggers.insert(triggers.end(), a.compressions.begin(), a.compressions.end());
  for (const auto* d : triggers) {
    if (!d->onset) {
      onset_unknown = true;
    } else if (!latest_onset || latest_onset->start_ms() < d->onset->start_ms()) {
      latest_onset = d->onset;
    }
  }
  if (a.non_ambulatory) {
    if (!qol.non_ambulatory_since) {
      a.walking_lost_in_window = Tri::kUnknown;
    } else {
      const auto& since = *qol.non_ambulatory_since;
      const double window_ms = t.paraplegia_window_hours * static_cast<double>(kHourMs);
      // Read an imprecise onset in the patient's favour for the emergency
      // pathway: the shortest elapsed time it allows.
      const auto min_elapsed = std::max<std::int64_t>(0, c.as_of.start_ms() - since.end_ms());
      const auto max_elapsed = c.as_of.end_ms() - since.start_ms();
      if (static_cast<double>(min_elapsed) > window_ms) {
        a.walking_lost_in_window = Tri::kNo;
      } else {
        a.walking_lost_in_window = Tri::kYes;
        a.window_uncertain = static_cast<double>(max_elapsed) > window_ms;
        if (!latest_onset || latest_onset->start_ms() < since.start_ms()) latest_onset = since;
      }
    }
  }
  a.new_neuro = !a.new_deficits.empty() || a.walking_lost_in_window == Tri::kYes;
  a.established_deficit = a.non_ambulatory && a.walking_lost_in_window == Tri::kNo && !a.new_neuro;
  if (a.established_deficit) {
    auto complete_grade = [](const auto& g) { return g && (g->value == 'A' || g->value == 'B'); };
    bool complete = complete_grade(c.neurology.frankel) || complete_grade(c.neurology.asia);
    // The code tables label the complete plegias "Complete paraplegia" and
    // "Complete quadriplegia" (G82.21, G82.51, G82.53).
    for (const auto* d : a.deficits) complete = complete || d->label.rfind("Complete ", 0) == 0;
    a.established_complete = complete;
  }
  a.has_cancer = c.cancer.has_value() || !c.primary_conditions.empty() ||
                 !c.metastasis_conditions.empty() || c.spine.present;
  a.mscc_suspected = a.has_cancer && (a.new_neuro || !a.compressions.empty());
  if (a.mscc_suspected && !onset_unknown && latest_onset && c.neurology.escc &&
      c.neurology.escc->when) {
    a.imaging_after_onset = c.neurology.escc->when->start_ms() >= latest_onset->start_ms();
  }
}

void assess_oncology(const Considerations& c, Assessment& a) {
  a.cancer_label = "the primary cancer";
  if (!c.cancer) return;
  if (!c.cancer->label.empty()) a.cancer_label = c.cancer->label;
  a.haematological = c.cancer->haematological;
  // A primary bone malignancy whose own Condition is the spinal disease; a
  // bone sarcoma with separately coded spinal metastases is not one.
  const std::string& key = c.cancer->key;
  if (key == "spine-bone-tumour" || key == "bone-sarcoma" || key == "osteosarcoma") {
    for (const auto& ref : c.cancer->evidence) {
      if (std::find(c.spine.evidence.begin(), c.spine.evidence.end(), ref) !=
          c.spine.evidence.end()) {
        a.primary_spine_tumour = true;
      }
    }
  }
  switch (c.cancer->radiosensitivity) {
    case mappings::Radiosensitivity::kSensitive:
      a.onco = Onco::kSensitive;
      break;
    case mappings::Radiosensitivity::kResistant:
      a.onco = Onco::kResistant;
      break;
    case mappings::Radiosensitivity::kUnknown:
      a.onco = Onco::kUnknown;
      break;
  }
}

void assess_mechanics(const Considerations& c, const RuleThresholds& t, Assessment& a) {
  const auto& m = c.mechanics;
  a.subluxation = m.subluxation;
  if (m.sins_total) a.sins = m.sins_total->value;
  if (a.sins) {
    a.gross_instability = (*a.sins >= t.sins_unstable_min || a.subluxation) ? Tri::kYes : Tri::kNo;
    a.sins_stable = (*a.sins < t.sins_consult_min && !a.subluxation) ? Tri::kYes : Tri::kNo;
  } else if (a.subluxation) {
    a.gross_instability = Tri::kYes;
    a.sins_stable = Tri::kNo;
  }
}

void assess_systemic(const Considerations& c, const RuleThresholds& t, Assessment& a) {
  const auto& qol = c.quality_of_life;
  if (qol.ecog) a.ecog = qol.ecog->value;
  if (qol.karnofsky) a.kps = qol.karnofsky->value;
  std::vector<std::string> reasons;
  if (a.ecog || a.kps) {
    bool poor = false;
    bool good = true;
    if (a.ecog) {
      if (*a.ecog >= t.s_gate_ecog_min) {
        poor = true;
        reasons.push_back("ECOG " + std::to_string(*a.ecog));
      }
      if (*a.ecog > t.sbrt_max_ecog) good = false;
    }
    if (a.kps) {
      if (*a.kps < t.s_gate_kps_below) {
        poor = true;
        reasons.push_back("Karnofsky " + std::to_string(*a.kps));
      }
      if (*a.kps < t.sbrt_min_kps) good = false;
    }
    a.poor_ps = poor ? Tri::kYes : Tri::kNo;
    a.good_ps_for_sbrt = good ? Tri::kYes : Tri::kNo;
  }
  for (const auto& cm : c.general_condition.comorbidities) {
    if (cm.severe) a.severe_comorbidities.push_back(&cm);
  }
  sort_by_key(a.severe_comorbidities, [](const mappings::Comorbidity& cm) {
    return std::make_tuple(static_cast<int>(cm.kind), cm.label, cm.basis, cm.evidence);
  });
  for (const auto* cm : a.severe_comorbidities) {
    reasons.push_back(cm->basis.empty() || cm->basis == "condition"
                          ? "severe " + cm->label
                          : "severe " + cm->label + " (" + cm->basis + ")");
  }
  if (a.poor_ps == Tri::kYes || !a.severe_comorbidities.empty()) {
    a.s_gate = Tri::kYes;
  } else if (a.poor_ps == Tri::kNo) {
    a.s_gate = Tri::kNo;
  }
  a.s_gate_reasons = join(reasons, ", ");
  a.ps_gates_procedures = a.poor_ps == Tri::kYes && !a.new_neuro;
  if (a.s_gate == Tri::kNo) {
    a.operable = Tri::kYes;
  } else if (a.s_gate == Tri::kYes) {
    // Poor performance status can be the new deficit itself (a patient who
    // lost walking yesterday is ECOG 4): then only the surgeon can judge.
    const bool only_ps = a.severe_comorbidities.empty();
    a.operable = (only_ps && a.new_neuro) ? Tri::kUnknown : Tri::kNo;
  }
}

void assess_prognosis(const Considerations& c, const RuleThresholds& t, Assessment& a) {
  const auto& le = c.life_expectancy;
  const auto& tok = le.tokuhashi;
  std::string tokuhashi_text;
  if (tok.complete) {
    tokuhashi_text = "revised Tokuhashi (2005) total " + std::to_string(tok.total) + " of 15";
  }
  if (le.stated_months) {
    const double m = le.stated_months->value;
    a.survival_ge_patchell = at_least(m, t.patchell_min_survival_months);
    a.survival_ge_bone_agent = at_least(m, t.bone_agent_min_survival_months);
    a.survival_below_rt_min = m * kWeeksPerMonth < t.rt_min_survival_weeks ? Tri::kYes : Tri::kNo;
    a.poor_prognosis = m < t.poor_prognosis_months ? Tri::kYes : Tri::kNo;
    a.favourable_prognosis = at_least(m, t.favourable_survival_months);
    a.prognosis_text = "stated life expectancy of about " + number_text(m) + " months" +
                       day_text(le.stated_months->when);
    if (le.stated_months->stale) a.prognosis_text += ", recorded long ago";
    if (!tokuhashi_text.empty()) a.prognosis_text += "; " + tokuhashi_text + " for comparison";
    add_evidence(a.prognosis_evidence, le.stated_months->evidence);
    if (tok.complete) add_evidence(a.prognosis_evidence, tok.evidence);
  } else if (tok.complete) {
    const auto band = tokuhashi_band(tok.total, t);
    a.survival_ge_patchell = band_at_least(band, t.patchell_min_survival_months);
    a.survival_ge_bone_agent = band_at_least(band, t.bone_agent_min_survival_months);
    a.survival_below_rt_min = band_below(band, t.rt_min_survival_weeks / kWeeksPerMonth);
    a.poor_prognosis = tok.total <= t.tokuhashi_poor_max ? Tri::kYes : Tri::kNo;
    const bool single_vertebra = c.spine.lesions.size() == 1;
    a.favourable_prognosis = (tok.total >= t.tokuhashi_favourable_min ||
                              (tok.total >= t.tokuhashi_single_vertebra_min && single_vertebra))
                                 ? Tri::kYes
                                 : Tri::kNo;
    const char* band_text = band.first >= 12  ? "predicted survival of 1 year or more"
                            : band.first >= 6 ? "predicted survival of 6 months or more"
                                              : "predicted survival under 6 months";
    a.prognosis_text = tokuhashi_text + " (" + band_text + ")";
    add_evidence(a.prognosis_evidence, tok.evidence);
  }
}

void assess_pain(const Considerations& c, const RuleThresholds& t, Assessment& a) {
  const auto& qol = c.quality_of_life;
  a.new_back_pain = qol.new_back_pain && qol.new_back_pain->value;
  if ((qol.pain_score && qol.pain_score->value > 0) || qol.mechanical_pain || a.new_back_pain) {
    a.pain_present = Tri::kYes;
  } else if (qol.pain_score) {
    a.pain_present = Tri::kNo;
  }
  a.severe_pain = qol.pain_score && qol.pain_score->value >= t.severe_pain_min;
}

void assess_treatment(const Considerations& c, Assessment& a) {
  for (const auto& tr : c.treatments) {
    if (tr.end && tr.end->end_ms() <= c.as_of.start_ms()) continue;  // finished
    a.ongoing.push_back(&tr);
    if (tr.kind == mappings::TreatmentKind::kBoneTargeted) a.bone_agent_active = true;
  }
  sort_by_key(a.ongoing, [](const mappings::ActiveTreatment& tr) {
    return std::make_tuple(static_cast<int>(tr.kind), tr.label, start_or_min(tr.start),
                           tr.evidence);
  });
}

void assess_preferences(const Considerations& c, Assessment& a) {
  std::vector<const mappings::Preference*> prefs;
  for (const auto& p : c.preferences) prefs.push_back(&p);
  sort_by_key(prefs, [](const mappings::Preference& p) {
    return std::make_tuple(static_cast<int>(p.kind), p.text, p.evidence);
  });
  for (const auto* p : prefs) {
    const mappings::Preference** slot = nullptr;
    switch (p->kind) {
      case mappings::PreferenceKind::kDeclinesSurgery:
        slot = &a.declines_surgery;
        break;
      case mappings::PreferenceKind::kDeclinesRadiotherapy:
        slot = &a.declines_radiotherapy;
        break;
      case mappings::PreferenceKind::kComfortFocused:
        slot = &a.comfort_focused;
        break;
      case mappings::PreferenceKind::kNotForSurgery:
        slot = &a.not_for_surgery;
        break;
      case mappings::PreferenceKind::kOther:
        break;
    }
    if (slot != nullptr && *slot == nullptr) *slot = p;
  }
}

}  // namespace

Assessment assess(const Considerations& c, const RuleThresholds& t) {
  Assessment a;
  a.c = &c;
  a.t = &t;
  assess_neurology(c, t, a);
  assess_oncology(c, a);
  assess_mechanics(c, t, a);
  assess_systemic(c, t, a);
  assess_prognosis(c, t, a);
  a.short_prognosis = a.survival_ge_patchell == Tri::kNo;
  a.palliative_candidate =
      !a.new_neuro && (a.short_prognosis || (a.established_deficit && a.poor_ps == Tri::kYes));
  assess_pain(c, t, a);
  assess_treatment(c, a);
  assess_preferences(c, a);
  if (!c.spine.lesions.empty() && c.spine.contiguous) a.single_area = Tri::kYes;
  a.levels_text = levels_summary(c.spine);
  return a;
}

std::string escc_name(EsccGrade g) {
  switch (g) {
    case EsccGrade::k0:
      return "0";
    case EsccGrade::k1a:
      return "1a";
    case EsccGrade::k1b:
      return "1b";
    case EsccGrade::k1c:
      return "1c";
    case EsccGrade::k2:
      return "2";
    case EsccGrade::k3:
      return "3";
  }
  return "?";
}

std::string number_text(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

std::string day_text(const std::optional<fhir::DateTime>& d) {
  return d ? " (" + d->date_string() + ")" : "";
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

void add_evidence(mappings::Evidence& into, const mappings::Evidence& from) {
  into.insert(into.end(), from.begin(), from.end());
  std::sort(into.begin(), into.end());
  into.erase(std::unique(into.begin(), into.end()), into.end());
}

mappings::Evidence merge(std::initializer_list<const mappings::Evidence*> parts) {
  mappings::Evidence out;
  for (const auto* p : parts) {
    if (p != nullptr) add_evidence(out, *p);
  }
  return out;
}

std::string treatment_labels(const Assessment& a) {
  std::vector<std::string> out;
  for (const auto* tr : a.ongoing) {
    std::string kind;
    switch (tr->kind) {
      case mappings::TreatmentKind::kChemotherapy:
        kind = "chemotherapy";
        break;
      case mappings::TreatmentKind::kRadiotherapy:
        kind = "radiotherapy";
        break;
      case mappings::TreatmentKind::kEndocrine:
        kind = "endocrine therapy";
        break;
      case mappings::TreatmentKind::kImmunotherapy:
        kind = "immunotherapy";
        break;
      case mappings::TreatmentKind::kTargeted:
        kind = "targeted therapy";
        break;
      case mappings::TreatmentKind::kBoneTargeted:
        kind = "bone-targeted agent";
        break;
      case mappings::TreatmentKind::kOtherCancerTreatment:
        kind = "cancer treatment";
        break;
    }
    out.push_back(tr->label.empty() || tr->label == kind ? kind : kind + " (" + tr->label + ")");
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return join(out, ", ");
}

std::string systemic_team(const Assessment& a) {
  return a.haematological ? "haematology" : "medical oncology";
}

std::string comfort_basis(const Assessment& a) {
  if (a.comfort_focused->source == mappings::PreferenceSource::kClinician)
    return "a portable medical order (POLST) for comfort-focused treatments is in place";
  return "the patient's stated preference is comfort-focused treatment";
}

}  // namespace mst::adapter::detail
