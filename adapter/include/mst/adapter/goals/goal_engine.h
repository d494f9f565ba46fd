// The goal engine: a pure function from one patient's treatment
// considerations to a proposed goal plan, by the rule table of
// clinical-decision.md section 9 (documented in docs/clinical-rules.md).
#pragma once

#include "mst/adapter/goals/goal_plan.h"
#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/mappings/considerations.h"

namespace mst::adapter {

// Proposes goals, referrals and the team for `c`. Deterministic: the order
// of the vectors inside `c` does not change the result. A patient without a
// spinal metastasis (c.spine.present == false) gets a plan with
// applicable == false and the reason. Never throws on any Considerations.
GoalPlan propose(const mappings::Considerations& c, const RuleThresholds& t = {});

}  // namespace mst::adapter
