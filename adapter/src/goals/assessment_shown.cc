#include "assessment_shown.h"

namespace mst::adapter::detail {

namespace {

std::string prognosis_band(const Assessment& a) {
  if (a.poor_prognosis == Tri::kYes) return "poor";
  if (a.favourable_prognosis == Tri::kYes) return "favourable";
  if (a.poor_prognosis == Tri::kNo) return "intermediate";
  return "unknown";
}

// How the rules read the estimate, with the cut-off they used: a site that
// moves a threshold sees the reading move with it.
std::string prognosis_reading(const Assessment& a, const RuleThresholds& t) {
  const bool stated = a.c->life_expectancy.stated_months.has_value();
  const std::string band = prognosis_band(a);
  if (band == "poor") {
    return stated ? "read as a poor prognosis (below " + number_text(t.poor_prognosis_months) +
                        " months)"
                  : "read as a poor prognosis (revised Tokuhashi " +
                        number_text(t.tokuhashi_poor_max) + " or lower)";
  }
  if (band == "favourable") {
    return stated ? "read as a favourable prognosis (" + number_text(t.favourable_survival_months) +
                        " months or more)"
                  : "read as a favourable prognosis (revised Tokuhashi " +
                        number_text(t.tokuhashi_favourable_min) + " or more, or " +
                        number_text(t.tokuhashi_single_vertebra_min) +
                        " or more with a single vertebra)";
  }
  if (band == "intermediate") return "read as neither poor nor favourable";
  return {};
}

std::string sins_band(const Assessment& a) {
  if (a.gross_instability == Tri::kYes) return "unstable";
  if (a.sins_stable == Tri::kYes) return "stable";
  if (a.sins) return "potentially unstable";
  return {};
}

std::string walking(const Assessment& a, const RuleThresholds& t) {
  if (!a.non_ambulatory) return {};
  const std::string window = number_text(t.paraplegia_window_hours) + "-hour window";
  switch (a.walking_lost_in_window) {
    case Tri::kYes:
      return a.window_uncertain ? "walking lost, possibly within the " + window +
                                      " (the onset is too coarse to be sure)"
                                : "walking lost within the " + window;
    case Tri::kNo:
      return "walking lost more than " + number_text(t.paraplegia_window_hours) + " hours ago";
    case Tri::kUnknown:
      return "walking lost, onset not recorded (the " + window + " cannot be judged)";
  }
  return {};
}

}  // namespace

PlanAssessment shown(const Assessment& a) {
  PlanAssessment s;
  s.thresholds = *a.t;
  s.levels = a.levels_text;
  s.ongoing_treatment = a.ongoing.empty() ? std::string() : treatment_labels(a);
  s.prognosis_band = prognosis_band(a);
  s.prognosis = a.prognosis_text;
  if (const std::string reading = prognosis_reading(a, *a.t);
      !s.prognosis.empty() && !reading.empty()) {
    s.prognosis += "; " + reading;
  }
  s.sins_band = sins_band(a);
  s.walking = walking(a, *a.t);
  if (a.s_gate == Tri::kYes) s.surgical_candidacy = "lowered (" + a.s_gate_reasons + ")";
  return s;
}

}  // namespace mst::adapter::detail
