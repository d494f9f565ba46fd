// Goals that fit the patient (issue #11 item 4; docs/clinical-rules.md, "The
// palliative pathway"): an established deficit gets no walking target, a
// short prognosis or an established deficit with poor performance status
// puts comfort first, poor performance status gates surgery, and a new
// deficit still gets the emergency.
#include <gtest/gtest.h>

#include <algorithm>

#include "considerations_fixture.h"
#include "mst/adapter/careplan/plan_summary.h"
#include "mst/adapter/goals/goal_engine.h"
#include "plan_matchers.h"

namespace mst::adapter {
namespace {

using namespace testing;
using G = GoalCode;
using D = Discipline;

// Complete paraplegia coded months ago (as G82.21 reads), walking lost then.
void add_established_paraplegia(Considerations& c, fhir::DateTime since = day(2023, 11, 1)) {
  c.neurology.deficits.push_back(
      NeurologicDeficit{"Complete paraplegia", since, false, {"Condition/paraplegia"}});
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kNonAmbulatory, {"Condition/paraplegia"}, since, false};
  c.quality_of_life.non_ambulatory_since = since;
}

bool has_target(const ProposedGoal& g, const std::string& code) {
  return std::any_of(g.targets.begin(), g.targets.end(),
                     [&](const Target& t) { return t.code == code; });
}

bool any_target_mentions(const ProposedGoal& g, const std::string& needle) {
  return std::any_of(g.targets.begin(), g.targets.end(),
                     [&](const Target& t) { return contains(t.description, needle); });
}

// The issue's patient: complete paraplegia for months with the compression
// that caused it, ECOG 4, about five weeks to live, severe pain.
Considerations issue_patient() {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3, day(2023, 10, 30));
  add_established_paraplegia(c);
  c.neurology.deficits.push_back(NeurologicDeficit{
      "Spinal cord compression", day(2023, 10, 30), false, {"Condition/mscc"}, true});
  set_ecog(c, 4);
  set_survival(c, 1.2);
  set_pain(c, 7);
  return c;
}

TEST(Palliative, EstablishedCompleteParaplegiaWeeksToLiveIsPalliativeNotAnEmergency_Patchell) {
  const auto plan = propose(issue_patient());
  ASSERT_TRUE(plan.applicable);
  EXPECT_FALSE(plan.emergency);
  EXPECT_EQ(code_of(plan.pathway), "palliative");
  EXPECT_FALSE(plan.fired(1));
  EXPECT_FALSE(plan.fired(5));
  // No dexamethasone framed as neurological preservation, no MSCC coordinator.
  EXPECT_FALSE(any_action(plan, "Dexamethasone"));
  EXPECT_FALSE(any_action(plan, "MSCC coordinator"));
  const ProposedGoal* g2 = plan.find(G::kPreserveNeurologicFunction);
  EXPECT_TRUE(g2 == nullptr || g2->priority != Priority::kHigh);
  EXPECT_TRUE(any_note(plan, "established complete deficit"));
}

TEST(Palliative, NoWalkingTargetButSeatingTransfersPressureAndContinence) {
  const auto plan = propose(issue_patient());
  const ProposedGoal* g5 = plan.find(G::kImproveFunctionAmbulation);
  ASSERT_NE(g5, nullptr);
  EXPECT_FALSE(has_target(*g5, "ambulatory-status"));
  EXPECT_FALSE(any_target_mentions(*g5, "walking"));
  for (const char* code : {"seating", "transfers", "pressure-area", "bladder-bowel"}) {
    EXPECT_TRUE(has_target(*g5, code)) << code;
  }
  EXPECT_TRUE(any_request_to(plan, D::kRehabilitation, "pressure-area care"));
}

TEST(Palliative, PainReliefIsTheTopGoalWithASingleFraction_ASTRO2017) {
  const auto plan = propose(issue_patient());
  const ProposedGoal* g1 = plan.find(G::kPainRelief);
  ASSERT_NE(g1, nullptr);
  EXPECT_EQ(g1->priority, Priority::kHigh);
  EXPECT_EQ(g1->urgency, Urgency::kUrgent);
  const auto lines = goal_lines(plan);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front().goal->code, G::kPainRelief);
  for (const auto& g : plan.goals) {
    if (g.code != G::kPainRelief && g.code != G::kImproveFunctionAmbulation) {
      EXPECT_NE(g.priority, Priority::kHigh) << code_of(g.code);
    }
  }
  const auto rt = plan.referrals_to(D::kRadiationOncology);
  ASSERT_FALSE(rt.empty());
  EXPECT_EQ(rt.front()->priority, Urgency::kUrgent);
  EXPECT_TRUE(any_request(rt.front(), "8 Gy x 1"));
  EXPECT_TRUE(any_action(plan, "palliative care team"));
}

TEST(Palliative, NoImagingThatChangesNothingAndNoOperation_NOMS) {
  auto c = issue_patient();
  c.neurology.escc.reset();
  c.mechanics = {};
  const auto plan = propose(c);
  EXPECT_EQ(code_of(plan.pathway), "palliative");
  EXPECT_TRUE(plan.referrals_to(D::kDiagnosticRadiology).empty());
  EXPECT_TRUE(plan.referrals_to(D::kSpineSurgery).empty());
  EXPECT_TRUE(any_note(plan, "would not change the plan"));
  // Still named as missing: the team sees what is not known.
  EXPECT_TRUE(any_missing(plan, "SINS"));
}

