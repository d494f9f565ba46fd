// The in-memory FHIR server behaves as the tests that run against it assume:
// versions and history, searches, conditional and If-Match writes, and its
// fault hooks.
#include "support/memory_fhir_server.h"

#include <gtest/gtest.h>

#include "mst/fhir/json.h"

namespace mst::adapter::testing {
namespace {

using std::chrono::milliseconds;

const std::string kIds = "http://ids.test";

std::string goal(const std::string& id, const std::string& value,
                 const std::string& patient = "p1") {
  return R"({"resourceType":"Goal","id":")" + id + R"(","identifier":[{"system":")" + kIds +
         R"(","value":")" + value + R"("}],"subject":{"reference":"Patient/)" + patient + R"("}})";
}

std::vector<std::string> ids(const fhir::SearchResult& r) {
  std::vector<std::string> out;
  for (fhir::Node n : r.resources) out.emplace_back(n.string("id").value_or(""));
  return out;
}

std::string meta(const std::string& json, std::string_view key) {
  auto doc = fhir::JsonDocument::parse(json);
  return std::string(doc.root().object("meta").string(key).value_or(""));
}

std::string tx(const std::string& entries) {
  return R"({"resourceType":"Bundle","type":"transaction","entry":[)" + entries + "]}";
}

std::string status_of(const fhir::FhirResponse& r, std::size_t entry) {
  return std::string(r.resource().array("entry")[entry]["response"].string("status").value_or(""));
}

TEST(MemoryFhirServer, EveryWriteIsANewVersionStampedByTheClock) {
  MemoryFhirServer s;
  s.put(goal("g1", "a"));
  s.clock().advance(milliseconds(1500));
  s.put(goal("g1", "b"));
  EXPECT_EQ(meta(s.get("Goal/g1"), "versionId"), "2");
  EXPECT_EQ(meta(s.get("Goal/g1"), "lastUpdated"), "2026-03-01T12:00:01.500Z");
  EXPECT_EQ(s.versions("Goal/g1"), 2);
  auto v1 = s.vread("Goal", "g1", "1");
  EXPECT_EQ(v1.resource().array("identifier")[0].string("value"),
            std::optional<std::string_view>("a"));
  EXPECT_THROW(s.vread("Goal", "g1", "3"), fhir::NotFound);
  s.remove("Goal/g1");
  EXPECT_THROW(s.read("Goal", "g1"), fhir::NotFound);
  EXPECT_NO_THROW(s.vread("Goal", "g1", "2"));
}

