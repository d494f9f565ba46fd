// The extractor, rule by rule. Each test names its source: fhir-coding.md
// (codes) or clinical-decision.md (clinical rules), or the thresholds table
// entry whose citation it checks.
#include <gtest/gtest.h>

#include "mst/mappings/extract.h"
#include "record_fixture.h"

namespace mst::mappings {
namespace {

using namespace testing;

std::string spinal_met(const std::string& id, const std::string& sites) {
  return condition(id, kSct, "94602001", R"("bodySite":)" + sites);
}

std::vector<std::string> level_names(const Considerations& c) {
  std::vector<std::string> out;
  for (const auto& l : c.spine.lesions) out.push_back(l.level.name);
  return out;
}

// fhir-coding.md §2 "Lesion counting" and §3: levels from vertebral-body codes,
// whole-vertebra concepts and text, several sites per Condition, de-duplicated.
TEST(SpinalLesions, LevelsFromAllThreeBodySiteFormsDeduplicated) {
  auto c =
      run({patient(),
           spinal_met("m1", R"([{"coding":[{"system":"http://snomed.info/sct","code":"280849005"}]},
                                    {"text":"L1 vertebra"}])"),
           spinal_met("m2", R"([{"coding":[{"system":"http://snomed.info/sct","code":"181839006",
                                      "display":"Entire first lumbar vertebra"}]},
                                    {"text":"T12"}, {"text":"T7 vertebral body"}])")});
  EXPECT_TRUE(c.spine.present);
  EXPECT_EQ(level_names(c), (std::vector<std::string>{"T7", "T12", "L1"}));
  EXPECT_EQ(c.spine.lesions[1].evidence, (Evidence{"Condition/m1", "Condition/m2"}));
  EXPECT_TRUE(c.spine.any_junctional);  // T12 and L1 (clinical-decision.md §1.1)
  EXPECT_FALSE(c.spine.contiguous);     // T7 is apart from T12-L1
  EXPECT_EQ(c.spine.regions,
            (std::vector<SpineRegion>{SpineRegion::kThoracic, SpineRegion::kLumbar}));
  EXPECT_EQ(c.metastasis_conditions, (Evidence{"Condition/m1", "Condition/m2"}));
}

TEST(SpinalLesions, ContiguityAndSemiRigidLevels) {
  auto c = run({patient(), spinal_met("m1", R"([{"text":"T5-T7"}])")});
  EXPECT_EQ(level_names(c), (std::vector<std::string>{"T5", "T6", "T7"}));
  EXPECT_TRUE(c.spine.contiguous);
  EXPECT_FALSE(c.spine.any_junctional);  // T3-T10 semi-rigid
}

// fhir-coding.md §2a: C79.51 covers all bone; it is spinal only with a vertebral site.
TEST(SpinalLesions, BoneMetastasisNeedsAVertebralBodySite) {
  auto femur = run({patient(), condition("b1", kIcd, "C79.51", body_site_text("left femur"))});
  EXPECT_FALSE(femur.spine.present);
  EXPECT_TRUE(femur.other_metastases.extraspinal_bone);
  auto spine = run({patient(), condition("b1", kIcd, "C79.51", body_site_text("L3"))});
  EXPECT_TRUE(spine.spine.present);
  EXPECT_EQ(level_names(spine), (std::vector<std::string>{"L3"}));
  auto unknown = run({patient(), condition("b1", kIcd, "C79.51")});
  EXPECT_FALSE(unknown.spine.present);
  EXPECT_TRUE(has_gap(unknown, "spinal lesions", "without a body site"));
}

// clinical-decision.md §1 (SINS, Fisher 2010) and §2 (Bilsky ESCC, Bilsky
// 2010): both scores exist only for a tumour of the spine, so one recorded
// without a level still makes a C79.51 bone metastasis spinal (the Synthea
// population's colorectal patient, docs/population.md), with a gap for levels.
TEST(SpinalLesions, ASpineOnlyScoreWithoutALevelMakesABoneMetastasisSpinal) {
  const std::string bone = condition("b1", kIcd, "C79.51");
  const std::string escc_text =
      R"({"resourceType":"Observation","id":"e1","status":"final","subject":{"reference":"Patient/p1"},
          "code":{"text":"Bilsky grade"},"valueString":"2","effectiveDateTime":"2025-05-20"})";
  const std::string sins_text =
      R"({"resourceType":"Observation","id":"s1","status":"final","subject":{"reference":"Patient/p1"},
          "code":{"text":"SINS score"},"valueQuantity":{"value":11},"effectiveDateTime":"2025-05-20"})";
  for (const auto& score : {escc_text, sins_text}) {
    auto c = run({patient(), bone, score});
    EXPECT_TRUE(c.spine.present) << score;
    EXPECT_TRUE(c.spine.lesions.empty());
    EXPECT_TRUE(has_gap(c, "spinal lesions", "without vertebral levels"));
    EXPECT_FALSE(has_gap(c, "spinal lesions", "without a body site"));
  }
  // A score the tables cannot read is no evidence: the bone metastasis stays
  // of unknown site.
  auto unread = run({patient(), bone,
                     R"({"resourceType":"Observation","id":"x1","status":"final",
                         "subject":{"reference":"Patient/p1"},"code":{"text":"pain score"},
                         "valueQuantity":{"value":3},"effectiveDateTime":"2025-05-20"})"});
  EXPECT_FALSE(unread.spine.present);
}

TEST(SpinalLesions, RegionOnlyCodeIsPresentWithAGapForLevels) {
  auto c = run({patient(), condition("m1", kSct, "94274006")});  // thoracic vertebral column
  EXPECT_TRUE(c.spine.present);
  EXPECT_TRUE(c.spine.lesions.empty());
  EXPECT_EQ(c.spine.regions, (std::vector<SpineRegion>{SpineRegion::kThoracic}));
  EXPECT_TRUE(has_gap(c, "spinal lesions", "without vertebral levels"));
}

// fhir-coding.md §2: imaging reports add levels.
TEST(SpinalLesions, ImagingObservationsAddLevels) {
  auto c = run(
      {patient(), spinal_met("m1", R"([{"text":"T12"}])"),
       observation("i1", kMst, "spinal-metastasis-finding", "", "2025-05-20", body_site_text("L2")),
       observation("i2", kSct, "94602001", "", "2025-05-20", body_site_text("L4"))});
  EXPECT_EQ(level_names(c), (std::vector<std::string>{"T12", "L2", "L4"}));
}

