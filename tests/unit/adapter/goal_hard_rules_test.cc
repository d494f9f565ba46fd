// The hard rules of DESIGN.md and the source document, preference handling,
// missing inputs and determinism of the goal engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "considerations_fixture.h"
#include "mst/adapter/goals/goal_engine.h"
#include "plan_matchers.h"

namespace mst::adapter {
namespace {

using namespace testing;
using G = GoalCode;
using D = Discipline;

// Everything in a plan, as text, for whole-plan comparisons.
std::string describe(const GoalPlan& p) {
  std::ostringstream s;
  s << p.applicable << '|' << p.not_applicable_reason << '|' << code_of(p.urgency) << '|'
    << p.emergency << '\n';
  for (const auto& g : p.goals) {
    s << "goal " << code_of(g.code) << ' ' << code_of(g.priority) << ' ' << code_of(g.urgency)
      << ' ' << code_of(g.certainty) << ' ' << g.rationale() << '\n';
    for (const auto& e : g.evidence) s << "  ev " << e << '\n';
    for (const auto& t : g.targets) s << "  target " << t.code << ' ' << t.description << '\n';
  }
  for (const auto& r : p.referrals) {
    s << "ref " << code_of(r.to) << ' ' << code_of(r.priority) << ' ' << r.snomed_code << '\n';
    for (const auto& q : r.requests) s << "  req " << q << '\n';
    for (const auto& q : r.reasons) s << "  why " << q << '\n';
    for (const auto& e : r.evidence) s << "  ev " << e << '\n';
  }
  for (const auto& t : p.team) s << "team " << code_of(t.discipline) << '\n';
  for (const auto& a : p.actions) s << "act " << a.text << '\n';
  for (const auto& pr : p.preferences) s << "pref " << pr.text << " -> " << pr.effect << '\n';
  for (const auto& n : p.notes) s << "note " << n << '\n';
  for (const auto& m : p.missing) s << "missing " << m.input << ": " << m.consequence << '\n';
  for (int r : p.fired_rows) s << "row " << r << '\n';
  return s.str();
}

Considerations busy_patient() {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3);
  set_sins(c, 10);
  set_pain(c, 8);
  set_lesions(c, {"T11", "T12", "L2"});
  c.quality_of_life.mechanical_pain = true;
  c.mechanics.pathological_fracture = true;
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  add_new_deficit(c, "Saddle numbness", day(2024, 3, 3));
  add_treatment(c, TreatmentKind::kChemotherapy, "Carboplatin", "MedicationRequest/carbo");
  add_treatment(c, TreatmentKind::kImmunotherapy, "Pembrolizumab", "MedicationRequest/pembro");
  add_preference(c, PreferenceKind::kComfortFocused, "Wants to stay comfortable",
                 "Observation/pref2");
  c.general_condition.comorbidities.push_back(Comorbidity{ComorbidityKind::kDiabetes,
                                                          "diabetes",
                                                          "HbA1c 10.1% above 9.0",
                                                          true,
                                                          {"Observation/hba1c"}});
  c.general_condition.comorbidities.push_back(Comorbidity{ComorbidityKind::kAnaemia,
                                                          "anaemia",
                                                          "haemoglobin 7.5 g/dL below 8.0",
                                                          true,
                                                          {"Observation/hb"}});
  return c;
}

TEST(HardRules, NoSpinalMetastasisGetsNoPlanAndAClearReason) {
  auto c = stable_patient();
  c.spine = SpinalDisease{};
  auto plan = propose(c);
  EXPECT_FALSE(plan.applicable);
  EXPECT_TRUE(contains(plan.not_applicable_reason, "No spinal metastasis"));
  EXPECT_TRUE(plan.goals.empty());
  EXPECT_TRUE(plan.referrals.empty());
}

TEST(HardRules, NewDeficitIsAnEmergencyWhateverThePrognosis_NICE_NG234) {
  auto c = stable_patient();
  set_survival(c, 1);
  set_ecog(c, 4);
  add_new_deficit(c, "Bladder dysfunction");
  auto plan = propose(c);
  EXPECT_EQ(plan.urgency, Urgency::kStat);
  EXPECT_EQ(plan.find(G::kPreserveNeurologicFunction)->urgency, Urgency::kStat);
  EXPECT_TRUE(plan.fired(14));
  EXPECT_TRUE(any_note(plan, "a prognosis score never cancels it"));
}

TEST(HardRules, PoorPrognosisScoreNeverCancelsTheCompressionPathway) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3);
  auto before = propose(c);
  c.life_expectancy.stated_months.reset();
  c.life_expectancy.tokuhashi.complete = true;
  c.life_expectancy.tokuhashi.total = 4;
  auto after = propose(c);
  EXPECT_TRUE(after.fired(14));
  EXPECT_TRUE(after.emergency);
  EXPECT_EQ(after.urgency, before.urgency);
  EXPECT_EQ(after.find(G::kPreserveNeurologicFunction)->urgency, Urgency::kAsap);
  EXPECT_EQ(after.find(G::kPreserveNeurologicFunction)->priority, Priority::kHigh);
}

