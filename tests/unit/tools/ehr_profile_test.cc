// The EHR profile rules (tests/tools/ehr_proxy): which requests a profile
// refuses, how it rewrites searches, and what it changes in answers.
#include "ehr_proxy/ehr_profile.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "ehr_proxy/ehr_filter.h"
#include "ehr_proxy/request_rules.h"
#include "ehr_proxy/response_rewrite.h"
#include "mst/fhir/json.h"

namespace mst::testing {
namespace {

const char* kProfile = R"({
  "name": "T",
  "resources": {
    "CarePlan": {"interactions": ["read", "search-type"]},
    "Observation": {"search_requires": [["patient", "category"], ["subject", "category"]]},
    "Condition": {"search_requires": [["patient"], ["subject"]], "unsupported_params": []}
  },
  "system_interactions": ["batch"],
  "unsupported_params": ["_lastUpdated"],
  "count": {"max": 50, "default": 20},
  "searchset_warning": "some omitted",
  "paging_links": "opaque"
})";

EhrProfile profile() { return parse_profile(kProfile); }

TEST(EhrProfileRules, CarePlanWritesAreRefusedWithAnOperationOutcome) {
  const auto p = profile();
  for (const auto& [method, target] : {std::pair{"POST", "/fhir/CarePlan"},
                                       {"PUT", "/fhir/CarePlan/abc"},
                                       {"PUT", "/fhir/CarePlan?identifier=x%7Cy"},
                                       {"DELETE", "/fhir/CarePlan/abc"},
                                       {"PATCH", "/fhir/CarePlan/abc"}}) {
    const Verdict v = judge_request(p, method, target, "{}");
    EXPECT_FALSE(v.forward) << method << " " << target;
    EXPECT_EQ(v.status, 405) << method << " " << target;
    EXPECT_EQ(v.issue_code, "not-supported");
    EXPECT_NE(v.diagnostics.find("CarePlan"), std::string::npos);
  }
  EXPECT_TRUE(judge_request(p, "GET", "/fhir/CarePlan/abc", "").forward);
  EXPECT_TRUE(judge_request(p, "GET", "/fhir/CarePlan?patient=p1", "").forward);
  // Types the profile does not name are not restricted.
  EXPECT_TRUE(judge_request(p, "POST", "/fhir/Goal", "{}").forward);
}

TEST(EhrProfileRules, TransactionsAreRefusedAndBatchEntriesFollowTheTypeRules) {
  const auto p = profile();
  const Verdict tx =
      judge_request(p, "POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction"})");
  EXPECT_FALSE(tx.forward);
  EXPECT_EQ(tx.status, 405);
  EXPECT_TRUE(
      judge_request(p, "POST", "/fhir/", R"({"resourceType":"Bundle","type":"batch","entry":[
      {"request":{"method":"POST","url":"Goal"}}]})")
          .forward);
  const Verdict entry =
      judge_request(p, "POST", "/fhir", R"({"resourceType":"Bundle","type":"batch",
      "entry":[{"request":{"method":"POST","url":"CarePlan"}}]})");
  EXPECT_FALSE(entry.forward);
  EXPECT_EQ(entry.status, 400);
  EXPECT_NE(entry.diagnostics.find("CarePlan create"), std::string::npos);
  EXPECT_EQ(judge_request(p, "POST", "/fhir", "not json").status, 400);
}

TEST(EhrProfileRules, ABatchSearchEntryMeetsTheSearchRulesOrRefusesTheBatch) {
  const auto p = profile();
  auto batch_of = [&](const std::string& url) {
    return judge_request(p, "POST", "/fhir",
                         R"({"resourceType":"Bundle","type":"batch",
      "entry":[{"request":{"method":"GET","url":"CarePlan/abc"}},
               {"request":{"method":"GET","url":")" +
                             url + R"("}}]})");
  };
  // Refused alone (no category), so refused inside a batch.
  const Verdict refused = batch_of("Observation?patient=p1&code=a&_count=20");
  EXPECT_FALSE(refused.forward);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.diagnostics.find("patient+category"), std::string::npos);
  // Rewritten alone (_count added, _lastUpdated dropped): a batch cannot
  // carry the rewrite, so it is refused rather than answered unfiltered.
  EXPECT_FALSE(batch_of("Condition?patient=p1").forward);
  EXPECT_FALSE(
      batch_of("Observation?patient=p1&category=exam&_count=20&_lastUpdated=gt2026").forward);
  EXPECT_FALSE(batch_of("Condition?patient=p1&_count=500").forward);
  // Taken alone as it is: taken in a batch.
  EXPECT_TRUE(batch_of("Condition?patient=p1&_count=20").forward);
}

