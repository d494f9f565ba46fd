// Rule-by-rule tests of the goal engine. Each test is named for the row of
// clinical-decision.md section 9 it exercises and the source the row rests on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "considerations_fixture.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/mappings/extract.h"
#include "plan_matchers.h"

namespace mst::adapter {
namespace {

using namespace testing;
using ::testing::Contains;
using G = GoalCode;
using D = Discipline;

TEST(GoalRules, AGoalNamesTheRowsAndTheSourcesItRestsOn) {
  ProposedGoal g;
  g.reasons.push_back({.row = 3, .source = "NOMS framework, Laufer 2013 [R6, R7]; Patchell [R35]"});
  g.reasons.push_back({.row = 0, .source = "team synthesis"});
  g.reasons.push_back({.row = 3, .source = "Patchell 2005 [R35]"});
  EXPECT_EQ(g.fired_rows(), (std::vector<int>{0, 3}));
  EXPECT_EQ(g.cited_keys(), (std::vector<std::string>{"R35", "R6", "R7"}));
  EXPECT_TRUE(ProposedGoal{}.cited_keys().empty());
}

TEST(GoalRules, BaselineStablePatientIsRoutine) {
  auto plan = propose(stable_patient());
  ASSERT_TRUE(plan.applicable);
  EXPECT_FALSE(plan.emergency);
  EXPECT_EQ(plan.urgency, Urgency::kRoutine);
  EXPECT_EQ(plan.find(G::kPreserveNeurologicFunction), nullptr);
  EXPECT_EQ(plan.find(D::kSpineSurgery), nullptr);
  EXPECT_TRUE(plan.fired(20));
}

TEST(GoalRules, Row1_NewDeficitIsEmergency_NICE_NG234) {
  auto c = stable_patient();
  add_new_deficit(c, "Lower limb weakness");
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(1));
  EXPECT_TRUE(plan.emergency);
  EXPECT_EQ(plan.urgency, Urgency::kStat);
  const auto* g2 = plan.find(G::kPreserveNeurologicFunction);
  ASSERT_NE(g2, nullptr);
  EXPECT_EQ(g2->priority, Priority::kHigh);
  EXPECT_EQ(g2->urgency, Urgency::kStat);
  EXPECT_THAT(g2->fired_rows(), Contains(1));
  EXPECT_THAT(g2->cited_keys(), Contains("R26"));  // NICE NG234
  // The onset is said only in words.
  EXPECT_TRUE(contains(g2->rationale(), "lower limb weakness since 2024-03-04"));
  EXPECT_EQ(g2->evidence, Evidence{"Condition/deficit"});
  ASSERT_NE(plan.find(G::kImproveFunctionAmbulation), nullptr);
  EXPECT_EQ(plan.find(G::kImproveFunctionAmbulation)->urgency, Urgency::kStat);
  EXPECT_EQ(plan.find(D::kSpineSurgery)->priority, Urgency::kStat);
  EXPECT_EQ(plan.find(D::kRadiationOncology)->priority, Urgency::kStat);
  // The ESCC on file (2024-03-01) predates the deficit: MRI within 24 h.
  EXPECT_TRUE(any_request(plan.find(D::kDiagnosticRadiology), "Whole-spine MRI within 24 h"));
  EXPECT_TRUE(any_action(plan, "Dexamethasone 16 mg"));
  EXPECT_TRUE(any_action(plan, "MSCC coordinator"));
  EXPECT_TRUE(any_action(plan, "immobilise"));
}

TEST(GoalRules, Row1_ImagingAfterOnsetNeedsNoNewMriAndMayStepDown_NICE_NG234) {
  auto c = stable_patient();
  add_new_deficit(c, "Radicular pain", day(2024, 3, 2));
  set_escc(c, EsccGrade::k1a, day(2024, 3, 4));
  auto plan = propose(c);
  EXPECT_EQ(plan.urgency, Urgency::kStat);
  EXPECT_EQ(plan.find(D::kDiagnosticRadiology), nullptr);
  EXPECT_THAT(plan.find(G::kPreserveNeurologicFunction)->fired_rows(), Contains(1));
  EXPECT_TRUE(contains(plan.find(G::kPreserveNeurologicFunction)->rationale(),
                       "if MSCC is excluded the team may step down"));
}

TEST(GoalRules, Row1_HaematologicalDexamethasoneThenHaematologyMdt_NICE_NG234) {
  auto c = stable_patient();
  set_cancer(c, "myeloma", "Multiple myeloma", Radiosensitivity::kSensitive, true);
  add_new_deficit(c, "Urinary retention");
  auto plan = propose(c);
  EXPECT_TRUE(any_action(plan, "discuss with the haematology MDT"));
}

TEST(GoalRules, Row2_NewBackPainAloneIsUrgent_NICE_CG75) {
  auto c = stable_patient();
  set_pain(c, 6);
  c.quality_of_life.new_back_pain = Fact<bool>{true, {"Condition/backpain"}, day(2024, 3, 3)};
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(2));
  EXPECT_FALSE(plan.emergency);
  EXPECT_EQ(plan.urgency, Urgency::kUrgent);
  const auto* g1 = plan.find(G::kPainRelief);
  ASSERT_NE(g1, nullptr);
  EXPECT_EQ(g1->priority, Priority::kHigh);
  EXPECT_EQ(g1->urgency, Urgency::kUrgent);
  EXPECT_THAT(g1->fired_rows(), Contains(2));
  EXPECT_THAT(g1->cited_keys(), Contains("R27"));  // NICE CG75
  EXPECT_EQ(plan.find(D::kDiagnosticRadiology)->priority, Urgency::kUrgent);
  EXPECT_EQ(plan.find(G::kPreventFracture)->urgency, Urgency::kUrgent);
}

