// The shipped code tables, entry family by entry family, and the loader's
// validation and site-override rules. Each test names the reference section
// its codes come from (shared/reference/fhir-coding.md, clinical-decision.md).
#include "mst/mappings/code_tables.h"

#include <gtest/gtest.h>

#include "table_fixture.h"

namespace mst::mappings {
namespace {

using testing::cc;
using testing::shipped_tables;
using testing::TempDir;
using testing::text_cc;

const CancerEntry* icd_cancer(std::string_view code) {
  return shipped_tables().cancer(cc(kIcd10Cm, code));
}

// fhir-coding.md §1a (ICD-10-CM), clinical-decision.md §3.3 and §4.1.
TEST(PrimaryCancerTable, IcdCodesMapToSiteRadiosensitivityAndTokuhashiPoints) {
  struct Row {
    std::string_view code;
    std::string_view key;
    Radiosensitivity rs;
    std::optional<int> points;
    bool haem;
  };
  const Row rows[] = {
      {"C34.90", "lung", Radiosensitivity::kUnknown, 0, false},
      {"C50.919", "breast", Radiosensitivity::kSensitive, 5, false},
      {"C61", "prostate", Radiosensitivity::kSensitive, 5, false},
      {"C64.9", "kidney", Radiosensitivity::kResistant, 3, false},
      {"C73", "thyroid", Radiosensitivity::kResistant, 5, false},
      {"C18.9", "colon", Radiosensitivity::kResistant, 2, false},
      {"C19", "rectosigmoid", Radiosensitivity::kResistant, std::nullopt, false},
      {"C20", "rectum", Radiosensitivity::kResistant, 4, false},
      {"C43.9", "melanoma", Radiosensitivity::kResistant, 2, false},
      {"C90.00", "myeloma", Radiosensitivity::kSensitive, 2, true},
      {"C90.30", "myeloma", Radiosensitivity::kSensitive, 2, true},
      {"C81.90", "lymphoma", Radiosensitivity::kSensitive, 2, true},
      {"C83.30", "lymphoma", Radiosensitivity::kSensitive, 2, true},
      {"C85.90", "lymphoma", Radiosensitivity::kSensitive, 2, true},
      {"C91.00", "other-haematological", Radiosensitivity::kUnknown, 2, true},
      {"C22.0", "liver", Radiosensitivity::kResistant, 1, false},
      {"C16.9", "stomach", Radiosensitivity::kUnknown, 0, false},
      {"C41.2", "spine-bone-tumour", Radiosensitivity::kResistant, std::nullopt, false},
      {"C41.4", "bone-sarcoma", Radiosensitivity::kResistant, std::nullopt, false},
      {"C80.1", "unknown-primary", Radiosensitivity::kUnknown, 1, false},
      {"C25.9", "pancreas", Radiosensitivity::kUnknown, 0, false},
      {"C67.9", "bladder", Radiosensitivity::kUnknown, 0, false},
      {"C15.9", "oesophagus", Radiosensitivity::kUnknown, 0, false},
      {"C56.1", "ovary", Radiosensitivity::kSensitive, 2, false},
      {"C53.9", "uterus", Radiosensitivity::kUnknown, 3, false},
      {"C54.1", "uterus", Radiosensitivity::kUnknown, 3, false},
      {"C49.9", "soft-tissue-sarcoma", Radiosensitivity::kResistant, 2, false},
      {"C7A.010", "neuroendocrine", Radiosensitivity::kSensitive, 5, false},
      {"C23", "gallbladder", Radiosensitivity::kUnknown, 1, false},
      {"C02.1", "head-neck", Radiosensitivity::kUnknown, 2, false},
      {"C76.0", "other-solid", Radiosensitivity::kUnknown, 2, false},
  };
  for (const auto& r : rows) {
    const CancerEntry* e = icd_cancer(r.code);
    ASSERT_NE(e, nullptr) << r.code;
    EXPECT_EQ(e->key, r.key) << r.code;
    EXPECT_EQ(e->radiosensitivity, r.rs) << r.code;
    EXPECT_EQ(e->tokuhashi_points, r.points) << r.code;
    EXPECT_EQ(e->haematological, r.haem) << r.code;
    EXPECT_FALSE(e->source.empty());
  }
}

// fhir-coding.md §1a: secondaries (C77-C79) are not primaries; codes are matched
// on the dotless prefix, case-insensitively.
TEST(PrimaryCancerTable, SecondariesAndNonCancerCodesDoNotMatch) {
  EXPECT_EQ(icd_cancer("C79.51"), nullptr);
  EXPECT_EQ(icd_cancer("C78.7"), nullptr);
  EXPECT_EQ(icd_cancer("I10"), nullptr);
  EXPECT_EQ(icd_cancer(""), nullptr);
  ASSERT_NE(icd_cancer("c349"), nullptr);
  EXPECT_EQ(icd_cancer("c349")->key, "lung");
  // An ICD-looking code under a local system is not an ICD-10 code.
  EXPECT_EQ(shipped_tables().cancer(cc("http://hospital.example.org/problem-list", "C34.9")),
            nullptr);
}

// fhir-coding.md §16.4: WHO ICD-10 shares ICD-10-CM's categories, and CDA- or
// v2-converted data names systems by OID. Each form reads as the same concept.
TEST(CodeSystemAliases, WhoIcd10AndOidsMatchLikeTheirCanonicalSystems) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.cancer(cc(kIcd10Who, "C34.9"))->key, "lung");
  EXPECT_EQ(t.cancer(cc("urn:oid:2.16.840.1.113883.6.90", "C34.90"))->key, "lung");
  EXPECT_EQ(t.cancer(cc("urn:oid:2.16.840.1.113883.6.3", "C90.0"))->key, "myeloma");
  EXPECT_EQ(t.cancer(cc("urn:oid:2.16.840.1.113883.6.96", "254837009"))->key, "breast");
  EXPECT_EQ(t.cancer(cc("http://snomed.info/sct/", "254837009"))->key, "breast");
  EXPECT_EQ(t.finding(cc(kIcd10Who, "G95.2"))->key, "cord-compression");
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "G95.29"))->key, "cord-compression");
  EXPECT_EQ(t.metastasis(cc(kIcd10Who, "C79.5"))->key, "bone");
  EXPECT_EQ(t.finding(cc(kIcd10Who, "G82.2"))->key, "paraplegia");
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "G82.21"))->key, "paraplegia-complete");
  ASSERT_EQ(t.spine_site(cc("urn:oid:2.16.840.1.113883.6.96", "39976000")).levels.size(), 1u);
  EXPECT_EQ(canonical_system("urn:oid:2.16.840.1.113883.6.1"), kLoinc);
  EXPECT_EQ(canonical_system("http://example.org/x"), "http://example.org/x");
  EXPECT_TRUE(is_icd10("urn:oid:2.16.840.1.113883.6.3"));
  EXPECT_FALSE(is_icd10(kSnomed));
}