// fhir-coding.md §1, §2: metastasis Conditions link their primary.
TEST(CancerType, LinkedPrimaryWinsThenActiveThenSpecific) {
  auto c = run(
      {patient(), condition("p-lung", kIcd, "C34.90"), condition("p-kidney", kIcd, "C64.9"),
       spinal_met(
           "m1",
           R"([{"text":"T12"}],"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/condition-related",
                  "valueReference":{"reference":"Condition/p-kidney"}}])")});
  ASSERT_TRUE(c.cancer);
  EXPECT_EQ(c.cancer->key, "kidney");
  EXPECT_EQ(c.cancer->radiosensitivity, Radiosensitivity::kResistant);
  EXPECT_EQ(c.cancer->tokuhashi_points, 3);
  EXPECT_EQ(c.cancer->evidence, (Evidence{"Condition/p-kidney"}));
  EXPECT_EQ(c.primary_conditions, (Evidence{"Condition/p-kidney", "Condition/p-lung"}));
  EXPECT_TRUE(has_gap(c, "cancer type", "2 active primary cancers"));
}

TEST(CancerType, CombinedCodeImpliesThePrimaryAndMissingCancerIsAGap) {
  auto c = run({patient(), condition("m1", kSct, "712849003", body_site_text("L2"))});
  ASSERT_TRUE(c.cancer);
  EXPECT_EQ(c.cancer->key, "prostate");
  EXPECT_TRUE(c.spine.present);
  auto none = run({patient(), spinal_met("m1", R"([{"text":"T12"}])")});
  EXPECT_FALSE(none.cancer);
  EXPECT_TRUE(has_gap(none, "cancer type", "no primary cancer"));
}

TEST(CancerType, HistologyExtensionIsKept) {
  auto c = run({patient(), condition("p1", kIcd, "C50.919", R"("extension":[{"url":
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior",
    "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"82711006"}]}}])")});
  ASSERT_TRUE(c.cancer && c.cancer->histology);
  EXPECT_EQ(c.cancer->histology->code, "82711006");
}

// FHIR R4 Condition.verificationStatus / clinicalStatus (docs: evidence rules).
TEST(EvidenceRules, EnteredInErrorAndRefutedConditionsNeverCount) {
  auto with_status = [](const std::string& id, const std::string& code, const std::string& ver) {
    return condition(id, kIcd, code,
                     R"("verificationStatus":)" +
                         coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", ver));
  };
  auto c = run({patient(), with_status("p1", "C64.9", "entered-in-error"),
                with_status("p2", "C61", "refuted"), with_status("p3", "C50.919", "confirmed")});
  ASSERT_TRUE(c.cancer);
  EXPECT_EQ(c.cancer->key, "breast");
  EXPECT_TRUE(is_ignored(c, "Condition/p1", "entered-in-error"));
  EXPECT_TRUE(is_ignored(c, "Condition/p2", "refuted"));
  EXPECT_EQ(c.primary_conditions, (Evidence{"Condition/p3"}));
}

TEST(EvidenceRules, InactiveComorbiditiesAndMetastasesDoNotCount) {
  auto resolved = [](const std::string& id, const std::string& system, const std::string& code) {
    std::string s = condition(id, system, code);
    const std::string from = R"("code":"active")";
    s.replace(s.find(from), from.size(), R"("code":"resolved")");
    return s;
  };
  auto c = run({patient(), resolved("d1", kIcd, "E11.9"), resolved("m1", kSct, "94602001")});
  EXPECT_TRUE(c.general_condition.comorbidities.empty());
  EXPECT_FALSE(c.spine.present);
}

TEST(EvidenceRules, OnlyFinalAmendedOrCorrectedObservationsCount) {
  auto pain = [](const std::string& id, const std::string& status, int v) {
    std::string s =
        observation(id, kLnc, "72514-3", R"("valueInteger":)" + std::to_string(v), "2025-05-30");
    s.replace(s.find("\"final\""), 7, "\"" + status + "\"");
    return s;
  };
  auto c = run({patient(), pain("o1", "preliminary", 9), pain("o2", "amended", 4),
                pain("o3", "cancelled", 10), pain("o4", "entered-in-error", 10)});
  ASSERT_TRUE(c.quality_of_life.pain_score);
  EXPECT_EQ(c.quality_of_life.pain_score->value, 4);
  EXPECT_TRUE(is_ignored(c, "Observation/o1", "status 'preliminary'"));
  EXPECT_TRUE(is_ignored(c, "Observation/o3"));
  EXPECT_TRUE(is_ignored(c, "Observation/o4"));
}

TEST(EvidenceRules, LatestValueWinsByEffectiveThenIssued) {
  auto c = run({patient(), observation("e1", kLnc, "89247-1", R"("valueInteger":1)", "2025-05-20"),
                observation("e2", kLnc, "89247-1", R"("valueInteger":3)", "2025-05-28"),
                observation("e3", kLnc, "89247-1", R"("valueInteger":0)", "2025-05-01")});
  ASSERT_TRUE(c.quality_of_life.ecog);
  EXPECT_EQ(c.quality_of_life.ecog->value, 3);
  EXPECT_EQ(c.quality_of_life.ecog->evidence, (Evidence{"Observation/e2"}));
  // Without effective[x], issued dates the value.
  auto issued = run(
      {patient(), observation("e1", kLnc, "89247-1", R"("valueInteger":1)", "2025-05-20"),
       R"({"resourceType":"Observation","id":"e9","status":"final","subject":{"reference":"Patient/p1"},
                       "code":)" +
           coding(kLnc, "89247-1") + R"(,"valueInteger":2,"issued":"2025-05-25T08:00:00Z"})"});
  EXPECT_EQ(issued.quality_of_life.ecog->value, 2);
}

TEST(EvidenceRules, ValuesAfterAsOfAreNotKnownYet) {
  auto c = run({patient(), observation("e1", kLnc, "89247-1", R"("valueInteger":1)", "2025-05-20"),
                observation("e2", kLnc, "89247-1", R"("valueInteger":4)", "2025-06-02")});
  EXPECT_EQ(c.quality_of_life.ecog->value, 1);
  EXPECT_TRUE(is_ignored(c, "Observation/e2", "after the as-of time"));
}