TEST(GoalRules, Row3_HighGradeRadioresistantOperable_SeparationSurgery_NOMS_Patchell) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k2);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(3));
  EXPECT_TRUE(plan.emergency);
  EXPECT_EQ(plan.urgency, Urgency::kAsap);
  const auto* surgery = plan.find(D::kSpineSurgery);
  ASSERT_NE(surgery, nullptr);
  EXPECT_EQ(surgery->priority, Urgency::kAsap);
  EXPECT_EQ(surgery->snomed_code, "10836008");
  const auto* g7 = plan.find(G::kDebulkTumor);
  ASSERT_NE(g7, nullptr);
  // Debulking is the means to the cord: it ranks below it (clinical-rules.md, Ranking).
  EXPECT_EQ(g7->priority, Priority::kMedium);
  EXPECT_EQ(g7->certainty, Certainty::kConfirmed);
  EXPECT_THAT(g7->fired_rows(), Contains(3));
  EXPECT_THAT(g7->cited_keys(), Contains("R35"));  // Patchell 2005
  EXPECT_TRUE(any_request(plan.find(D::kRadiationOncology), "SBRT after separation surgery"));
  EXPECT_NE(plan.find(D::kRehabilitation), nullptr);
}

TEST(GoalRules, Row3_MissingHistologyIsNotFavourable_NOMS) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3);
  set_cancer(c, "unknown", "Carcinoma of unknown primary", Radiosensitivity::kUnknown);
  auto plan = propose(c);
  const auto* g2 = plan.find(G::kPreserveNeurologicFunction);
  ASSERT_NE(g2, nullptr);
  EXPECT_EQ(g2->certainty, Certainty::kPartial);
  EXPECT_EQ(g2->urgency, Urgency::kAsap);
  EXPECT_TRUE(any_missing(plan, "radiosensitivity"));
  // Neither path is asserted: both specialties are asked, no decompression code.
  EXPECT_TRUE(any_request(plan.find(D::kSpineSurgery), "separation surgery or radiotherapy first"));
  EXPECT_EQ(plan.find(D::kSpineSurgery)->snomed_code, "");
  EXPECT_EQ(plan.find(D::kRadiationOncology)->priority, Urgency::kAsap);
}