TEST(HardRules, NewBackPainAloneMakesThePlanUrgent_NICE) {
  auto c = stable_patient();
  c.quality_of_life.new_back_pain = Fact<bool>{true, {"Condition/backpain"}, day(2024, 3, 4)};
  auto plan = propose(c);
  EXPECT_EQ(plan.urgency, Urgency::kUrgent);
  EXPECT_FALSE(plan.emergency);
}

TEST(HardRules, SpineEmergencyIsNotDeferredForOngoingTreatmentButCoordinated) {
  auto c = stable_patient();
  add_treatment(c, TreatmentKind::kChemotherapy, "Docetaxel");
  add_new_deficit(c, "Lower limb weakness");
  auto plan = propose(c);
  const auto* g6 = plan.find(G::kSupportCancerTreatment);
  ASSERT_NE(g6, nullptr);
  // Coordinated now (stat), but a condition on the plan, not what drives it.
  EXPECT_EQ(g6->priority, Priority::kMedium);
  EXPECT_EQ(g6->urgency, Urgency::kStat);
  EXPECT_EQ(plan.find(D::kMedicalOncology)->priority, Urgency::kStat);
  EXPECT_TRUE(any_note(plan, "spine treatment is not deferred"));
  EXPECT_FALSE(any_reason(plan.find(D::kSpineSurgery), "is not interrupted"));
}

// Issue #11: declining an operation withholds the operation, never the
// surgical opinion; the alternatives are offered and the plan says so.
TEST(HardRules, DeclinedSurgeryWithholdsTheOperationNotTheOpinion) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k2);
  set_sins(c, 14);
  add_preference(c, PreferenceKind::kDeclinesSurgery, "I do not want an operation",
                 "Observation/no-surgery");
  auto plan = propose(c);
  const Referral* surgery = plan.find(D::kSpineSurgery);
  ASSERT_NE(surgery, nullptr);
  EXPECT_TRUE(any_request(surgery, "Surgical opinion on spinal stability, immobilisation"));
  EXPECT_FALSE(any_request(surgery, "Assessment for surgical stabilisation"));
  EXPECT_TRUE(surgery->snomed_code.empty());  // no operation code on an opinion
  EXPECT_TRUE(plan.fired(5));                 // radiotherapy first instead of separation surgery
  EXPECT_TRUE(any_note(plan, "patient declined surgery"));
  EXPECT_TRUE(any_note(plan, "I do not want an operation"));
  EXPECT_TRUE(any_note(plan, "Withheld: Assessment for surgical stabilisation"));
  EXPECT_TRUE(any_note(plan, "Offered instead: "));
  EXPECT_TRUE(any_note(plan, "bracing (spinal orthosis)"));
  EXPECT_TRUE(any_request(plan.find(D::kRehabilitation), "Spinal orthosis (brace)"));
  EXPECT_TRUE(contains(plan.find(G::kCorrectSpinalInstability)->rationale(),
                       "the patient declined surgery"));
  bool shown = false;
  for (const auto& p : plan.preferences) {
    if (p.kind == PreferenceKind::kDeclinesSurgery) {
      shown = true;
      EXPECT_TRUE(contains(p.effect, "no operation is proposed"));
      EXPECT_TRUE(contains(p.effect, "offered instead"));
      EXPECT_EQ(p.evidence, Evidence{"Observation/no-surgery"});
    }
  }
  EXPECT_TRUE(shown);
}

TEST(HardRules, DeclinedSurgeryInAnEmergencyKeepsTheOpinionAndOffersRadiotherapy) {
  auto c = stable_patient();
  add_new_deficit(c, "Lower limb weakness");
  add_preference(c, PreferenceKind::kDeclinesSurgery, "No surgery");
  auto plan = propose(c);
  EXPECT_EQ(plan.urgency, Urgency::kStat);
  const Referral* surgery = plan.find(D::kSpineSurgery);
  ASSERT_NE(surgery, nullptr);
  EXPECT_FALSE(any_request(surgery, "decompression and stabilisation"));
  EXPECT_TRUE(any_request(surgery, "Surgical opinion on spinal stability"));
  EXPECT_EQ(plan.find(D::kRadiationOncology)->priority, Urgency::kStat);
  EXPECT_TRUE(any_request_to(plan, D::kRadiationOncology, "non-operative treatment"));
  EXPECT_TRUE(any_note(plan, "urgent radiotherapy with dexamethasone"));
}

TEST(HardRules, NoAlternativesWithoutADeclinedOperation) {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k2);
  set_sins(c, 14);
  auto plan = propose(c);
  EXPECT_FALSE(any_note(plan, "Offered instead"));
  EXPECT_FALSE(any_request_to(plan, D::kRadiationOncology, "non-operative"));
  EXPECT_TRUE(any_request_to(plan, D::kSpineSurgery, "Assessment for surgical stabilisation"));
}