// thresholds.json recency windows: a value older than its window is stale.
TEST(EvidenceRules, StaleValuesAreMarkedAndReported) {
  auto c = run({patient(), observation("h1", kLnc, "718-7", quantity(7.5, "g/dL"), "2025-04-30"),
                observation("h2", kLnc, "72514-3", R"("valueInteger":6)", "2025-05-18")});
  ASSERT_TRUE(c.general_condition.haemoglobin_g_dl);
  EXPECT_TRUE(c.general_condition.haemoglobin_g_dl->stale);  // 32 days > 30
  EXPECT_TRUE(c.general_condition.comorbidities.empty());    // stale values derive nothing
  EXPECT_TRUE(has_gap(c, "general condition", "older than 30 days"));
  EXPECT_FALSE(c.quality_of_life.pain_score->stale);  // 14 days == window
  auto edge =
      run({patient(), observation("h1", kLnc, "718-7", quantity(7.5, "g/dL"), "2025-05-02")});
  EXPECT_FALSE(edge.general_condition.haemoglobin_g_dl->stale);  // 30 days
}

// clinical-decision.md §6 (widely circulated mapping); marked derived.
TEST(PerformanceStatus, EcogKarnofskyCorrespondenceAndDerivedFlags) {
  const int kps_to_ecog[][2] = {{100, 0}, {90, 0}, {80, 1}, {70, 1}, {60, 2}, {50, 2},
                                {40, 3},  {30, 3}, {20, 4}, {10, 4}, {0, 5}};
  for (const auto& [kps, ecog] : kps_to_ecog) EXPECT_EQ(ecog_from_karnofsky(kps), ecog) << kps;
  const int ecog_to_kps[][2] = {{0, 90}, {1, 70}, {2, 50}, {3, 30}, {4, 10}, {5, 0}};
  for (const auto& [ecog, kps] : ecog_to_kps) EXPECT_EQ(karnofsky_from_ecog(ecog), kps) << ecog;

  auto from_kps =
      run({patient(), observation("k1", kLnc, "89243-0", R"("valueInteger":60)", "2025-05-30")});
  EXPECT_EQ(from_kps.quality_of_life.ecog->value, 2);
  EXPECT_TRUE(from_kps.quality_of_life.ecog_derived);
  EXPECT_FALSE(from_kps.quality_of_life.karnofsky_derived);
  auto from_ecog =
      run({patient(),
           observation("e1", kLnc, "89247-1",
                       R"("valueCodeableConcept":)" + coding(kLnc, "LA9625-0"), "2025-05-30")});
  EXPECT_EQ(from_ecog.quality_of_life.ecog->value, 3);  // LA9625-0 (fhir-coding.md §4)
  EXPECT_EQ(from_ecog.quality_of_life.karnofsky->value, 30);
  EXPECT_TRUE(from_ecog.quality_of_life.karnofsky_derived);
  // mCODE: the LOINC answer in interpretation; MII: ECOG as a component.
  auto interp =
      run({patient(), observation("e1", kLnc, "89247-1", "", "2025-05-30",
                                  R"("interpretation":[)" + coding(kLnc, "LA9624-3") + "]")});
  EXPECT_EQ(interp.quality_of_life.ecog->value, 2);
  auto comp = run({patient(), observation("x1", "urn:local", "performance", "", "2025-05-30",
                                          R"("component":[{"code":)" + coding(kLnc, "89243-0") +
                                              R"(,"valueInteger":30}])")});
  EXPECT_EQ(comp.quality_of_life.karnofsky->value, 30);
}

// clinical-decision.md §1.2: 0-6 stable, 7-12 indeterminate, 13-18 unstable.
TEST(Sins, BandEdges) {
  const auto& t = shipped_tables();
  EXPECT_EQ(sins_band(0, t), SinsBand::kStable);
  EXPECT_EQ(sins_band(6, t), SinsBand::kStable);
  EXPECT_EQ(sins_band(7, t), SinsBand::kIndeterminate);
  EXPECT_EQ(sins_band(12, t), SinsBand::kIndeterminate);
  EXPECT_EQ(sins_band(13, t), SinsBand::kUnstable);
  EXPECT_EQ(sins_band(18, t), SinsBand::kUnstable);
  for (int total : {6, 7, 12, 13}) {
    auto c = run({patient(),
                  observation("s1", kMst, "sins-total", "\"valueInteger\":" + std::to_string(total),
                              "2025-05-20", body_site_text("T12"))});
    ASSERT_TRUE(c.mechanics.sins_total);
    EXPECT_EQ(c.mechanics.sins_total->value, total);
    EXPECT_EQ(c.mechanics.band, sins_band(total, t));
    EXPECT_FALSE(c.mechanics.sins_computed);
    EXPECT_EQ(c.mechanics.lesion_level, "T12");
  }
  auto text = run(
      {patient(),
       R"({"resourceType":"Observation","id":"s2","status":"final","subject":{"reference":"Patient/p1"},
    "code":{"text":"Spinal Instability Neoplastic Score"},"valueInteger":14,"effectiveDateTime":"2025-05-20"})"});
  EXPECT_EQ(text.mechanics.band, SinsBand::kUnstable);
}

std::string sins_part(const std::string& id, const std::string& code, int points,
                      const std::string& level) {
  return observation(id, kMst, code, "\"valueInteger\":" + std::to_string(points), "2025-05-20",
                     body_site_text(level));
}

