#include "mst/adapter/plan_writer.h"

#include <gtest/gtest.h>

#include "mock_client.h"
#include "mst/fhir/client_errors.h"

namespace mst::adapter {
namespace {

using ::testing::_;
using ::testing::DoAll;
using testing::MockClient;
using ::testing::Return;
using ::testing::SaveArg;
using testing::search_result;

const PlanIdentity kId{"p1", "http://mst/NamingSystem/mst-careplan", "p1", {}};

std::string plans_json(
    const std::vector<std::tuple<std::string, std::string, std::string, std::string>>& plans) {
  std::string entries;
  for (const auto& [id, version, status, fp] : plans) {
    if (!entries.empty()) entries += ",";
    entries += R"({"resource":{"resourceType":"CarePlan","id":")" + id +
               R"(","meta":{"versionId":")" + version + R"("},"status":")" + status +
               R"(","fp":")" + fp + R"("}})";
  }
  return R"({"resourceType":"Bundle","type":"searchset","entry":[)" + entries + "]}";
}

fhir::FhirResponse tx_response(const std::string& location) {
  fhir::FhirResponse r;
  r.status = 200;
  r.body = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(
      R"({"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"200 OK","location":")" +
      location + R"("}}]})"));
  return r;
}

FingerprintReader reader() {
  return [](fhir::Node n) { return std::string(n.string("fp").value_or("")); };
}

PlanBuildFn builder(const std::string& fp, std::optional<ExistingPlan>* seen = nullptr) {
  return [fp, seen](const std::optional<ExistingPlan>& e) {
    if (seen) *seen = e;
    return BuiltPlan{fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}}),
                     fp};
  };
}

TEST(PlanWriter, CreatesWhenNoPlanExists) {
  MockClient client;
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
      .WillRepeatedly(Return(search_result(plans_json({}))));
  EXPECT_CALL(client, transaction(_)).WillOnce(Return(tx_response("CarePlan/cp1/_history/1")));
  PlanWriter w(client, reader(), {});
  std::optional<ExistingPlan> seen;
  auto o = w.write(kId, builder("fp-new", &seen));
  EXPECT_FALSE(seen.has_value());
  EXPECT_EQ(o.kind, OutcomeKind::kWritten);
  EXPECT_EQ(o.plan_ref, "CarePlan/cp1");
  EXPECT_EQ(o.plan_version, "1");
  EXPECT_EQ(o.fingerprint, "fp-new");
}

TEST(PlanWriter, UnchangedContentWritesNothing) {
  MockClient client;
  EXPECT_CALL(client, search(_, _, _))
      .WillOnce(Return(search_result(plans_json({{"cp1", "3", "draft", "fp-same"}}))));
  EXPECT_CALL(client, transaction(_)).Times(0);
  PlanWriter w(client, reader(), {});
  auto o = w.write(kId, builder("fp-same"));
  EXPECT_EQ(o.kind, OutcomeKind::kUnchanged);
  EXPECT_EQ(o.plan_version, "3");
}

TEST(PlanWriter, ChangedContentUpdatesTheDraftItRead) {
  MockClient client;
  EXPECT_CALL(client, search(_, _, _))
      .WillOnce(Return(search_result(plans_json({{"cp1", "3", "draft", "fp-old"}}))));
  EXPECT_CALL(client, transaction(_)).WillOnce(Return(tx_response("CarePlan/cp1/_history/4")));
  PlanWriter w(client, reader(), {});
  std::optional<ExistingPlan> seen;
  auto o = w.write(kId, builder("fp-new", &seen));
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->id, "cp1");
  EXPECT_EQ(seen->version, "3");  // the builder puts it in If-Match
  EXPECT_EQ(o.kind, OutcomeKind::kWritten);
  EXPECT_EQ(o.plan_version, "4");
}

TEST(PlanWriter, APlanTakenOutOfDraftIsNeverTouched) {
  MockClient client;
  EXPECT_CALL(client, search(_, _, _))
      .WillOnce(Return(search_result(plans_json({{"cp1", "5", "active", "fp-old"}}))));
  EXPECT_CALL(client, transaction(_)).Times(0);
  PlanWriter w(client, reader(), {});
  bool built = false;
  auto o = w.write(kId, [&](const std::optional<ExistingPlan>&) {
    built = true;
    return BuiltPlan{};
  });
  EXPECT_FALSE(built);
  EXPECT_EQ(o.kind, OutcomeKind::kSkipped);
  EXPECT_EQ(o.skip_reason, "not-draft");
  EXPECT_NE(o.detail.find("'active'"), std::string::npos);
}