TEST(GoalRules, Row3_MissingPerformanceStatusAndSurvivalAreNamed_Patchell) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k2);
  c.quality_of_life.ecog.reset();
  c.life_expectancy.stated_months.reset();
  auto plan = propose(c);
  EXPECT_EQ(plan.find(G::kPreserveNeurologicFunction)->certainty, Certainty::kPartial);
  EXPECT_TRUE(any_missing(plan, "fitness for surgery"));
  EXPECT_TRUE(any_missing(plan, "at least 3 months"));
}

TEST(GoalRules, Row4_RadiosensitiveHighGradeGetsRadiotherapyNotSurgeryFirst_NOMS) {
  auto c = stable_patient();
  set_cancer(c, "lymphoma", "Diffuse large B-cell lymphoma", Radiosensitivity::kSensitive, true);
  set_escc(c, EsccGrade::k3);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(4));
  EXPECT_FALSE(plan.fired(3));
  EXPECT_EQ(plan.find(D::kSpineSurgery), nullptr);
  EXPECT_EQ(plan.find(D::kRadiationOncology)->priority, Urgency::kAsap);
  // Haematology, not medical oncology, leads a lymphoma's systemic treatment.
  ASSERT_NE(plan.find(D::kHaematology), nullptr);
  EXPECT_EQ(plan.find(D::kHaematology)->priority, Urgency::kAsap);
  EXPECT_EQ(plan.find(D::kMedicalOncology), nullptr);
  ASSERT_NE(plan.find(G::kSupportCancerTreatment), nullptr);
  EXPECT_TRUE(any_note(plan, "excluded from the Patchell trial and SCORAD"));
}

TEST(GoalRules, Row4_HaematologicalWithUnknownRadiosensitivityStillNoSurgeryFirst) {
  auto c = stable_patient();
  set_cancer(c, "leukaemia", "Leukaemia", Radiosensitivity::kUnknown, true);
  set_escc(c, EsccGrade::k2);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(4));
  EXPECT_EQ(plan.find(D::kSpineSurgery), nullptr);
}

TEST(GoalRules, Row5_ShortSurvivalRadiotherapyFirst_QS56_SCORAD) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k2);
  set_survival(c, 2);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(5));
  EXPECT_FALSE(plan.fired(3));
  EXPECT_EQ(plan.find(D::kSpineSurgery), nullptr);
  const auto* rt = plan.find(D::kRadiationOncology);
  ASSERT_NE(rt, nullptr);
  EXPECT_EQ(rt->priority, Urgency::kAsap);
  EXPECT_TRUE(any_request(rt, "within 24 h of the decision"));
  EXPECT_EQ(plan.find(G::kPainRelief)->priority, Priority::kMedium);
  EXPECT_EQ(plan.find(G::kPainRelief)->urgency, Urgency::kAsap);
  EXPECT_THAT(plan.find(G::kPreserveNeurologicFunction)->fired_rows(), Contains(5));
  EXPECT_EQ(plan.assessment.thresholds.patchell_min_survival_months, 3);
  EXPECT_TRUE(contains(plan.find(G::kPreserveNeurologicFunction)->rationale(),
                       "expected survival is under 3 months"));
}

TEST(GoalRules, Row5_PoorPerformanceStatusRoutesToRadiotherapy_NOMS_S) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k2);
  set_ecog(c, 4);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(5));
  EXPECT_TRUE(plan.fired(15));
  EXPECT_EQ(plan.find(D::kSpineSurgery), nullptr);
  EXPECT_THAT(plan.find(G::kPreserveNeurologicFunction)->fired_rows(), Contains(5));
  EXPECT_TRUE(contains(plan.find(G::kPreserveNeurologicFunction)->rationale(), "ECOG 4"));
}

TEST(GoalRules, Row5_PoorPerformanceWithNewDeficitLeavesFitnessToSurgeon) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3, day(2024, 3, 5));
  set_ecog(c, 4);
  add_new_deficit(c, "Paraparesis");
  auto plan = propose(c);
  EXPECT_FALSE(plan.fired(5));
  EXPECT_TRUE(any_missing(plan, "may reflect the new deficit"));
  // An urgent opinion (rows 3/5 undecided), never a stat decompression: poor
  // performance status lowers surgical candidacy (NOMS 'S'; rw-11).
  EXPECT_EQ(plan.find(D::kSpineSurgery)->priority, Urgency::kAsap);
  EXPECT_FALSE(any_request_to(plan, D::kSpineSurgery, "(decompression and stabilisation)"));
  EXPECT_TRUE(any_note(plan, "left to the spine surgeon"));
}

