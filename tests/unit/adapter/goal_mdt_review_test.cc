// The disagreements the clinical review found (issue #11, the review table in
// docs/clinical-rules.md): each test is a case an MDT would not sign before
// the fix, named for its fixture and the source of the rule.
#include <gtest/gtest.h>

#include "considerations_fixture.h"
#include "mst/adapter/goals/goal_engine.h"
#include "plan_matchers.h"

namespace mst::adapter {
namespace {

using namespace testing;
using G = GoalCode;
using D = Discipline;

// Cancer and a new deficit, no spinal lesion recorded and no MRI yet (rw-12).
Considerations suspected_mscc_without_imaging() {
  auto c = stable_patient();
  c.spine = {};
  c.neurology.escc.reset();
  c.mechanics = {};
  set_cancer(c, "colorectal", "Colon cancer", Radiosensitivity::kResistant);
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  return c;
}

const Referral* at(const GoalPlan& p, D d, Urgency u) {
  for (const auto& r : p.referrals) {
    if (r.to == d && r.priority == u) return &r;
  }
  return nullptr;
}

// rw-12/13/14: NICE NG234 (CD 7.1): coordinator now, MRI within 24 h,
// dexamethasone; the surgeon and radiation oncologist plan treatment on the
// MRI, so their referrals wait for it and are not stat.
TEST(MdtReview, SuspectedMsccWithoutImagingAsksForTreatmentAfterTheMri_NG234) {
  const auto plan = propose(suspected_mscc_without_imaging());
  ASSERT_TRUE(plan.applicable);
  EXPECT_TRUE(plan.emergency);
  EXPECT_EQ(plan.urgency, Urgency::kStat);
  EXPECT_NE(at(plan, D::kDiagnosticRadiology, Urgency::kStat), nullptr);
  EXPECT_TRUE(any_action(plan, "MSCC coordinator"));
  EXPECT_TRUE(any_action(plan, "Dexamethasone"));
  EXPECT_EQ(at(plan, D::kSpineSurgery, Urgency::kStat), nullptr);
  EXPECT_EQ(at(plan, D::kRadiationOncology, Urgency::kStat), nullptr);
  const Referral* surgery = at(plan, D::kSpineSurgery, Urgency::kAsap);
  ASSERT_NE(surgery, nullptr);
  EXPECT_TRUE(any_request(surgery, "Once the whole-spine MRI shows the compression"));
  EXPECT_TRUE(any_request(at(plan, D::kRadiationOncology, Urgency::kAsap),
                          "Once the whole-spine MRI shows the compression"));
}

// The counter-case: a known spinal lesion is what the surgeon assesses now.
TEST(MdtReview, KnownLesionWithANewDeficitKeepsTheStatAssessments_NG234) {
  auto c = stable_patient();
  c.neurology.escc.reset();
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  const auto plan = propose(c);
  EXPECT_TRUE(any_request(at(plan, D::kSpineSurgery, Urgency::kStat), "decompression"));
  EXPECT_NE(at(plan, D::kRadiationOncology, Urgency::kStat), nullptr);
}

// rw-11: ECOG 4 with a new deficit. The emergency stays (hard rule 3), but
// poor performance status lowers surgical candidacy (NOMS 'S' [R7];
// Patchell "medically operable" [R35]): an opinion, not a decompression.
TEST(MdtReview, PoorPerformanceStatusWithANewDeficitAsksAnOpinionNotADecompression_NomsS) {
  auto c = stable_patient();
  c.neurology.escc.reset();
  set_ecog(c, 4);
  add_new_deficit(c, "Incomplete paraplegia", day(2024, 3, 4));
  const auto plan = propose(c);
  EXPECT_TRUE(plan.emergency);
  EXPECT_NE(at(plan, D::kRadiationOncology, Urgency::kStat), nullptr);
  EXPECT_TRUE(any_action(plan, "Dexamethasone"));
  const Referral* surgery = plan.find(D::kSpineSurgery);
  ASSERT_NE(surgery, nullptr);
  EXPECT_EQ(surgery->priority, Urgency::kUrgent);
  EXPECT_TRUE(any_request(surgery, "Opinion within 24 h on spinal stability"));
  EXPECT_FALSE(any_request(surgery, "(decompression and stabilisation)"));
}

// rw-01: myeloma is radiosensitive: cEBRT with systemic treatment first
// whatever the compression (NOMS [R7], CD 3.2); the surgeon is asked about
// stability only.
TEST(MdtReview, RadiosensitiveTumourWithANewDeficitAsksAStabilityOpinion_NOMS) {
  auto c = stable_patient();
  c.neurology.escc.reset();
  set_cancer(c, "myeloma", "Multiple myeloma", Radiosensitivity::kSensitive, true);
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  const auto plan = propose(c);
  EXPECT_TRUE(plan.emergency);
  EXPECT_NE(at(plan, D::kRadiationOncology, Urgency::kStat), nullptr);
  const Referral* surgery = plan.find(D::kSpineSurgery);
  ASSERT_NE(surgery, nullptr);
  EXPECT_EQ(surgery->priority, Urgency::kUrgent);
  EXPECT_TRUE(any_request(surgery, "surgery only for instability or bony retropulsion"));
  EXPECT_FALSE(any_request(surgery, "(decompression and stabilisation)"));
}

// Breast cancer is radiosensitive only on the unverified NOMS list (CD 3.3
// [U]) and was in Patchell [R35]: the surgeon still assesses decompression.
TEST(MdtReview, BreastCancerWithANewDeficitKeepsTheDecompressionAssessment_Patchell) {
  auto c = stable_patient();
  c.neurology.escc.reset();
  set_cancer(c, "breast", "Breast cancer", Radiosensitivity::kSensitive);
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  const auto plan = propose(c);
  EXPECT_TRUE(any_request(at(plan, D::kSpineSurgery, Urgency::kStat), "decompression"));
}

// mst-p08: the patient declines surgery and the spine is stable (SINS 5),
// not compressed: there is no stability question, so no surgical referral.
TEST(MdtReview, DeclinedSurgeryWithAStableSpineNeedsNoSurgicalOpinion_SINS) {
  auto c = stable_patient();
  set_lesions(c, {"C2"});
  set_sins(c, 5);
  set_survival(c, 60);
  set_ecog(c, 0);
  c.spine.lesions.resize(1);
  add_preference(c, PreferenceKind::kDeclinesSurgery, "No operation, please");
  const auto plan = propose(c);
  EXPECT_EQ(plan.find(D::kSpineSurgery), nullptr);
  EXPECT_TRUE(any_note(plan, "no stability question"));
  // A spine that is not known to be stable keeps the opinion (rw-27).
  set_sins(c, 10);
  EXPECT_TRUE(any_request(propose(c).find(D::kSpineSurgery), "Surgical opinion on spinal"));
}

Considerations mdt_not_for_surgery(Considerations c) {
  c.preferences.push_back(Preference{PreferenceKind::kNotForSurgery,
                                     "Spinal MDT: not for surgery at present",
                                     {"Observation/mdt"},
                                     PreferenceSource::kClinician,
                                     day(2024, 3, 2)});
  return c;
}

// rw-30: the MDT's own "not for surgery at present" is a clinical decision:
// no elective surgical referral, and the plan says what would reopen it.
TEST(MdtReview, MdtNotForSurgeryWithholdsTheElectiveSurgicalReferral_Row20) {
  auto c = stable_patient();
  set_sins(c, 10);
  ASSERT_NE(propose(c).find(D::kSpineSurgery), nullptr);
  const auto plan = propose(mdt_not_for_surgery(c));
  EXPECT_EQ(plan.find(D::kSpineSurgery), nullptr);
  EXPECT_TRUE(any_note(plan, "The MDT decided the patient is not for surgery at present"));
  EXPECT_TRUE(any_note(plan, "A new neurological deficit or new spinal instability would reopen"));
  EXPECT_FALSE(any_note(plan, "The patient declined"));
}

// Hard rule 1: a new deficit is an emergency whatever was decided before;
// the surgical referral stays and asks the team to reconsider urgently.
TEST(MdtReview, MdtNotForSurgeryNeverSuppressesTheEmergency_HardRule1) {
  auto c = stable_patient();
  c.neurology.escc.reset();
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  const auto plan = propose(mdt_not_for_surgery(c));
  EXPECT_TRUE(plan.emergency);
  const Referral* surgery = at(plan, D::kSpineSurgery, Urgency::kStat);
  ASSERT_NE(surgery, nullptr);
  EXPECT_TRUE(any_reason(surgery, "reconsider that decision urgently"));
  EXPECT_TRUE(any_note(plan, "the emergency actions are not delayed"));
}

// Instability scored after the decision is new to the team: it reopens it.
TEST(MdtReview, InstabilityScoredAfterTheMdtDecisionReopensIt_SOSG) {
  auto c = stable_patient();
  set_sins(c, 14);
  c.mechanics.sins_total->when = day(2024, 3, 4);
  const auto plan = propose(mdt_not_for_surgery(c));
  const Referral* surgery = plan.find(D::kSpineSurgery);
  ASSERT_NE(surgery, nullptr);
  EXPECT_TRUE(any_reason(surgery, "reconsider that decision urgently"));
  // Scored before the decision: the MDT knew it.
  c.mechanics.sins_total->when = day(2024, 3, 1);
  EXPECT_EQ(propose(mdt_not_for_surgery(c)).find(D::kSpineSurgery), nullptr);
}

// rw-19/20: a primary bone tumour of the spine (C41.2, chordoma) is not a
// metastasis: NOMS is a framework for metastatic tumours [R6] and Patchell
// excluded tumours of spinal-column origin [R35] (CD 7.4). It goes to a
// sarcoma / primary spinal tumour service; no SBRT or palliative RT as for a
// metastasis (team rule, hard rule 9).
Considerations chordoma() {
  auto c = stable_patient();
  set_cancer(c, "bone-sarcoma", "Chordoma", Radiosensitivity::kResistant);
  c.spine.evidence = {"Condition/primary"};
  set_lesions(c, {"S2", "S3"});
  set_pain(c, 5);
  set_survival(c, 60);
  return c;
}

TEST(MdtReview, PrimarySpinalBoneTumourGoesToASarcomaServiceNotTheMetastaticRules_ScopeRule) {
  const auto plan = propose(chordoma());
  ASSERT_TRUE(plan.applicable);
  EXPECT_TRUE(any_request_to(plan, D::kSpineSurgery, "sarcoma / primary spinal tumour service"));
  EXPECT_EQ(plan.find(D::kRadiationOncology), nullptr);  // no SBRT or RT as for a metastasis
  EXPECT_FALSE(plan.fired(6));
  EXPECT_FALSE(plan.fired(12));
  EXPECT_TRUE(any_note(plan, "not a spinal metastasis"));
}

TEST(MdtReview, PrimarySpinalBoneTumourKeepsTheEmergency_HardRule1) {
  auto c = chordoma();
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  const auto plan = propose(c);
  EXPECT_TRUE(plan.emergency);
  EXPECT_EQ(plan.urgency, Urgency::kStat);
  EXPECT_TRUE(any_note(plan, "beyond the emergency"));
}

// A bone sarcoma elsewhere with a coded spinal metastasis is a metastatic
// spinal tumour: the usual rules apply.
TEST(MdtReview, BoneSarcomaWithASpinalMetastasisFollowsTheMetastaticRules_NOMS) {
  auto c = chordoma();
  c.spine.evidence = {"Condition/met-spine"};
  const auto plan = propose(c);
  EXPECT_FALSE(any_request_to(plan, D::kSpineSurgery, "sarcoma / primary spinal tumour service"));
  EXPECT_NE(plan.find(D::kRadiationOncology), nullptr);
}

}  // namespace
}  // namespace mst::adapter
