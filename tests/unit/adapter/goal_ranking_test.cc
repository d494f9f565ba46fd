// Ranking of goals and grouping of referrals (docs/clinical-rules.md,
// "Ranking" and "Referrals"): high only for the goals that drive the pathway,
// means below ends, few high goals, pain relief as prompt as the pathway; one
// referral per discipline and urgency, nothing elective in an emergency one.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "considerations_fixture.h"
#include "mst/adapter/goals/goal_engine.h"
#include "plan_matchers.h"

namespace mst::adapter {
namespace {

using namespace testing;
using G = GoalCode;
using D = Discipline;

int high_goals(const GoalPlan& p) {
  int n = 0;
  for (const auto& g : p.goals) n += g.priority == Priority::kHigh ? 1 : 0;
  return n;
}

// Like mst-p01: renal cancer, ESCC 3, new leg weakness, SINS 10, severe pain,
// on targeted therapy, no bone-targeted agent, a solitary lesion.
Considerations mscc_patient() {
  auto c = stable_patient();
  set_cancer(c, "kidney", "Renal cell carcinoma", Radiosensitivity::kResistant);
  set_escc(c, EsccGrade::k3);
  set_sins(c, 10);
  set_pain(c, 7);
  set_survival(c, 18);
  add_new_deficit(c, "Lower limb weakness");
  c.treatments.clear();
  add_treatment(c, TreatmentKind::kTargeted, "Pazopanib", "MedicationRequest/pazopanib");
  return c;
}

TEST(GoalRanking, MsccEmergencyRanksTheCordAndWalkingHigh_NICE_NG234_Patchell) {
  const auto plan = propose(mscc_patient());
  ASSERT_TRUE(plan.emergency);
  EXPECT_EQ(plan.pathway, Pathway::kEmergency);
  EXPECT_EQ(plan.find(G::kPreserveNeurologicFunction)->priority, Priority::kHigh);
  EXPECT_EQ(plan.find(G::kImproveFunctionAmbulation)->priority, Priority::kHigh);
  // Every rule that touched these proposed them high before ranking.
  for (G g : {G::kDebulkTumor, G::kSupportCancerTreatment, G::kCorrectSpinalInstability,
              G::kPreventFracture, G::kPainRelief}) {
    ASSERT_NE(plan.find(g), nullptr) << code_of(g);
    EXPECT_NE(plan.find(g)->priority, Priority::kHigh) << code_of(g);
    EXPECT_FALSE(plan.find(g)->ranking.empty()) << code_of(g);
  }
  EXPECT_EQ(high_goals(plan), 2);
}

TEST(GoalRanking, RehabilitationAloneDoesNotMakeWalkingAnEmergencyEnd) {
  // Walking lost months ago (outside the Patchell window): the walking goal
  // comes from the rehabilitation rule only and is not a driver.
  auto c = mscc_patient();
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kNonAmbulatory, {"Observation/walk"}, day(2023, 12, 1)};
  c.quality_of_life.non_ambulatory_since = day(2023, 12, 1);
  c.neurology.deficits.clear();
  set_escc(c, EsccGrade::k3);
  set_survival(c, 2);
  const auto plan = propose(c);
  ASSERT_TRUE(plan.emergency);
  ASSERT_FALSE(plan.fired(16));
  ASSERT_NE(plan.find(G::kImproveFunctionAmbulation), nullptr);
  EXPECT_EQ(plan.find(G::kImproveFunctionAmbulation)->priority, Priority::kMedium);
}

TEST(GoalRanking, DebulkingRanksBelowNeurologicalPreservation_NOMS) {
  const auto plan = propose(mscc_patient());
  EXPECT_LT(plan.find(G::kDebulkTumor)->priority,
            plan.find(G::kPreserveNeurologicFunction)->priority);
  // Ranked down from what the rules proposed, and said why.
  EXPECT_FALSE(plan.find(G::kDebulkTumor)->ranking.empty());
  EXPECT_TRUE(contains(plan.find(G::kDebulkTumor)->ranking, "means to preserving"));

  // Grey zone (G2 medium) after surgery (G7 medium, row 19): still below.
  auto c = stable_patient();
  set_escc(c, EsccGrade::k1c);
  c.spinal_surgeries.push_back(
      SpinalSurgery{"Posterior decompression", day(2024, 2, 1), {"Procedure/op"}});
  const auto grey = propose(c);
  ASSERT_TRUE(grey.fired(8));
  ASSERT_TRUE(grey.fired(19));
  EXPECT_EQ(grey.find(G::kPreserveNeurologicFunction)->priority, Priority::kMedium);
  EXPECT_EQ(grey.find(G::kDebulkTumor)->priority, Priority::kLow);
}

TEST(GoalRanking, WalkingLostWithinWindowAndGrossInstabilityAreEnds_Patchell_SINS) {
  auto c = mscc_patient();
  set_sins(c, 14);
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kNonAmbulatory, {"Observation/walk"}, day(2024, 3, 4)};
  c.quality_of_life.non_ambulatory_since = day(2024, 3, 4);
  const auto plan = propose(c);
  ASSERT_TRUE(plan.fired(16));
  ASSERT_TRUE(plan.fired(10));
  EXPECT_EQ(plan.find(G::kPreserveNeurologicFunction)->priority, Priority::kHigh);
  EXPECT_EQ(plan.find(G::kImproveFunctionAmbulation)->priority, Priority::kHigh);
  EXPECT_EQ(plan.find(G::kCorrectSpinalInstability)->priority, Priority::kHigh);
  EXPECT_EQ(plan.find(G::kPreventFracture)->priority, Priority::kMedium);
  EXPECT_EQ(plan.find(G::kPainRelief)->priority, Priority::kMedium);
  EXPECT_EQ(high_goals(plan), 3);
}