// A category code matches its concept, and says it is less specific than
// the subcodes the tables tell apart (C79.5: bone vs bone marrow).
TEST(CodeHierarchy, CategoryCodesMatchWithANonSpecificFlag) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79.5"))->key, "bone");
  EXPECT_TRUE(t.nonspecific_code(cc(kIcd10Cm, "C79.5")));
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79.52"))->key, "bone-marrow");
  EXPECT_FALSE(t.nonspecific_code(cc(kIcd10Cm, "C79.51")));
  EXPECT_FALSE(t.nonspecific_code(cc(kIcd10Cm, "C79.52")));
  // The bare category of secondaries reads as "site not coded", flagged.
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79"))->key, "unspecified");
  EXPECT_TRUE(t.nonspecific_code(cc(kIcd10Cm, "C79")));
  // A coding the tables know exactly is never non-specific.
  fhir::CodeableConcept both = cc(kIcd10Cm, "C79.5");
  both.codings.push_back({kSnomed, "94222008", ""});
  EXPECT_FALSE(t.nonspecific_code(both));
  // Codes whose subcodes all mean one thing to us are not flagged.
  EXPECT_FALSE(t.nonspecific_code(cc(kIcd10Cm, "M54.5")));
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "M54.59"))->key, "back-pain");
}

// fhir-coding.md §16: the real-world variants of compression, spine pain,
// bone metastasis and haematological or primary spinal tumours.
TEST(RealWorldCodes, Section16VariantsAreKnown) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.finding(cc(kSnomed, "71286001"))->key, "cord-compression");
  EXPECT_TRUE(t.finding(cc(kSnomed, "71286001"))->cord_compression);
  EXPECT_EQ(t.finding(cc(kSnomed, "12454008"))->key, "cauda-equina");
  EXPECT_EQ(t.finding(cc(kIcd10Who, "G83.4"))->key, "cauda-equina");
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "M54.2"))->key, "back-pain");
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "M54.6"))->key, "back-pain");
  EXPECT_EQ(t.finding(cc(kSnomed, "278860009"))->key, "back-pain");
  EXPECT_EQ(t.metastasis(cc(kSnomed, "314994000"))->implies_primary, "prostate");
  EXPECT_EQ(t.metastasis(cc(kSnomed, "314994000"))->site, MetastasisSite::kUnspecified);
  EXPECT_EQ(t.cancer(cc(kSnomed, "426336007"))->key, "myeloma");
  EXPECT_EQ(t.cancer(cc(kIcd10Cm, "C90.32"))->key, "myeloma");
  EXPECT_TRUE(t.cancer(cc(kIcd10Who, "C41.2"))->in_spine);
  EXPECT_FALSE(t.cancer(cc(kIcd10Cm, "C41.4"))->in_spine);
}

