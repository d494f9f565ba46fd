// NICE NG234's emergency comes first: records written the way hospitals
// write them (no secondary-neoplasm Condition, WHO ICD-10, compression as a
// diagnosis) go through the real extractor and goal engine, and a patient
// with cancer and a new deficit or a recorded compression always gets a
// stat plan on the suspected-MSCC pathway (clinical-decision.md §7.1).
#include <gtest/gtest.h>

#include "mappings/record_fixture.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/adapter/goals/rule_thresholds.h"

namespace mst::adapter {
namespace {

using mappings::testing::condition;
using mappings::testing::kIcd;
using mappings::testing::kSct;
using mappings::testing::patient;
using mappings::testing::run;

const std::string kWho = "http://hl7.org/fhir/sid/icd-10";
const std::string kAsOf = "2025-06-01";
const std::string kNewOnset = R"("onsetDateTime":"2025-05-30")";
const std::string kOldOnset = R"("onsetDateTime":"2024-01-10")";

GoalPlan plan_of(const std::vector<std::string>& resources) {
  static const RuleThresholds t = RuleThresholds{};
  return propose(run(resources, kAsOf), t);
}

const Referral* referral(const GoalPlan& p, Discipline d) { return p.find(d); }

void expect_mscc_pathway(const GoalPlan& p) {
  ASSERT_TRUE(p.applicable) << p.not_applicable_reason;
  EXPECT_TRUE(p.emergency);
  EXPECT_EQ(p.urgency, Urgency::kStat);
  EXPECT_TRUE(p.fired(1));
  const Referral* mri = referral(p, Discipline::kDiagnosticRadiology);
  ASSERT_NE(mri, nullptr);
  EXPECT_EQ(mri->priority, Urgency::kStat);
  // The surgeon is in from the start, but with no lesion imaged yet the
  // treatment is planned on the MRI (asap), or is a stability opinion
  // (urgent) for a radiosensitive tumour: the stat actions are the
  // coordinator, the MRI and dexamethasone (docs/clinical-rules.md row 1).
  ASSERT_NE(referral(p, Discipline::kSpineSurgery), nullptr);
  EXPECT_GE(referral(p, Discipline::kSpineSurgery)->priority, Urgency::kUrgent);
  bool coordinator = false;
  bool dexamethasone = false;
  for (const auto& a : p.actions) {
    coordinator |= a.text.find("MSCC coordinator") != std::string::npos;
    dexamethasone |= a.text.find("Dexamethasone") != std::string::npos;
  }
  EXPECT_TRUE(coordinator);
  EXPECT_TRUE(dexamethasone);
}

std::string plan_text(const GoalPlan& p) {
  std::string s;
  for (const auto& n : p.notes) s += n + "\n";
  for (const auto& g : p.goals) s += g.rationale() + "\n";
  return s;
}

TEST(EmergencyGate, CancerAndANewDeficitWithNoSpinalLesionGetsTheMsccPathway) {
  const auto p = plan_of({patient(), condition("ca", kIcd, "C50.912"),
                          condition("weak", kSct, "23042008", kNewOnset)});
  expect_mscc_pathway(p);
  EXPECT_NE(plan_text(p).find("No spinal lesion is recorded"), std::string::npos);
  EXPECT_NE(plan_text(p).find("paraparesis (lower limb weakness) since 2025-05-30"),
            std::string::npos)
      << plan_text(p);
}

TEST(EmergencyGate, RecordedCompressionWithoutMetastasisOrGradeIsPresumedHighGrade) {
  // WHO ICD-10 G95.2 (a leaf there), onset long ago, no Bilsky grade.
  const auto p = plan_of(
      {patient(), condition("ca", kWho, "C61"), condition("mscc", kWho, "G95.2", kOldOnset)});
  expect_mscc_pathway(p);
  const std::string text = plan_text(p);
  EXPECT_NE(text.find("without a Bilsky ESCC grade"), std::string::npos) << text;
  // Prostate cancer is radiosensitive: row 4 on the presumed high grade.
  EXPECT_TRUE(p.fired(4));
}

TEST(EmergencyGate, CompressionOutlivesAMetastasisEnteredInError) {
  const auto p =
      plan_of({patient(), condition("ca", kIcd, "C34.90"),
               condition("met", kIcd, "C79.51",
                         R"("bodySite":[{"text":"T8"}],"verificationStatus":{"coding":[{"system":)"
                         R"("http://terminology.hl7.org/CodeSystem/condition-ver-status",)"
                         R"("code":"entered-in-error"}]})"),
               condition("cc", kIcd, "G95.20", kNewOnset)});
  expect_mscc_pathway(p);
}

TEST(EmergencyGate, CaudaEquinaInAPatientWithPastCancerIsAnEmergency) {
  const std::string past_cancer =
      R"({"resourceType":"Condition","id":"ca","subject":{"reference":"Patient/p1"},)"
      R"("clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/)"
      R"(condition-clinical","code":"resolved"}]},)"
      R"("code":{"coding":[{"system":"http://snomed.info/sct","code":"254837009"}]}})";
  const auto p = plan_of({patient(), past_cancer, condition("ces", kSct, "192970008", kNewOnset)});
  expect_mscc_pathway(p);
}