TEST(PlanWriter, AVersionConflictRereadsAndDecidesAgain) {
  MockClient client;
  EXPECT_CALL(client, search(_, _, _))
      .WillOnce(Return(search_result(plans_json({{"cp1", "3", "draft", "fp-old"}}))))
      .WillOnce(Return(search_result(plans_json({{"cp1", "4", "active", "fp-old"}}))));
  EXPECT_CALL(client, transaction(_)).WillOnce([](std::string) -> fhir::FhirResponse {
    throw fhir::VersionConflict("POST", "http://x/fhir", 409, "HAPI-0989", "version conflict");
  });
  PlanWriter w(client, reader(), {});
  auto o = w.write(kId, builder("fp-new"));
  EXPECT_EQ(o.kind, OutcomeKind::kSkipped);  // the clinician won the race
}

TEST(PlanWriter, ConflictsBeyondTheBoundPropagate) {
  MockClient client;
  EXPECT_CALL(client, search(_, _, _))
      .WillRepeatedly(Return(search_result(plans_json({{"cp1", "3", "draft", "fp-old"}}))));
  EXPECT_CALL(client, transaction(_))
      .Times(3)
      .WillRepeatedly([](std::string) -> fhir::FhirResponse {
        throw fhir::VersionConflict("POST", "http://x/fhir", 409, "", "version conflict");
      });
  WriteOptions opts;
  opts.max_conflict_retries = 2;
  PlanWriter w(client, reader(), opts);
  EXPECT_THROW(w.write(kId, builder("fp-new")), fhir::VersionConflict);
}

TEST(PlanWriter, DuplicatePlansAreReportedNotWritten) {
  MockClient client;
  EXPECT_CALL(client, search(_, _, _))
      .WillOnce(Return(
          search_result(plans_json({{"cp2", "1", "draft", "a"}, {"cp1", "1", "draft", "b"}}))));
  EXPECT_CALL(client, transaction(_)).Times(0);
  PlanWriter w(client, reader(), {});
  auto o = w.write(kId, builder("x"));
  EXPECT_EQ(o.kind, OutcomeKind::kFailed);
  EXPECT_FALSE(o.retryable);
  EXPECT_NE(o.detail.find("CarePlan/cp1, CarePlan/cp2"), std::string::npos);
}

TEST(PlanWriter, DryRunNeverWrites) {
  MockClient client;
  EXPECT_CALL(client, search(_, _, _)).WillOnce(Return(search_result(plans_json({}))));
  EXPECT_CALL(client, transaction(_)).Times(0);
  WriteOptions opts;
  opts.dry_run = true;
  PlanWriter w(client, reader(), opts);
  auto o = w.write(kId, builder("fp"));
  EXPECT_EQ(w.last_dry_run_bundle(), R"({"resourceType":"Bundle","type":"transaction"})");
  EXPECT_EQ(o.kind, OutcomeKind::kBuilt);
  EXPECT_NE(o.detail.find("dry run"), std::string::npos);
}

// --- Revisions retire what they drop --------------------------------------

const PlanIdentity kRevising{"p1",
                             "http://mst/NamingSystem/mst-careplan",
                             "p1",
                             {{"Goal", "http://mst/NamingSystem/mst-goal"},
                              {"ServiceRequest", "http://mst/NamingSystem/mst-servicerequest"},
                              {"CareTeam", "http://mst/NamingSystem/mst-careteam"}}};

// A searchset of `resources` (JSON objects as text).
std::string searchset(const std::vector<std::string>& resources) {
  std::string entries;
  for (const auto& r : resources)
    entries += (entries.empty() ? "" : ",") + ("{\"resource\":" + r + "}");
  return R"({"resourceType":"Bundle","type":"searchset","entry":[)" + entries + "]}";
}

// A resource of the adapter's as a server returns it.
std::string member(const std::string& type, const std::string& id, const std::string& version,
                   const std::string& system, const std::string& value,
                   const std::string& status_element, const std::string& status,
                   const std::string& patient = "p1", const std::string& extra = "") {
  return R"({"resourceType":")" + type + R"(","id":")" + id + R"(","meta":{"versionId":")" +
         version + R"("},"identifier":[{"system":")" + system + R"(","value":")" + value +
         R"("}],")" + status_element + R"(":")" + status + R"(","subject":{"reference":"Patient/)" +
         patient + R"("})" + extra + "}";
}