// fhir-coding.md §1b (SNOMED CT) and the documented text synonyms.
TEST(PrimaryCancerTable, SnomedConceptsAndTextSynonyms) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.cancer(cc(kSnomed, "254637007"))->key, "lung-nsclc");
  EXPECT_EQ(t.cancer(cc(kSnomed, "254637007"))->radiosensitivity, Radiosensitivity::kResistant);
  EXPECT_EQ(t.cancer(cc(kSnomed, "254632001"))->key, "lung-sclc");
  EXPECT_EQ(t.cancer(cc(kSnomed, "254837009"))->key, "breast");
  EXPECT_EQ(t.cancer(cc(kSnomed, "363518003"))->key, "kidney");
  EXPECT_EQ(t.cancer(cc(kSnomed, "109989006"))->key, "myeloma");
  EXPECT_EQ(t.cancer(cc(kSnomed, "118599009"))->key, "lymphoma");
  EXPECT_EQ(t.cancer(cc(kSnomed, "93655004"))->key, "melanoma");
  EXPECT_EQ(t.cancer(cc(kSnomed, "363346000"))->tokuhashi_points, std::nullopt);
  EXPECT_EQ(t.cancer(text_cc("Renal Cell Carcinoma"))->key, "kidney");
  EXPECT_EQ(t.cancer(text_cc("  multiple   MYELOMA ")), t.cancer_by_key("myeloma"));
  EXPECT_EQ(t.cancer(text_cc("renal cell")), nullptr);
}

// A coded match wins over text, and exact codes over ICD-10-CM patterns.
TEST(PrimaryCancerTable, ExactCodesBeatPatternsAndText) {
  fhir::CodeableConcept c;
  c.codings.push_back({kIcd10Cm, "C34.90", {}});
  c.codings.push_back({kSnomed, "254637007", {}});
  c.text = "breast cancer";
  EXPECT_EQ(shipped_tables().cancer(c)->key, "lung-nsclc");
}

// fhir-coding.md §2a, including the C79.31 pitfall (brain, not vertebral column).
TEST(MetastasisTable, SitesRegionsAndCombinedCodes) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79.51"))->site, MetastasisSite::kBone);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79.52"))->site, MetastasisSite::kBoneMarrow);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79.31"))->site, MetastasisSite::kBrain);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79.49"))->site, MetastasisSite::kUnspecified);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C78.7"))->site, MetastasisSite::kVisceral);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C78.01"))->site, MetastasisSite::kVisceral);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79.71"))->site, MetastasisSite::kVisceral);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C77.0"))->site, MetastasisSite::kNodal);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C79.9"))->site, MetastasisSite::kUnspecified);
  EXPECT_EQ(t.metastasis(cc(kSnomed, "94602001"))->site, MetastasisSite::kSpine);
  EXPECT_EQ(t.metastasis(cc(kSnomed, "94274006"))->region, SpineRegion::kThoracic);
  EXPECT_EQ(t.metastasis(cc(kSnomed, "94527001"))->region, SpineRegion::kSacral);
  EXPECT_EQ(t.metastasis(cc(kSnomed, "94600009"))->site, MetastasisSite::kSpinalCanal);
  EXPECT_EQ(t.metastasis(cc(kSnomed, "94222008"))->site, MetastasisSite::kBone);
  EXPECT_EQ(t.metastasis(cc(kSnomed, "94225005"))->site, MetastasisSite::kBrain);
  EXPECT_EQ(t.metastasis(cc(kSnomed, "712849003"))->implies_primary, "prostate");
  EXPECT_EQ(t.metastasis(cc(kSnomed, "424887002"))->implies_primary, "thyroid");
  EXPECT_EQ(t.metastasis(cc(kSnomed, "285619009"))->implies_primary, "unknown-primary");
  EXPECT_EQ(t.metastasis(cc(kSnomed, "128462008"))->site, MetastasisSite::kUnspecified);
  EXPECT_EQ(t.metastasis(text_cc("Spinal metastases"))->site, MetastasisSite::kSpine);
  EXPECT_EQ(t.metastasis(cc(kIcd10Cm, "C34.90")), nullptr);
}

