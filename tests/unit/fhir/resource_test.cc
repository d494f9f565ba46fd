#include "mst/fhir/resource.h"

#include <gtest/gtest.h>

namespace mst::fhir {
namespace {

TEST(Resource, ReadsIdentityAndMeta) {
  auto doc = JsonDocument::parse(R"({"resourceType":"Condition","id":"c1",
    "meta":{"versionId":"4","lastUpdated":"2024-05-01T10:00:00.000+00:00",
            "tag":[{"system":"s","code":"t"}],"profile":["http://p"]}})");
  Resource r(doc.root());
  EXPECT_EQ(r.type(), "Condition");
  EXPECT_EQ(r.ref(), "Condition/c1");
  EXPECT_EQ(r.version_id(), "4");
  EXPECT_EQ(r.last_updated()->to_string(), "2024-05-01T10:00:00.000Z");
  ASSERT_EQ(r.tags().size(), 1u);
  EXPECT_EQ(r.tags()[0].code, "t");
  EXPECT_EQ(r.profiles().at(0), "http://p");
}

TEST(Resource, RejectsNonResources) {
  auto doc = JsonDocument::parse(R"([{"id":"x"},{"resourceType":7},"text"])");
  for (Node n : doc.root().elements()) EXPECT_THROW(Resource{n}, ElementError);
}

TEST(Bundle, ReadsEntriesAndLinks) {
  auto doc = JsonDocument::parse(R"({"resourceType":"Bundle","type":"searchset","total":2,
    "link":[{"relation":"self","url":"http://s/fhir/Condition"},
            {"relation":"next","url":"http://s/fhir?_getpages=abc"}],
    "entry":[{"fullUrl":"http://s/fhir/Condition/1","resource":{"resourceType":"Condition","id":"1"},
              "search":{"mode":"match"}},
             {"resource":{"resourceType":"OperationOutcome","issue":[]},"search":{"mode":"outcome"}},
             {"response":{"status":"201 Created","location":"Condition/2/_history/1","etag":"W/\"1\""}}]})");
  Bundle b(doc.root());
  EXPECT_EQ(b.type(), "searchset");
  EXPECT_EQ(b.total(), 2);
  EXPECT_EQ(b.link("next"), "http://s/fhir?_getpages=abc");
  EXPECT_FALSE(b.link("previous"));
  auto e = b.entries();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].search_mode, "match");
  EXPECT_EQ(Resource(e[0].resource).id(), "1");
  EXPECT_EQ(e[1].search_mode, "outcome");
  EXPECT_FALSE(e[2].resource.present());
  EXPECT_EQ(e[2].response_status, "201 Created");
  EXPECT_EQ(e[2].response_etag, "W/\"1\"");
}

TEST(OperationOutcome, SummarisesIssuesAndSurvivesJunk) {
  auto doc = JsonDocument::parse(R"({"resourceType":"OperationOutcome","issue":[
    {"severity":"error","code":"processing","diagnostics":"HAPI-0989: version\nconflict"},
    {"severity":"warning","code":"informational","details":{"text":"note"}},
    "junk", {"severity":5}]})");
  auto issues = read_outcome_issues(doc.root());
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_TRUE(has_errors(issues));
  EXPECT_EQ(
      summarize_issues(issues),
      "error (processing): HAPI-0989: version conflict; warning (informational): note; issue");
  EXPECT_EQ(summarize_issues(issues, 20).size(), 20u);
  // Found by fuzz_resource: limits under 3 underflowed and returned it all.
  EXPECT_EQ(summarize_issues(issues, 2), "er");
  EXPECT_EQ(summarize_issues(issues, 0), "");
  auto other = JsonDocument::parse(R"({"resourceType":"Patient"})");
  EXPECT_TRUE(read_outcome_issues(other.root()).empty());
}

TEST(OperationOutcome, SummaryIsCutOnACharacterBoundary) {
  // A cut inside a multi-byte character left invalid UTF-8 in a line that
  // ends up in logs and in the plan's note (an invariant fuzz_resource checks).
  std::vector<OutcomeIssue> issues(1);
  issues[0].severity = "error";
  issues[0].diagnostics = "\u00e9\u00e9\u00e9\u00e9";  // "error: " then four 2-byte characters
  EXPECT_EQ(summarize_issues(issues, 13), "error: \u00e9...");  // 10 bytes would split the second é
  EXPECT_EQ(summarize_issues(issues, 14), "error: \u00e9\u00e9...");
}

}  // namespace
}  // namespace mst::fhir