TEST(Palliative, ShortPrognosisAloneIsPalliativeWithoutImagingForSins_ASTRO2024) {
  auto c = stable_patient();
  c.neurology.escc.reset();
  c.mechanics = {};
  set_pain(c, 6);
  set_survival(c, 2);
  const auto plan = propose(c);
  EXPECT_FALSE(plan.emergency);
  EXPECT_EQ(code_of(plan.pathway), "palliative");
  EXPECT_TRUE(plan.referrals_to(D::kDiagnosticRadiology).empty());
  EXPECT_EQ(plan.find(G::kPainRelief)->priority, Priority::kHigh);
  EXPECT_EQ(plan.find(G::kDebulkTumor), nullptr);
}

TEST(Palliative, UnderFourWeeksNoRadiotherapyComfortFirst_ASTRO2024) {
  auto c = issue_patient();
  set_survival(c, 0.5);
  const auto plan = propose(c);
  EXPECT_EQ(code_of(plan.pathway), "palliative");
  EXPECT_TRUE(plan.referrals_to(D::kRadiationOncology).empty());
  EXPECT_FALSE(plan.find(G::kPainRelief)->cautions.empty());
}

TEST(Palliative, PathwayLineSaysPalliativeAndActionsNowHoldTheRadiotherapy) {
  const auto plan = propose(issue_patient());
  EXPECT_EQ(pathway_line(plan).rfind("Palliative pathway", 0), 0u) << pathway_line(plan);
  const auto now = actions_now(plan);
  EXPECT_TRUE(std::any_of(now.begin(), now.end(),
                          [](const ActionNow& a) { return contains(a.text, "8 Gy x 1"); }));
}

TEST(Palliative, ANewDeficitInAPoorPsPatientKeepsTheEmergency_NICE_NG234) {
  // Counter-case: ECOG 4 and weeks to live, but leg weakness since yesterday.
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3);
  set_ecog(c, 4);
  set_survival(c, 1.2);
  set_pain(c, 7);
  add_new_deficit(c, "Lower limb weakness");
  const auto plan = propose(c);
  EXPECT_TRUE(plan.emergency);
  EXPECT_EQ(plan.pathway, Pathway::kEmergency);
  EXPECT_TRUE(plan.fired(1));
  EXPECT_TRUE(any_action(plan, "Dexamethasone"));
  ASSERT_NE(plan.find(D::kRadiationOncology), nullptr);
  EXPECT_GE(plan.find(D::kRadiationOncology)->priority, Urgency::kAsap);
  EXPECT_EQ(plan.find(G::kPreserveNeurologicFunction)->priority, Priority::kHigh);
}

TEST(EstablishedDeficit, GoodPsLongPrognosisNoWalkingTargetStabilisationStillOffered_SINS) {
  // Counter-case: paraplegic for months, ECOG 2, 18 months, unstable spine.
  auto c = stable_patient();
  add_established_paraplegia(c);
  set_ecog(c, 2);
  set_survival(c, 18);
  set_sins(c, 14);
  set_pain(c, 5);
  const auto plan = propose(c);
  EXPECT_FALSE(plan.emergency);
  EXPECT_NE(code_of(plan.pathway), "palliative");
  const auto surgery = plan.referrals_to(D::kSpineSurgery);
  ASSERT_FALSE(surgery.empty());
  EXPECT_EQ(surgery.front()->snomed_code, "55705006");
  const ProposedGoal* g5 = plan.find(G::kImproveFunctionAmbulation);
  ASSERT_NE(g5, nullptr);
  EXPECT_FALSE(has_target(*g5, "ambulatory-status"));
  EXPECT_TRUE(has_target(*g5, "seating"));
}

TEST(PoorPerformanceStatus, GatesStabilisationSurgeryOpinionAndBraceInstead_NOMS_S) {
  auto c = stable_patient();
  set_ecog(c, 4);
  set_sins(c, 14);
  set_pain(c, 7);
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kWithAid, {"Observation/walk"}, day(2024, 3, 1), false};
  const auto plan = propose(c);
  EXPECT_FALSE(plan.emergency);
  const auto surgery = plan.referrals_to(D::kSpineSurgery);
  ASSERT_FALSE(surgery.empty());
  for (const Referral* r : surgery) {
    EXPECT_TRUE(r->snomed_code.empty()) << r->snomed_code;
    EXPECT_TRUE(any_request(r, "no operation is proposed"));
  }
  EXPECT_TRUE(any_request_to(plan, D::kRehabilitation, "brace"));
  EXPECT_TRUE(any_request_to(plan, D::kRadiationOncology, "8 Gy"));
  for (const auto& r : plan.referrals) {
    for (const auto& q : r.requests) EXPECT_FALSE(contains(q, "SBRT")) << q;
  }
}

TEST(PoorPerformanceStatus, NoImagingOnlyToScoreSins_NOMS_S) {
  auto c = stable_patient();
  set_ecog(c, 4);
  c.mechanics = {};
  const auto plan = propose(c);
  EXPECT_FALSE(any_request_to(plan, D::kDiagnosticRadiology, "SINS"));
  EXPECT_TRUE(any_missing(plan, "SINS"));
}

}  // namespace
}  // namespace mst::adapter