// clinical-decision.md §1.1: the total is the sum of six components; location
// points follow from the level; §11 item 2: no partial totals.
TEST(Sins, ComputedFromComponentsAndMissingComponents) {
  auto c = run(
      {patient(), sins_part("a", "sins-pain", 3, "T12"),
       sins_part("b", "sins-bone-lesion", 2, "T12"), sins_part("c", "sins-alignment", 4, "T12"),
       sins_part("d", "sins-collapse", 2, "T12"), sins_part("e", "sins-posterolateral", 1, "T12")});
  ASSERT_TRUE(c.mechanics.sins_total);
  EXPECT_TRUE(c.mechanics.sins_computed);
  EXPECT_EQ(c.mechanics.components.location, 3);  // T12 junctional
  EXPECT_EQ(c.mechanics.sins_total->value, 3 + 3 + 2 + 4 + 2 + 1);
  EXPECT_EQ(c.mechanics.band, SinsBand::kUnstable);
  EXPECT_TRUE(c.mechanics.subluxation);            // alignment 4
  EXPECT_TRUE(c.quality_of_life.mechanical_pain);  // pain component 3
  EXPECT_EQ(c.mechanics.sins_total->evidence.size(), 5u);

  auto partial = run({patient(), sins_part("a", "sins-pain", 1, "L3"),
                      sins_part("b", "sins-bone-lesion", 2, "L3")});
  EXPECT_FALSE(partial.mechanics.sins_total);
  EXPECT_FALSE(partial.mechanics.band);
  EXPECT_EQ(partial.mechanics.components.location, 2);  // L3 mobile
  EXPECT_EQ(partial.mechanics.missing_components,
            (std::vector<std::string>{"alignment", "collapse", "posterolateral"}));
  EXPECT_TRUE(has_gap(partial, "mechanical status", "3 of 6 components missing"));

  auto out_of_range = run({patient(), sins_part("a", "sins-pain", 2, "L3")});  // pain is 0, 1 or 3
  EXPECT_TRUE(is_ignored(out_of_range, "Observation/a", "out of range"));
}

TEST(Sins, WorstLesionIsReported) {
  auto c = run({patient(),
                observation("s1", kMst, "sins-total", R"("valueInteger":8)", "2025-05-20",
                            body_site_text("T4")),
                observation("s2", kMst, "sins-total", R"("valueInteger":11)", "2025-05-20",
                            body_site_text("L1")),
                observation("s3", kMst, "sins-total", R"("valueInteger":15)", "2025-03-01",
                            body_site_text("T4"))});
  // T4: the latest (8) replaces the older 15; L1's 11 is the worst.
  EXPECT_EQ(c.mechanics.sins_total->value, 11);
  EXPECT_EQ(c.mechanics.lesion_level, "L1");
}

// clinical-decision.md §2: grades 0..3; the worst documented grade.
TEST(Neurology, EsccWorstGradeAcrossLesionsAndTextSynonyms) {
  auto c = run(
      {patient(),
       observation("b1", kMst, "escc-grade", R"("valueCodeableConcept":)" + coding(kMst, "escc-1b"),
                   "2025-05-20", body_site_text("T4")),
       observation("b2", kMst, "escc-grade", R"("valueString":"2")", "2025-05-21",
                   body_site_text("T12")),
       R"({"resourceType":"Observation","id":"b3","status":"final","subject":{"reference":"Patient/p1"},
                  "code":{"text":"Bilsky grade"},"valueString":"Grade 1c","effectiveDateTime":"2025-05-22",
                  "bodySite":{"text":"L2"}})"});
  ASSERT_TRUE(c.neurology.escc);
  EXPECT_EQ(c.neurology.escc->value, EsccGrade::k2);
  EXPECT_EQ(c.neurology.escc->evidence, (Evidence{"Observation/b2"}));
  auto none = run({patient()});
  EXPECT_TRUE(has_gap(none, "neurological status", "ESCC"));
}

// DESIGN.md / source document: new limb neurological symptoms; "new" per the
// thresholds table window (14 days).
TEST(Neurology, DeficitsAndTheirOnsetRelativeToAsOf) {
  auto c = run({patient(), condition("n1", kSct, "23042008", R"("onsetDateTime":"2025-05-25")"),
                condition("n2", kIcd, "G95.29", R"("onsetDateTime":"2025-01-10")"),
                condition("n3", kIcd, "G83.4", R"("recordedDate":"2025-05-31")")});
  ASSERT_EQ(c.neurology.deficits.size(), 3u);
  std::map<std::string, NeurologicDeficit> by;
  for (const auto& d : c.neurology.deficits) by[d.evidence.at(0)] = d;
  EXPECT_TRUE(by["Condition/n1"].is_new);
  EXPECT_FALSE(by["Condition/n2"].is_new);
  EXPECT_TRUE(by["Condition/n2"].cord_compression);
  EXPECT_TRUE(by["Condition/n3"].is_new);  // recordedDate stands in for onset
  EXPECT_TRUE(c.neurology.any_new_deficit());
  auto edge =
      run({patient(), condition("n1", kSct, "23042008", R"("onsetDateTime":"2025-05-18")")});
  EXPECT_TRUE(edge.neurology.deficits.at(0).is_new);  // 14 days
  auto old = run({patient(), condition("n1", kSct, "23042008", R"("onsetDateTime":"2025-05-17")")});
  EXPECT_FALSE(old.neurology.deficits.at(0).is_new);  // 15 days
}

TEST(QualityOfLife, NewBackPainAmbulationAndGaps) {
  auto c = run(
      {patient(), condition("bp", kIcd, "M54.50", R"("onsetDateTime":"2025-05-28")"),
       observation("a1", kMst, "ambulatory-status",
                   R"("valueCodeableConcept":)" + coding(kMst, "non-ambulatory"), "2025-05-30"),
       observation("a0", kMst, "ambulatory-status",
                   R"("valueCodeableConcept":)" + coding(kMst, "non-ambulatory"), "2025-05-29"),
       observation("a9", kMst, "ambulatory-status", R"("valueString":"with-aid")", "2025-05-20")});
  ASSERT_TRUE(c.quality_of_life.new_back_pain);
  EXPECT_TRUE(c.quality_of_life.new_back_pain->value);
  EXPECT_EQ(c.quality_of_life.ambulation.value, Ambulation::kNonAmbulatory);
  EXPECT_EQ(c.quality_of_life.non_ambulatory_since->date_string(), "2025-05-29");
  EXPECT_TRUE(has_gap(c, "quality of life", "no pain score"));
  EXPECT_TRUE(has_gap(c, "quality of life", "performance status"));
  auto para = run({patient(), condition("n1", kIcd, "G82.21", R"("onsetDateTime":"2025-05-30")")});
  EXPECT_EQ(para.quality_of_life.ambulation.value, Ambulation::kNonAmbulatory);
}

