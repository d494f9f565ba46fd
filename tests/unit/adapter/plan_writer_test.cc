#include "mst/adapter/pipeline/plan_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "mst/fhir/client_errors.h"
#include "support/memory_fhir_server.h"
#include "support/mock_client.h"

namespace mst::adapter {
namespace {

using ::testing::_;
using ::testing::DoAll;
using testing::MemoryFhirServer;
using testing::MockClient;
using ::testing::Return;
using ::testing::SaveArg;
using testing::search_result;
using ::testing::StrictMock;

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
void serves_the_device(MemoryFhirServer& store) {
  store.put(R"({"resourceType":"Device","id":"d1","identifier":[{"system":")" + kDeviceSystem +
            R"(","value":"mst-1"}]})");
}

// Stores the adapter's plan `id` for p1, as the server would hold it.
void holds_plan(MemoryFhirServer& store, const std::string& id, const std::string& status,
                const std::string& fp) {
  store.put(R"({"resourceType":"CarePlan","id":")" + id +
            R"(","identifier":[{"system":"http://mst/NamingSystem/mst-careplan","value":"p1"}],)"
            R"("status":")" +
            status +
            R"(","subject":{"reference":"Patient/p1"},"author":{"reference":"Device/d1"},"fp":")" +
            fp + R"("})");
}

// The adapter's draft CarePlan for p1 carrying fingerprint `fp`, as every
// builder below writes it.
fhir::JsonValue draft_plan(const std::string& fp) {
  fhir::JsonValue plan = fhir::JsonValue::object({{"resourceType", "CarePlan"}});
  plan.set("identifier",
           fhir::JsonValue::array({fhir::JsonValue::object(
               {{"system", "http://mst/NamingSystem/mst-careplan"}, {"value", "p1"}})}));
  plan.set("status", "draft");
  plan.set("subject", fhir::JsonValue::object({{"reference", "Patient/p1"}}));
  plan.set("author", fhir::JsonValue::object({{"reference", "Device/d1"}}));
  plan.set("fp", fp);
  return plan;
}

fhir::JsonValue entry(const std::string& full_url, fhir::JsonValue resource,
                      fhir::JsonValue request) {
  fhir::JsonValue e = fhir::JsonValue::object({{"fullUrl", full_url}});
  e.set("resource", std::move(resource));
  e.set("request", std::move(request));
  return e;
}

BuiltPlan transaction_of(std::vector<fhir::JsonValue> entries, const std::string& fp) {
  fhir::JsonValue bundle =
      fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}});
  fhir::JsonValue list = fhir::JsonValue::array();
  for (auto& e : entries) list.push(std::move(e));
  bundle.set("entry", std::move(list));
  return BuiltPlan{std::move(bundle), fp};
}

// A builder of a real transaction for the plan: a conditional create, or an
// update of the plan it read with If-Match on the version it read.
PlanBuildFn plan_builder(const std::string& fp, std::optional<ExistingPlan>* seen = nullptr) {
  return [fp, seen](const std::optional<ExistingPlan>& existing) {
    if (seen) *seen = existing;
    fhir::JsonValue plan = draft_plan(fp);
    fhir::JsonValue request = fhir::JsonValue::object(
        {{"method", "POST"},
         {"url", "CarePlan"},
         {"ifNoneExist", "identifier=http://mst/NamingSystem/mst-careplan|p1"}});
    if (existing) {
      plan.set("id", existing->id);
      request = fhir::JsonValue::object({{"method", "PUT"},
                                         {"url", "CarePlan/" + existing->id},
                                         {"ifMatch", "W/\"" + existing->version + "\""}});
    }
    return transaction_of({entry("urn:uuid:cp", std::move(plan), std::move(request))}, fp);
  };
}

int count(const std::vector<std::string>& requests, const std::string& request) {
  return static_cast<int>(std::count(requests.begin(), requests.end(), request));
}

TEST(PlanWriter, CreatesWhenNoPlanExists) {
  MemoryFhirServer store;
  serves_the_device(store);
  PlanWriter w(store, reader(), {});
  std::optional<ExistingPlan> seen;
  auto o = w.write(kId, plan_builder("fp-new", &seen));
  EXPECT_FALSE(seen.has_value());
  EXPECT_EQ(o.kind, OutcomeKind::kWritten);
  ASSERT_EQ(store.all("CarePlan").size(), 1u);
  EXPECT_EQ(o.plan_ref, store.all("CarePlan").front());
  EXPECT_EQ(o.plan_version, "1");
  EXPECT_EQ(o.fingerprint, "fp-new");
}