TEST(GoalRules, Row6_LowGradeRadioresistantFitStable_SBRT_NOMS_SC24) {
  auto plan = propose(stable_patient());
  EXPECT_TRUE(plan.fired(6));
  const auto* g7 = plan.find(G::kDebulkTumor);
  ASSERT_NE(g7, nullptr);
  EXPECT_EQ(g7->priority, Priority::kMedium);
  EXPECT_EQ(g7->urgency, Urgency::kRoutine);
  EXPECT_THAT(g7->fired_rows(), Contains(6));
  EXPECT_THAT(g7->cited_keys(), Contains("R37"));  // CCTG SC.24
  EXPECT_TRUE(any_request(plan.find(D::kRadiationOncology), "SBRT assessment"));
  // Pain-free (score 0): no pain goal from this row.
  EXPECT_EQ(plan.find(G::kPainRelief), nullptr);
}

TEST(GoalRules, Row6_PoorPerformanceStatusNoSbrt_SC24) {
  auto c = stable_patient();
  set_ecog(c, 3);
  auto plan = propose(c);
  EXPECT_FALSE(plan.fired(6));
  EXPECT_TRUE(any_note(plan, "SBRT for durable control"));
}

TEST(GoalRules, Row7_LowGradeRadiosensitive_cEBRT_NOMS) {
  auto c = stable_patient();
  set_cancer(c, "breast", "Breast carcinoma", Radiosensitivity::kSensitive);
  set_pain(c, 5);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(7));
  EXPECT_FALSE(plan.fired(6));
  EXPECT_NE(plan.find(G::kPainRelief), nullptr);
  EXPECT_TRUE(any_request(plan.find(D::kRadiationOncology), "cEBRT"));
  EXPECT_EQ(plan.find(D::kRadiationOncology)->snomed_code, "108290001");
}

TEST(GoalRules, Row8_Escc1cGreyZoneGoesToMdt_Bilsky) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k1c);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(8));
  EXPECT_FALSE(plan.emergency);
  EXPECT_EQ(plan.find(G::kPreserveNeurologicFunction)->priority, Priority::kMedium);
  EXPECT_TRUE(any_request(plan.find(D::kSpineSurgery), "MDT discussion of ESCC 1c"));
  EXPECT_TRUE(any_request(plan.find(D::kRadiationOncology), "MDT discussion of ESCC 1c"));
}

TEST(GoalRules, Row9_Sins7to12SurgicalConsultation_SOSG) {
  auto c = stable_patient();
  set_sins(c, 9);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(9));
  const auto* g4 = plan.find(G::kCorrectSpinalInstability);
  ASSERT_NE(g4, nullptr);
  EXPECT_EQ(g4->priority, Priority::kMedium);
  EXPECT_EQ(g4->urgency, Urgency::kRoutine);
  EXPECT_THAT(g4->fired_rows(), Contains(9));
  EXPECT_THAT(g4->cited_keys(), Contains("R1"));  // SINS, SOSG Fisher 2010
  EXPECT_EQ(plan.find(D::kSpineSurgery)->priority, Urgency::kRoutine);
  EXPECT_NE(plan.find(G::kPreventFracture), nullptr);
}

TEST(GoalRules, Row9_SevereMechanicalPainRaisesToUrgent_SOSG) {
  auto c = stable_patient();
  set_sins(c, 11);
  set_pain(c, 8);
  c.quality_of_life.mechanical_pain = true;
  auto plan = propose(c);
  EXPECT_EQ(plan.find(G::kCorrectSpinalInstability)->urgency, Urgency::kUrgent);
  EXPECT_EQ(plan.find(G::kCorrectSpinalInstability)->priority, Priority::kHigh);  // P1
  EXPECT_EQ(plan.find(D::kSpineSurgery)->priority, Urgency::kUrgent);
}

