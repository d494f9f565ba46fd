#include "mst/adapter/pipeline/plan_writer.h"

#include <gtest/gtest.h>

#include "fake_fhir_store.h"
#include "mock_client.h"
#include "mst/fhir/client_errors.h"

namespace mst::adapter {
namespace {

using ::testing::_;
using ::testing::DoAll;
using testing::FakeFhirStore;
using testing::MockClient;
using ::testing::Return;
using ::testing::SaveArg;
using testing::search_result;

const std::string kDeviceSystem = "http://mst/NamingSystem/mst-device";
const std::string kAuthor = "MST Care-Plan Adapter";
const PlanIdentity kId{"p1",   "http://mst/NamingSystem/mst-careplan", "p1", {}, kDeviceSystem,
                       kAuthor};

std::string plans_json(
    const std::vector<std::tuple<std::string, std::string, std::string, std::string>>& plans) {
  std::string entries;
  for (const auto& [id, version, status, fp] : plans) {
    if (!entries.empty()) entries += ",";
    entries += R"({"resource":{"resourceType":"CarePlan","id":")" + id +
               R"(","meta":{"versionId":")" + version + R"("},"status":")" + status +
               R"(","subject":{"reference":"Patient/p1"},"author":{"reference":"Device/d1"})" +
               R"(,"fp":")" + fp + R"("}})";
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

// The server holds the adapter's Device d1.
void serves_the_device(MockClient& client) {
  EXPECT_CALL(client, search(std::string_view("Device"), _, _))
      .WillRepeatedly(Return(
          search_result(R"({"resourceType":"Bundle","type":"searchset","entry":[{"resource":)"
                        R"({"resourceType":"Device","id":"d1","identifier":[{"system":")" +
                        kDeviceSystem + R"(","value":"mst-1"}]}}]})")));
}

TEST(PlanWriter, CreatesWhenNoPlanExists) {
  MockClient client;
  serves_the_device(client);
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
  serves_the_device(client);
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
      .WillOnce(Return(search_result(plans_json({{"cp1", "3", "draft", "fp-same"}}))));
  EXPECT_CALL(client, transaction(_)).Times(0);
  PlanWriter w(client, reader(), {});
  auto o = w.write(kId, builder("fp-same"));
  EXPECT_EQ(o.kind, OutcomeKind::kUnchanged);
  EXPECT_EQ(o.plan_version, "3");
}

TEST(PlanWriter, ChangedContentUpdatesTheDraftItRead) {
  MockClient client;
  serves_the_device(client);
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
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
  serves_the_device(client);
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
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
  serves_the_device(client);
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
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
  serves_the_device(client);
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
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
  serves_the_device(client);
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
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
  serves_the_device(client);
  EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
      .WillOnce(Return(search_result(plans_json({}))));
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

const std::string kGoals = "http://mst/NamingSystem/mst-goal";
const std::string kRequests = "http://mst/NamingSystem/mst-servicerequest";
const PlanIdentity kRevising{"p1",
                             "http://mst/NamingSystem/mst-careplan",
                             "p1",
                             {{"Goal", kGoals},
                              {"ServiceRequest", kRequests},
                              {"CareTeam", "http://mst/NamingSystem/mst-careteam"}},
                             kDeviceSystem,
                             kAuthor};

// A resource of the adapter's as a server holds it.
std::string member(const std::string& type, const std::string& id, const std::string& system,
                   const std::string& value, const std::string& status_element,
                   const std::string& status, const std::string& patient = "p1",
                   const std::string& extra = "") {
  return R"({"resourceType":")" + type + R"(","id":")" + id + R"(","identifier":[{"system":")" +
         system + R"(","value":")" + value + R"("}],")" + status_element + R"(":")" + status +
         R"(","subject":{"reference":"Patient/)" + patient + R"("})" + extra + "}";
}