TEST(EhrProfileRules, ObservationSearchNeedsACategoryBesideThePatient) {
  const auto p = profile();
  const Verdict by_code = judge_request(p, "GET", "/fhir/Observation?patient=p1&code=a,b", "");
  EXPECT_FALSE(by_code.forward);
  EXPECT_EQ(by_code.status, 400);
  EXPECT_EQ(by_code.issue_code, "required");
  EXPECT_NE(by_code.diagnostics.find("patient+category or subject+category"), std::string::npos);
  EXPECT_TRUE(judge_request(p, "GET", "/fhir/Observation?patient=p1&category=exam", "").forward);
  EXPECT_TRUE(judge_request(p, "GET", "/fhir/Observation?subject=Patient%2Fp1&category:text=x", "")
                  .forward);
  // An empty value does not count as given.
  EXPECT_FALSE(judge_request(p, "GET", "/fhir/Observation?patient=p1&category=", "").forward);
  EXPECT_FALSE(judge_request(p, "GET", "/fhir/Condition?code=x", "").forward);
}

TEST(EhrProfileRules, CountIsCappedAndDefaulted) {
  auto p = profile();
  EXPECT_EQ(judge_request(p, "GET", "/fhir/Condition?patient=p1&_count=500", "").target,
            "/fhir/Condition?patient=p1&_count=50");
  EXPECT_EQ(judge_request(p, "GET", "/fhir/Condition?patient=p1&_count=10", "").target,
            "/fhir/Condition?patient=p1&_count=10");
  EXPECT_EQ(judge_request(p, "GET", "/fhir/Condition?patient=p1", "").target,
            "/fhir/Condition?patient=p1&_count=20");
  EXPECT_EQ(judge_request(p, "GET", "/fhir/Condition?patient=p1&_count=x", "").status, 400);
  p.count_over = CountOver::kReject;
  const Verdict v = judge_request(p, "GET", "/fhir/Condition?patient=p1&_count=51", "");
  EXPECT_FALSE(v.forward);
  EXPECT_EQ(v.issue_code, "too-costly");
}

TEST(EhrProfileRules, LastUpdatedIsRejectedOrIgnoredAsTheProfileSays) {
  auto p = profile();
  const Verdict v =
      judge_request(p, "GET", "/fhir/Observation?category=exam&patient=p&_lastUpdated=gt2026", "");
  EXPECT_FALSE(v.forward);
  EXPECT_NE(v.diagnostics.find("_lastUpdated"), std::string::npos);
  // Condition's own (empty) list overrides the profile-wide one.
  EXPECT_TRUE(judge_request(p, "GET", "/fhir/Condition?patient=p&_lastUpdated=gt2026", "").forward);
  p.unsupported_action = UnsupportedParam::kIgnore;
  EXPECT_EQ(
      judge_request(p, "GET", "/fhir/Observation?_lastUpdated=gt2026&patient=p&category=exam", "")
          .target,
      "/fhir/Observation?patient=p&category=exam&_count=20");
}

TEST(EhrProfileRules, ReadsOfMetadataPagingAndOtherPathsPass) {
  const auto p = profile();
  for (const char* target : {"/fhir/metadata", "/fhir?_getpages=abc&_getpagesoffset=20",
                             "/other/CarePlan", "/fhirx/CarePlan", "/fhir/CarePlan/$validate"}) {
    const Verdict v = judge_request(p, "POST", target, "{}");
    EXPECT_TRUE(v.forward) << target;
  }
  EXPECT_EQ(judge_request(p, "GET", "/fhir?_getpages=abc", "").target, "/fhir?_getpages=abc");
}

TEST(EhrProfileParse, RejectsTyposAndImpossibleCounts) {
  EXPECT_THROW(parse_profile(R"({"resorces": {}})"), std::invalid_argument);
  EXPECT_THROW(parse_profile(R"({"paging_links": "cursor"})"), std::invalid_argument);
  EXPECT_THROW(parse_profile(R"({"count": {"max": 10, "default": 20}})"), std::invalid_argument);
  EXPECT_THROW(parse_profile(R"({"resources": {"CarePlan": {"search_requires": [[]]}}})"),
               std::invalid_argument);
  EXPECT_THROW(parse_profile("[1]"), std::invalid_argument);
  EXPECT_THROW(parse_profile("{"), std::invalid_argument);
}

TEST(EhrProfileParse, TheShippedProfilesLoad) {
  for (const char* name : {"epic-r4.json", "oracle-millennium-r4.json"}) {
    const auto p =
        load_profile(std::string(MST_SOURCE_DIR) + "/tests/tools/ehr_proxy/profiles/" + name);
    ASSERT_NE(p.rules_for("CarePlan"), nullptr) << name;
    EXPECT_FALSE(p.rules_for("CarePlan")->interactions->contains("create")) << name;
    EXPECT_FALSE(p.system_interactions->contains("transaction")) << name;
  }
}