// fhir-coding.md §3b codes; SINS location classes from clinical-decision.md §1.1
// (Fisher 2010): junctional C0-C2, C7-T2, T11-L1, L5-S1; mobile C3-C6, L2-L4;
// semi-rigid T3-T10; rigid S2-S5.
TEST(SpineSiteTable, EveryVertebralBodyCodeGivesItsLevelAndSinsClass) {
  struct Row {
    std::string_view code;
    std::string_view level;
    SinsLocation sins;
  };
  using enum SinsLocation;
  const Row rows[] = {
      {"14806007", "C1", kJunctional},  {"39976000", "C2", kJunctional},
      {"1172006", "C2", kJunctional},   {"91116008", "C3", kMobile},
      {"14705001", "C4", kMobile},      {"67479001", "C5", kMobile},
      {"88298007", "C6", kMobile},      {"16126006", "C7", kJunctional},
      {"56094003", "T1", kJunctional},  {"50060007", "T2", kJunctional},
      {"73138009", "T3", kSemiRigid},   {"86197001", "T4", kSemiRigid},
      {"6105006", "T5", kSemiRigid},    {"32430008", "T6", kSemiRigid},
      {"71737002", "T7", kSemiRigid},   {"77435000", "T8", kSemiRigid},
      {"33766003", "T9", kSemiRigid},   {"48405002", "T10", kSemiRigid},
      {"52120002", "T11", kJunctional}, {"280849005", "T12", kJunctional},
      {"61032001", "L1", kJunctional},  {"53983007", "L2", kMobile},
      {"55492004", "L3", kMobile},      {"71996003", "L4", kMobile},
      {"21799000", "L5", kJunctional},  {"65985001", "S1", kJunctional},
      {"11808007", "S2", kRigid},       {"49967005", "S3", kRigid},
      {"69950008", "S4", kRigid},       {"21452006", "S5", kRigid},
  };
  for (const auto& r : rows) {
    SpineSiteMatch m = shipped_tables().spine_site(cc(kSnomed, r.code));
    ASSERT_EQ(m.levels.size(), 1u) << r.code;
    EXPECT_EQ(m.levels[0]->level->name, r.level) << r.code;
    EXPECT_EQ(m.levels[0]->level->sins_location, r.sins) << r.code;
  }
  for (int o = 1; o <= kLevelCount; ++o) {
    ASSERT_NE(shipped_tables().level_entry(level_from_ordinal(o)->name), nullptr) << o;
  }
}

// The three bodySite forms: vertebral-body code, whole-vertebra concept
// (coded, or an unlisted sibling concept named by its display), text only.
TEST(SpineSiteTable, LevelsFromBodyCodesWholeVertebraConceptsAndText) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.spine_site(cc(kSnomed, "14806007")).levels.at(0)->key, "C1");  // atlas, whole
  EXPECT_EQ(t.spine_site(cc(kSnomed, "65985001")).levels.at(0)->key, "S1");  // whole S1
  fhir::CodeableConcept whole;
  whole.codings.push_back({kSnomed, "181839006", "Entire first lumbar vertebra"});
  EXPECT_EQ(t.spine_site(whole).levels.at(0)->key, "L1");
  for (std::string_view text : {"T12", "T12 vertebra", "t12 vertebral body", "Th12", "D12",
                                "twelfth thoracic vertebra", "T 12"}) {
    auto m = t.spine_site(text_cc(text));
    ASSERT_EQ(m.levels.size(), 1u) << text;
    EXPECT_EQ(m.levels[0]->key, "T12") << text;
  }
  EXPECT_EQ(t.spine_site(text_cc("L1 vertebral body")).levels.at(0)->key, "L1");
  auto range = t.spine_site(text_cc("T11-L1"));
  ASSERT_EQ(range.levels.size(), 3u);
  EXPECT_EQ(range.levels[1]->key, "T12");
  EXPECT_EQ(t.spine_site(text_cc("L4/5")).levels.size(), 2u);
  EXPECT_TRUE(t.spine_site(text_cc("left femur")).levels.empty());
  EXPECT_FALSE(t.spine_site(text_cc("left femur")).spinal());
}

// fhir-coding.md §3a: region and junction concepts make a site spinal without a level.
TEST(SpineSiteTable, RegionCodesAndSynonyms) {
  const auto& t = shipped_tables();
  auto thoracic = t.spine_site(cc(kSnomed, "122495006"));
  EXPECT_TRUE(thoracic.levels.empty());
  ASSERT_NE(thoracic.region, nullptr);
  EXPECT_EQ(thoracic.region->region, SpineRegion::kThoracic);
  EXPECT_EQ(t.spine_site(cc(kSnomed, "1145014005")).region->sins_location,
            SinsLocation::kJunctional);
  EXPECT_TRUE(t.spine_site(text_cc("Lumbar spine")).spinal());
  // A region code plus a text level: the text gives the level.
  fhir::CodeableConcept both = cc(kSnomed, "122495006");
  both.text = "T7";
  EXPECT_EQ(t.spine_site(both).levels.at(0)->key, "T7");
}

// fhir-coding.md §4: ECOG 89247-1 with LOINC LL529-9 answers and SNOMED grades;
// Karnofsky 89243-0 with LL4986-7 answers (LA9627-6 "Dead" is ECOG 5, KPS 0).
TEST(ObservationTable, PerformanceStatusCodesAndAnswers) {
  const auto& t = shipped_tables();
  const ObservationEntry* ecog = t.observation(cc(kLoinc, "89247-1"));
  ASSERT_NE(ecog, nullptr);
  EXPECT_EQ(ecog->key, "ecog");
  const std::pair<std::string_view, double> ecog_answers[] = {{"LA9622-7", 0}, {"LA9623-5", 1},
                                                              {"LA9624-3", 2}, {"LA9625-0", 3},
                                                              {"LA9626-8", 4}, {"LA9627-6", 5}};
  for (const auto& [code, v] : ecog_answers) {
    EXPECT_EQ(std::get<double>(*t.answer(*ecog, cc(kLoinc, code))), v) << code;
  }
  EXPECT_EQ(std::get<double>(*t.answer(*ecog, cc(kSnomed, "423053003"))), 3);
  const ObservationEntry* kps = t.observation(cc(kLoinc, "89243-0"));
  ASSERT_NE(kps, nullptr);
  const std::pair<std::string_view, double> kps_answers[] = {
      {"LA29175-9", 100}, {"LA29176-7", 90}, {"LA29177-5", 80}, {"LA29178-3", 70},
      {"LA29179-1", 60},  {"LA29180-9", 50}, {"LA29181-7", 40}, {"LA29182-5", 30},
      {"LA29183-3", 20},  {"LA29184-1", 10}, {"LA9627-6", 0}};
  for (const auto& [code, v] : kps_answers) {
    EXPECT_EQ(std::get<double>(*t.answer(*kps, cc(kLoinc, code))), v) << code;
  }
  EXPECT_FALSE(t.answer(*kps, cc(kLoinc, "LA9622-7")));
}