TEST(GoalRanking, NeverMoreThanThreeHighGoals) {
  // Urgent pathway with four candidate ends: walking lost at an unknown time
  // (G2, G5), an unstable spine (G4, G1) and new back pain (G1).
  auto c = stable_patient();
  set_escc(c, EsccGrade::k1a);
  set_sins(c, 14);
  set_pain(c, 8);
  c.quality_of_life.new_back_pain = Fact<bool>{true, {"Condition/backpain"}, day(2024, 3, 4)};
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kNonAmbulatory, {"Observation/walk"}, day(2024, 3, 4)};
  const auto plan = propose(c);
  ASSERT_FALSE(plan.emergency);
  EXPECT_EQ(plan.pathway, Pathway::kUrgent);
  EXPECT_EQ(high_goals(plan), 3);
  EXPECT_EQ(plan.find(G::kPreserveNeurologicFunction)->priority, Priority::kHigh);
  EXPECT_EQ(plan.find(G::kImproveFunctionAmbulation)->priority, Priority::kHigh);
  EXPECT_EQ(plan.find(G::kCorrectSpinalInstability)->priority, Priority::kHigh);
  EXPECT_EQ(plan.find(G::kPainRelief)->priority, Priority::kMedium);
}

TEST(GoalRanking, PainReliefUrgencyFollowsThePathway) {
  // Emergency: at least asap, whatever the pain rule said.
  EXPECT_EQ(propose(mscc_patient()).find(G::kPainRelief)->urgency, Urgency::kAsap);
  // Planned: left as the rules proposed it.
  auto c = stable_patient();
  set_pain(c, 8);
  const auto planned = propose(c);
  EXPECT_EQ(planned.pathway, Pathway::kPlanned);
  EXPECT_EQ(planned.find(G::kPainRelief)->urgency, Urgency::kRoutine);
  EXPECT_TRUE(planned.find(G::kPainRelief)->ranking.empty());
  // Urgent (an unstable spine, row 10): at least urgent.
  auto u = stable_patient();
  set_pain(u, 4);
  set_sins(u, 14);
  const auto urgent = propose(u);
  EXPECT_EQ(urgent.pathway, Pathway::kUrgent);
  EXPECT_GE(urgent.find(G::kPainRelief)->urgency, Urgency::kUrgent);
  // Row 10 proposes G4, G3 and G1 high: stability is the end; fracture
  // prevention follows from the same stabilisation.
  EXPECT_EQ(urgent.find(G::kCorrectSpinalInstability)->priority, Priority::kHigh);
  EXPECT_EQ(urgent.find(G::kPreventFracture)->priority, Priority::kMedium);
}

TEST(Referrals, OnePerDisciplineAndUrgencyEachWithItsOwnRequests) {
  const auto plan = propose(mscc_patient());
  std::set<std::pair<D, Urgency>> seen;
  for (const auto& r : plan.referrals) {
    EXPECT_TRUE(seen.insert({r.to, r.priority}).second)
        << code_of(r.to) << ' ' << code_of(r.priority);
  }
  // The bone-agent discussion (row 18, elective) is its own routine request,
  // never inside the stat coordination of the ongoing treatment.
  const auto oncology = plan.referrals_to(D::kMedicalOncology);
  ASSERT_EQ(oncology.size(), 2u);
  EXPECT_EQ(oncology[0]->priority, Urgency::kStat);
  EXPECT_FALSE(any_request(oncology[0], "bone-targeted agent"));
  EXPECT_EQ(oncology[1]->priority, Urgency::kRoutine);
  EXPECT_TRUE(any_request(oncology[1], "bone-targeted agent"));
  EXPECT_TRUE(oncology[1]->after_emergency);
  EXPECT_TRUE(any_reason(oncology[1], "after the emergency"));
}