TEST(GoalRules, Row10_Sins13OrMoreUrgentStabilisation_SOSG_NOMS_M) {
  auto c = stable_patient();
  set_sins(c, 14);
  set_pain(c, 7);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(10));
  EXPECT_FALSE(plan.fired(9));
  const auto* g4 = plan.find(G::kCorrectSpinalInstability);
  ASSERT_NE(g4, nullptr);
  EXPECT_EQ(g4->priority, Priority::kHigh);
  EXPECT_EQ(g4->urgency, Urgency::kUrgent);
  EXPECT_EQ(plan.find(G::kPainRelief)->urgency, Urgency::kUrgent);
  EXPECT_EQ(plan.find(D::kSpineSurgery)->snomed_code, "55705006");
  EXPECT_EQ(plan.urgency, Urgency::kUrgent);
}

TEST(GoalRules, Row10_SubluxationAloneIsUnstable_SOSG) {
  auto c = stable_patient();
  c.mechanics.sins_total.reset();
  c.mechanics.subluxation = true;
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(10));
}

TEST(GoalRules, Row11_PainfulFractureWithoutInstabilityAugmentation_NOMS_CAFE) {
  auto c = stable_patient();
  set_sins(c, 6);
  set_pain(c, 6);
  c.quality_of_life.mechanical_pain = true;
  c.mechanics.pathological_fracture = true;
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(11));
  const auto* ir = plan.find(D::kInterventionalRadiology);
  ASSERT_NE(ir, nullptr);
  EXPECT_TRUE(any_request(ir, "vertebroplasty or kyphoplasty"));
  EXPECT_EQ(plan.find(G::kPreventFracture)->certainty, Certainty::kConfirmed);
}

TEST(GoalRules, Row11_NotProposedWithHighGradeCompression) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k2);
  set_pain(c, 6);
  c.quality_of_life.mechanical_pain = true;
  c.mechanics.pathological_fracture = true;
  auto plan = propose(c);
  EXPECT_FALSE(plan.fired(11));
  EXPECT_EQ(plan.find(D::kInterventionalRadiology), nullptr);
  EXPECT_TRUE(any_note(plan, "Vertebral augmentation (rule table row 11) is not proposed"));
}

TEST(GoalRules, Row12_PainfulUncomplicatedMetastasisEbrt_ASTRO_ESMO) {
  auto c = stable_patient();
  set_pain(c, 6);
  set_survival(c, 4);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(12));
  const auto* g1 = plan.find(G::kPainRelief);
  ASSERT_NE(g1, nullptr);
  EXPECT_THAT(g1->fired_rows(), Contains(12));
  EXPECT_TRUE(contains(g1->rationale(), "single 8 Gy fraction"));
  EXPECT_TRUE(contains(g1->rationale(), "suits the short prognosis"));
  ASSERT_EQ(g1->targets.size(), 1u);
  EXPECT_EQ(g1->targets[0].code, "72514-3");
  EXPECT_EQ(g1->targets[0].high, 3);
}

TEST(GoalRules, Row12_SbrtConsideredWhenSc24SelectionMet) {
  auto c = stable_patient();
  set_pain(c, 5);
  auto plan = propose(c);
  EXPECT_THAT(plan.find(G::kPainRelief)->fired_rows(), Contains(12));
  EXPECT_TRUE(contains(plan.find(G::kPainRelief)->rationale(), "SBRT may be considered"));
}

TEST(GoalRules, Row13_SolitaryMetastasisFavourablePrognosisExcisional_Tomita_Tokuhashi) {
  auto c = stable_patient();
  set_survival(c, 24);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(13));
  EXPECT_TRUE(any_request(plan.find(D::kSpineSurgery), "excisional (en bloc)"));
  EXPECT_THAT(plan.find(G::kDebulkTumor)->fired_rows(), Contains(13));
  EXPECT_TRUE(contains(plan.find(G::kDebulkTumor)->rationale(), "is not proof"));
}

