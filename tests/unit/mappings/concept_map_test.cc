// Site ConceptMaps: the loader's validation, $translate semantics, and every
// CodeTables lookup going through the maps (docs/considerations.md,
// "Mapping your site's codes"; FHIR R4 ConceptMap and $translate).
#include "mst/mappings/concept_map.h"

#include <gtest/gtest.h>

#include "mst/fhir/json.h"
#include "mst/mappings/code_tables.h"
#include "record_fixture.h"
#include "table_fixture.h"

namespace mst::mappings {
namespace {

using testing::cc;
using testing::TempDir;

constexpr std::string_view kRow = "http://hospital.example.org/fhir/CodeSystem/flowsheet-row";
constexpr std::string_view kEsccAnswer =
    "http://hospital.example.org/fhir/CodeSystem/flowsheet-escc-answer";
constexpr std::string_view kProblem = "http://hospital.example.org/fhir/CodeSystem/problem-list";

std::filesystem::path example_map() {
  return std::filesystem::path(MST_SOURCE_DIR) / "config" / "concept-maps" /
         "example-flowsheet.json";
}

// The shipped tables with the shipped example map installed.
const CodeTables& mapped_tables() {
  static const CodeTables tables = [] {
    CodeTables t = CodeTables::load({testing::shipped_tables_dir()});
    t.use_concept_maps(ConceptMapSet::load({example_map()}));
    return t;
  }();
  return tables;
}

std::string error_of(std::string_view json) {
  try {
    ConceptMapSet set;
    set.add_json(json, "site.json");
  } catch (const ConceptMapError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConceptMapEquivalence, ExactConfirmOrExcluded) {
  EXPECT_EQ(use_of(Equivalence::kEquivalent), TranslationUse::kExact);
  EXPECT_EQ(use_of(Equivalence::kEqual), TranslationUse::kExact);
  EXPECT_EQ(use_of(Equivalence::kWider), TranslationUse::kExact);
  EXPECT_EQ(use_of(Equivalence::kSubsumes), TranslationUse::kExact);
  EXPECT_EQ(use_of(Equivalence::kNarrower), TranslationUse::kConfirm);
  EXPECT_EQ(use_of(Equivalence::kSpecializes), TranslationUse::kConfirm);
  EXPECT_EQ(use_of(Equivalence::kInexact), TranslationUse::kConfirm);
  EXPECT_EQ(use_of(Equivalence::kRelatedTo), TranslationUse::kConfirm);
  EXPECT_EQ(use_of(Equivalence::kUnmatched), TranslationUse::kExcluded);
  EXPECT_EQ(use_of(Equivalence::kDisjoint), TranslationUse::kExcluded);
  for (std::string_view name : {"relatedto", "equivalent", "equal", "wider", "subsumes", "narrower",
                                "specializes", "inexact", "unmatched", "disjoint"}) {
    auto e = parse_equivalence(name);
    ASSERT_TRUE(e) << name;
    EXPECT_EQ(to_string(*e), name);
  }
  EXPECT_FALSE(parse_equivalence("Equivalent"));
  EXPECT_FALSE(parse_equivalence("source-is-narrower-than-target"));  // R5, not R4
}

TEST(ExampleConceptMap, LoadsAndTranslatesEveryRow) {
  const ConceptMapSet set = ConceptMapSet::load({example_map()});
  EXPECT_EQ(set.maps(), (std::vector<std::string>{
                            "http://hospital.example.org/fhir/ConceptMap/mst-example-flowsheet"}));
  auto sins = set.translate(kRow, "SPINE-SINS-TOT");
  ASSERT_EQ(sins.size(), 1u);
  EXPECT_EQ(sins[0].system, "http://mst-adapter.example.org/fhir/CodeSystem/mst-observation");
  EXPECT_EQ(sins[0].code, "sins-total");
  EXPECT_EQ(sins[0].equivalence, Equivalence::kEquivalent);
  // Listed as unmatched: looked at, and deliberately not translated.
  EXPECT_TRUE(set.lists(kRow, "NUR-PAIN-FACES"));
  EXPECT_TRUE(set.translate(kRow, "NUR-PAIN-FACES").empty());
  // The same code in another system is another concept.
  EXPECT_TRUE(set.translate(kProblem, "SPINE-SINS-TOT").empty());
  EXPECT_FALSE(set.lists(kRow, "UNKNOWN"));
}

TEST(ExampleConceptMap, EveryLookupResolvesLocalCodesToTheStandardEntry) {
  const CodeTables& t = mapped_tables();
  const CodeTables& plain = testing::shipped_tables();
  struct Row {
    std::string_view code;
    std::string_view key;
  };
  for (const Row& r : {Row{"SPINE-SINS-TOT", "sins-total"}, Row{"SPINE-ESCC", "escc-grade"},
                       Row{"ONC-ECOG", "ecog"}, Row{"NUR-PAIN-NRS", "pain-score"}}) {
    std::optional<SiteMapped> via;
    const ObservationEntry* e = t.observation(cc(kRow, r.code), &via);
    ASSERT_NE(e, nullptr) << r.code;
    EXPECT_EQ(e, t.observation_by_key(r.key)) << r.code;
    ASSERT_TRUE(via) << r.code;
    EXPECT_EQ(via->source_code, r.code);
    EXPECT_EQ(via->translation.equivalence, Equivalence::kEquivalent);
    EXPECT_EQ(via->translation.map,
              "http://hospital.example.org/fhir/ConceptMap/mst-example-flowsheet");
    EXPECT_EQ(plain.observation(cc(kRow, r.code)), nullptr) << "no maps, no match: " << r.code;
  }
  EXPECT_EQ(t.observation(cc(kRow, "NUR-PAIN-FACES")), nullptr);

  std::optional<SiteMapped> via;
  const FindingEntry* f = t.finding(cc(kProblem, "PL-4711"), &via);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->key, "cord-compression");  // through the ICD-10-CM pattern of the target
  ASSERT_TRUE(via);
  EXPECT_EQ(via->translation.equivalence, Equivalence::kEquivalent);
  f = t.finding(cc(kProblem, "PL-4712"), &via);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->key, "cord-compression");
  ASSERT_TRUE(via);
  EXPECT_EQ(use_of(via->translation.equivalence), TranslationUse::kConfirm);
  EXPECT_EQ(plain.finding(cc(kProblem, "PL-4711")), nullptr);
}

TEST(ExampleConceptMap, CodedAnswersTranslateToo) {
  const CodeTables& t = mapped_tables();
  const ObservationEntry* escc = t.observation_by_key("escc-grade");
  ASSERT_NE(escc, nullptr);
  auto a = t.answer(*escc, cc(kEsccAnswer, "B1B"));
  ASSERT_TRUE(a);
  EXPECT_EQ(std::get<std::string>(*a), "1b");
  EXPECT_FALSE(t.answer(*escc, cc(kEsccAnswer, "B9")));
  EXPECT_FALSE(testing::shipped_tables().answer(*escc, cc(kEsccAnswer, "B1B")));
}

TEST(ExampleConceptMap, CodesAsSentWinAndNoViaIsReported) {
  const CodeTables& t = mapped_tables();
  fhir::CodeableConcept both;
  both.codings.push_back({kRow, "ONC-ECOG", {}});
  both.codings.push_back({kLoinc, "72514-3", {}});  // pain score, as sent
  std::optional<SiteMapped> via = SiteMapped{};
  const ObservationEntry* e = t.observation(both, &via);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->key, "pain-score");
  EXPECT_FALSE(via);
}

