// Ranks a plan's goals once every rule and modifier has run: high only for the
// goals that drive the current pathway, means below the ends they serve, at
// most kMaxHighGoals high goals, pain relief as prompt as the pathway. The
// rules and their sources are in docs/clinical-rules.md, "Ranking".
#pragma once

#include <string_view>

#include "mst/adapter/goals/goal_plan.h"

namespace mst::adapter::detail {

inline constexpr int kMaxHighGoals = 3;

// Added to every elective (routine) referral while an emergency pathway is open.
inline constexpr std::string_view kAfterEmergency =
    "Elective: after the emergency treatment, not part of the emergency pathway";

// The pathway the proposals put the patient on: emergency when `emergency`,
// urgent when any goal is proposed at `urgent` or higher, else planned.
Pathway pathway_of(const GoalPlan& plan);

// Sets plan.pathway and each goal's final priority (and pain relief's
// urgency); records on a goal why it ranks below what a rule proposed.
void rank(GoalPlan& plan);

}  // namespace mst::adapter::detail
