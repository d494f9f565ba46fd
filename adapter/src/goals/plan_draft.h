// Accumulates what the rules propose and merges it into one GoalPlan: one
// goal per code (reasons append; the final priority comes from the ranking,
// ranking.h), one referral per discipline and urgency, preferences applied to
// referrals.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mst/adapter/goals/assessment.h"
#include "mst/adapter/goals/goal_plan.h"

namespace mst::adapter::detail {

// A SNOMED CT procedure code verified in fhir-coding.md section 12.
struct Snomed {
  std::string_view code;
  std::string_view display;
};
inline constexpr Snomed kDecompression{"10836008", "Decompression of spinal cord"};
inline constexpr Snomed kArthrodesis{"55705006", "Spinal arthrodesis"};
inline constexpr Snomed kRadiotherapy{"108290001", "Radiation oncology AND/OR radiotherapy"};

class PlanDraft {
 public:
  explicit PlanDraft(const Assessment& a) : a_(a) {}

  // Proposes `g` for reason `r`. Missing inputs make the goal partial.
  void goal(GoalCode g, Priority p, Urgency u, RuleFiring r,
            const std::vector<std::string>& missing = {});
  bool has_goal(GoalCode g) const { return goals_.count(g) != 0; }
  ProposedGoal* find_goal(GoalCode g);
  void caution(GoalCode g, const std::string& text);
  void drop_goal(GoalCode g) { goals_.erase(g); }

  // Proposes a referral; merged per discipline and urgency, so a request
  // never rides at another request's urgency. Withheld (and recorded) when
  // the patient declined what the discipline offers.
  void refer(Discipline d, Urgency u, const std::string& request, const std::string& reason,
             const std::vector<GoalCode>& serves, const mappings::Evidence& evidence,
             const Snomed* code = nullptr);
  // The referrals to `d`, most urgent first.
  std::vector<Referral*> referrals_to(Discipline d);
  bool has_referral(Discipline d, Urgency u) const { return referrals_.count({d, u}) != 0; }
  // True when a referral to `d` was withheld (in full, or its operation)
  // because the patient declined what it offers.
  bool withheld(Discipline d) const { return withheld_.count(d) != 0; }
  // Records an option offered in place of a declined one, for the plan text.
  void offer_instead(const std::string& text) {
    if (std::find(alternatives_.begin(), alternatives_.end(), text) == alternatives_.end())
      alternatives_.push_back(text);
  }
  // Adds a discipline to the team without a referral (e.g. for coordination).
  void team(Discipline d, const std::string& reason);

  void action(int row, const std::string& text, const std::string& source, Urgency u,
              const mappings::Evidence& evidence);
  void note(const std::string& text);
  void missing(const std::string& input, const std::string& consequence);
  void fired(int row);
  bool has_fired(int row) const;
  void mark_emergency() { emergency_ = true; }
  bool emergency() const { return emergency_; }
  void mark_palliative() { palliative_ = true; }
  bool palliative() const { return palliative_; }

  std::vector<ProposedGoal*> goals();
  std::vector<Referral*> referrals();

  // Applies preferences' effects, targets and ordering; returns the plan.
  GoalPlan finish();

 private:
  struct Withheld {
    std::vector<std::string> requests;
    std::vector<GoalCode> serves;
  };
  // Declining an operation keeps the surgeon's opinion only where there is a
  // question to answer: a compression, an emergency, or a spine not known to
  // be stable.
  bool surgical_opinion_needed() const;
  // The MDT's "not for surgery": withholds the surgical referrals outside an
  // emergency, asks the team to reconsider in one.
  void apply_not_for_surgery();
  void add_targets(ProposedGoal& g) const;
  // Seating, transfers, pressure-area and bladder/bowel care: function from
  // bed and chair when walking is not a realistic target.
  void add_care_targets(ProposedGoal& g) const;

  // Discipline order, then most urgent first.
  struct ReferralOrder {
    bool operator()(const std::pair<Discipline, Urgency>& x,
                    const std::pair<Discipline, Urgency>& y) const {
      return x.first != y.first ? x.first < y.first : x.second > y.second;
    }
  };

  const Assessment& a_;
  std::map<GoalCode, ProposedGoal> goals_;
  std::map<std::pair<Discipline, Urgency>, Referral, ReferralOrder> referrals_;
  std::map<Discipline, std::vector<std::string>> team_;
  std::map<Discipline, Withheld> withheld_;
  std::vector<std::string> alternatives_;
  // What the MDT's "not for surgery" withheld; whether it was reopened.
  std::vector<std::string> mdt_withheld_;
  bool mdt_reopened_ = false;
  std::vector<SuggestedAction> actions_;
  std::vector<std::string> notes_;
  std::vector<MissingInput> missing_;
  std::vector<int> fired_;
  bool emergency_ = false;
  bool palliative_ = false;
};

}  // namespace mst::adapter::detail
