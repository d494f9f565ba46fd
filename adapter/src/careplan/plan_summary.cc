#include "mst/adapter/careplan/plan_summary.h"

#include <algorithm>
#include <set>

#include "mst/adapter/goals/assessment.h"

namespace mst::adapter {

using detail::join;
using detail::number_text;

std::string priority_word(Priority p) {
  switch (p) {
    case Priority::kHigh:
      return "High";
    case Priority::kMedium:
      return "Medium";
    case Priority::kLow:
      return "Low";
  }
  return "";
}

std::string urgency_word(Urgency u) {
  switch (u) {
    case Urgency::kRoutine:
      return "Routine";
    case Urgency::kUrgent:
      return "Urgent";
    case Urgency::kAsap:
      return "As soon as possible";
    case Urgency::kStat:
      return "Immediately (stat)";
  }
  return "";
}

namespace {

std::string rule_label(const RuleFiring& r) {
  return r.row > 0 ? r.rule + " (row " + std::to_string(r.row) + ")" : r.rule;
}

// Which reason a goal's one-line why names: a clinical row that sets
// urgency (rows 1-13, 16) before row 17, whose urgency follows the pathway,
// before the modifiers, the bone-health row 18 and team rules. Named first,
// an elective row sat beside "Immediately (stat)" as if it were the reason.
int why_rank(const RuleFiring& r) {
  if ((r.row >= 1 && r.row <= 13) || r.row == 16) return 0;
  if (r.row == 17) return 1;
  return 2;
}

}  // namespace

std::string pathway_line(const GoalPlan& plan) {
  if (!plan.applicable) return "No plan: " + plan.not_applicable_reason;
  const char* kind = plan.emergency                     ? "Emergency pathway"
                     : plan.palliative                  ? "Palliative pathway"
                     : plan.urgency >= Urgency::kUrgent ? "Urgent pathway"
                                                        : "Routine pathway";
  // What set the pathway: the clinical rows behind the goals at the plan's
  // urgency. Modifiers (prognosis, fitness, ongoing treatment: rows 14, 15,
  // 17) and the bone-health row 18 ride along with a goal; they never set it.
  std::vector<const RuleFiring*> drivers;
  std::set<std::string> seen;
  for (const auto& g : plan.goals) {
    if (g.urgency != plan.urgency) continue;
    for (const auto& r : g.reasons) {
      if (r.row == 0 || r.row == 14 || r.row == 15 || r.row >= 17) continue;
      if (seen.insert(r.rule).second) drivers.push_back(&r);
    }
  }
  std::stable_sort(drivers.begin(), drivers.end(),
                   [](const auto* x, const auto* y) { return x->row < y->row; });
  std::vector<std::string> names;
  for (const auto* r : drivers) {
    if (names.size() == 2) break;
    names.push_back(rule_label(*r));
  }
  std::string line = kind;
  if (plan.urgency != Urgency::kRoutine) line += ", overall urgency " + urgency_word(plan.urgency);
  if (plan.palliative) {
    // The palliative rule is a team rule (row 0 in the drivers' filter):
    // name what it puts first instead.
    names.insert(names.begin(),
                 "comfort first (pain relief, then seating, transfers, pressure-area and bladder "
                 "and bowel care)");
  }
  if (!names.empty()) line += ": " + join(names, "; ");
  if (drivers.size() > names.size()) line += "; and more below";
  if (!plan.emergency && !plan.palliative && plan.urgency == Urgency::kRoutine) {
    line += ". For the next multidisciplinary team meeting";
  }
  return line + ".";
}

std::vector<ActionNow> actions_now(const GoalPlan& plan) {
  std::vector<ActionNow> out;
  for (const auto& a : plan.actions) out.push_back({a.urgency, a.text});
  for (const auto& r : plan.referrals) {
    if (r.priority < Urgency::kUrgent) continue;
    out.push_back(
        {r.priority, "Refer to " + std::string(display_of(r.to)) + ": " + join(r.requests, "; ")});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ActionNow& x, const ActionNow& y) { return x.urgency > y.urgency; });
  return out;
}

std::vector<GoalLine> goal_lines(const GoalPlan& plan) {
  std::vector<GoalLine> out;
  for (const auto& g : plan.goals) {
    GoalLine line;
    line.goal = &g;
    std::vector<std::string> targets;
    for (const auto& t : g.targets) targets.push_back(t.description);
    line.target = targets.empty() ? "No standard measure" : join(targets, "; ");
    if (!g.reasons.empty()) {
      const auto first = std::min_element(
          g.reasons.begin(), g.reasons.end(),
          [](const RuleFiring& x, const RuleFiring& y) { return why_rank(x) < why_rank(y); });
      line.why = rule_label(*first);
      if (g.reasons.size() > 1) {
        line.why += " and " + std::to_string(g.reasons.size() - 1) +
                    (g.reasons.size() == 2 ? " more rule" : " more rules");
      }
    }
    if (g.certainty == Certainty::kPartial) line.why += " (some inputs missing)";
    out.push_back(std::move(line));
  }
  std::stable_sort(out.begin(), out.end(), [](const GoalLine& x, const GoalLine& y) {
    return std::make_pair(x.goal->priority, x.goal->urgency) >
           std::make_pair(y.goal->priority, y.goal->urgency);
  });
  return out;
}

std::vector<std::string> threshold_changes(const RuleThresholds& t) {
  const RuleThresholds defaults;
  std::vector<std::string> out;
  for (const auto& info : threshold_table()) {
    const double value = t.*(info.member);
    const double standard = defaults.*(info.member);
    if (value == standard) continue;
    out.push_back(std::string(info.name) + " " + number_text(value) + " (" + number_text(standard) +
                  ")");
  }
  return out;
}

}  // namespace mst::adapter