TEST(HardRules, DeclinedRadiotherapyMeansNoRadiotherapyReferral) {
  auto c = stable_patient();
  set_pain(c, 6);
  add_preference(c, PreferenceKind::kDeclinesRadiotherapy, "No more radiation");
  auto plan = propose(c);
  EXPECT_EQ(plan.find(D::kRadiationOncology), nullptr);
  EXPECT_TRUE(any_note(plan, "declined radiotherapy"));
  EXPECT_TRUE(std::any_of(plan.preferences.begin(), plan.preferences.end(), [](const auto& p) {
    return p.kind == PreferenceKind::kDeclinesRadiotherapy;
  }));
  // Which goal the refusal tempers is said only in words.
  EXPECT_TRUE(contains(plan.find(G::kPainRelief)->rationale(), "declined radiotherapy"));
}

TEST(HardRules, ComfortFocusedDropsDebulkingAndPromptsOnEmergencies) {
  auto c = busy_patient();
  auto plan = propose(c);
  EXPECT_TRUE(plan.emergency);
  // The emergency pathway stays, with a prompt to confirm the patient's wishes.
  EXPECT_TRUE(contains(plan.find(G::kPreserveNeurologicFunction)->rationale(),
                       "comfort-focused treatment"));
  auto calm = stable_patient();
  add_preference(calm, PreferenceKind::kComfortFocused, "Comfort only");
  auto calm_plan = propose(calm);
  EXPECT_EQ(calm_plan.find(G::kDebulkTumor), nullptr);
  EXPECT_TRUE(any_note(calm_plan, "Debulking is not proposed"));
}

// fhir-coding.md §16.2: a POLST comfort-focused order is followed as a
// clinician's order, and never worded as the patient's stated preference.
TEST(HardRules, APortableOrderForComfortIsFollowedAsAnOrder) {
  auto c = stable_patient();
  c.preferences.push_back(Preference{PreferenceKind::kComfortFocused,
                                     "Portable medical order (POLST): comfort-focused treatments",
                                     {"ServiceRequest/pmo"},
                                     mappings::PreferenceSource::kClinician});
  auto plan = propose(c);
  EXPECT_EQ(plan.find(G::kDebulkTumor), nullptr);
  EXPECT_TRUE(any_note(plan, "Debulking is not proposed: a portable medical order (POLST)"));
  EXPECT_FALSE(any_note(plan, "the patient's stated preference"));
}

TEST(HardRules, MissingInputsAreNamedAndNeverFavourable) {
  Considerations c;
  c.patient_ref = "Patient/bare";
  c.as_of = day(2024, 3, 5);
  c.spine.present = true;
  c.spine.evidence = {"Condition/met"};
  auto plan = propose(c);
  ASSERT_TRUE(plan.applicable);
  EXPECT_TRUE(any_missing(plan, "ESCC"));
  EXPECT_TRUE(any_missing(plan, "SINS"));
  EXPECT_TRUE(any_missing(plan, "performance status"));
  EXPECT_TRUE(any_missing(plan, "life expectancy"));
  EXPECT_TRUE(any_missing(plan, "radiosensitivity"));
  EXPECT_TRUE(any_missing(plan, "patient preferences"));
  EXPECT_TRUE(any_missing(plan, "current cancer treatment"));
  EXPECT_TRUE(any_missing(plan, "ambulatory status"));
  // No treatment is asserted from nothing; the work-up is.
  EXPECT_EQ(plan.find(D::kSpineSurgery), nullptr);
  EXPECT_NE(plan.find(D::kDiagnosticRadiology), nullptr);
  EXPECT_FALSE(plan.fired(18));
  for (const auto& g : plan.goals) EXPECT_EQ(g.certainty, Certainty::kPartial);
}

TEST(HardRules, StaleInputsAreNamed) {
  auto c = stable_patient();
  c.neurology.escc->stale = true;
  EXPECT_TRUE(any_missing(propose(c), "ESCC grade recorded (2024-03-01)"));
}

TEST(Determinism, SameInputGivesTheSamePlan) {
  const auto c = busy_patient();
  EXPECT_EQ(describe(propose(c)), describe(propose(c)));
}

TEST(Determinism, InputOrderDoesNotChangeThePlan) {
  auto c = busy_patient();
  auto permuted = c;
  std::reverse(permuted.neurology.deficits.begin(), permuted.neurology.deficits.end());
  std::reverse(permuted.treatments.begin(), permuted.treatments.end());
  std::reverse(permuted.preferences.begin(), permuted.preferences.end());
  std::reverse(permuted.spine.lesions.begin(), permuted.spine.lesions.end());
  std::reverse(permuted.general_condition.comorbidities.begin(),
               permuted.general_condition.comorbidities.end());
  std::reverse(permuted.used.begin(), permuted.used.end());
  EXPECT_EQ(describe(propose(c)), describe(propose(permuted)));
}

TEST(Determinism, BusyPatientExercisesManyRows) {
  auto plan = propose(busy_patient());
  for (int row : {1, 15, 17, 20}) EXPECT_TRUE(plan.fired(row)) << row;
  EXPECT_EQ(plan.urgency, Urgency::kStat);
}

}  // namespace
}  // namespace mst::adapter