// thresholds.json: anaemia WHO 2011 (female/unknown < 12.0, male < 13.0,
// severe < 8.0 g/dL).
TEST(GeneralCondition, AnaemiaFromHaemoglobinAtTheThresholds) {
  auto hb = [](double v, const std::string& unit = "g/dL", const std::string& gender = "female") {
    return run(
        {patient(gender), observation("h1", kLnc, "718-7", quantity(v, unit), "2025-05-30")});
  };
  EXPECT_TRUE(hb(12.0).general_condition.comorbidities.empty());
  auto low = hb(11.9);
  ASSERT_EQ(low.general_condition.comorbidities.size(), 1u);
  EXPECT_EQ(low.general_condition.comorbidities[0].kind, ComorbidityKind::kAnaemia);
  EXPECT_FALSE(low.general_condition.comorbidities[0].severe);
  EXPECT_EQ(low.general_condition.comorbidities[0].basis, "haemoglobin 11.9 g/dL below 12");
  EXPECT_EQ(hb(12.9, "g/dL", "male").general_condition.comorbidities.size(), 1u);
  EXPECT_TRUE(hb(13.0, "g/dL", "male").general_condition.comorbidities.empty());
  EXPECT_FALSE(hb(8.0).general_condition.comorbidities[0].severe);
  auto severe = hb(7.9);
  EXPECT_TRUE(severe.general_condition.comorbidities[0].severe);
  EXPECT_EQ(severe.general_condition.comorbidities[0].basis, "haemoglobin 7.9 g/dL below 8");
  auto grams_per_litre = hb(79, "g/L");
  EXPECT_DOUBLE_EQ(grams_per_litre.general_condition.haemoglobin_g_dl->value, 7.9);
  EXPECT_TRUE(grams_per_litre.general_condition.comorbidities[0].severe);
  auto bad_unit = hb(7.9, "mg");
  EXPECT_FALSE(bad_unit.general_condition.haemoglobin_g_dl);
  EXPECT_TRUE(is_ignored(bad_unit, "Observation/h1", "unit 'mg'"));
}

// thresholds.json: diabetes HbA1c >= 6.5 % (ADA 2024); uncontrolled > 8.5 % (CPOC/JBDS 2021).
TEST(GeneralCondition, DiabetesFromHbA1cAtTheThresholds) {
  auto a1c = [](double v, const std::string& unit = "%") {
    return run({patient(), observation("a1", kLnc, "4548-4", quantity(v, unit), "2025-05-30")});
  };
  EXPECT_TRUE(a1c(6.4).general_condition.comorbidities.empty());
  auto at = a1c(6.5);
  ASSERT_EQ(at.general_condition.comorbidities.size(), 1u);
  EXPECT_EQ(at.general_condition.comorbidities[0].kind, ComorbidityKind::kDiabetes);
  EXPECT_FALSE(at.general_condition.comorbidities[0].severe);
  EXPECT_FALSE(a1c(8.5).general_condition.comorbidities[0].severe);
  EXPECT_TRUE(a1c(8.6).general_condition.comorbidities[0].severe);
  // 75 mmol/mol is 9.0 % by the IFCC-NGSP master equation.
  EXPECT_NEAR(a1c(75, "mmol/mol").general_condition.hba1c_percent->value, 9.01, 0.01);
  // A diabetes Condition with a controlled HbA1c stays, not severe.
  auto cond = run({patient(), condition("d1", kIcd, "E11.9"),
                   observation("a1", kLnc, "4548-4", quantity(6.0, "%"), "2025-05-30")});
  ASSERT_EQ(cond.general_condition.comorbidities.size(), 1u);
  EXPECT_EQ(cond.general_condition.comorbidities[0].basis, "condition");
  EXPECT_EQ(cond.general_condition.comorbidities[0].evidence,
            (Evidence{"Condition/d1", "Observation/a1"}));
}

std::string bp_panel(double sys, double dia) {
  return observation("bp1", kLnc, "85354-9", "", "2025-05-30",
                     R"("component":[{"code":)" + coding(kLnc, "8480-6") + "," +
                         quantity(sys, "mm[Hg]") + R"(},{"code":)" + coding(kLnc, "8462-4") + "," +
                         quantity(dia, "mm[Hg]") + "}]");
}

// thresholds.json: >= 140/90 (NICE NG136); severe >= 180/110 (AAGBI/BHS 2016).
TEST(GeneralCondition, HypertensionFromBloodPressureAtTheThresholds) {
  auto bp = [](double s, double d) {
    return run({patient(), bp_panel(s, d)}).general_condition.comorbidities;
  };
  EXPECT_TRUE(bp(139, 89).empty());
  ASSERT_EQ(bp(140, 80).size(), 1u);
  EXPECT_EQ(bp(140, 80)[0].kind, ComorbidityKind::kHypertension);
  EXPECT_EQ(bp(120, 90).size(), 1u);
  EXPECT_FALSE(bp(179, 109)[0].severe);
  EXPECT_TRUE(bp(180, 90)[0].severe);
  EXPECT_TRUE(bp(150, 110)[0].severe);
  auto c = run({patient(), bp_panel(152, 94)});
  EXPECT_EQ(c.general_condition.systolic_mmhg->value, 152);
  EXPECT_EQ(c.general_condition.diastolic_mmhg->value, 94);
  EXPECT_EQ(c.general_condition.comorbidities[0].label, "Raised blood pressure");
}

TEST(GeneralCondition, ComorbidityConditionsByClass) {
  auto c = run({patient(), condition("c1", kIcd, "I50.9"), condition("c2", kIcd, "N18.6"),
                condition("c3", kIcd, "D63.0")});
  ASSERT_EQ(c.general_condition.comorbidities.size(), 3u);
  EXPECT_EQ(c.general_condition.comorbidities[0].kind, ComorbidityKind::kAnaemia);
  EXPECT_EQ(c.general_condition.comorbidities[1].kind, ComorbidityKind::kRenal);
  EXPECT_TRUE(c.general_condition.comorbidities[1].severe);
  EXPECT_EQ(c.general_condition.comorbidities[2].kind, ComorbidityKind::kCardiovascular);
}

