#include "mst/adapter/goals/goal_plan.h"

#include <algorithm>

namespace mst::adapter {

std::string_view code_of(GoalCode g) {
  switch (g) {
    case GoalCode::kPainRelief:
      return "pain-relief";
    case GoalCode::kPreserveNeurologicFunction:
      return "preserve-neurologic-function";
    case GoalCode::kPreventFracture:
      return "prevent-fracture";
    case GoalCode::kCorrectSpinalInstability:
      return "correct-spinal-instability";
    case GoalCode::kImproveFunctionAmbulation:
      return "improve-function-ambulation";
    case GoalCode::kSupportCancerTreatment:
      return "support-cancer-treatment";
    case GoalCode::kDebulkTumor:
      return "debulk-tumor";
  }
  return "";
}

std::string_view display_of(GoalCode g) {
  switch (g) {
    case GoalCode::kPainRelief:
      return "Pain relief";
    case GoalCode::kPreserveNeurologicFunction:
      return "Preservation of neurological function";
    case GoalCode::kPreventFracture:
      return "Prevention of fracture";
    case GoalCode::kCorrectSpinalInstability:
      return "Correction of spinal instability";
    case GoalCode::kImproveFunctionAmbulation:
      return "Improvement of general function and ability to move and walk";
    case GoalCode::kSupportCancerTreatment:
      return "Support of the ongoing cancer treatment";
    case GoalCode::kDebulkTumor:
      return "Debulking or shrinking the spinal tumour";
  }
  return "";
}

// The seven goals of clinical-decision.md §9 (G1-G7), in its words where it
// has them.
std::string_view definition_of(GoalCode g) {
  switch (g) {
    case GoalCode::kPainRelief:
      return "Relieve pain from the spinal metastasis, biological or mechanical, to a level the "
             "patient finds acceptable (G1).";
    case GoalCode::kPreserveNeurologicFunction:
      return "Preserve or restore neurological function threatened by epidural spinal cord "
             "compression or nerve-root involvement (G2).";
    case GoalCode::kPreventFracture:
      return "Prevent a pathological fracture or further collapse of a vertebra weakened by "
             "tumour (G3).";
    case GoalCode::kCorrectSpinalInstability:
      return "Correct or stabilise spinal instability caused by the tumour, as graded by the "
             "Spinal Instability Neoplastic Score (SINS; Fisher 2010) (G4).";
    case GoalCode::kImproveFunctionAmbulation:
      return "Improve or keep general function and the ability to move and walk; when walking "
             "cannot return, function from bed and chair (G5).";
    case GoalCode::kSupportCancerTreatment:
      return "Support the ongoing systemic cancer treatment: spinal treatment must not "
             "interrupt it unless delay risks serious neurological damage (G6).";
    case GoalCode::kDebulkTumor:
      return "Debulk or shrink the spinal tumour by radiotherapy, radiosurgery or surgery "
             "(G7).";
  }
  return "";
}

std::string_view code_of(Priority p) {
  switch (p) {
    case Priority::kHigh:
      return "high-priority";
    case Priority::kMedium:
      return "medium-priority";
    case Priority::kLow:
      return "low-priority";
  }
  return "";
}

std::string_view display_of(Priority p) {
  switch (p) {
    case Priority::kHigh:
      return "High Priority";
    case Priority::kMedium:
      return "Medium Priority";
    case Priority::kLow:
      return "Low Priority";
  }
  return "";
}

std::string_view code_of(Urgency u) {
  switch (u) {
    case Urgency::kRoutine:
      return "routine";
    case Urgency::kUrgent:
      return "urgent";
    case Urgency::kAsap:
      return "asap";
    case Urgency::kStat:
      return "stat";
  }
  return "";
}

std::string_view code_of(Discipline d) {
  switch (d) {
    case Discipline::kSpineSurgery:
      return "spine-surgery";
    case Discipline::kRadiationOncology:
      return "radiation-oncology";
    case Discipline::kMedicalOncology:
      return "medical-oncology";
    case Discipline::kDiagnosticRadiology:
      return "diagnostic-radiology";
    case Discipline::kInterventionalRadiology:
      return "interventional-radiology";
    case Discipline::kRehabilitation:
      return "rehabilitation";
    case Discipline::kHaematology:
      return "haematology";
  }
  return "";
}

std::string_view display_of(Discipline d) {
  switch (d) {
    case Discipline::kSpineSurgery:
      return "Spine surgery";
    case Discipline::kRadiationOncology:
      return "Radiation oncology";
    case Discipline::kMedicalOncology:
      return "Medical oncology";
    case Discipline::kDiagnosticRadiology:
      return "Diagnostic radiology";
    case Discipline::kInterventionalRadiology:
      return "Interventional radiology";
    case Discipline::kRehabilitation:
      return "Physiatry and rehabilitation";
    case Discipline::kHaematology:
      return "Haematology";
  }
  return "";
}

std::string_view code_of(Certainty c) {
  return c == Certainty::kConfirmed ? "confirmed" : "partial";
}

std::vector<std::string> ProposedGoal::rationale_parts() const {
  std::vector<std::string> parts;
  auto sentence = [](std::string& out, const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += ' ';
    out += s;
    if (out.back() != '.') out += '.';
  };
  for (const auto& r : reasons) {
    std::string part;
    sentence(part, r.finding);
    sentence(part, "Proposed: " + r.proposal);
    std::string rule = "Rule: " + r.rule;
    rule += r.row > 0 ? " (rule table row " + std::to_string(r.row) + ")" : " (team rule)";
    if (r.synthesis) rule += ", a team synthesis";
    rule += "; source: " + r.source;
    sentence(part, rule);
    parts.push_back(std::move(part));
  }
  if (!ranking.empty()) {
    std::string r = ranking;
    r[0] = static_cast<char>(r[0] - 'a' + 'A');
    parts.emplace_back();
    sentence(parts.back(), r);
  }
  for (const auto& c : cautions) {
    parts.emplace_back();
    sentence(parts.back(), "Caution: " + c);
  }
  if (!missing.empty()) {
    std::string m = "Less certain because these inputs are missing: ";
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (i > 0) m += "; ";
      m += missing[i];
    }
    parts.emplace_back();
    sentence(parts.back(), m);
  }
  return parts;
}