// fhir-coding.md §5, §6: pain, labs and vitals.
TEST(ObservationTable, PainLabsAndVitals) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.observation(cc(kLoinc, "72514-3"))->key, "pain-score");
  EXPECT_EQ(t.observation(cc(kLoinc, "38208-5"))->key, "pain-score");
  EXPECT_EQ(t.observation(cc(kLoinc, "718-7"))->key, "haemoglobin");
  EXPECT_EQ(t.observation(cc(kLoinc, "718-7"))->units.at("g/L").factor, 0.1);
  EXPECT_EQ(t.observation(cc(kLoinc, "4548-4"))->key, "hba1c");
  EXPECT_EQ(t.observation(cc(kLoinc, "85354-9"))->value, ValueKind::kPanel);
  EXPECT_EQ(t.observation(cc(kLoinc, "8480-6"))->key, "systolic");
  EXPECT_EQ(t.observation(cc(kLoinc, "8462-4"))->key, "diastolic");
  EXPECT_EQ(t.observation(cc(kLoinc, "1751-7"))->key, "albumin");
}

// fhir-coding.md §9, §15: SINS and Bilsky ESCC have no standard code; the
// adapter's own codes live under the configurable canonical base, and the
// documented text synonyms are accepted.
TEST(ObservationTable, AdapterCodesUnderTheCanonicalBaseAndTextSynonyms) {
  const auto& t = shipped_tables();
  const std::string sys = "http://mst-adapter.example.org/fhir/CodeSystem/mst-observation";
  EXPECT_EQ(t.observation_system(), sys);
  EXPECT_EQ(t.observation(cc(sys, "sins-total"))->key, "sins-total");
  EXPECT_EQ(t.observation(cc(sys, "escc-grade"))->key, "escc-grade");
  EXPECT_EQ(t.observation(cc(sys, "frankel-grade"))->key, "frankel");
  EXPECT_EQ(t.observation(cc(sys, "estimated-survival-months"))->key, "life-expectancy");
  for (std::string_view s : {"SINS", "Spinal Instability Neoplastic Score", "sins total"}) {
    EXPECT_EQ(t.observation(text_cc(s))->key, "sins-total") << s;
  }
  for (std::string_view s : {"ESCC", "Bilsky grade", "Epidural spinal cord compression scale"}) {
    EXPECT_EQ(t.observation(text_cc(s))->key, "escc-grade") << s;
  }
  const ObservationEntry* escc = t.observation_by_key("escc-grade");
  EXPECT_EQ(std::get<std::string>(*t.answer(*escc, cc(sys, "escc-1c"))), "1c");

  TempDir none;
  auto custom = CodeTables::load({testing::shipped_tables_dir()}, "https://fhir.example.net/base/");
  EXPECT_EQ(custom.observation_system(),
            "https://fhir.example.net/base/CodeSystem/mst-observation");
  EXPECT_NE(custom.observation(
                cc("https://fhir.example.net/base/CodeSystem/mst-observation", "sins-total")),
            nullptr);
  EXPECT_EQ(custom.observation(cc(sys, "sins-total")), nullptr);
}

// fhir-coding.md §7 (ICD-10-CM chapter ranges and SNOMED codes).
TEST(ComorbidityTable, ClassesAndSevereCodes) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "D63.0"))->kind, ComorbidityKind::kAnaemia);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "D50.9"))->kind, ComorbidityKind::kAnaemia);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "E11.9"))->kind, ComorbidityKind::kDiabetes);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "E10.9"))->kind, ComorbidityKind::kDiabetes);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "I10"))->kind, ComorbidityKind::kHypertension);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "I12.9"))->kind, ComorbidityKind::kHypertension);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "I50.9"))->kind, ComorbidityKind::kCardiovascular);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "N18.30"))->kind, ComorbidityKind::kRenal);
  EXPECT_FALSE(t.comorbidity(cc(kIcd10Cm, "N18.30"))->severe);
  EXPECT_TRUE(t.comorbidity(cc(kIcd10Cm, "N18.6"))->severe);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "J44.9"))->kind, ComorbidityKind::kOther);
  EXPECT_EQ(t.comorbidity(cc(kSnomed, "44054006"))->kind, ComorbidityKind::kDiabetes);
  EXPECT_EQ(t.comorbidity(cc(kSnomed, "59621000"))->kind, ComorbidityKind::kHypertension);
  EXPECT_TRUE(t.comorbidity(cc(kSnomed, "46177005"))->severe);
  EXPECT_EQ(t.comorbidity(cc(kIcd10Cm, "C34.90")), nullptr);
}