TEST(ExampleConceptMap, ServerSearchesAskForTheLocalCodes) {
  auto codes = mapped_tables().observation_search_codes();
  for (std::string_view code : {"SPINE-SINS-TOT", "SPINE-ESCC", "ONC-ECOG", "PL-4711"}) {
    const std::string token =
        (code == "PL-4711" ? std::string(kProblem) : std::string(kRow)) + "|" + std::string(code);
    EXPECT_TRUE(std::binary_search(codes.begin(), codes.end(), token)) << token;
  }
  const std::string faces = std::string(kRow) + "|NUR-PAIN-FACES";
  EXPECT_FALSE(std::binary_search(codes.begin(), codes.end(), faces));
  // A first sync finds the patients whose compression is on the problem list
  // under the local code.
  auto population = mapped_tables().population_search_codes();
  const std::string compression = std::string(kProblem) + "|PL-4711";
  EXPECT_TRUE(std::binary_search(population.begin(), population.end(), compression));
  EXPECT_FALSE(std::binary_search(population.begin(), population.end(),
                                  std::string(kRow) + "|SPINE-SINS-TOT"));
}

TEST(ConceptMapTranslate, LocalFormularyCodesReachTheCancerMedicationTable) {
  CodeTables t = CodeTables::load({testing::shipped_tables_dir()});
  const fhir::CodeableConcept local = cc("http://hospital.example.org/formulary", "F-123");
  EXPECT_EQ(t.cancer_medication(local).entry, nullptr);
  ConceptMapSet maps;
  maps.add_json(R"({"resourceType":"ConceptMap","group":[{"source":
    "http://hospital.example.org/formulary","target":"http://www.whocc.no/atc","element":[
    {"code":"F-123","target":[{"code":"L01BA04","equivalence":"equivalent"}]}]}]})",
                "formulary.json");
  t.use_concept_maps(std::move(maps));
  const MedicationMatch m = t.cancer_medication(local);
  ASSERT_NE(m.entry, nullptr);
  EXPECT_EQ(m.entry->key, "pemetrexed");  // the ATC code of the translation
  EXPECT_FALSE(m.from_text);
}