// The adapter's Device, its draft plan naming `goals` and `requests`, and
// those resources, in a store.
void seed(FakeFhirStore& store) {
  store.put(R"({"resourceType":"Device","id":"d1","identifier":[{"system":")" + kDeviceSystem +
            R"(","value":"mst-1"}]})");
  store.put(R"({"resourceType":"CarePlan","id":"cp1","identifier":[{"system":)"
            R"("http://mst/NamingSystem/mst-careplan","value":"p1"}],"status":"draft",)"
            R"("subject":{"reference":"Patient/p1"},"author":{"reference":"Device/d1"},)"
            R"("goal":[{"reference":"Goal/g-keep"},{"reference":"Goal/g-drop"},)"
            R"({"reference":"Goal/g-accepted"},{"reference":"Goal/g-done"}],)"
            R"("activity":[{"reference":{"reference":"ServiceRequest/sr-drop"}},)"
            R"({"reference":{"reference":"ServiceRequest/sr-active"}}],"fp":"fp-old"})");
  const std::string by_device = R"(,"requester":{"reference":"Device/d1"})";
  store.put(member("Goal", "g-keep", kGoals, "keep", "lifecycleStatus", "proposed"));
  store.put(member("Goal", "g-drop", kGoals, "drop", "lifecycleStatus", "proposed", "p1",
                   R"(,"description":{"text":"Pain relief"})"));
  // A clinician accepted it: theirs now.
  store.put(member("Goal", "g-accepted", kGoals, "acc", "lifecycleStatus", "accepted"));
  store.put(member("Goal", "g-done", kGoals, "old", "lifecycleStatus", "cancelled"));
  // Another patient's proposal.
  store.put(member("Goal", "g-other", kGoals, "oth", "lifecycleStatus", "proposed", "p2"));
  store.put(member("ServiceRequest", "sr-drop", kRequests, "s1", "status", "draft", "p1",
                   by_device + R"(,"code":{"text":"Referral to radiation oncology"},)" +
                       R"("note":[{"authorString":")" + kAuthor + R"(","text":"Why: pain."}])"));
  store.put(
      member("ServiceRequest", "sr-active", kRequests, "s2", "status", "active", "p1", by_device));
}

// What the builder makes for the revision: it keeps Goal "keep" only.
PlanBuildFn revision_builder() {
  return [](const std::optional<ExistingPlan>& existing) {
    fhir::JsonValue goal = fhir::JsonValue::object({{"resourceType", "Goal"}});
    goal.set("identifier", fhir::JsonValue::array(
                               {fhir::JsonValue::object({{"system", kGoals}, {"value", "keep"}})}));
    goal.set("lifecycleStatus", "proposed");
    goal.set("subject", fhir::JsonValue::object({{"reference", "Patient/p1"}}));
    auto entry = [](std::string full_url, fhir::JsonValue resource, fhir::JsonValue request) {
      fhir::JsonValue e = fhir::JsonValue::object({{"fullUrl", std::move(full_url)}});
      e.set("resource", std::move(resource));
      e.set("request", std::move(request));
      return e;
    };
    fhir::JsonValue plan = fhir::JsonValue::object({{"resourceType", "CarePlan"}});
    if (existing) plan.set("id", existing->id);
    plan.set("identifier",
             fhir::JsonValue::array({fhir::JsonValue::object(
                 {{"system", "http://mst/NamingSystem/mst-careplan"}, {"value", "p1"}})}));
    plan.set("status", "draft");
    plan.set("subject", fhir::JsonValue::object({{"reference", "Patient/p1"}}));
    plan.set("author", fhir::JsonValue::object({{"reference", "Device/d1"}}));
    plan.set("goal",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:g"}})}));
    plan.set("fp", "fp-new");
    fhir::JsonValue prov = fhir::JsonValue::object({{"resourceType", "Provenance"}});
    prov.set("target",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:g"}})}));
    fhir::JsonValue bundle =
        fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}});
    bundle.set(
        "entry",
        fhir::JsonValue::array(
            {entry("urn:uuid:g", std::move(goal),
                   fhir::JsonValue::object({{"method", "POST"},
                                            {"url", "Goal"},
                                            {"ifNoneExist", "identifier=" + kGoals + "|keep"}})),
             entry("urn:uuid:cp", std::move(plan),
                   existing ? fhir::JsonValue::object(
                                  {{"method", "PUT"}, {"url", "CarePlan/" + existing->id}})
                            : fhir::JsonValue::object({{"method", "POST"}, {"url", "CarePlan"}})),
             entry("urn:uuid:p", std::move(prov),
                   fhir::JsonValue::object({{"method", "POST"}, {"url", "Provenance"}}))}));
    return BuiltPlan{std::move(bundle), "fp-new"};
  };
}