TEST(EmergencyGate, NoCancerOrNoFindingMeansNoPlan) {
  // A deficit without any cancer is not NG234's emergency.
  EXPECT_FALSE(plan_of({patient(), condition("weak", kSct, "23042008", kNewOnset)}).applicable);
  // Cancer without spinal disease, deficit or compression: no spine plan.
  EXPECT_FALSE(plan_of({patient(), condition("ca", kIcd, "C50.912")}).applicable);
  // An old deficit that is not a compression does not trigger the emergency.
  EXPECT_FALSE(plan_of({patient(), condition("ca", kIcd, "C50.912"),
                        condition("weak", kSct, "23042008", kOldOnset)})
                   .applicable);
}

// fhir-coding.md §16.8: deceased[x] is a modifier; a deceased patient gets
// no plan, not even on the emergency pathway.
TEST(EmergencyGate, ADeceasedPatientGetsNoPlan) {
  auto with = [](const std::string& member) {
    return R"({"resourceType":"Patient","id":"p1",)" + member + "}";
  };
  const std::vector<std::string> emergency = {condition("ca", kIcd, "C50.912"),
                                              condition("weak", kSct, "23042008", kNewOnset)};
  auto plan_for = [&](const std::string& patient_json) {
    std::vector<std::string> r = emergency;
    r.insert(r.begin(), patient_json);
    return plan_of(r);
  };
  const auto dead = plan_for(with(R"("deceasedDateTime":"2025-05-31T10:00:00Z")"));
  EXPECT_FALSE(dead.applicable);
  EXPECT_NE(dead.not_applicable_reason.find("deceased (2025-05-31)"), std::string::npos);
  EXPECT_FALSE(plan_for(with(R"("deceasedBoolean":true)")).applicable);
  EXPECT_TRUE(plan_for(with(R"("deceasedBoolean":false)")).applicable);
  // Death dated after the as-of day had not happened then.
  EXPECT_TRUE(plan_for(with(R"("deceasedDateTime":"2025-07-01")")).applicable);
  // A malformed deceased[x] is not read as death, and says so.
  const auto c = run({with(R"("deceasedBoolean":"yes")"), emergency[0], emergency[1]}, kAsOf);
  EXPECT_FALSE(c.death.recorded);
  EXPECT_TRUE(mappings::testing::is_ignored(c, "Patient/p1", "deceased"));
}

// NG234's scope includes direct malignant infiltration of the spine: the
// myeloma's own Condition names the vertebra (fhir-coding.md §16.6).
TEST(SpinalDiseaseInEveryForm, MyelomaWithAVertebralBodySiteIsSpinalDisease) {
  const auto c =
      run({patient(), condition("mm", kIcd, "C90.00", R"("bodySite":[{"text":"T10"}])")}, kAsOf);
  ASSERT_TRUE(c.spine.present);
  ASSERT_EQ(c.spine.lesions.size(), 1u);
  EXPECT_EQ(c.spine.lesions[0].level.name, "T10");
  EXPECT_EQ(c.metastasis_conditions, (mappings::Evidence{"Condition/mm"}));
  ASSERT_TRUE(c.cancer);
  EXPECT_TRUE(c.cancer->haematological);
  const auto p = propose(c, RuleThresholds{});
  EXPECT_TRUE(p.applicable);
}

TEST(SpinalDiseaseInEveryForm, PrimaryTumourOfTheVertebralColumnNeedsNoBodySite) {
  const auto c = run({patient(), condition("ch", kWho, "C41.2")}, kAsOf);
  EXPECT_TRUE(c.spine.present);
  EXPECT_TRUE(propose(c, RuleThresholds{}).applicable);
  // C41.4 (pelvis, sacrum, coccyx) is spinal only with a sacral site.
  EXPECT_FALSE(run({patient(), condition("pelvis", kIcd, "C41.4")}, kAsOf).spine.present);
  EXPECT_TRUE(
      run({patient(), condition("sacrum", kIcd, "C41.4", R"("bodySite":[{"text":"S2"}])")}, kAsOf)
          .spine.present);
}

// A plan addresses Conditions only (R4 CarePlan.addresses is
// Reference(Condition)): HAPI refused a plan that addressed an imaging
// Observation (realworld rw-22 through the fault-injected sync).
TEST(SpinalDiseaseInEveryForm, AnImagingFindingIsEvidenceNotWhatThePlanAddresses) {
  const auto c = run({patient(), condition("ca", kIcd, "C61"),
                      mappings::testing::observation("img", kSct, "94602001", "", "2025-05-20",
                                                     R"("bodySite":{"text":"T8"})")},
                     kAsOf);
  ASSERT_TRUE(c.spine.present);
  EXPECT_EQ(c.spine.evidence, (mappings::Evidence{"Observation/img"}));
  EXPECT_TRUE(c.metastasis_conditions.empty());
  EXPECT_EQ(c.primary_conditions, (mappings::Evidence{"Condition/ca"}));
}

TEST(SpinalDiseaseInEveryForm, CategoryCodeIsReadWithANonSpecificGap) {
  const auto c =
      run({patient(), condition("ca", kIcd, "C61"),
           condition("bone", kIcd, "C79.5", R"("bodySite":[{"text":"L2 vertebral body"}])")},
          kAsOf);
  EXPECT_TRUE(c.spine.present);
  EXPECT_TRUE(mappings::testing::has_gap(c, "spinal lesions", "ICD-10 category C79.5"));
}

}  // namespace
}  // namespace mst::adapter
