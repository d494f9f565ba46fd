// The unmapped-code collection behind `mst-adapter codes`, over small
// in-memory bundles, and the draft ConceptMap it writes.
#include "mst/mappings/unmapped_codes.h"

#include <gtest/gtest.h>

#include "record_fixture.h"
#include "table_fixture.h"

namespace mst::mappings {
namespace {

using namespace testing;

const std::string kLocal = "http://hospital.example.org/fhir/CodeSystem/flowsheet-row";

std::string bundle(const std::vector<std::string>& resources) {
  std::string b = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  for (std::size_t i = 0; i < resources.size(); ++i) {
    b += (i ? "," : "") + std::string(R"({"resource":)") + resources[i] + "}";
  }
  return b + "]}";
}

std::vector<UnmappedCode> collect(const CodeTables& tables, const std::vector<std::string>& docs,
                                  std::size_t* unreadable = nullptr) {
  UnmappedCodeCollector c(tables);
  std::vector<fhir::JsonDocument> keep;
  for (const auto& d : docs) {
    keep.push_back(fhir::JsonDocument::parse(d));
    c.add(keep.back().root());
  }
  if (unreadable) *unreadable = c.unreadable();
  return c.result();
}

const UnmappedCode* find(const std::vector<UnmappedCode>& v, std::string_view element,
                         std::string_view code, std::string_view text = "") {
  for (const auto& u : v) {
    if (u.element == element && u.code == code && u.text == text) return &u;
  }
  return nullptr;
}

TEST(UnmappedCodes, ListsWhatNoTableMapsWithCountsAndAnExample) {
  const std::vector<std::string> docs{
      bundle(
          {patient(), condition("ca", kIcd, "C50.919"),
           condition("met", kIcd, "C79.51", body_site_text("T10")),
           condition("htn", kSct, "59621000"),  // a comorbidity the tables know
           condition("loc1", kLocal, "PL-9"),
           observation("sins1", kLocal, "SPINE-SINS-TOT", R"("valueInteger":9)", "2025-05-01"),
           observation("ecog", kLnc, "89247-1",
                       R"("valueCodeableConcept":)" + coding(kLocal, "ECOG-TWO"), "2025-05-01")}),
      bundle({condition("loc2", kLocal, "PL-9"),
              observation("sins2", kLocal, "SPINE-SINS-TOT", R"("valueInteger":10)", "2025-05-02"),
              observation("sins3", kLocal, "SPINE-SINS-TOT", R"("valueInteger":11)", "2025-05-03"),
              R"({"resourceType":"Condition","id":"t","code":{"text":"Sore  knee"}})",
              R"({"resourceType":"Procedure","id":"pr","code":)" + coding(kSct, "1234") + "}",
              R"({"resourceType":"MedicationRequest","id":"mr","medicationCodeableConcept":)" +
                  coding("http://www.nlm.nih.gov/research/umls/rxnorm", "99999") + "}",
              R"({"resourceType":"Medication","id":"med","code":)" +
                  coding("http://www.nlm.nih.gov/research/umls/rxnorm", "88888") + "}",
              R"({"resourceType":"MedicationStatement","id":"ms","medicationCodeableConcept":)" +
                  coding("http://www.whocc.no/atc", "L01BA04") + "}"}),
  };
  const auto v = collect(shipped_tables(), docs);
  ASSERT_GE(v.size(), 6u);
  // Most frequent first.
  EXPECT_EQ(v[0].element, "Observation.code");
  EXPECT_EQ(v[0].system, kLocal);
  EXPECT_EQ(v[0].code, "SPINE-SINS-TOT");
  EXPECT_EQ(v[0].count, 3u);
  EXPECT_EQ(v[0].example, "Observation/sins1");
  const UnmappedCode* pl = find(v, "Condition.code", "PL-9");
  ASSERT_NE(pl, nullptr);
  EXPECT_EQ(pl->count, 2u);
  EXPECT_EQ(pl->example, "Condition/loc1");
  const UnmappedCode* answer = find(v, "Observation.valueCodeableConcept", "ECOG-TWO");
  ASSERT_NE(answer, nullptr);
  EXPECT_EQ(answer->example, "Observation/ecog");
  const UnmappedCode* text = find(v, "Condition.code", "", "sore knee");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->display, "Sore  knee");
  EXPECT_NE(find(v, "Procedure.code", "1234"), nullptr);
  EXPECT_NE(find(v, "MedicationRequest.medicationCodeableConcept", "99999"), nullptr);
  EXPECT_NE(find(v, "Medication.code", "88888"), nullptr);
  // A cancer medication the tables know (pemetrexed, under ATC L01) is not listed.
  EXPECT_EQ(find(v, "MedicationStatement.medicationCodeableConcept", "L01BA04"), nullptr);
  // What the tables map is never listed.
  for (const auto& u : v) {
    EXPECT_NE(u.code, "C50.919");
    EXPECT_NE(u.code, "C79.51");
    EXPECT_NE(u.code, "59621000");
    EXPECT_NE(u.code, "89247-1");
  }
}

TEST(UnmappedCodes, SiteMapsMapOrSilenceTheirCodes) {
  CodeTables tables = CodeTables::load({shipped_tables_dir()});
  ConceptMapSet maps;
  maps.add_json(R"({"resourceType":"ConceptMap","group":[{"source":")" + kLocal +
                    R"(","target":"http://mst-adapter.example.org/fhir/CodeSystem/mst-observation",
                    "element":[{"code":"SPINE-SINS-TOT","target":[{"code":"sins-total",
                    "equivalence":"equivalent"}]},{"code":"NOT-OURS","target":[{
                    "equivalence":"unmatched"}]}]}]})",
                "site.json");
  tables.use_concept_maps(std::move(maps));
  const auto v = collect(
      tables,
      {bundle({observation("s", kLocal, "SPINE-SINS-TOT", R"("valueInteger":9)", "2025-05-01"),
               observation("n", kLocal, "NOT-OURS", R"("valueInteger":1)", "2025-05-01"),
               observation("o", kLocal, "OTHER", R"("valueInteger":1)", "2025-05-01")})});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].code, "OTHER");
}