TEST(GoalRules, Row13_DeclinedSurgeryFiresButWithholdsTheOperation) {
  auto c = stable_patient();
  set_survival(c, 60);
  add_preference(c, PreferenceKind::kDeclinesSurgery, "No operation");
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(13));
  EXPECT_FALSE(any_request(plan.find(D::kSpineSurgery), "excisional (en bloc)"));
  EXPECT_TRUE(any_note(plan, "excisional (en bloc) surgery"));
}

TEST(GoalRules, Row13_NotWithVisceralMetastases) {
  auto c = stable_patient();
  set_survival(c, 24);
  c.other_metastases.visceral = true;
  auto plan = propose(c);
  EXPECT_FALSE(plan.fired(13));
}

TEST(GoalRules, Row13_TokuhashiNineToElevenNeedsSingleVertebra_Tokuhashi2005) {
  auto c = stable_patient();
  c.life_expectancy.stated_months.reset();
  c.life_expectancy.tokuhashi.complete = true;
  c.life_expectancy.tokuhashi.total = 10;
  c.life_expectancy.tokuhashi.evidence = {"Observation/tokuhashi"};
  EXPECT_TRUE(propose(c).fired(13));
  set_lesions(c, {"T8", "T9"});
  EXPECT_FALSE(propose(c).fired(13));
}

TEST(GoalRules, Row14_PoorPrognosisDeEscalates_Tokuhashi_ASTRO) {
  auto c = stable_patient();
  set_survival(c, 4);
  set_sins(c, 9);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(14));
  EXPECT_TRUE(any_note(plan, "least burdensome"));
  EXPECT_EQ(plan.find(G::kDebulkTumor)->priority, Priority::kLow);
  EXPECT_TRUE(any_reason(plan.find(D::kSpineSurgery), "only if it clearly relieves pain"));
  EXPECT_TRUE(any_reason(plan.find(D::kRadiationOncology), "single 8 Gy fraction"));
}

TEST(GoalRules, Row15_SevereAnaemiaCallsForOptimisation_NOMS_S) {
  auto c = stable_patient();
  c.general_condition.comorbidities.push_back(Comorbidity{ComorbidityKind::kAnaemia,
                                                          "anaemia",
                                                          "haemoglobin 7.4 g/dL below 8.0",
                                                          true,
                                                          {"Observation/hb"}});
  set_sins(c, 10);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(15));
  EXPECT_TRUE(any_action(plan, "correct the anaemia before surgery"));
  EXPECT_TRUE(any_reason(plan.find(D::kSpineSurgery), "Surgical candidacy lowered"));
  EXPECT_THAT(plan.find(G::kCorrectSpinalInstability)->fired_rows(), Contains(9));
  EXPECT_TRUE(contains(plan.find(G::kCorrectSpinalInstability)->rationale(),
                       "surgical candidacy is lowered"));
}

TEST(GoalRules, Row16_WalkingLostWithin48hUrgentDecompression_Patchell) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3, day(2024, 3, 5));
  set_lesions(c, {"T8", "T9"});
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kNonAmbulatory, {"Observation/walk"}, day(2024, 3, 4)};
  c.quality_of_life.non_ambulatory_since = day(2024, 3, 4);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(16));
  EXPECT_TRUE(plan.fired(1));  // loss of walking is itself a new neurological symptom
  const auto* g5 = plan.find(G::kImproveFunctionAmbulation);
  ASSERT_NE(g5, nullptr);
  EXPECT_EQ(g5->urgency, Urgency::kStat);
  EXPECT_EQ(g5->certainty, Certainty::kConfirmed);
  EXPECT_THAT(g5->fired_rows(), Contains(16));
  EXPECT_THAT(g5->cited_keys(), Contains("R35"));  // Patchell 2005
  EXPECT_TRUE(contains(g5->rationale(), "62% vs 19%"));
  EXPECT_TRUE(any_request(plan.find(D::kSpineSurgery), "Urgent decompressive surgery"));
  ASSERT_EQ(g5->targets.size(), 2u);
  EXPECT_EQ(g5->targets[0].detail_text, "Regains walking, with or without an aid");
}

