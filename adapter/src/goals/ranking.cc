#include "ranking.h"

#include <algorithm>

#include "mst/adapter/goals/assessment.h"

namespace mst::adapter::detail {

namespace {

using G = GoalCode;

// The order in which ends claim the few high places: the cord first (NICE
// NG234), then walking, stability, pain and fracture.
constexpr G kEndsInOrder[] = {G::kPreserveNeurologicFunction, G::kImproveFunctionAmbulation,
                              G::kCorrectSpinalInstability, G::kPainRelief, G::kPreventFracture};
// On the palliative pathway comfort comes first: pain, then function in bed
// and chair (seating, transfers, pressure-area and bladder/bowel care).
constexpr G kPalliativeEndsInOrder[] = {G::kPainRelief, G::kImproveFunctionAmbulation};

bool proposed_by_row(const ProposedGoal& g, int row) {
  return std::any_of(g.reasons.begin(), g.reasons.end(),
                     [row](const RuleFiring& r) { return r.row == row; });
}

// Whether `g`, as the rules proposed it, drives the pathway. Debulking is a
// means (to the cord, or to local control) and support of the cancer
// treatment is a condition on the plan: neither ever drives it.
bool drives(const ProposedGoal& g, Pathway pathway, const GoalPlan& plan) {
  if (g.priority != Priority::kHigh) return false;
  if (pathway == Pathway::kPalliative) {
    // Comfort and function in bed and chair are the ends; an operation or
    // durable local control is not offered (docs/clinical-rules.md).
    return g.code == G::kPainRelief || g.code == G::kImproveFunctionAmbulation;
  }
  switch (g.code) {
    case G::kDebulkTumor:
    case G::kSupportCancerTreatment:
      return false;
    case G::kPreserveNeurologicFunction:
      return true;
    case G::kImproveFunctionAmbulation:
      // Walking is the outcome the cord-compression pathway protects (Patchell's
      // primary end point; QS56): an end when an emergency row proposed it,
      // not when only the rehabilitation rule did.
      return pathway != Pathway::kEmergency || proposed_by_row(g, 1) || proposed_by_row(g, 3) ||
             proposed_by_row(g, 16);
    case G::kCorrectSpinalInstability:
      // Gross instability is urgent on its own; a potentially unstable spine
      // is assessed by the surgeon who sees the compression.
      return pathway != Pathway::kEmergency || proposed_by_row(g, 10);
    case G::kPainRelief:
      // In an emergency pain is relieved by the emergency treatment.
      return pathway != Pathway::kEmergency;
    case G::kPreventFracture: {
      // Stabilisation serves both; the surgical question is stability.
      const ProposedGoal* g4 = plan.find(G::kCorrectSpinalInstability);
      return pathway != Pathway::kEmergency && (g4 == nullptr || g4->priority != Priority::kHigh);
    }
  }
  return false;
}

std::string word(Priority p) {
  return p == Priority::kHigh ? "high" : p == Priority::kMedium ? "medium" : "low";
}

std::string driver_names(const std::vector<G>& drivers) {
  std::vector<std::string> names;
  for (G d : drivers) {
    std::string n(display_of(d));
    if (!n.empty()) n[0] = static_cast<char>(n[0] - 'A' + 'a');
    names.push_back(n);
  }
  return join(names, " and ");
}

}  // namespace

Pathway pathway_of(const GoalPlan& plan) {
  if (plan.emergency) return Pathway::kEmergency;
  if (plan.palliative) return Pathway::kPalliative;
  for (const auto& g : plan.goals) {
    if (g.urgency >= Urgency::kUrgent) return Pathway::kUrgent;
  }
  return Pathway::kPlanned;
}

void rank(GoalPlan& plan) {
  plan.pathway = pathway_of(plan);
  std::vector<G> drivers;
  const bool palliative = plan.pathway == Pathway::kPalliative;
  const std::vector<G> ends =
      palliative
          ? std::vector<G>(std::begin(kPalliativeEndsInOrder), std::end(kPalliativeEndsInOrder))
          : std::vector<G>(std::begin(kEndsInOrder), std::end(kEndsInOrder));
  for (G end : ends) {
    const ProposedGoal* g = plan.find(end);
    if (g != nullptr && drives(*g, plan.pathway, plan) &&
        static_cast<int>(drivers.size()) < kMaxHighGoals) {
      drivers.push_back(end);
    }
  }
  const std::string pathway(code_of(plan.pathway));
  const ProposedGoal* g2 = plan.find(G::kPreserveNeurologicFunction);
  const Priority g2_priority = g2 != nullptr ? g2->priority : Priority::kLow;
  for (auto& g : plan.goals) {
    const bool driver = std::find(drivers.begin(), drivers.end(), g.code) != drivers.end();
    const Priority proposed = g.priority;
    if (!driver) g.priority = std::min(g.priority, Priority::kMedium);
    if (g.code == G::kDebulkTumor && g2 != nullptr) {
      // A means ranks below the end it serves.
      const Priority below = g2_priority == Priority::kLow
                                 ? Priority::kLow
                                 : static_cast<Priority>(static_cast<int>(g2_priority) - 1);
      g.priority = std::min(g.priority, below);
    }
    if (g.priority < proposed) {
      std::string why = "ranked " + word(g.priority) + " priority, not " + word(proposed);
      if (g.code == G::kDebulkTumor && g2 != nullptr) {
        why += ": debulking is the means to preserving neurological function and ranks below it";
      } else if (g.code == G::kSupportCancerTreatment) {
        why +=
            ": coordination with the cancer treatment is a condition on the plan, not what "
            "drives it";
      } else if (!drivers.empty()) {
        why += ": the " + pathway + " pathway is driven by " + driver_names(drivers);
      } else {
        why += ": no goal drives a pathway above planned care";
      }
      g.ranking = why;
    }
  }
  for (auto& g : plan.goals) {
    if (g.code != G::kPainRelief) continue;
    ProposedGoal* pain = &g;
    const Urgency floor = plan.pathway == Pathway::kEmergency ? Urgency::kAsap
                          : plan.pathway == Pathway::kUrgent  ? Urgency::kUrgent
                                                              : Urgency::kRoutine;
    if (pain->urgency < floor) {
      pain->urgency = floor;
      std::string why = "urgency " + std::string(code_of(floor)) + " follows the " + pathway +
                        " pathway: analgesia now, and the " +
                        (plan.pathway == Pathway::kEmergency
                             ? "emergency surgery or radiotherapy also relieves pain"
                             : "urgent assessment and treatment also relieve pain");
      pain->ranking = pain->ranking.empty() ? why : pain->ranking + "; " + why;
    }
  }
}

}  // namespace mst::adapter::detail