TEST(ConceptMapTranslate, OidAliasesOfTheSourceSystemAreTheSameSystem) {
  ConceptMapSet set;
  set.add_json(R"({"resourceType":"ConceptMap","group":[{"source":"http://snomed.info/sct",
    "target":"http://hl7.org/fhir/sid/icd-10-cm","element":[{"code":"123",
    "target":[{"code":"G95.20","equivalence":"equivalent"}]}]}]})",
               "m.json");
  EXPECT_EQ(set.translate("urn:oid:2.16.840.1.113883.6.96", "123").size(), 1u);
  EXPECT_EQ(set.translate("http://snomed.info/sct", "123").size(), 1u);
}

// A chart coded only with the site's codes reads like the standard one, and
// an approximate translation is a data gap to confirm.
TEST(ExampleConceptMap, ExtractorReadsLocalCodesAndFlagsApproximateOnes) {
  using namespace testing;
  const std::string row(kRow), problem(kProblem), answer(kEsccAnswer);
  const std::vector<std::string> chart{
      patient(),
      condition("ca", kIcd, "C50.919"),
      condition("met", kIcd, "C79.51", body_site_text("T10")),
      condition("cc", problem, "PL-4712", R"("onsetDateTime":"2025-05-30")"),
      observation("sins", row, "SPINE-SINS-TOT", R"("valueInteger":12)", "2025-05-20"),
      observation("escc", row, "SPINE-ESCC", R"("valueCodeableConcept":)" + coding(answer, "B2"),
                  "2025-05-20"),
      observation("ecog", row, "ONC-ECOG", R"("valueInteger":2)", "2025-05-20"),
  };
  const Considerations c =
      extract(record_of(chart), mapped_tables(), *fhir::DateTime::parse(kAsOf));
  ASSERT_TRUE(c.mechanics.sins_total);
  EXPECT_EQ(c.mechanics.sins_total->value, 12);
  ASSERT_TRUE(c.neurology.escc);
  EXPECT_EQ(c.neurology.escc->value, EsccGrade::k2);
  ASSERT_TRUE(c.quality_of_life.ecog);
  EXPECT_EQ(c.quality_of_life.ecog->value, 2);
  ASSERT_FALSE(c.neurology.deficits.empty());
  EXPECT_TRUE(c.neurology.deficits.front().cord_compression);
  EXPECT_TRUE(has_gap(c, "site code translation",
                      "Condition/cc: local code " + problem +
                          "|PL-4712 read as "
                          "http://hl7.org/fhir/sid/icd-10-cm|G95.20"));
  EXPECT_TRUE(has_gap(c, "site code translation", "(equivalence inexact: "));
  EXPECT_FALSE(has_gap(c, "site code translation", "SPINE-SINS-TOT"));  // equivalent: no gap

  // Without the maps the same chart has none of these facts.
  const Considerations plain = run(chart);
  EXPECT_FALSE(plain.mechanics.sins_total);
  EXPECT_FALSE(plain.neurology.escc);
  EXPECT_TRUE(plain.neurology.deficits.empty());
}