TEST(PlanWriter, UnchangedContentWritesNothing) {
  MemoryFhirServer store;
  serves_the_device(store);
  for (int i = 0; i < 3; ++i) holds_plan(store, "cp1", "draft", "fp-same");
  PlanWriter w(store, reader(), {});
  auto o = w.write(kId, plan_builder("fp-same"));
  EXPECT_EQ(o.kind, OutcomeKind::kUnchanged);
  EXPECT_EQ(o.plan_version, "3");
  EXPECT_EQ(store.write_requests(), 0);
}

TEST(PlanWriter, ChangedContentUpdatesTheDraftItRead) {
  MemoryFhirServer store;
  serves_the_device(store);
  for (int i = 0; i < 3; ++i) holds_plan(store, "cp1", "draft", "fp-old");
  PlanWriter w(store, reader(), {});
  std::optional<ExistingPlan> seen;
  auto o = w.write(kId, plan_builder("fp-new", &seen));
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->id, "cp1");
  EXPECT_EQ(seen->version, "3");  // the builder puts it in If-Match
  EXPECT_EQ(o.kind, OutcomeKind::kWritten);
  EXPECT_EQ(o.plan_version, "4");
  EXPECT_NE(store.get("CarePlan/cp1").find(R"("fp":"fp-new")"), std::string::npos);
}

TEST(PlanWriter, APlanTakenOutOfDraftIsNeverTouched) {
  MemoryFhirServer store;
  serves_the_device(store);
  holds_plan(store, "cp1", "active", "fp-old");
  PlanWriter w(store, reader(), {});
  bool built = false;
  auto o = w.write(kId, [&](const std::optional<ExistingPlan>&) {
    built = true;
    return BuiltPlan{};
  });
  EXPECT_FALSE(built);
  EXPECT_EQ(o.kind, OutcomeKind::kSkipped);
  EXPECT_EQ(o.skip_reason, SkipReason::kNotDraft);
  EXPECT_NE(o.detail.find("'active'"), std::string::npos);
  EXPECT_EQ(store.write_requests(), 0);
}

TEST(PlanWriter, AVersionConflictRereadsAndDecidesAgain) {
  MemoryFhirServer store;
  serves_the_device(store);
  holds_plan(store, "cp1", "draft", "fp-old");
  // A clinician activates the plan between the writer's read and its write.
  store.before_requests["PUT CarePlan/cp1"] = [](MemoryFhirServer& s) {
    holds_plan(s, "cp1", "active", "fp-old");
  };
  PlanWriter w(store, reader(), {});
  auto o = w.write(kId, plan_builder("fp-new"));
  EXPECT_EQ(o.kind, OutcomeKind::kSkipped);  // the clinician won the race
  EXPECT_NE(store.get("CarePlan/cp1").find(R"("status":"active")"), std::string::npos);
  EXPECT_EQ(store.transactions(), 0);
}

TEST(PlanWriter, ConflictsBeyondTheBoundPropagate) {
  MemoryFhirServer store;
  serves_the_device(store);
  holds_plan(store, "cp1", "draft", "fp-old");
  store.fail_requests["PUT CarePlan/cp1"] = 412;
  WriteOptions opts;
  opts.max_conflict_retries = 2;
  PlanWriter w(store, reader(), opts);
  EXPECT_THROW(w.write(kId, plan_builder("fp-new")), fhir::VersionConflict);
  EXPECT_EQ(count(store.requests(), "transaction"), 3);
}

TEST(PlanWriter, DuplicatePlansAreReportedNotWritten) {
  MemoryFhirServer store;
  serves_the_device(store);
  holds_plan(store, "cp2", "draft", "a");
  holds_plan(store, "cp1", "draft", "b");
  PlanWriter w(store, reader(), {});
  auto o = w.write(kId, plan_builder("x"));
  EXPECT_EQ(o.kind, OutcomeKind::kFailed);
  EXPECT_FALSE(o.retryable);
  EXPECT_NE(o.detail.find("CarePlan/cp1, CarePlan/cp2"), std::string::npos);
  EXPECT_EQ(store.write_requests(), 0);
}