// clinical-decision.md §4.1 (revised Tokuhashi 2005) and §11 item 2.
TEST(LifeExpectancy, TokuhashiTotalBandAndMissingInputs) {
  const std::vector<std::string> full{
      patient(),
      condition("p1", kIcd, "C50.919"),                                          // breast: 5
      spinal_met("m1", R"([{"text":"T12"}])"),                                   // 1 vertebra: 2
      observation("k1", kLnc, "89243-0", R"("valueInteger":80)", "2025-05-30"),  // KPS 80: 2
      observation("x1", kMst, "extraspinal-bone-metastasis-count", R"("valueInteger":0)",
                  "2025-05-20"),  // 2
      observation("v1", kMst, "internal-organ-metastasis",
                  R"("valueCodeableConcept":)" + coding(kMst, "internal-organ-metastasis-none"),
                  "2025-05-20"),                                                        // 2
      observation("f1", kMst, "frankel-grade", R"("valueString":"E")", "2025-05-30")};  // 2
  auto c = run(full);
  const auto& tk = c.life_expectancy.tokuhashi;
  EXPECT_TRUE(tk.complete) << ::testing::PrintToString(tk.missing);
  EXPECT_EQ(tk.total, 15);
  EXPECT_EQ(tk.band, TokuhashiBand::kAtLeast12Months);
  EXPECT_EQ(tk.inputs.size(), 6u);
  EXPECT_EQ(tk.evidence.size(), 6u);
  // Each input removed in turn: incomplete, named, never counted as zero.
  for (std::size_t drop = 1; drop < full.size(); ++drop) {
    auto less = full;
    less.erase(less.begin() + static_cast<long>(drop));
    auto r = run(less);
    EXPECT_FALSE(r.life_expectancy.tokuhashi.complete) << drop;
    EXPECT_EQ(r.life_expectancy.tokuhashi.missing.size(), 1u) << drop;
    EXPECT_FALSE(r.life_expectancy.tokuhashi.band) << drop;
    EXPECT_TRUE(has_gap(r, "life expectancy", "incomplete")) << drop;
  }
  const auto& t = shipped_tables();
  EXPECT_EQ(tokuhashi_band(8, t), TokuhashiBand::kUnder6Months);
  EXPECT_EQ(tokuhashi_band(9, t), TokuhashiBand::kAtLeast6Months);
  EXPECT_EQ(tokuhashi_band(11, t), TokuhashiBand::kAtLeast6Months);
  EXPECT_EQ(tokuhashi_band(12, t), TokuhashiBand::kAtLeast12Months);
}

TEST(LifeExpectancy, InputsFromEcogPalsyAndDocumentedSites) {
  auto c =
      run({patient(), condition("p1", kIcd, "C34.90"),  // lung: 0
           spinal_met("m1", R"([{"text":"T4-T6"}])"),   // 3 vertebrae: 0
           condition("b1", kIcd, "C79.51",
                     R"("bodySite":[{"text":"left femur"},{"text":"pelvis"}])"),     // 2 sites: 1
           observation("e1", kLnc, "89247-1", R"("valueInteger":3)", "2025-05-30"),  // KPS 30: 0
           observation("v1", kMst, "internal-organ-metastasis", R"("valueString":"unremovable")",
                       "2025-05-20"),
           observation("f1", kMst, "frankel-grade", R"("valueString":"C")", "2025-05-30")});  // 1
  const auto& tk = c.life_expectancy.tokuhashi;
  ASSERT_TRUE(tk.complete) << ::testing::PrintToString(tk.missing);
  EXPECT_EQ(tk.total, 2);
  EXPECT_EQ(tk.band, TokuhashiBand::kUnder6Months);
  // ECOG 1 spans KPS 70-80: the general-condition input stays missing.
  auto ecog1 =
      run({patient(), observation("e1", kLnc, "89247-1", R"("valueInteger":1)", "2025-05-30")});
  EXPECT_NE(ecog1.life_expectancy.tokuhashi.missing.at(0).find("ECOG 1"), std::string::npos);
}

TEST(LifeExpectancy, StatedEstimateAndStatedTokuhashi) {
  auto c = run(
      {patient(),
       observation("l1", kMst, "estimated-survival-months", quantity(26, "wk"), "2025-05-20"),
       observation("t1", kMst, "revised-tokuhashi-total", R"("valueInteger":10)", "2025-05-20")});
  ASSERT_TRUE(c.life_expectancy.stated_months);
  EXPECT_NEAR(c.life_expectancy.stated_months->value, 5.98, 0.01);
  EXPECT_TRUE(c.life_expectancy.tokuhashi.stated);
  EXPECT_EQ(c.life_expectancy.tokuhashi.band, TokuhashiBand::kAtLeast6Months);
  EXPECT_FALSE(has_gap(c, "life expectancy"));
}

std::string care_plan(const std::string& id, const std::string& status, const std::string& extra) {
  return R"({"resourceType":"CarePlan","id":")" + id + R"(","status":")" + status +
         R"(","intent":"plan","subject":{"reference":"Patient/p1"},)" + extra + "}";
}

// fhir-coding.md §12; status active or on-hold and a period covering as_of.
TEST(Treatments, ActiveCarePlansAndTheirKinds) {
  const std::string chemo =
      R"("activity":[{"detail":{"status":"in-progress","code":)" + coding(kSct, "367336001") +
      R"(}},{"detail":{"status":"scheduled","productCodeableConcept":{"text":"Denosumab"}}}])";
  auto c = run(
      {patient(),
       care_plan("cp1", "active", chemo + R"(,"period":{"start":"2025-03-01","end":"2025-09-01"})"),
       care_plan("cp2", "completed", chemo),
       care_plan("cp3", "on-hold",
                 R"("category":[)" + coding(kSct, "736252007") + R"(],"title":"Adjuvant plan")"),
       care_plan("cp4", "active", chemo + R"(,"period":{"start":"2025-01-01","end":"2025-05-01"})"),
       care_plan("cp5", "draft", R"("category":[)" + coding(kSct, "736252007") + "]"),
       care_plan("cp6", "active", R"("category":[{"text":"diabetes care"}])")});
  ASSERT_EQ(c.treatments.size(), 3u);
  EXPECT_EQ(c.treatments[0].kind, TreatmentKind::kChemotherapy);
  EXPECT_EQ(c.treatments[0].evidence, (Evidence{"CarePlan/cp1"}));
  EXPECT_EQ(c.treatments[1].kind, TreatmentKind::kBoneTargeted);
  EXPECT_EQ(c.treatments[2].kind, TreatmentKind::kOtherCancerTreatment);
  EXPECT_EQ(c.treatments[2].label, "Adjuvant plan");
  EXPECT_EQ(c.treatments[2].status, "on-hold");
  EXPECT_TRUE(is_ignored(c, "CarePlan/cp5", "draft"));
  EXPECT_TRUE(is_ignored(c, "CarePlan/cp6", "not a cancer-treatment plan"));
  auto none = run({patient()});
  EXPECT_TRUE(has_gap(none, "current cancer treatment"));
}