std::string ProposedGoal::rationale() const {
  std::string out;
  for (const auto& part : rationale_parts()) {
    if (!out.empty()) out += ' ';
    out += part;
  }
  return out;
}

std::string_view code_of(Pathway p) {
  switch (p) {
    case Pathway::kPlanned:
      return "planned";
    case Pathway::kUrgent:
      return "urgent";
    case Pathway::kEmergency:
      return "emergency";
    case Pathway::kPalliative:
      return "palliative";
  }
  return "";
}

std::vector<int> ProposedGoal::fired_rows() const {
  std::vector<int> rows;
  for (const auto& r : reasons) rows.push_back(r.row);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

std::vector<std::string> ProposedGoal::cited_keys() const {
  std::vector<std::string> keys;
  for (const auto& r : reasons) {
    // "Patchell 2005 [R35]; NOMS [R6, R7]": the keys are the bracketed lists.
    for (std::size_t open = r.source.find('['); open != std::string::npos;
         open = r.source.find('[', open + 1)) {
      const std::size_t close = r.source.find(']', open);
      if (close == std::string::npos) break;
      std::string_view list(r.source.data() + open + 1, close - open - 1);
      while (!list.empty()) {
        const std::size_t comma = std::min(list.find(','), list.size());
        std::string_view key = list.substr(0, comma);
        while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
        if (!key.empty()) keys.emplace_back(key);
        list.remove_prefix(std::min(comma + 1, list.size()));
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

const ProposedGoal* GoalPlan::find(GoalCode g) const {
  for (const auto& goal : goals) {
    if (goal.code == g) return &goal;
  }
  return nullptr;
}

const Referral* GoalPlan::find(Discipline d) const {
  for (const auto& r : referrals) {
    if (r.to == d) return &r;
  }
  return nullptr;
}

std::vector<const Referral*> GoalPlan::referrals_to(Discipline d) const {
  std::vector<const Referral*> out;
  for (const auto& r : referrals) {
    if (r.to == d) out.push_back(&r);
  }
  return out;
}

bool GoalPlan::fired(int row) const {
  return std::binary_search(fired_rows.begin(), fired_rows.end(), row);
}

}  // namespace mst::adapter