TEST(GoalRules, Row16_MoreThan48hIsOutsideThePatchellWindow) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3);
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kNonAmbulatory, {"Observation/walk"}, day(2024, 2, 20)};
  c.quality_of_life.non_ambulatory_since = day(2024, 2, 20);
  auto plan = propose(c);
  EXPECT_FALSE(plan.fired(16));
  EXPECT_FALSE(plan.fired(1));
  EXPECT_TRUE(any_note(plan, "outside the Patchell trial's window"));
  EXPECT_TRUE(plan.fired(3));  // the compression itself still gets its urgent pathway
}

TEST(GoalRules, Row16_UnknownOnsetIsUrgentAndNamed) {
  auto c = stable_patient();
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kNonAmbulatory, {"Observation/walk"}, day(2024, 3, 1)};
  auto plan = propose(c);
  EXPECT_FALSE(plan.fired(16));
  EXPECT_EQ(plan.urgency, Urgency::kUrgent);
  EXPECT_TRUE(any_missing(plan, "time walking was lost"));
}

TEST(GoalRules, Row17_OngoingChemotherapyDefersNonUrgentSpineTreatment_SourcePrinciple) {
  auto c = stable_patient();
  add_treatment(c, TreatmentKind::kChemotherapy, "Docetaxel");
  set_sins(c, 9);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(17));
  const auto* g6 = plan.find(G::kSupportCancerTreatment);
  ASSERT_NE(g6, nullptr);
  EXPECT_EQ(g6->priority, Priority::kMedium);
  EXPECT_EQ(g6->urgency, Urgency::kRoutine);
  EXPECT_TRUE(any_reason(plan.find(D::kSpineSurgery), "is not interrupted"));
  EXPECT_TRUE(any_note(plan, "scheduled around it"));
  EXPECT_TRUE(any_request(plan.find(D::kMedicalOncology), "chemotherapy (Docetaxel)"));
}

// Rows 17 and 18 with treatment read the way EHRs record it: only
// MedicationAdministrations (pemetrexed, zoledronic acid), no CarePlan.
TEST(GoalRules, Row17And18_TreatmentFromMedicationAdministrations_SourcePrinciple_ESMO2020) {
  auto c = stable_patient();
  c.treatments.clear();
  auto admin = [](const std::string& id, const std::string& rxnorm_or_atc, const std::string& code,
                  const std::string& date) {
    return R"({"resourceType":"MedicationAdministration","id":")" + id +
           R"(","status":"completed","subject":{"reference":"Patient/p1"},)"
           R"("medicationCodeableConcept":{"coding":[{"system":")" +
           rxnorm_or_atc + R"(","code":")" + code + R"("}]},"effectiveDateTime":")" + date +
           R"("})";
  };
  mappings::PatientRecord::Builder b("p1");
  for (const auto& r :
       {admin("a1", "http://www.nlm.nih.gov/research/umls/rxnorm", "1728072", "2024-02-20"),
        admin("a2", "http://www.nlm.nih.gov/research/umls/rxnorm", "1728072", "2024-02-27"),
        admin("z1", "http://www.whocc.no/atc", "M05BA08", "2024-01-10")}) {
    b.add_document(fhir::JsonDocument::parse(r));
  }
  const auto tables =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  c.treatments = mappings::extract(b.build(), tables, c.as_of).treatments;
  ASSERT_EQ(c.treatments.size(), 2u);
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(17));
  ASSERT_NE(plan.find(G::kSupportCancerTreatment), nullptr);
  EXPECT_TRUE(any_request(plan.find(D::kMedicalOncology), "chemotherapy"));
  EXPECT_FALSE(plan.fired(18));  // a bone-targeted agent is already given
}

TEST(GoalRules, Row18_BoneTargetedAgentSuggested_ESMO2020) {
  auto c = stable_patient();
  c.treatments.clear();
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(18));
  EXPECT_EQ(plan.find(G::kPreventFracture)->priority, Priority::kLow);
  ASSERT_NE(plan.find(G::kSupportCancerTreatment), nullptr);  // "G3 (and G6)"
  EXPECT_TRUE(any_request(plan.find(D::kMedicalOncology), "zoledronate or denosumab"));
}