TEST(EhrProfileRewrite, CapabilityStatementTellsTheTruth) {
  const std::string cs = R"({"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{
    "mode":"server","interaction":[{"code":"transaction"},{"code":"batch"}],
    "searchParam":[{"name":"_lastUpdated"},{"name":"_id"}],
    "resource":[{"type":"CarePlan","interaction":[{"code":"read"},{"code":"create"},{"code":"update"},
      {"code":"search-type"}],"conditionalCreate":true,"conditionalUpdate":true,
      "searchParam":[{"name":"patient"},{"name":"_lastUpdated"}]},
     {"type":"Observation","interaction":[{"code":"create"}]}]}]})";
  const auto doc = fhir::JsonDocument::parse(rewrite_capabilities(profile(), cs));
  fhir::Node rest = doc.root().array("rest")[0];
  ASSERT_EQ(rest.array("interaction").size(), 1u);
  EXPECT_EQ(rest.array("interaction")[0].string("code"), "batch");
  ASSERT_EQ(rest.array("searchParam").size(), 1u);
  fhir::Node care_plan = rest.array("resource")[0];
  ASSERT_EQ(care_plan.array("interaction").size(), 2u);
  EXPECT_EQ(care_plan.array("interaction")[1].string("code"), "search-type");
  EXPECT_EQ(care_plan.boolean("conditionalCreate"), false);
  ASSERT_EQ(care_plan.array("searchParam").size(), 1u);
  fhir::Node observation = rest.array("resource")[1];
  EXPECT_EQ(observation.array("interaction").size(), 1u);  // not restricted
  ASSERT_EQ(observation.array("extension").size(), 2u);
  EXPECT_EQ(observation.array("extension")[0].array("extension")[1].string("valueString"),
            "category");
  EXPECT_EQ(rewrite_capabilities(profile(), "<html/>"), "<html/>");
}

TEST(EhrProfileRewrite, OpaquePagingLinksMapBackAndOutcomesAreAdded) {
  EhrFilter filter(profile());
  ProxiedRequest search{"GET", "/fhir/Condition?patient=p1", "", "http://127.0.0.1:9"};
  ASSERT_FALSE(filter.on_request(search));
  std::string page = R"({"resourceType":"Bundle","type":"searchset","link":[
      {"relation":"self","url":"http://h:1/fhir/Condition?patient=p1"},
      {"relation":"next","url":"http://h:1/fhir?_getpages=xyz&_getpagesoffset=20"}],
      "entry":[{"resource":{"resourceType":"Condition","id":"c"},"search":{"mode":"match"}}]})";
  filter.on_response(search, 200, page);
  const auto doc = fhir::JsonDocument::parse(page);
  EXPECT_EQ(doc.root().array("link")[0].string("url"), "http://h:1/fhir/Condition?patient=p1");
  const std::string next(doc.root().array("link")[1].string("url").value_or(""));
  EXPECT_TRUE(next.starts_with("http://127.0.0.1:9/fhir?_page_token=")) << next;
  EXPECT_EQ(next.find("getpages"), std::string::npos);
  ASSERT_EQ(doc.root().array("entry").size(), 2u);
  EXPECT_EQ(doc.root().array("entry")[1]["search"].string("mode"), "outcome");

  ProxiedRequest follow{"GET", next.substr(std::string("http://127.0.0.1:9").size()), "",
                        "http://127.0.0.1:9"};
  ASSERT_FALSE(filter.on_request(follow));
  EXPECT_EQ(follow.target, "/fhir?_getpages=xyz&_getpagesoffset=20");
  ProxiedRequest forged{"GET", "/fhir?_page_token=nope", "", "http://127.0.0.1:9"};
  const auto refused = filter.on_request(forged);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
}

TEST(EhrProfileRewrite, AbsoluteAndRelativeLinkForms) {
  EXPECT_EQ(origin_relative("http://h:1/fhir?_getpages=a"), "/fhir?_getpages=a");
  EXPECT_EQ(origin_relative("http://h:1"), "/");
  EXPECT_EQ(origin_relative("/fhir?x"), "/fhir?x");
  auto p = profile();
  p.paging = PagingLinks::kAbsolute;
  EhrFilter filter(p);
  ProxiedRequest search{"GET", "/fhir/Condition?patient=p1", "", "http://127.0.0.1:9"};
  std::string page = R"({"resourceType":"Bundle","type":"searchset","link":[
      {"relation":"next","url":"http://localhost:1/fhir?_getpages=xyz"}]})";
  filter.on_response(search, 200, page);
  EXPECT_EQ(fhir::JsonDocument::parse(page).root().array("link")[0].string("url"),
            "http://127.0.0.1:9/fhir?_getpages=xyz");
}

}  // namespace
}  // namespace mst::testing