// clinical-decision.md §9 row 19: a completed spinal operation inside
// recency.spinal-surgery (90 days) is reported for postoperative radiotherapy.
TEST(SpinalSurgery, CompletedRecentOperationsOnly) {
  auto proc = [](const std::string& id, const std::string& code, const std::string& status,
                 const std::string& performed) {
    return R"({"resourceType":"Procedure","id":")" + id + R"(","status":")" + status +
           R"(","subject":{"reference":"Patient/p1"},"code":)" + coding(kSct, code) +
           (performed.empty() ? "" : R"(,"performedDateTime":")" + performed + "\"") + "}";
  };
  auto c = run({patient(), proc("s1", "10836008", "completed", "2025-05-01"),
                proc("s2", "55705006", "completed", "2024-10-01"),  // older than 90 days
                proc("s3", "387731002", "not-done", "2025-05-01"),
                proc("s4", "80146002", "completed", "2025-05-01"),  // not spinal
                proc("s5", "55705006", "completed", ""),
                proc("s6", "55705006", "completed", "2025-06-03")});  // after as_of
  ASSERT_EQ(c.spinal_surgeries.size(), 1u);
  EXPECT_EQ(c.spinal_surgeries[0].label, "Decompression of spinal cord");
  EXPECT_EQ(c.spinal_surgeries[0].when->date_string(), "2025-05-01");
  EXPECT_EQ(c.spinal_surgeries[0].evidence, (Evidence{"Procedure/s1"}));
  EXPECT_FALSE(is_ignored(c, "Procedure/s2"));
  EXPECT_TRUE(is_ignored(c, "Procedure/s3", "not-done"));
  EXPECT_TRUE(is_ignored(c, "Procedure/s4", "neither a spinal operation"));
  EXPECT_TRUE(is_ignored(c, "Procedure/s5", "no performed date"));
  EXPECT_TRUE(is_ignored(c, "Procedure/s6", "after the as-of time"));
}

// FHIR R4: Observation.bodySite is one CodeableConcept (Condition.bodySite an array).
TEST(SpinalLesions, ObservationBodySiteAsASingleObject) {
  auto c = run({patient(), R"({"resourceType":"Observation","id":"s1","status":"final",
    "subject":{"reference":"Patient/p1"},"code":)" +
                               coding(kMst, "sins-total") +
                               R"(,"valueInteger":9,"effectiveDateTime":"2025-05-20",
    "bodySite":{"coding":[{"system":"http://snomed.info/sct","code":"61032001"}]}})"});
  ASSERT_TRUE(c.mechanics.sins_total);
  EXPECT_EQ(c.mechanics.lesion_level, "L1");
  EXPECT_EQ(level_names(c), (std::vector<std::string>{"L1"}));
  EXPECT_TRUE(c.ignored.empty());
}

// fhir-coding.md §11 and the documented preference synonyms.
TEST(Preferences, CodedAndFreeTextPreferences) {
  auto c = run({patient(),
                observation("g1", kLnc, "81378-2",
                            R"("valueString":"Patient declines surgery; wants to stay at home.")",
                            "2025-05-20"),
                observation("g2", kMst, "treatment-preference",
                            R"("valueCodeableConcept":)" + coding(kLnc, "LA33475-7"), "2025-05-21"),
                condition("r1", kSct, "105480006", R"("note":[{"text":"refuses radiotherapy"}])")});
  ASSERT_EQ(c.preferences.size(), 3u);
  EXPECT_EQ(c.preferences[0].kind, PreferenceKind::kDeclinesSurgery);
  EXPECT_EQ(c.preferences[1].kind, PreferenceKind::kDeclinesRadiotherapy);
  EXPECT_EQ(c.preferences[1].evidence, (Evidence{"Condition/r1"}));
  EXPECT_EQ(c.preferences[2].kind, PreferenceKind::kComfortFocused);
  auto none = run({patient()});
  EXPECT_TRUE(has_gap(none, "patient preferences"));
  auto negated = run(
      {patient(), observation("g1", kLnc, "81378-2",
                              R"("valueString":"no sign he declines anything")", "2025-05-20")});
  ASSERT_EQ(negated.preferences.size(), 1u);
  EXPECT_EQ(negated.preferences[0].kind, PreferenceKind::kOther);
}

// Issue #11 item 3: preferences from Goal, Procedure not-done and Consent.
TEST(Preferences, GoalExpressedByThePatientDeclinesSurgery) {
  const std::string goal =
      R"({"resourceType":"Goal","id":"goal1","lifecycleStatus":"active","subject":{"reference":"Patient/p1"},)"
      R"("description":{"text":"I do not want an operation on my spine"},"startDate":"2025-05-20",)"
      R"("expressedBy":{"reference":"Patient/p1"}})";
  auto c = run({patient(), goal});
  ASSERT_EQ(c.preferences.size(), 1u);
  EXPECT_EQ(c.preferences[0].kind, PreferenceKind::kDeclinesSurgery);
  EXPECT_EQ(c.preferences[0].evidence, (Evidence{"Goal/goal1"}));
  // A clinician's goal is not the patient's preference.
  std::string by_doctor = goal;
  by_doctor.replace(by_doctor.find("Patient/p1\"}}"), 10, "Practitioner/d1");
  auto d = run({patient(), by_doctor});
  EXPECT_TRUE(d.preferences.empty());
}

TEST(Preferences, ProcedureNotDoneWithARefusalReason) {
  const std::string proc =
      R"({"resourceType":"Procedure","id":"pr1","status":"not-done","subject":{"reference":"Patient/p1"},)"
      R"("statusReason":)" +
      coding(kSct, "105480006") + R"(,"code":)" + coding(kSct, "10836008") +
      R"(,"performedDateTime":"2025-05-10"})";
  auto c = run({patient(), proc});
  ASSERT_EQ(c.preferences.size(), 1u);
  EXPECT_EQ(c.preferences[0].kind, PreferenceKind::kDeclinesSurgery);
  EXPECT_EQ(c.preferences[0].evidence, (Evidence{"Procedure/pr1"}));
}

