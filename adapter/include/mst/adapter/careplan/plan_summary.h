// The head of a plan as a clinician reads it first, shared by the CarePlan
// narrative and `explain` so both open the same way: the pathway, the actions
// now with their urgency, then one line per goal.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/goals/goal_plan.h"

namespace mst::adapter {

std::string priority_word(Priority p);  // "High" | "Medium" | "Low"
std::string urgency_word(Urgency u);    // "Routine" ... "Immediately (stat)"

// One sentence: the emergency, urgent or routine pathway, the overall
// urgency (unless routine) and at most two clinical rows that set it, e.g.
// "Emergency pathway, overall urgency Immediately (stat): New neurological
// symptoms in a patient with cancer (row 1)."
std::string pathway_line(const GoalPlan& plan);

struct ActionNow {
  Urgency urgency = Urgency::kRoutine;
  std::string text;
};

// The suggested actions, then the referrals at urgent or above, most urgent
// first (rule order within one urgency).
std::vector<ActionNow> actions_now(const GoalPlan& plan);

struct GoalLine {
  const ProposedGoal* goal = nullptr;
  std::string target;  // "Pain score of 3 or lower ...", or "No standard measure"
  std::string why;     // the rule behind its urgency with its row, and how many more follow
};

// One line per goal of `plan` (which must outlive them), highest priority
// first, then most urgent, then in goal order.
std::vector<GoalLine> goal_lines(const GoalPlan& plan);

// "sins_unstable_min 8 (13)" for each threshold that differs from the
// compiled-in default, in table order; empty with the defaults.
std::vector<std::string> threshold_changes(const RuleThresholds& t);

}  // namespace mst::adapter