TEST(PlanWriter, ARevisionRetiresTheProposalsItDropsInTheSameTransaction) {
  for (const bool server_ignores_subject : {false, true}) {
    FakeFhirStore store;
    store.ignore_subject = server_ignores_subject;
    seed(store);
    const std::string accepted = store.get("Goal/g-accepted");
    const std::string other = store.get("Goal/g-other");
    const std::string active = store.get("ServiceRequest/sr-active");
    PlanWriter w(store, reader(), {});
    auto o = w.write(kRevising, revision_builder());
    ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
    EXPECT_NE(o.detail.find("withdrew 2 proposal(s)"), std::string::npos) << o.detail;
    EXPECT_EQ(store.transactions(), 1);

    // Kept: updated in place, by id.
    EXPECT_NE(store.get("Goal/g-keep").find(R"("versionId":"2")"), std::string::npos);
    EXPECT_EQ(store.all("Goal").size(), 5u);
    // Dropped and untouched: withdrawn, with a reason a reader sees.
    auto goal = fhir::JsonDocument::parse(store.get("Goal/g-drop"));
    EXPECT_EQ(goal.root().string("lifecycleStatus"), std::optional<std::string_view>("cancelled"));
    EXPECT_NE(goal.root().string("statusReason").value_or("").find("no longer proposes this goal"),
              std::string_view::npos);
    EXPECT_NE(
        goal.root()["text"].string("div").value_or("").find("Withdrawn proposal: Pain relief."),
        std::string_view::npos);
    auto sr = fhir::JsonDocument::parse(store.get("ServiceRequest/sr-drop"));
    EXPECT_EQ(sr.root().string("status"), std::optional<std::string_view>("revoked"));
    ASSERT_EQ(sr.root().array("note").size(), 2u);  // the earlier note kept, the reason added
    EXPECT_EQ(sr.root().array("note")[0].string("text"),
              std::optional<std::string_view>("Why: pain."));
    EXPECT_NE(sr.root().array("note")[1].string("text").value_or("").find(
                  "no longer proposes this referral"),
              std::string_view::npos);
    // A person's, and another patient's: untouched.
    EXPECT_EQ(store.get("Goal/g-accepted"), accepted);
    EXPECT_EQ(store.get("Goal/g-other"), other);
    EXPECT_EQ(store.get("ServiceRequest/sr-active"), active);
    // The plan names the kept goal by id; the Provenance names what was written.
    EXPECT_NE(store.get("CarePlan/cp1").find(R"("goal":[{"reference":"Goal/g-keep"}])"),
              std::string::npos)
        << store.get("CarePlan/cp1");
    const std::string prov = store.get(store.all("Provenance").front());
    EXPECT_NE(prov.find(R"("target":[{"reference":"Goal/g-keep"},{"reference":"Goal/g-drop"},)"
                        R"({"reference":"ServiceRequest/sr-drop"}])"),
              std::string::npos)
        << prov;
  }
}

// Without a transaction the withdrawals of a revision go before the
// CarePlan: if one fails, the plan still names what it named, and nothing
// says it was revised.
TEST(PlanWriter, AFailedWithdrawalStopsARevisionBeforeItsCarePlan) {
  for (WriteMode mode : {WriteMode::kBatch, WriteMode::kIndividual}) {
    SCOPED_TRACE(std::string(write_mode_name(mode)));
    FakeFhirStore store;
    store.refuse_transactions = true;
    seed(store);
    const std::string plan = store.get("CarePlan/cp1");
    store.fail_requests["PUT Goal/g-drop"] = 500;
    WriteOptions opts;
    opts.mode = mode;
    PlanWriter w(store, reader(), opts);
    try {
      w.write(kRevising, revision_builder());
      ADD_FAILURE() << "the failed withdrawal went unnoticed";
    } catch (const fhir::HttpStatusError& e) {
      EXPECT_EQ(e.status(), 500);
      EXPECT_NE(std::string(e.what()).find("Goal/g-drop"), std::string::npos) << e.what();
    }
    EXPECT_EQ(store.get("CarePlan/cp1"), plan);
    EXPECT_TRUE(store.all("Provenance").empty());
  }
}