TEST(Preferences, TheLatestStatementStands) {
  // "Previously declined ... now agrees" is agreement, within one text.
  auto agrees = run({patient(), observation("g1", kLnc, "75773-2",
                                            R"("valueString":"Previously declined surgery; )"
                                            R"(now agrees to surgery.")",
                                            "2025-05-20")});
  ASSERT_EQ(agrees.preferences.size(), 1u);
  EXPECT_EQ(agrees.preferences[0].kind, PreferenceKind::kOther);
  // A refusal, then a later Consent: the consent revokes the refusal...
  const std::string refusal =
      condition("r1", kSct, "105480006",
                R"("onsetDateTime":"2025-04-01","note":[{"text":"declines surgery"}])");
  const std::string consent =
      R"({"resourceType":"Consent","id":"k1","status":"active","patient":{"reference":"Patient/p1"},)"
      R"("scope":)" +
      coding("http://terminology.hl7.org/CodeSystem/consentscope", "treatment") +
      R"(,"category":[{"text":"Consent for spinal surgery"}],"dateTime":"2025-05-25",)"
      R"("provision":{"type":"permit"}})";
  auto revoked = run({patient(), refusal, consent});
  ASSERT_EQ(revoked.preferences.size(), 1u);
  EXPECT_EQ(revoked.preferences[0].kind, PreferenceKind::kOther);
  EXPECT_NE(revoked.preferences[0].supersedes.find("declines surgery"), std::string::npos);
  // ...and a refusal after the consent stands.
  std::string later = refusal;
  later.replace(later.find("2025-04-01"), 10, "2025-05-28");
  auto declined = run({patient(), later, consent});
  ASSERT_EQ(declined.preferences.size(), 1u);
  EXPECT_EQ(declined.preferences[0].kind, PreferenceKind::kDeclinesSurgery);
}

TEST(Preferences, NotForSurgeryIsAClinicalDecision) {
  auto c = run(
      {patient(), observation("g1", kLnc, "81380-8",
                              R"("valueString":"Spinal MDT: not for surgery.")", "2025-05-20")});
  ASSERT_EQ(c.preferences.size(), 1u);
  EXPECT_EQ(c.preferences[0].kind, PreferenceKind::kNotForSurgery);
  EXPECT_EQ(c.preferences[0].source, PreferenceSource::kClinician);
}

// fhir-coding.md §16.2: the POLST initial-treatment answers are a
// clinician's portable medical order, not the patient's preference.
TEST(Preferences, PolstAnswerIsAnOrderNotThePatientsWords) {
  auto obs = run({patient(), observation("o1", kMst, "treatment-preference",
                                         R"("valueCodeableConcept":)" + coding(kLnc, "LA33475-7"),
                                         "2025-05-20")});
  ASSERT_EQ(obs.preferences.size(), 1u);
  EXPECT_EQ(obs.preferences[0].kind, PreferenceKind::kComfortFocused);
  EXPECT_EQ(obs.preferences[0].source, PreferenceSource::kClinician);
  EXPECT_NE(obs.preferences[0].text.find("POLST"), std::string::npos);

  const std::string order =
      R"({"resourceType":"ServiceRequest","id":"pmo1","status":"active","intent":"order",)"
      R"("subject":{"reference":"Patient/p1"},"authoredOn":"2025-05-01","category":[)" +
      coding(kLnc, "100823-4") + R"(],"code":)" + coding(kLnc, "100823-4") + R"(,"orderDetail":[)" +
      coding(kLnc, "LA33475-7") + "]}";
  auto sr = run({patient(), order});
  ASSERT_EQ(sr.preferences.size(), 1u);
  EXPECT_EQ(sr.preferences[0].kind, PreferenceKind::kComfortFocused);
  EXPECT_EQ(sr.preferences[0].source, PreferenceSource::kClinician);
  EXPECT_EQ(sr.preferences[0].evidence, (Evidence{"ServiceRequest/pmo1"}));
  // A later order for full treatments replaces it: one POLST section.
  std::string full = order;
  full.replace(full.find("pmo1"), 4, "pmo2");
  full.replace(full.find("2025-05-01"), 10, "2025-05-15");
  full.replace(full.find("LA33475-7"), 9, "LA33473-2");
  auto later = run({patient(), order, full});
  ASSERT_EQ(later.preferences.size(), 1u);
  EXPECT_EQ(later.preferences[0].kind, PreferenceKind::kOther);
  EXPECT_EQ(later.preferences[0].evidence,
            (Evidence{"ServiceRequest/pmo1", "ServiceRequest/pmo2"}));
  // A revoked order is not in force.
  std::string revoked = order;
  revoked.replace(revoked.find("\"active\""), 8, "\"revoked\"");
  auto none = run({patient(), revoked});
  EXPECT_TRUE(none.preferences.empty());
  EXPECT_TRUE(is_ignored(none, "ServiceRequest/pmo1", "not in force"));
}

TEST(Preferences, ConsentCodedForAnOperationIsReadByCode) {
  // Decompression of spinal cord (SNOMED 10836008) coded without a display:
  // no treatment word to read, only the code.
  const std::string consent =
      R"({"resourceType":"Consent","id":"k2","status":"active","patient":{"reference":"Patient/p1"},)"
      R"("scope":)" +
      coding("http://terminology.hl7.org/CodeSystem/consentscope", "treatment") +
      R"(,"dateTime":"2025-05-25","provision":{"type":"deny","code":[{"coding":[{"system":")" +
      kSct + R"(","code":"10836008"}]}]}})";
  auto c = run({patient(), consent});
  ASSERT_EQ(c.preferences.size(), 1u);
  EXPECT_EQ(c.preferences[0].kind, PreferenceKind::kDeclinesSurgery);
}

TEST(Preferences, NoOperationIndicatedIsNotARefusal) {
  auto c = run({patient(), observation("g1", kLnc, "81380-8",
                                       R"("valueString":"MDT review: no operation indicated.")",
                                       "2025-05-20")});
  ASSERT_EQ(c.preferences.size(), 1u);
  EXPECT_EQ(c.preferences[0].kind, PreferenceKind::kOther);
}

}  // namespace
}  // namespace mst::mappings