TEST(ConceptMapTranslate, ExactTranslationsFirstAndUnmappedModes) {
  ConceptMapSet set;
  set.add_json(R"({"resourceType":"ConceptMap","url":"http://x/cm","group":[
    {"source":"urn:local","target":"http://loinc.org","element":[
      {"code":"A","target":[
        {"code":"1-1","equivalence":"inexact","comment":"roughly"},
        {"code":"2-2","equivalence":"wider"},
        {"code":"3-3","equivalence":"disjoint"}]}],
     "unmapped":{"mode":"provided"}},
    {"source":"urn:other","target":"http://loinc.org","element":[{"code":"Z"}],
     "unmapped":{"mode":"fixed","code":"9-9"}}]})",
               "m.json");
  auto a = set.translate("urn:local", "A");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].code, "2-2");
  EXPECT_EQ(a[1].code, "1-1");
  EXPECT_EQ(a[1].comment, "roughly");
  auto provided = set.translate("urn:local", "8867-4");
  ASSERT_EQ(provided.size(), 1u);
  EXPECT_EQ(provided[0].system, "http://loinc.org");
  EXPECT_EQ(provided[0].code, "8867-4");
  EXPECT_EQ(provided[0].equivalence, Equivalence::kEquivalent);
  auto fixed = set.translate("urn:other", "Q");
  ASSERT_EQ(fixed.size(), 1u);
  EXPECT_EQ(fixed[0].code, "9-9");
  EXPECT_EQ(fixed[0].equivalence, Equivalence::kInexact);
  // A listed element is translated by its targets only, never the fallback.
  EXPECT_TRUE(set.translate("urn:other", "Z").empty());
  EXPECT_TRUE(set.translate("urn:nobody", "A").empty());
  EXPECT_TRUE(set.translate("urn:local", "").empty());
}

TEST(ConceptMapTranslate, BundleOfMapsAsAServerAnswers) {
  ConceptMapSet set;
  set.add_json(R"({"resourceType":"Bundle","type":"searchset","entry":[
    {"resource":{"resourceType":"ConceptMap","url":"http://x/a","group":[
      {"source":"urn:s","target":"urn:t","element":[
        {"code":"1","target":[{"code":"one","equivalence":"equal"}]}]}]}},
    {"resource":{"resourceType":"OperationOutcome"},"search":{"mode":"outcome"}},
    {"resource":{"resourceType":"ConceptMap","group":[
      {"source":"urn:s","target":"urn:t","element":[
        {"code":"1","target":[{"code":"uno","equivalence":"equivalent"}]}]}]}}]})",
               "answer.json");
  EXPECT_EQ(set.maps(), (std::vector<std::string>{"http://x/a", "answer.json"}));
  auto t = set.translate("urn:s", "1");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].code, "one");
  EXPECT_EQ(t[1].code, "uno");
  EXPECT_EQ(t[1].map, "answer.json");
}