// fhir-coding.md §5, §8, §9, §10, §11.
TEST(ClinicalFindingTable, NeurologyPainFractureInstabilityPrognosisRefusal) {
  const auto& t = shipped_tables();
  EXPECT_TRUE(t.finding(cc(kIcd10Cm, "G95.29"))->cord_compression);
  EXPECT_TRUE(t.finding(cc(kIcd10Cm, "G95.20"))->cord_compression);
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "G83.4"))->finding, FindingKind::kNeurologicalDeficit);
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "G82.21"))->ambulation, Ambulation::kNonAmbulatory);
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "G82.22"))->ambulation, std::nullopt);
  EXPECT_EQ(t.finding(cc(kSnomed, "23042008"))->finding, FindingKind::kNeurologicalDeficit);
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "M54.50"))->finding, FindingKind::kBackPain);
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "G89.3"))->finding, FindingKind::kBackPain);
  EXPECT_EQ(t.finding(cc(kSnomed, "866087009"))->finding, FindingKind::kPathologicalFracture);
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "M84.58XA"))->finding, FindingKind::kPathologicalFracture);
  EXPECT_EQ(t.finding(cc(kIcd10Cm, "M53.2X7"))->finding, FindingKind::kSpinalInstability);
  EXPECT_EQ(t.finding(cc(kSnomed, "300936002"))->finding, FindingKind::kPoorPrognosis);
  EXPECT_EQ(t.finding(cc(kSnomed, "105480006"))->finding, FindingKind::kTreatmentRefusal);
}

// fhir-coding.md §12: oncology CarePlan categories and activity codes.
TEST(CarePlanTable, CategoriesAndActivities) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.care_plan(cc(kSnomed, "736252007"))->role, CarePlanRole::kOncologyCategory);
  EXPECT_EQ(t.care_plan(cc(kSnomed, "395082007"))->role, CarePlanRole::kOncologyCategory);
  EXPECT_EQ(t.care_plan(cc(kSnomed, "367336001"))->treatment, TreatmentKind::kChemotherapy);
  EXPECT_EQ(t.care_plan(cc(kSnomed, "1217123003"))->treatment, TreatmentKind::kRadiotherapy);
  EXPECT_EQ(t.care_plan(cc(kSnomed, "33195004"))->treatment, TreatmentKind::kRadiotherapy);
  EXPECT_EQ(t.care_plan(text_cc("Denosumab"))->treatment, TreatmentKind::kBoneTargeted);
  EXPECT_EQ(t.care_plan(text_cc("androgen deprivation therapy"))->treatment,
            TreatmentKind::kEndocrine);
  const CarePlanEntry* palliative = t.care_plan(cc(kSnomed, "103735009"));
  ASSERT_NE(palliative, nullptr);
  EXPECT_EQ(palliative->treatment, std::nullopt);
}

// fhir-coding.md §12: spinal decompression and stabilisation procedures.
TEST(ProcedureTable, SpinalOperations) {
  const auto& t = shipped_tables();
  EXPECT_EQ(t.procedure(cc(kSnomed, "10836008"))->surgery, SurgeryKind::kDecompression);
  EXPECT_EQ(t.procedure(cc(kSnomed, "427752004"))->key, "laminectomy");
  EXPECT_EQ(t.procedure(cc(kSnomed, "55705006"))->surgery, SurgeryKind::kStabilisation);
  EXPECT_EQ(t.procedure(cc(kSnomed, "708651002"))->surgery, SurgeryKind::kResection);
  EXPECT_EQ(t.procedure(text_cc("Separation surgery"))->key, "cord-decompression");
  EXPECT_EQ(t.procedure(cc(kSnomed, "80146002")), nullptr);  // appendectomy
}

// Every threshold the extractor reads exists and carries a citation.
TEST(ThresholdTable, RequiredKeysWithCitations) {
  for (std::string_view key : required_threshold_keys()) {
    const Threshold& th = shipped_tables().threshold(key);
    EXPECT_FALSE(th.citation.empty()) << key;
    EXPECT_FALSE(th.unit.empty()) << key;
  }
  EXPECT_EQ(shipped_tables().value("sins.indeterminate-from"), 7);
  EXPECT_EQ(shipped_tables().value("sins.unstable-from"), 13);
  EXPECT_EQ(shipped_tables().value("anaemia.severe-hb-below"), 8.0);
  EXPECT_THROW(shipped_tables().threshold("no.such"), CodeTableError);
}

