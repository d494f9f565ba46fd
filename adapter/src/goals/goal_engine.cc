#include "mst/adapter/goals/goal_engine.h"

#include <algorithm>
#include <tuple>

#include "assessment_shown.h"
#include "mst/adapter/goals/assessment.h"
#include "plan_draft.h"
#include "rules.h"

namespace mst::adapter {

namespace {

GoalPlan propose_from(const mappings::Considerations& c, const detail::Assessment& a) {
  if (c.death.recorded) {
    GoalPlan none;
    none.applicable = false;
    none.not_applicable_code = SkipReason::kDeceased;
    none.not_applicable_reason =
        "The patient is recorded as deceased" +
        (c.death.when ? " (" + c.death.when->date_string() + ")" : std::string()) +
        ", so no care plan is proposed.";
    return none;
  }
  // NICE NG234's emergency comes before the "no spinal disease" gate: cancer
  // plus a new deficit or a recorded compression always gets a plan.
  if (!c.spine.present && !a.mscc_suspected && !c.unreadable_conditions.empty()) {
    // Not "none found": an unreadable Condition may be the spinal disease.
    const std::size_t n = c.unreadable_conditions.size();
    GoalPlan none;
    none.applicable = false;
    none.not_applicable_code = SkipReason::kUnreadableConditions;
    none.not_applicable_reason =
        "No spine care plan is proposed: no spinal metastasis was found among the readable "
        "resources, but " +
        std::to_string(n) + (n == 1 ? " Condition" : " Conditions") +
        " could not be read and could not be assessed (listed as ignored, with the reason). "
        "Correct " +
        (n == 1 ? std::string("it") : std::string("them")) + " and run the adapter again.";
    return none;
  }
  if (!c.spine.present && !a.mscc_suspected) {
    GoalPlan none;
    none.applicable = false;
    none.not_applicable_reason =
        "No spinal metastasis was found in the record, so no spine care plan is proposed. If "
        "the patient does have spinal metastases, record them (a Condition with a spinal body "
        "site or an imaging finding) and run the adapter again.";
    return none;
  }
  detail::PlanDraft d(a);
  // Emergencies first, so the modifiers below can see them.
  detail::rule_new_neurology(a, d);
  detail::rule_walking_lost(a, d);
  detail::rule_new_back_pain(a, d);
  detail::rule_high_grade_compression(a, d);
  detail::rule_grey_zone_compression(a, d);
  detail::rule_low_grade_compression(a, d);
  detail::rule_compression_not_graded(a, d);
  detail::rule_instability(a, d);
  detail::rule_vertebral_augmentation(a, d);
  detail::rule_painful_uncomplicated(a, d);
  detail::rule_excisional_surgery(a, d);
  detail::rule_postoperative_rt(a, d);
  detail::rule_pain_goal(a, d);
  detail::rule_ambulation(a, d);
  detail::rule_primary_spine_tumour(a, d);
  // After every row, so it knows whether an emergency fired.
  detail::rule_palliative_pathway(a, d);
  detail::rule_bone_targeted_agent(a, d);
  // After every row that may ask for an operation.
  detail::rule_declined_operation_alternatives(a, d);
  // Modifiers: they temper, never cancel, what the rows above proposed.
  detail::rule_systemic_gate(a, d);
  detail::rule_poor_prognosis(a, d);
  detail::rule_ongoing_treatment(a, d);
  detail::rule_preferences(a, d);
  detail::rule_input_quality(a, d);
  return d.finish();
}

std::vector<std::string> data_gap_lines(const mappings::Considerations& c,
                                        const std::vector<MissingInput>& missing) {
  std::vector<mappings::DataGap> record_gaps = c.data_gaps;
  std::sort(record_gaps.begin(), record_gaps.end(), [](const auto& x, const auto& y) {
    return std::tie(x.consideration, x.detail) < std::tie(y.consideration, y.detail);
  });
  std::vector<std::string> lines;
  for (const auto& g : record_gaps) lines.push_back(g.consideration + ": " + g.detail);
  for (const auto& m : missing) lines.push_back(m.input + ": " + m.consequence);
  return lines;
}

}  // namespace

GoalPlan propose(const mappings::Considerations& c, const RuleThresholds& t) {
  const detail::Assessment a = detail::assess(c, t);
  GoalPlan plan = propose_from(c, a);
  // The one reading the rules used, so no reader recomputes it (issue #11).
  plan.assessment = detail::shown(a);
  plan.data_gaps = data_gap_lines(c, plan.missing);
  return plan;
}

}  // namespace mst::adapter