// What the builder makes for the revision: it keeps Goal "keep" only.
PlanBuildFn revision_builder() {
  return [](const std::optional<ExistingPlan>&) {
    fhir::JsonValue goal = fhir::JsonValue::object({{"resourceType", "Goal"}});
    goal.set("identifier",
             fhir::JsonValue::array({fhir::JsonValue::object(
                 {{"system", "http://mst/NamingSystem/mst-goal"}, {"value", "keep"}})}));
    auto entry = [](fhir::JsonValue resource) {
      fhir::JsonValue e = fhir::JsonValue::object();
      e.set("resource", std::move(resource));
      return e;
    };
    fhir::JsonValue prov = fhir::JsonValue::object({{"resourceType", "Provenance"}});
    prov.set("target",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:g"}})}));
    fhir::JsonValue bundle =
        fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}});
    bundle.set("entry", fhir::JsonValue::array(
                            {entry(std::move(goal)),
                             entry(fhir::JsonValue::object({{"resourceType", "CarePlan"}})),
                             entry(std::move(prov))}));
    return BuiltPlan{std::move(bundle), "fp-new"};
  };
}

TEST(PlanWriter, ARevisionRetiresTheProposalsItDropsInTheSameTransaction) {
  const std::string goals = "http://mst/NamingSystem/mst-goal";
  const std::string srs = "http://mst/NamingSystem/mst-servicerequest";
  MockClient client;
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
      .WillOnce(Return(search_result(plans_json({{"cp1", "3", "draft", "fp-old"}}))));
  fhir::SearchParams goal_params;
  EXPECT_CALL(client, search(std::string_view("Goal"), _, _))
      .WillOnce(DoAll(
          SaveArg<1>(&goal_params),
          Return(search_result(searchset({
              member("Goal", "g-keep", "1", goals, "keep", "lifecycleStatus", "proposed"),
              member("Goal", "g-drop", "4", goals, "drop", "lifecycleStatus", "proposed", "p1",
                     R"(,"description":{"text":"Pain relief"})"),
              // A clinician accepted it: theirs now.
              member("Goal", "g-accepted", "2", goals, "acc", "lifecycleStatus", "accepted"),
              member("Goal", "g-done", "2", goals, "old", "lifecycleStatus", "cancelled"),
              // Another patient's, from a server that ignored the subject parameter.
              member("Goal", "g-other", "1", goals, "oth", "lifecycleStatus", "proposed", "p2"),
          })))));
  EXPECT_CALL(client, search(std::string_view("ServiceRequest"), _, _))
      .WillOnce(Return(search_result(searchset({
          member(
              "ServiceRequest", "sr-drop", "2", srs, "s1", "status", "draft", "p1",
              R"(,"code":{"text":"Referral to radiation oncology"},"note":[{"text":"Why: pain."}])"),
          member("ServiceRequest", "sr-active", "5", srs, "s2", "status", "active"),
      }))));
  EXPECT_CALL(client, search(std::string_view("CareTeam"), _, _))
      .WillOnce(Return(search_result(searchset({}))));
  std::string sent;
  EXPECT_CALL(client, transaction(_))
      .WillOnce(DoAll(SaveArg<0>(&sent), Return(tx_response("CarePlan/cp1/_history/4"))));
  PlanWriter w(client, reader(), {});
  auto o = w.write(kRevising, revision_builder());
  EXPECT_EQ(o.kind, OutcomeKind::kWritten);
  EXPECT_NE(o.detail.find("withdrew 2 proposal(s)"), std::string::npos) << o.detail;
  EXPECT_EQ(testing::param(goal_params, "subject"), "Patient/p1");
  EXPECT_EQ(testing::param(goal_params, "identifier"), goals + "|");

  auto doc = fhir::JsonDocument::parse(sent);
  std::vector<std::string> order;
  for (fhir::Node e : doc.root().array("entry")) {
    std::string what(e["resource"].string("resourceType").value_or(""));
    if (auto url = e["request"].string("url")) what += " " + std::string(*url);
    order.push_back(what);
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"Goal", "CarePlan", "Goal Goal/g-drop",
                                      "ServiceRequest ServiceRequest/sr-drop", "Provenance"}));
  const auto entries = doc.root().array("entry");
  fhir::Node goal = entries[2]["resource"];
  EXPECT_EQ(goal.string("id"), std::optional<std::string_view>("g-drop"));
  EXPECT_EQ(goal.string("lifecycleStatus"), std::optional<std::string_view>("cancelled"));
  EXPECT_NE(goal.string("statusReason").value_or("").find("no longer proposes this goal"),
            std::string_view::npos);
  EXPECT_NE(goal["text"].string("div").value_or("").find("Withdrawn proposal: Pain relief."),
            std::string_view::npos);
  EXPECT_EQ(goal.array("identifier")[0].string("value"), std::optional<std::string_view>("drop"));
  EXPECT_EQ(entries[2]["request"].string("method"), std::optional<std::string_view>("PUT"));
  EXPECT_EQ(entries[2]["request"].string("ifMatch"), std::optional<std::string_view>("W/\"4\""));
  EXPECT_EQ(entries[2].string("fullUrl"),
            std::optional<std::string_view>("http://fhir.test/fhir/Goal/g-drop"));
  fhir::Node sr = entries[3]["resource"];
  EXPECT_EQ(sr.string("status"), std::optional<std::string_view>("revoked"));
  ASSERT_EQ(sr.array("note").size(), 2u);  // the earlier note kept, the reason added
  EXPECT_EQ(sr.array("note")[0].string("text"), std::optional<std::string_view>("Why: pain."));
  EXPECT_NE(
      sr.array("note")[1].string("text").value_or("").find("no longer proposes this referral"),
      std::string_view::npos);
  std::vector<std::string> targets;
  for (fhir::Node t : entries[4]["resource"].array("target")) {
    targets.emplace_back(t.string("reference").value_or(""));
  }
  EXPECT_EQ(targets,
            (std::vector<std::string>{"urn:uuid:g", "Goal/g-drop", "ServiceRequest/sr-drop"}));
}