// ---- Loader errors: each names the file and the entry ----------------------

std::size_t testing_shipped_file_count() {
  return CodeTables::load({testing::shipped_tables_dir()}).files().size();
}

std::string load_error(const TempDir& site) {
  try {
    CodeTables::load({testing::shipped_tables_dir(), site.path()});
  } catch (const CodeTableError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CodeTableLoader, MissingDirectoryAndMalformedFiles) {
  EXPECT_THROW(CodeTables::load({"/nonexistent/mst-tables"}), CodeTableError);
  EXPECT_THROW(CodeTables::load({}), CodeTableError);
  TempDir d;
  d.write("bad.json", "{\"kind\": \"thresholds\", \"entries\": [");
  EXPECT_NE(load_error(d).find("bad.json"), std::string::npos) << load_error(d);
}

TEST(CodeTableLoader, RejectsUnknownKindFieldAndMissingLabel) {
  TempDir a;
  a.write("x.json", R"({"kind": "cancers", "entries": []})");
  EXPECT_NE(load_error(a).find("unknown kind \"cancers\""), std::string::npos) << load_error(a);
  TempDir b;
  b.write("x.json", R"({"kind": "comorbidities", "entries": [{"key": "gout",
    "label": "Gout", "comorbidity": "other", "snowmed": ["90560007"], "source": "s"}]})");
  EXPECT_NE(load_error(b).find("x.json: entry 'gout': unknown field \"snowmed\""),
            std::string::npos)
      << load_error(b);
  TempDir c;
  c.write("x.json", R"({"kind": "comorbidities", "entries": [{"key": "gout",
    "comorbidity": "other", "source": "s"}]})");
  EXPECT_NE(load_error(c).find("entry 'gout': missing \"label\""), std::string::npos);
}

TEST(CodeTableLoader, RejectsBadCodesLevelsAndValues) {
  TempDir range;
  range.write("x.json", R"({"kind": "comorbidities", "entries": [{"key": "k", "label": "K",
    "comorbidity": "other", "icd10cm": ["E66-E6"], "source": "s"}]})");
  EXPECT_NE(load_error(range).find("same length"), std::string::npos) << load_error(range);
  TempDir clash;
  clash.write("x.json", R"({"kind": "comorbidities", "entries": [
    {"key": "a", "label": "A", "comorbidity": "other", "snomed": ["1"], "source": "s"},
    {"key": "b", "label": "B", "comorbidity": "other", "snomed": ["1"], "source": "s"}]})");
  EXPECT_NE(load_error(clash).find("also claimed by entry 'a' of the same file"), std::string::npos)
      << load_error(clash);
  TempDir level;
  level.write("x.json", R"({"kind": "spine-sites", "entries": [{"key": "T13", "level": "T13",
    "sins_location": "junctional", "source": "s"}]})");
  EXPECT_NE(load_error(level).find("entry 'T13'"), std::string::npos) << load_error(level);
  TempDir obs;
  obs.write("x.json", R"({"kind": "observations", "entries": [{"key": "escc-grade", "merge": true,
    "answers": [{"system": "http://x", "code": "4", "value": "4"}]}]})");
  EXPECT_NE(load_error(obs).find("is not one of \"grades\""), std::string::npos) << load_error(obs);
  TempDir unknown;
  unknown.write("x.json", R"({"kind": "observations", "entries": [{"key": "heart-rate",
    "label": "HR", "value": "score", "recency": "recency.pain", "source": "s"}]})");
  EXPECT_NE(load_error(unknown).find("reads no observation with this key"), std::string::npos);
  TempDir points;
  points.write("x.json", R"({"kind": "primary-cancers", "entries": [{"key": "lung", "merge": true,
    "tokuhashi_points": 7}]})");
  EXPECT_NE(load_error(points).find("0..5"), std::string::npos) << load_error(points);
}

TEST(CodeTableLoader, RequiredThresholdsCannotBeRemoved) {
  TempDir d;
  d.write("x.json",
          R"({"kind": "thresholds", "entries": [{"key": "sins.unstable-from", "remove": true}]})");
  EXPECT_NE(load_error(d).find("sins.unstable-from"), std::string::npos) << load_error(d);
}

// ---- Site overrides ------------------------------------------------------------