// A revision that adds Goal "new" and keeps Goal "keep", with If-Match on
// the plan's version.
PlanBuildFn adding_builder() {
  return [](const std::optional<ExistingPlan>& existing) {
    auto goal = [](const std::string& value) {
      fhir::JsonValue g = fhir::JsonValue::object({{"resourceType", "Goal"}});
      g.set("identifier", fhir::JsonValue::array(
                              {fhir::JsonValue::object({{"system", kGoals}, {"value", value}})}));
      g.set("lifecycleStatus", "proposed");
      g.set("description", fhir::JsonValue::object({{"text", "Goal " + value}}));
      g.set("subject", fhir::JsonValue::object({{"reference", "Patient/p1"}}));
      fhir::JsonValue e = fhir::JsonValue::object({{"fullUrl", "urn:uuid:" + value}});
      e.set("resource", std::move(g));
      e.set("request",
            fhir::JsonValue::object({{"method", "POST"},
                                     {"url", "Goal"},
                                     {"ifNoneExist", "identifier=" + kGoals + "|" + value}}));
      return e;
    };
    fhir::JsonValue plan = fhir::JsonValue::object({{"resourceType", "CarePlan"}});
    plan.set("identifier",
             fhir::JsonValue::array({fhir::JsonValue::object(
                 {{"system", "http://mst/NamingSystem/mst-careplan"}, {"value", "p1"}})}));
    plan.set("status", "draft");
    plan.set("subject", fhir::JsonValue::object({{"reference", "Patient/p1"}}));
    plan.set("author", fhir::JsonValue::object({{"reference", "Device/d1"}}));
    plan.set("goal",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:keep"}}),
                                     fhir::JsonValue::object({{"reference", "urn:uuid:new"}})}));
    plan.set("fp", "fp-new");
    fhir::JsonValue request = fhir::JsonValue::object({{"method", "PUT"}, {"url", "CarePlan/cp1"}});
    if (existing) {
      plan.set("id", existing->id);
      request.set("ifMatch", "W/\"" + existing->version + "\"");
    }
    fhir::JsonValue cp = fhir::JsonValue::object({{"fullUrl", "urn:uuid:cp"}});
    cp.set("resource", std::move(plan));
    cp.set("request", std::move(request));
    fhir::JsonValue prov = fhir::JsonValue::object(
        {{"resourceType", "Provenance"}, {"recorded", "2026-11-20T00:00:00Z"}});
    prov.set("target",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:cp"}})}));
    fhir::JsonValue p = fhir::JsonValue::object({{"fullUrl", "urn:uuid:p"}});
    p.set("resource", std::move(prov));
    p.set("request", fhir::JsonValue::object({{"method", "POST"}, {"url", "Provenance"}}));
    fhir::JsonValue bundle =
        fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}});
    bundle.set("entry",
               fhir::JsonValue::array({goal("keep"), goal("new"), std::move(cp), std::move(p)}));
    return BuiltPlan{std::move(bundle), "fp-new"};
  };
}