TEST(PlanWriter, DryRunNeverWrites) {
  MemoryFhirServer store;
  serves_the_device(store);
  WriteOptions opts;
  opts.dry_run = true;
  PlanWriter w(store, reader(), opts);
  auto o = w.write(kId, builder("fp"));
  EXPECT_EQ(w.last_dry_run_bundle(), R"({"resourceType":"Bundle","type":"transaction"})");
  EXPECT_EQ(o.kind, OutcomeKind::kBuilt);
  EXPECT_NE(o.detail.find("dry run"), std::string::npos);
  EXPECT_EQ(store.write_requests(), 0);
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
void seed(MemoryFhirServer& store) {
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
    fhir::JsonValue plan = draft_plan("fp-new");
    if (existing) plan.set("id", existing->id);
    plan.set("goal",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:g"}})}));
    fhir::JsonValue prov = fhir::JsonValue::object({{"resourceType", "Provenance"}});
    prov.set("target",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:g"}})}));
    return transaction_of(
        {entry("urn:uuid:g", std::move(goal),
               fhir::JsonValue::object({{"method", "POST"},
                                        {"url", "Goal"},
                                        {"ifNoneExist", "identifier=" + kGoals + "|keep"}})),
         entry("urn:uuid:cp", std::move(plan),
               existing ? fhir::JsonValue::object(
                              {{"method", "PUT"}, {"url", "CarePlan/" + existing->id}})
                        : fhir::JsonValue::object({{"method", "POST"}, {"url", "CarePlan"}})),
         entry("urn:uuid:p", std::move(prov),
               fhir::JsonValue::object({{"method", "POST"}, {"url", "Provenance"}}))},
        "fp-new");
  };
}

TEST(PlanWriter, ARevisionRetiresTheProposalsItDropsInTheSameTransaction) {
  for (const bool server_ignores_subject : {false, true}) {
    MemoryFhirServer store;
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
    MemoryFhirServer store;
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
      return entry(
          "urn:uuid:" + value, std::move(g),
          fhir::JsonValue::object({{"method", "POST"},
                                   {"url", "Goal"},
                                   {"ifNoneExist", "identifier=" + kGoals + "|" + value}}));
    };
    fhir::JsonValue plan = draft_plan("fp-new");
    plan.set("goal",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:keep"}}),
                                     fhir::JsonValue::object({{"reference", "urn:uuid:new"}})}));
    fhir::JsonValue request = fhir::JsonValue::object({{"method", "PUT"}, {"url", "CarePlan/cp1"}});
    if (existing) {
      plan.set("id", existing->id);
      request.set("ifMatch", "W/\"" + existing->version + "\"");
    }
    fhir::JsonValue prov = fhir::JsonValue::object(
        {{"resourceType", "Provenance"}, {"recorded", "2026-11-20T00:00:00Z"}});
    prov.set("target",
             fhir::JsonValue::array({fhir::JsonValue::object({{"reference", "urn:uuid:cp"}})}));
    return transaction_of(
        {goal("keep"), goal("new"), entry("urn:uuid:cp", std::move(plan), std::move(request)),
         entry("urn:uuid:p", std::move(prov),
               fhir::JsonValue::object({{"method", "POST"}, {"url", "Provenance"}}))},
        "fp-new");
  };
}

// Without a transaction a clinician can take the draft over after a
// revision's new Goal is written and before its CarePlan: the new Goal is
// withdrawn, not left proposed with no plan naming it.
TEST(PlanWriter, APlanTakenOverMidRevisionGetsItsNewProposalsWithdrawn) {
  for (WriteMode mode : {WriteMode::kBatch, WriteMode::kIndividual}) {
    SCOPED_TRACE(std::string(write_mode_name(mode)));
    MemoryFhirServer store;
    store.refuse_transactions = true;
    store.put(R"({"resourceType":"Device","id":"d1","identifier":[{"system":")" + kDeviceSystem +
              R"(","value":"mst-1"}]})");
    store.put(R"({"resourceType":"CarePlan","id":"cp1","identifier":[{"system":)"
              R"("http://mst/NamingSystem/mst-careplan","value":"p1"}],"status":"draft",)"
              R"("subject":{"reference":"Patient/p1"},"author":{"reference":"Device/d1"},)"
              R"("goal":[{"reference":"Goal/g-keep"}],"fp":"fp-old"})");
    store.put(member("Goal", "g-keep", kGoals, "keep", "lifecycleStatus", "proposed"));
    store.before_requests["PUT CarePlan/cp1"] = [](MemoryFhirServer& s) {
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
  MemoryFhirServer store;
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

// The exact searches are the point here: a mock.
TEST(PlanWriter, OnlyARevisionLooksForThisPatientsEarlierProposals) {
  for (const bool unchanged : {false, true}) {
    StrictMock<MockClient> client;
    EXPECT_CALL(client, base_url()).Times(::testing::AnyNumber());
    EXPECT_CALL(client, capabilities()).WillRepeatedly(Return(fhir::Capabilities{}));
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