TEST(CodeTableLoader, SiteDirectoryMergesReplacesRemovesAndOverridesCodes) {
  TempDir site;
  site.write("10-local.json", R"json({"kind": "primary-cancers", "entries": [
    {"key": "lung", "merge": true, "snomed": ["424132000"], "text": ["bronchogenic carcinoma"]},
    {"key": "thyroid", "label": "Thyroid carcinoma (site label)", "primary_site": "thyroid",
     "radiosensitivity": "unknown", "radiosensitivity_source": "site", "tokuhashi_points": 5,
     "icd10cm": ["C73"], "source": "site"},
    {"key": "gallbladder", "remove": true},
    {"key": "site-mesothelioma", "label": "Mesothelioma", "primary_site": "pleura",
     "radiosensitivity": "unknown", "radiosensitivity_source": "site", "tokuhashi_points": 2,
     "icd10cm": ["C45"], "source": "site"}]})json");
  site.write("20-thresholds.json", R"({"kind": "thresholds", "entries": [
    {"key": "recency.pain", "value": 7, "unit": "d", "citation": "site policy"}]})");
  site.write("30-whole-vertebra.json", R"({"kind": "spine-sites", "entries": [
    {"key": "L1", "merge": true, "snomed": ["181839006"], "forms": {"181839006": "whole"}}]})");
  auto t = CodeTables::load({testing::shipped_tables_dir(), site.path()});
  EXPECT_EQ(t.cancer(cc(kSnomed, "424132000"))->key, "lung");  // merged code
  EXPECT_EQ(t.cancer(cc(kIcd10Cm, "C34.1"))->key, "lung");     // kept code
  EXPECT_EQ(t.cancer(text_cc("Bronchogenic carcinoma"))->key, "lung");
  EXPECT_EQ(t.cancer(cc(kIcd10Cm, "C73"))->label, "Thyroid carcinoma (site label)");
  EXPECT_EQ(t.cancer(cc(kIcd10Cm, "C73"))->radiosensitivity, Radiosensitivity::kUnknown);
  EXPECT_EQ(t.cancer(cc(kSnomed, "363478007")), nullptr);  // replaced entry lost its SNOMED code
  EXPECT_EQ(t.cancer_by_key("gallbladder"), nullptr);
  EXPECT_EQ(t.cancer(cc(kIcd10Cm, "C23"))->key, "other-solid");          // falls back to the range
  EXPECT_EQ(t.cancer(cc(kIcd10Cm, "C45.0"))->key, "site-mesothelioma");  // later file wins C45
  EXPECT_EQ(t.cancer(cc(kIcd10Cm, "C46.0"))->key, "soft-tissue-sarcoma");
  EXPECT_EQ(t.value("recency.pain"), 7);
  EXPECT_EQ(t.threshold("recency.pain").citation, "site policy");
  EXPECT_EQ(t.spine_site(cc(kSnomed, "181839006")).levels.at(0)->key, "L1");
  EXPECT_EQ(t.files().size(), testing_shipped_file_count() + 3);
}

TEST(CodeTableLoader, MergeOrRemoveOfAnUnknownKeyIsAnError) {
  TempDir d;
  d.write("x.json", R"({"kind": "primary-cancers", "entries": [{"key": "nope", "merge": true}]})");
  EXPECT_NE(load_error(d).find("no earlier file defines"), std::string::npos);
}

}  // namespace
}  // namespace mst::mappings

namespace mst::mappings {
namespace {

// The pull asks the server only for Observations the tables can read.
TEST(CodeTablesSearch, ObservationSearchCodesAreSortedFhirTokens) {
  auto codes = testing::shipped_tables().observation_search_codes();
  ASSERT_FALSE(codes.empty());
  EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
  EXPECT_NE(std::find(codes.begin(), codes.end(), "http://loinc.org|89247-1"),
            codes.end());  // ECOG
  EXPECT_NE(std::find(codes.begin(), codes.end(), "http://loinc.org|72514-3"),
            codes.end());  // pain
  for (const auto& c : codes) EXPECT_NE(c.find('|'), std::string::npos) << c;
}

}  // namespace
}  // namespace mst::mappings

namespace mst::mappings {
namespace {

// A first sync finds its population by these codes (fhir-coding.md §2a).
TEST(CodeTablesSearch, PopulationCodesCoverSpineBoneDeficitsAndHaematologyButNotViscera) {
  auto codes = testing::shipped_tables().population_search_codes();
  auto has = [&](const char* t) { return std::find(codes.begin(), codes.end(), t) != codes.end(); };
  EXPECT_TRUE(has("http://snomed.info/sct|94602001"));           // vertebral column
  EXPECT_TRUE(has("http://snomed.info/sct|94222008"));           // bone
  EXPECT_TRUE(has("http://hl7.org/fhir/sid/icd-10-cm|C79.51"));  // bone, ICD-10-CM
  EXPECT_FALSE(has("http://snomed.info/sct|94225005"));          // brain
  EXPECT_TRUE(has("http://hl7.org/fhir/sid/icd-10|C79.5"));      // bone, WHO ICD-10
  EXPECT_TRUE(has("http://hl7.org/fhir/sid/icd-10|G95.2"));      // compression, WHO
  EXPECT_TRUE(has("http://snomed.info/sct|192970008"));          // cauda equina
  EXPECT_TRUE(has("http://snomed.info/sct|109989006"));          // myeloma
  EXPECT_TRUE(has("http://hl7.org/fhir/sid/icd-10-cm|C41.2"));   // vertebral column primary
  EXPECT_FALSE(has("http://hl7.org/fhir/sid/icd-10-cm|C50"));    // breast: needs a metastasis
  EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
}

}  // namespace
}  // namespace mst::mappings
