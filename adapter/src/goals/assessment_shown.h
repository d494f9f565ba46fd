// The engine's Assessment as the plan carries it (PlanAssessment): plain
// words that depend on the thresholds, computed once, beside the goals.
#pragma once

#include "mst/adapter/goals/assessment.h"
#include "mst/adapter/goals/goal_plan.h"

namespace mst::adapter::detail {

PlanAssessment shown(const Assessment& a);

}  // namespace mst::adapter::detail
