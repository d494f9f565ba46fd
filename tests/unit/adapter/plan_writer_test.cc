#include "mst/adapter/plan_writer.h"

#include <gtest/gtest.h>

#include "mock_client.h"
#include "mst/fhir/client_errors.h"

namespace mst::adapter {
namespace {

using ::testing::_;
using testing::MockClient;
using ::testing::Return;
using testing::search_result;

const PlanIdentity kId{"p1", "http://mst/NamingSystem/mst-careplan", "p1"};

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

}  // namespace
}  // namespace mst::adapter