TEST(UnmappedCodes, BodySitesOfReadConditionsOnly) {
  const auto v = collect(
      shipped_tables(),
      {bundle({condition("met", kIcd, "C79.51", R"("bodySite":[)" + coding(kSct, "10200004") + "]"),
               condition("flu", kSct, "6142004",
                         R"("bodySite":[)" + coding(kSct, "39607008") + "]")})});
  EXPECT_NE(find(v, "Condition.bodySite", "10200004"), nullptr);  // liver, on a metastasis
  EXPECT_EQ(find(v, "Condition.bodySite", "39607008"), nullptr);  // on an unread Condition
}

TEST(UnmappedCodes, MalformedResourcesAreCountedNeverThrown) {
  std::size_t unreadable = 0;
  const auto v = collect(shipped_tables(),
                         {R"({"resourceType":"Condition","id":"x","code":"C50"})",
                          R"({"resourceType":"Bundle","entry":[7,{"resource":[]},
                             {"resource":{"resourceType":"Observation","code":{"coding":7}}}]})",
                          R"([1,2])", R"({"resourceType":"Bundle","entry":"x"})"},
                         &unreadable);
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(unreadable, 5u);
}

TEST(UnmappedCodes, DraftConceptMapLoadsAndListsEveryCodeOnce) {
  std::vector<UnmappedCode> codes{
      {"Observation.code", kLocal, "B", "", "Row B", 5, "Observation/1"},
      {"Condition.code", kLocal, "A", "", "Row A", 2, "Condition/2"},
      {"Observation.code", kLocal, "A", "", "", 1, "Observation/3"},
      {"Condition.code", "urn:other", "Z", "", "", 1, "Condition/4"},
      {"Condition.code", "", "", "sore knee", "Sore knee", 9, "Condition/5"},
  };
  const fhir::JsonValue draft = draft_concept_map(codes, "http://site/ConceptMap/draft");
  const std::string text = draft.dump(true);
  ConceptMapSet set;
  ASSERT_NO_THROW(set.add_json(text, "draft.json")) << text;
  EXPECT_TRUE(set.lists(kLocal, "A"));
  EXPECT_TRUE(set.lists(kLocal, "B"));
  EXPECT_TRUE(set.lists("urn:other", "Z"));
  EXPECT_TRUE(set.translate(kLocal, "A").empty());  // unmatched until filled in
  EXPECT_EQ(set.maps(), (std::vector<std::string>{"http://site/ConceptMap/draft"}));
  EXPECT_NE(text.find("seen 3 time(s) in Condition.code, Observation.code (e.g. Condition/2)"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("sore knee"), std::string::npos);
  EXPECT_EQ(draft_concept_map(codes, "x").dump(), draft_concept_map(codes, "x").dump());
}

}  // namespace
}  // namespace mst::mappings