// Without a transaction a clinician can take the draft over after a
// revision's new Goal is written and before its CarePlan: the new Goal is
// withdrawn, not left proposed with no plan naming it.
TEST(PlanWriter, APlanTakenOverMidRevisionGetsItsNewProposalsWithdrawn) {
  for (WriteMode mode : {WriteMode::kBatch, WriteMode::kIndividual}) {
    SCOPED_TRACE(std::string(write_mode_name(mode)));
    FakeFhirStore store;
    store.refuse_transactions = true;
    store.put(R"({"resourceType":"Device","id":"d1","identifier":[{"system":")" + kDeviceSystem +
              R"(","value":"mst-1"}]})");
    store.put(R"({"resourceType":"CarePlan","id":"cp1","identifier":[{"system":)"
              R"("http://mst/NamingSystem/mst-careplan","value":"p1"}],"status":"draft",)"
              R"("subject":{"reference":"Patient/p1"},"author":{"reference":"Device/d1"},)"
              R"("goal":[{"reference":"Goal/g-keep"}],"fp":"fp-old"})");
    store.put(member("Goal", "g-keep", kGoals, "keep", "lifecycleStatus", "proposed"));
    store.before_requests["PUT CarePlan/cp1"] = [](FakeFhirStore& s) {
      std::string plan = s.get("CarePlan/cp1");
      plan.replace(plan.find("\"draft\""), 7, "\"active\"");
      s.put(plan);
    };
    WriteOptions opts;
    opts.mode = mode;
    PlanWriter w(store, reader(), opts);
    const PatientOutcome o = w.write(kRevising, adding_builder());
    EXPECT_EQ(o.kind, OutcomeKind::kSkipped) << o.detail;
    EXPECT_NE(o.detail.find("withdrew 1 proposal(s) the interrupted revision had written"),
              std::string::npos)
        << o.detail;
    std::string added;
    for (const auto& g : store.all("Goal")) {
      if (store.get(g).find("\"value\":\"new\"") != std::string::npos) added = g;
    }
    ASSERT_FALSE(added.empty());
    auto goal = fhir::JsonDocument::parse(store.get(added));
    EXPECT_EQ(goal.root().string("lifecycleStatus"), std::optional<std::string_view>("cancelled"));
    EXPECT_NE(goal.root().string("statusReason").value_or("").find("A clinician took over"),
              std::string_view::npos);
    // The clinician's plan names g-keep: it stays a proposal.
    EXPECT_NE(store.get("Goal/g-keep").find("\"proposed\""), std::string::npos);
    // A second run leaves everything as it is.
    const int writes = store.write_requests();
    EXPECT_EQ(w.write(kRevising, adding_builder()).kind, OutcomeKind::kSkipped);
    EXPECT_EQ(store.write_requests(), writes);
  }
}

TEST(PlanWriter, NothingDroppedAddsNothing) {
  FakeFhirStore store;
  store.put(R"({"resourceType":"Device","id":"d1","identifier":[{"system":")" + kDeviceSystem +
            R"(","value":"mst-1"}]})");
  store.put(R"({"resourceType":"CarePlan","id":"cp1","identifier":[{"system":)"
            R"("http://mst/NamingSystem/mst-careplan","value":"p1"}],"status":"draft",)"
            R"("subject":{"reference":"Patient/p1"},"author":{"reference":"Device/d1"},)"
            R"("goal":[{"reference":"Goal/g-keep"}],"fp":"fp-old"})");
  store.put(member("Goal", "g-keep", kGoals, "keep", "lifecycleStatus", "proposed"));
  PlanWriter w(store, reader(), {});
  auto o = w.write(kRevising, revision_builder());
  EXPECT_EQ(o.detail, "updated the draft");
  EXPECT_EQ(store.all("Goal").size(), 1u);
}

TEST(PlanWriter, OnlyARevisionLooksForThisPatientsEarlierProposals) {
  for (const bool unchanged : {false, true}) {
    MockClient client;
    serves_the_device(client);
    EXPECT_CALL(client, search(std::string_view("CarePlan"), _, _))
        .WillRepeatedly(Return(search_result(
            unchanged ? plans_json({{"cp1", "3", "draft", "fp-new"}}) : plans_json({}))));
    // A first write looks only for look-alikes of what it is about to write.
    fhir::SearchParams goal_params;
    if (unchanged) {
      EXPECT_CALL(client, search(std::string_view("Goal"), _, _)).Times(0);
      EXPECT_CALL(client, transaction(_)).Times(0);
    } else {
      EXPECT_CALL(client, search(std::string_view("Goal"), _, _))
          .WillOnce(DoAll(SaveArg<1>(&goal_params), Return(search_result(plans_json({})))));
      EXPECT_CALL(client, transaction(_)).WillOnce(Return(tx_response("CarePlan/cp1/_history/1")));
    }
    EXPECT_CALL(client, search(std::string_view("ServiceRequest"), _, _)).Times(0);
    EXPECT_CALL(client, search(std::string_view("CareTeam"), _, _)).Times(0);
    PlanWriter w(client, reader(), {});
    auto o = w.write(kRevising, revision_builder());
    EXPECT_EQ(o.kind, unchanged ? OutcomeKind::kUnchanged : OutcomeKind::kWritten);
    if (!unchanged) {
      EXPECT_EQ(goal_params, (fhir::SearchParams{{"identifier", kGoals + "|keep"}}));
    }
  }
}

}  // namespace
}  // namespace mst::adapter