TEST(GoalRules, Row18_ProstateNeedsCastrationStatusSoTheTeamDecides_ESMO2020) {
  auto c = stable_patient();
  c.treatments.clear();
  set_cancer(c, "prostate", "Prostate adenocarcinoma", Radiosensitivity::kSensitive);
  auto plan = propose(c);
  EXPECT_FALSE(plan.fired(18));
  EXPECT_TRUE(any_note(plan, "castration-resistant"));
}

TEST(GoalRules, Row18_NotWhenAgentAlreadyGiven) {
  EXPECT_FALSE(propose(stable_patient()).fired(18));
}

TEST(GoalRules, Row18_UnknownSurvivalIsNamedNotAssumed) {
  auto c = stable_patient();
  c.treatments.clear();
  c.life_expectancy.stated_months.reset();
  auto plan = propose(c);
  EXPECT_FALSE(plan.fired(18));
  EXPECT_TRUE(any_missing(plan, "bone-targeted agent"));
  // Breast cancer qualifies without a survival estimate (ESMO 2020).
  set_cancer(c, "breast", "Breast carcinoma", Radiosensitivity::kSensitive);
  EXPECT_TRUE(propose(c).fired(18));
}

TEST(GoalRules, Row19_PostoperativeRadiotherapy_ASTRO2024) {
  auto c = stable_patient();
  c.spinal_surgeries.push_back(
      SpinalSurgery{"Decompression of spinal cord", day(2024, 2, 20), {"Procedure/decomp"}});
  auto plan = propose(c);
  EXPECT_TRUE(plan.fired(19));
  EXPECT_TRUE(any_request(plan.find(D::kRadiationOncology), "Postoperative radiotherapy"));
  c.treatments.push_back(ActiveTreatment{
      TreatmentKind::kRadiotherapy, "SBRT", day(2024, 2, 28), day(2024, 3, 1), {"Procedure/rt"}});
  EXPECT_FALSE(propose(c).fired(19));
}

TEST(GoalRules, Row20_PreferencesAreAlwaysShown) {
  auto plan = propose(stable_patient());
  EXPECT_TRUE(plan.fired(20));
  ASSERT_EQ(plan.preferences.size(), 1u);
  EXPECT_EQ(plan.preferences[0].text, "Wants to keep working as long as possible");
  auto c = stable_patient();
  c.preferences.clear();
  EXPECT_TRUE(any_missing(propose(c), "patient preferences and goals of care"));
}

TEST(GoalRules, TeamRule_ModerateOrSeverePainAlwaysGetsAPainGoal) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3);
  set_pain(c, 8);
  auto plan = propose(c);
  const auto* g1 = plan.find(G::kPainRelief);
  ASSERT_NE(g1, nullptr);
  // In the compression emergency the cord drives the plan; pain rides on its urgency.
  EXPECT_EQ(g1->priority, Priority::kMedium);
  EXPECT_EQ(g1->urgency, Urgency::kAsap);
  EXPECT_THAT(g1->fired_rows(), Contains(0));  // a team rule, outside section 9
  EXPECT_TRUE(contains(g1->rationale(), "proposed surgery and radiotherapy"));
  set_pain(c, 3);
  EXPECT_EQ(propose(c).find(G::kPainRelief), nullptr);
}

TEST(GoalRules, ReducedMobilityGetsRehabilitation) {
  auto c = stable_patient();
  c.quality_of_life.ambulation =
      Fact<Ambulation>{Ambulation::kWithAid, {"Observation/walk"}, day(2024, 3, 1)};
  auto plan = propose(c);
  const auto* g5 = plan.find(G::kImproveFunctionAmbulation);
  ASSERT_NE(g5, nullptr);
  EXPECT_EQ(g5->priority, Priority::kMedium);
  ASSERT_NE(plan.find(D::kRehabilitation), nullptr);
  ASSERT_EQ(g5->targets.size(), 2u);
  EXPECT_EQ(g5->targets[1].code, "89247-1");
  EXPECT_EQ(g5->targets[1].high, 1);
}

}  // namespace
}  // namespace mst::adapter