TEST(ConceptMapLoader, ErrorsNameTheFileAndElement) {
  EXPECT_EQ(
      error_of("{"), "site.json: " + [] {
        try {
          fhir::JsonDocument::parse("{");
        } catch (const fhir::ParseError& e) {
          return std::string(e.what());
        }
        return std::string();
      }());
  EXPECT_EQ(error_of("[]"), "site.json: must hold a JSON object");
  EXPECT_EQ(error_of(R"({"resourceType":"Patient"})"),
            "site.json: expected a ConceptMap, found a Patient");
  EXPECT_EQ(error_of(R"({"resourceType":"ConceptMap"})"),
            "site.json: a ConceptMap needs at least one \"group\"");
  EXPECT_EQ(error_of(R"({"resourceType":"ConceptMap","group":[{"target":"urn:t"}]})"),
            "site.json: group[0]: \"source\" is required");
  EXPECT_EQ(error_of(R"({"resourceType":"ConceptMap","group":[{"source":"urn:s","element":[
              {"code":"a","target":[{"code":"b","equivalence":"same"}]}]}]})"),
            "site.json: group[0].element[0].target[0]: \"equivalence\" is \"same\"; expected one "
            "of relatedto, equivalent, equal, wider, subsumes, narrower, specializes, inexact, "
            "unmatched, disjoint");
  EXPECT_EQ(error_of(R"({"resourceType":"ConceptMap","group":[{"source":"urn:s","target":"urn:t",
              "element":[{"code":"a"},{"code":"c","target":[{"code":"b","equivalence":"narrower"}]}]}]})"),
            "site.json: group[0].element[1].target[0]: \"comment\" is required when the "
            "equivalence is \"narrower\" (FHIR R4 ConceptMap invariant cmd-1)");
  EXPECT_EQ(error_of(R"({"resourceType":"ConceptMap","group":[{"source":"urn:s","target":"urn:t",
              "element":[{"code":"a","target":[{"equivalence":"equal"}]}]}]})"),
            "site.json: group[0].element[0].target[0]: \"code\" is required");
  EXPECT_EQ(error_of(R"({"resourceType":"ConceptMap","group":[{"source":"urn:s",
              "element":[{"code":"a","target":[{"code":"b","equivalence":"equal"}]}]}]})"),
            "site.json: group[0]: \"target\" (the target code system) is required");
  EXPECT_EQ(error_of(R"({"resourceType":"ConceptMap","group":[{"source":"urn:s","target":"urn:t",
              "unmapped":{"mode":"other-map","url":"http://x"}}]})"),
            "site.json: group[0].unmapped: mode \"other-map\" is not supported: name the other "
            "map in adapter.concept_maps instead");
  EXPECT_EQ(error_of(R"({"resourceType":"ConceptMap","group":[{"source":"urn:s","target":"urn:t",
              "element":[{"code":"a","target":[{"code":"b","equivalence":"equal",
              "dependsOn":[{"property":"x","value":"y"}]}]}]}]})"),
            "site.json: group[0].element[0].target[0]: \"dependsOn\"/\"product\" are not "
            "supported: the adapter translates one code at a time");
  EXPECT_EQ(
      error_of(R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}}]})"),
      "site.json: entry[0].resource: expected a ConceptMap, found a Patient");
  // The map's own strings are quoted on one line.
  const std::string quoted = error_of(R"({"resourceType":"ConceptMap","group":[{"source":"s",
      "element":[{"code":"a","target":[{"code":"b","equivalence":"eq\nuivalent"}]}]}]})");
  EXPECT_EQ(quoted.find('\n'), std::string::npos) << quoted;
  EXPECT_NE(quoted.find("\"eq uivalent\""), std::string::npos) << quoted;
  // Wrong JSON types anywhere are errors too, never a crash.
  for (
      std::string_view bad :
      {R"({"resourceType":"ConceptMap","group":"x"})",
       R"({"resourceType":"ConceptMap","group":[7]})",
       R"({"resourceType":"ConceptMap","group":[{"source":7}]})",
       R"({"resourceType":"ConceptMap","group":[{"source":"s","element":{"code":"a"}}]})",
       R"({"resourceType":"ConceptMap","group":[{"source":"s","element":[{"code":["a"]}]}]})",
       R"({"resourceType":"ConceptMap","group":[{"source":"s","element":[{"code":"a","target":[1]}]}]})",
       R"({"resourceType":"ConceptMap","group":[{"source":"s","unmapped":"provided"}]})",
       R"({"resourceType":"Bundle","entry":[{"resource":[]}]})", R"({"resourceType":7})"}) {
    const std::string e = error_of(bad);
    EXPECT_EQ(e.rfind("site.json: ", 0), 0u) << bad << " -> " << e;
  }
}

TEST(ConceptMapLoader, MissingFileIsAnError) {
  TempDir dir;
  try {
    ConceptMapSet::load({dir.path() / "absent.json"});
    FAIL() << "no error";
  } catch (const ConceptMapError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.json: cannot open the file"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mst::mappings