TEST(MemoryFhirServer, SearchesByPatientIdentifierAndLastUpdated) {
  MemoryFhirServer s;
  s.put(goal("g1", "a"));
  s.clock().advance(milliseconds(10'000));
  s.put(goal("g2", "b"));
  s.put(goal("g3", "c", "p2"));
  EXPECT_EQ(ids(s.search("Goal", {{"patient", "p1"}}, {})), (std::vector<std::string>{"g1", "g2"}));
  EXPECT_EQ(ids(s.search("Goal", {{"subject", "Patient/p2"}}, {})),
            (std::vector<std::string>{"g3"}));
  EXPECT_EQ(ids(s.search("Goal", {{"identifier", kIds + "|b," + kIds + "|c"}}, {})),
            (std::vector<std::string>{"g2", "g3"}));
  EXPECT_EQ(ids(s.search("Goal", {{"identifier", kIds + "|"}}, {})).size(), 3u);
  EXPECT_TRUE(ids(s.search("Goal", {{"identifier", "other|a"}}, {})).empty());
  EXPECT_EQ(ids(s.search("Goal", {{"_lastUpdated", "gt2026-03-01T12:00:05Z"}}, {})),
            (std::vector<std::string>{"g2", "g3"}));
  EXPECT_EQ(ids(s.search("Goal", {{"_lastUpdated", "lt2026-03-01T12:00:05Z"}}, {})),
            (std::vector<std::string>{"g1"}));
  EXPECT_EQ(ids(s.search("Goal",
                         {{"_lastUpdated", "ge2026-03-01T12:00:00Z"},
                          {"_lastUpdated", "le2026-03-01T12:00:00Z"}},
                         {})),
            (std::vector<std::string>{"g1"}));
  // The searchset says the server's time, as HAPI's does.
  auto r = s.search("Goal", {}, {});
  EXPECT_EQ(r.pages.front()->root().object("meta").string("lastUpdated"),
            std::optional<std::string_view>("2026-03-01T12:00:10.000Z"));
}

TEST(MemoryFhirServer, SearchesByCodeAndCategoryTokens) {
  MemoryFhirServer s;
  s.put(R"({"resourceType":"Observation","id":"o1",
    "code":{"coding":[{"system":"http://loinc.org","code":"1-1"}]},
    "category":[{"coding":[{"system":"http://cat.test","code":"imaging"}]},
                {"coding":[{"code":"exam"}]}]})");
  s.put(R"({"resourceType":"Observation","id":"o2",
    "code":{"coding":[{"system":"http://snomed.info/sct","code":"1-1"}]}})");
  s.put(R"({"resourceType":"Observation","id":"o3","code":{"text":"no coding"}})");
  auto found = [&](const std::string& name, const std::string& value) {
    return ids(s.search("Observation", {{name, value}}, {}));
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(found("code", "http://loinc.org|1-1"), V{"o1"});
  EXPECT_EQ(found("code", "1-1"), (V{"o1", "o2"}));  // any system
  EXPECT_EQ(found("code", "http://snomed.info/sct|"), V{"o2"});
  EXPECT_EQ(found("code", "http://x|9,http://snomed.info/sct|1-1"), V{"o2"});  // any of
  EXPECT_TRUE(found("code", "|1-1").empty());        // only a coding without a system
  EXPECT_EQ(found("category", "imaging"), V{"o1"});  // one of several concepts
  EXPECT_EQ(found("category", "|exam"), V{"o1"});
  EXPECT_TRUE(found("category", "http://other|imaging").empty());
  // Both must match; `_elements` is ignored (a server may answer more).
  EXPECT_TRUE(ids(s.search("Observation", {{"code", "1-1"}, {"category", "survey"}}, {})).empty());
  EXPECT_EQ(ids(s.search("Observation", {{"code", "1-1"}, {"_elements", "subject"}}, {})).size(),
            2u);
}

TEST(MemoryFhirServer, LogsEverySearchWithItsParameters) {
  MemoryFhirServer s;
  s.search("Goal", {{"patient", "p1"}, {"_elements", "subject"}}, {});
  s.search("Consent", {}, {});
  const auto asked = s.searches();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].type, "Goal");
  EXPECT_EQ(asked[0].params, (fhir::SearchParams{{"patient", "p1"}, {"_elements", "subject"}}));
  EXPECT_EQ(asked[1].type, "Consent");
  EXPECT_EQ(s.requests(), (std::vector<std::string>{"GET Goal", "GET Consent"}));
}