TEST(PlanWriter, NothingDroppedAddsNothing) {
  MockClient client;
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
      .WillOnce(Return(search_result(plans_json({{"cp1", "3", "draft", "fp-old"}}))));
  EXPECT_CALL(client, search(std::string_view("Goal"), _, _))
      .WillOnce(Return(
          search_result(searchset({member("Goal", "g-keep", "1", "http://mst/NamingSystem/mst-goal",
                                          "keep", "lifecycleStatus", "proposed")}))));
  EXPECT_CALL(client, search(std::string_view("ServiceRequest"), _, _))
      .WillOnce(Return(search_result(searchset({}))));
  EXPECT_CALL(client, search(std::string_view("CareTeam"), _, _))
      .WillOnce(Return(search_result(searchset({}))));
  std::string sent;
  EXPECT_CALL(client, transaction(_))
      .WillOnce(DoAll(SaveArg<0>(&sent), Return(tx_response("CarePlan/cp1/_history/4"))));
  PlanWriter w(client, reader(), {});
  auto o = w.write(kRevising, revision_builder());
  EXPECT_EQ(sent, revision_builder()(std::nullopt).bundle.dump());
  EXPECT_EQ(o.detail, "updated the draft");
}

TEST(PlanWriter, OnlyARevisionLooksForWhatToRetire) {
  for (const bool unchanged : {false, true}) {
    MockClient client;
    EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
        .WillRepeatedly(Return(search_result(
            unchanged ? plans_json({{"cp1", "3", "draft", "fp-new"}}) : plans_json({}))));
    EXPECT_CALL(client, search(std::string_view("Goal"), _, _)).Times(0);
    EXPECT_CALL(client, search(std::string_view("ServiceRequest"), _, _)).Times(0);
    EXPECT_CALL(client, search(std::string_view("CareTeam"), _, _)).Times(0);
    if (unchanged) {
      EXPECT_CALL(client, transaction(_)).Times(0);
    } else {
      EXPECT_CALL(client, transaction(_)).WillOnce(Return(tx_response("CarePlan/cp1/_history/1")));
    }
    PlanWriter w(client, reader(), {});
    auto o = w.write(kRevising, revision_builder());
    EXPECT_EQ(o.kind, unchanged ? OutcomeKind::kUnchanged : OutcomeKind::kWritten);
  }
}

}  // namespace
}  // namespace mst::adapter