TEST(Referrals, NothingElectiveRidesAtStatAndEveryRoutineOneWaitsInAnEmergency) {
  const auto plan = propose(mscc_patient());
  for (const auto& r : plan.referrals) {
    EXPECT_EQ(r.after_emergency, r.priority == Urgency::kRoutine) << code_of(r.to);
    if (r.priority == Urgency::kRoutine) continue;
    EXPECT_FALSE(any_request(&r, "bone-targeted")) << code_of(r.to);
    EXPECT_FALSE(any_request(&r, "en bloc")) << code_of(r.to);
    EXPECT_FALSE(any_request(&r, "Rehabilitation")) << code_of(r.to);
  }
  // Outside an emergency nothing is marked as waiting.
  auto c = stable_patient();
  c.treatments.clear();
  for (const auto& r : propose(c).referrals) EXPECT_FALSE(r.after_emergency);
}

TEST(Referrals, EnBlocIsNotProposedInAnEmergency_Tomita) {
  auto c = stable_patient();
  set_survival(c, 24);
  ASSERT_TRUE(propose(c).fired(13));  // solitary, favourable, graded: fires
  add_new_deficit(c, "Lower limb weakness");
  const auto plan = propose(c);
  EXPECT_FALSE(plan.fired(13));
  for (const auto* r : plan.referrals_to(D::kSpineSurgery)) {
    EXPECT_FALSE(any_request(r, "en bloc"));
  }
  EXPECT_TRUE(any_note(plan, "after the emergency treatment"));
}

TEST(Referrals, EnBlocWaitsUntilCompressionAndStabilityAreGraded_Tomita) {
  auto c = stable_patient();
  set_survival(c, 24);
  c.neurology.escc.reset();
  EXPECT_FALSE(propose(c).fired(13));
  auto s = stable_patient();
  set_survival(s, 24);
  s.mechanics.sins_total.reset();
  const auto plan = propose(s);
  EXPECT_FALSE(plan.fired(13));
  EXPECT_TRUE(any_note(plan, "must be graded first"));
}

TEST(Referrals, EmergencyMriAlsoGradesCompressionAndScoresStability_NICE_NG234) {
  auto c = stable_patient();
  c.neurology.escc.reset();
  c.mechanics.sins_total.reset();
  add_new_deficit(c, "Lower limb weakness");
  const auto plan = propose(c);
  const auto imaging = plan.referrals_to(D::kDiagnosticRadiology);
  ASSERT_EQ(imaging.size(), 1u);
  EXPECT_EQ(imaging[0]->priority, Urgency::kStat);
  EXPECT_TRUE(any_request(imaging[0], "Whole-spine MRI"));
  EXPECT_TRUE(any_request(imaging[0], "Bilsky ESCC grade"));
  EXPECT_TRUE(any_request(imaging[0], "SINS components"));
}

TEST(Referrals, BackPainMriIsNotRequestedTwiceBesideTheEmergencyMri_NICE_NG234) {
  auto c = stable_patient();
  c.neurology.escc.reset();
  add_new_deficit(c, "Lower limb weakness");
  c.quality_of_life.new_back_pain = Fact<bool>{true, {"Condition/backpain"}, day(2024, 3, 4)};
  const auto plan = propose(c);
  ASSERT_TRUE(plan.fired(2));
  const auto imaging = plan.referrals_to(D::kDiagnosticRadiology);
  ASSERT_EQ(imaging.size(), 1u);
  EXPECT_EQ(imaging[0]->priority, Urgency::kStat);
  EXPECT_FALSE(any_request(imaging[0], "local pathway"));
}

TEST(Referrals, StabilityInAnEmergencyIsUrgentNotElective_NICE_NG234_ASTRO2024) {
  // Imaged after the onset (no new MRI), SINS not scored: the work-up is
  // urgent, not "after the emergency".
  auto c = stable_patient();
  add_new_deficit(c, "Radicular pain", day(2024, 3, 2));
  set_escc(c, EsccGrade::k2, day(2024, 3, 4));
  c.mechanics.sins_total.reset();
  const auto plan = propose(c);
  ASSERT_TRUE(plan.emergency);
  const auto imaging = plan.referrals_to(D::kDiagnosticRadiology);
  ASSERT_EQ(imaging.size(), 1u);
  EXPECT_EQ(imaging[0]->priority, Urgency::kUrgent);
  EXPECT_TRUE(any_request(imaging[0], "SINS"));
  // SINS 9 without pain or neurology is routine (row 9, P2) outside an
  // emergency, urgent inside one.
  auto m = stable_patient();
  set_sins(m, 9);
  set_escc(m, EsccGrade::k3);
  set_survival(m, 2);
  const auto urgent = propose(m);
  ASSERT_TRUE(urgent.emergency);
  ASSERT_NE(urgent.find(D::kSpineSurgery), nullptr);
  EXPECT_TRUE(any_request(urgent.find(D::kSpineSurgery), "stability"));
  EXPECT_EQ(urgent.find(D::kSpineSurgery)->priority, Urgency::kUrgent);
  auto calm = stable_patient();
  set_sins(calm, 9);
  EXPECT_EQ(propose(calm).find(D::kSpineSurgery)->priority, Urgency::kRoutine);
}

}  // namespace
}  // namespace mst::adapter