TEST(MemoryFhirServer, ATransactionIsAllOrNothingAndResolvesItsReferences) {
  MemoryFhirServer s;
  s.put(goal("g1", "a"));
  auto r = s.transaction(
      tx(R"({"fullUrl":"urn:uuid:1","resource":{"resourceType":"Goal","identifier":[{"system":")" +
         kIds +
         R"(","value":"a"}]},"request":{"method":"POST","url":"Goal","ifNoneExist":"identifier=)" +
         kIds +
         R"(|a"}},)"
         R"({"resource":{"resourceType":"CarePlan","goal":[{"reference":"urn:uuid:1"}]},)"
         R"("request":{"method":"POST","url":"CarePlan"}})"));
  EXPECT_EQ(status_of(r, 0), "200 OK");  // ifNoneExist matched g1: unchanged
  EXPECT_EQ(status_of(r, 1), "201 Created");
  EXPECT_EQ(s.versions("Goal/g1"), 1);
  EXPECT_NE(s.get("CarePlan/1").find(R"("reference":"Goal/g1")"), std::string::npos);

  // A stale ifMatch fails the whole transaction with 412: nothing applied.
  const std::string stale = tx(
      R"({"resource":{"resourceType":"CarePlan","status":"draft"},"request":{"method":"POST","url":"CarePlan"}},)"
      R"({"resource":)" +
      goal("g1", "z") + R"(,"request":{"method":"PUT","url":"Goal/g1","ifMatch":"W/\"7\""}})");
  try {
    s.transaction(stale);
    FAIL() << "a stale ifMatch was applied";
  } catch (const fhir::VersionConflict& e) {
    EXPECT_EQ(e.status(), 412);
  }
  EXPECT_EQ(s.all("CarePlan").size(), 1u);
  EXPECT_EQ(s.versions("Goal/g1"), 1);
  EXPECT_EQ(s.transactions(), 1);
}

TEST(MemoryFhirServer, ABatchAnswersEachEntryOnItsOwn) {
  MemoryFhirServer s;
  s.put(goal("g1", "a"));
  auto r = s.transaction(
      R"({"resourceType":"Bundle","type":"batch","entry":[)"
      R"({"resource":)" +
      goal("g1", "b") + R"(,"request":{"method":"PUT","url":"Goal/g1","ifMatch":"W/\"9\""}},)" +
      R"({"resource":)" + goal("g2", "c") + R"(,"request":{"method":"PUT","url":"Goal/g2"}}]})");
  EXPECT_EQ(status_of(r, 0), "412 Precondition Failed");
  EXPECT_EQ(status_of(r, 1), "201 Created");
  EXPECT_EQ(s.versions("Goal/g1"), 1);
  EXPECT_EQ(s.versions("Goal/g2"), 1);
}

TEST(MemoryFhirServer, ConditionalCreatesAndUpdatesFindTheirMatch) {
  MemoryFhirServer s;
  auto first = s.create("Goal", goal("x", "a"), {{"identifier", kIds + "|a"}});
  auto again = s.create("Goal", goal("x", "a"), {{"identifier", kIds + "|a"}});
  EXPECT_EQ(first.id, again.id);
  EXPECT_EQ(again.version_id, "1");
  auto updated = s.update_conditional("Goal", {{"identifier", kIds + "|a"}}, goal("x", "a"));
  EXPECT_EQ(updated.id, first.id);
  EXPECT_EQ(updated.version_id, "2");
  EXPECT_THROW(s.update("Goal", first.id, goal("x", "a"), "1"), fhir::VersionConflict);
  EXPECT_EQ(s.update("Goal", first.id, goal("x", "a"), "2").version_id, "3");
}

TEST(MemoryFhirServer, FaultHooksFailWhatTheyName) {
  MemoryFhirServer s;
  s.put(goal("g1", "a"));
  s.fail_nth_request[2] = 503;
  EXPECT_NO_THROW(s.read("Goal", "g1"));
  try {
    s.read("Goal", "g1");
    FAIL() << "the second request did not fail";
  } catch (const fhir::HttpStatusError& e) {
    EXPECT_EQ(e.status(), 503);
  }
  EXPECT_NO_THROW(s.read("Goal", "g1"));

  s.fail_searches["Goal"] = 500;
  EXPECT_THROW(s.search("Goal", {}, {}), fhir::HttpStatusError);
  s.refuse_transactions = true;
  EXPECT_THROW(s.transaction(tx("")), fhir::HttpStatusError);
  s.require_patient_on("Condition");
  EXPECT_THROW(s.search("Condition", {}, {}), fhir::HttpStatusError);
  EXPECT_NO_THROW(s.search("Condition", {{"patient", "p1"}}, {}));
}

}  // namespace
}  // namespace mst::adapter::testing
