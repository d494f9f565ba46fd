// Issue #17, item 2: servers without transactions. The plan goes out as
// batches or as individual conditional requests, dependencies first and the
// CarePlan last; a write that fails after any number of requests resumes on
// the next run without a duplicate. Against the in-memory store, with
// transactions refused; tests/integration/write_modes_test.py does the same
// through the fault proxy in front of HAPI.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "mst/adapter/pipeline/server_interactions.h"
#include "mst/adapter/pipeline/write_mode.h"
#include "plan_provenance.h"
#include "staged_write.h"
#include "support/fixture_server.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter {
namespace {

using testing::MemoryFhirServer;

fhir::JsonValue parse(const std::string& json) {
  return fhir::JsonValue::from(fhir::JsonDocument::parse(json).root());
}

TEST(WriteStages, IndividualRequestsGoDependenciesFirstTheCarePlanThenTheProvenanceLast) {
  // As the write-back leaves it: a withdrawal (PUT Goal/9) after the plan.
  const fhir::JsonValue bundle = parse(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:d","resource":{"resourceType":"Device"},"request":{"method":"POST","url":"Device"}},
    {"fullUrl":"urn:uuid:g","resource":{"resourceType":"Goal"},"request":{"method":"POST","url":"Goal"}},
    {"fullUrl":"urn:uuid:t","resource":{"resourceType":"CareTeam"},"request":{"method":"POST","url":"CareTeam"}},
    {"fullUrl":"urn:uuid:s","resource":{"resourceType":"ServiceRequest","requester":{"reference":"urn:uuid:d"}},"request":{"method":"POST","url":"ServiceRequest"}},
    {"fullUrl":"urn:uuid:c","resource":{"resourceType":"CarePlan","goal":[{"reference":"urn:uuid:g"}],"activity":[{"reference":{"reference":"urn:uuid:s"}}]},"request":{"method":"POST","url":"CarePlan"}},
    {"fullUrl":"http://x/Goal/9","resource":{"resourceType":"Goal","id":"9"},"request":{"method":"PUT","url":"Goal/9"}},
    {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Provenance","target":[{"reference":"urn:uuid:c"}]},"request":{"method":"POST","url":"Provenance"}}]})");
  using Stages = std::vector<std::vector<std::size_t>>;
  EXPECT_EQ(write_stages(bundle, WriteMode::kIndividual),
            (Stages{{0}, {1}, {2}, {3}, {5}, {4}, {6}}));
  // A batch resolves no references between its entries: the referral waits
  // for the Device it names.
  EXPECT_EQ(write_stages(bundle, WriteMode::kBatch), (Stages{{0, 1, 2, 5}, {3}, {4}, {6}}));
  EXPECT_THROW(write_stages(bundle, WriteMode::kTransaction), std::invalid_argument);
}

TEST(WriteStages, ACycleIsAnErrorNotALoop) {
  const fhir::JsonValue bundle = parse(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:a","resource":{"resourceType":"Goal","x":{"reference":"urn:uuid:b"}},"request":{"method":"POST","url":"Goal"}},
    {"fullUrl":"urn:uuid:b","resource":{"resourceType":"Goal","x":{"reference":"urn:uuid:a"}},"request":{"method":"POST","url":"Goal"}}]})");
  EXPECT_THROW(write_stages(bundle, WriteMode::kIndividual), std::invalid_argument);
}

TEST(PlanProvenance, OnlyTheAdaptersProvenanceOfThisPlanWithItsFingerprintCounts) {
  auto provenance = [](const std::string& target, const std::string& agent,
                       const std::string& fingerprint) {
    return R"({"resourceType":"Provenance","target":[{"reference":")" + target +
           R"("}],"agent":[{"who":{"reference":")" + agent +
           R"("}}],"extension":[{"url":"http://mst/fp","valueString":")" + fingerprint + "\"}]}";
  };
  auto found = [&](const std::string& json) {
    auto doc = fhir::JsonDocument::parse(json);
    return has_plan_provenance(
        {doc.root()}, "CarePlan/7", {"Device/d1"}, "sha256:a",
        [](fhir::Node n) {
          return std::string(n.array("extension")[0].string("valueString").value_or(""));
        },
        "http://fhir.test/fhir");
  };
  EXPECT_TRUE(found(provenance("CarePlan/7/_history/2", "Device/d1", "sha256:a")));
  EXPECT_TRUE(found(provenance("http://fhir.test/fhir/CarePlan/7", "Device/d1", "sha256:a")));
  EXPECT_FALSE(found(provenance("CarePlan/7", "Practitioner/x", "sha256:a")));
  EXPECT_FALSE(found(provenance("CarePlan/7", "Device/d1", "sha256:b")));
  EXPECT_FALSE(found(provenance("CarePlan/70", "Device/d1", "sha256:a")));
  EXPECT_FALSE(found(provenance("http://elsewhere/fhir/CarePlan/7", "Device/d1", "sha256:a")));
}

TEST(PlanProvenance, ALateProvenanceNamesThePlanVersionAndSaysItIsLate) {
  const fhir::JsonValue built = parse(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:d","resource":{"resourceType":"Device"},"request":{"method":"POST","url":"Device"}},
    {"fullUrl":"urn:uuid:g","resource":{"resourceType":"Goal"},"request":{"method":"POST","url":"Goal"}},
    {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Provenance","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Revised.</p></div>"},
      "target":[{"reference":"urn:uuid:g"}],"activity":{"text":"revise"},"agent":[{"who":{"reference":"urn:uuid:d"}}]},
     "request":{"method":"POST","url":"Provenance"}}]})");
  const fhir::JsonValue late = missing_provenance_bundle(built, "CarePlan/7", "3");
  const auto& entries = late.find("entry")->items();
  ASSERT_EQ(entries.size(), 2u);  // the Device (for the agent) and the Provenance
  const fhir::JsonValue& prov = *entries[1].find("resource");
  EXPECT_EQ(prov.find("target")->dump(), R"([{"reference":"CarePlan/7/_history/3"}])");
  EXPECT_EQ(prov.find("activity"), nullptr);
  EXPECT_NE(prov.find("text")->find("div")->str().find("Recorded by a later run"),
            std::string::npos);
  EXPECT_THROW(missing_provenance_bundle(parse(R"({"resourceType":"Bundle","entry":[]})"),
                                         "CarePlan/7", "3"),
               std::invalid_argument);
}

TEST(WriteModeSupport, AutoPrefersATransactionThenBatchThenIndividualRequestsThenANote) {
  fhir::Capabilities caps;
  for (const auto& row : server_interactions(false)) {
    auto& r = caps.resources[row.type];
    r.interactions = {"read", "search-type", "create", "update"};
    r.conditional_create = true;
  }
  caps.system_interactions = {"transaction", "batch"};
  EXPECT_EQ(auto_write_mode(caps), WriteMode::kTransaction);
  caps.system_interactions = {"batch"};
  EXPECT_EQ(auto_write_mode(caps), WriteMode::kBatch);
  caps.system_interactions = {};
  EXPECT_EQ(auto_write_mode(caps), WriteMode::kIndividual);
  // An EHR's CarePlan is read-only; it takes clinical notes.
  caps.resources["CarePlan"].interactions = {"read", "search-type"};
  EXPECT_EQ(auto_write_mode(caps), WriteMode::kTransaction);  // nothing works: check says why
  caps.resources["DocumentReference"] = {{"read", "search-type", "create", "update"}, {}, true};
  EXPECT_EQ(auto_write_mode(caps), WriteMode::kDocument);
  const auto support = write_mode_support(caps);
  ASSERT_EQ(support.size(), 4u);
  EXPECT_EQ(support[0].missing,
            (std::vector<std::string>{"create CarePlan", "update CarePlan", "system transaction"}));
  EXPECT_EQ(support[2].missing, (std::vector<std::string>{"create CarePlan", "update CarePlan"}));
  EXPECT_TRUE(support[3].possible());
}

TEST(WriteModeSupport, NamesRoundTrip) {
  for (auto m : {WriteMode::kAuto, WriteMode::kTransaction, WriteMode::kBatch,
                 WriteMode::kIndividual, WriteMode::kDocument})
    EXPECT_EQ(parse_write_mode(write_mode_name(m)), m);
  EXPECT_FALSE(parse_write_mode("bulk"));
}

// The whole pipeline on the fixture patient, transactions refused.
class WriteResume : public ::testing::TestWithParam<WriteMode> {
 protected:
  WriteResume() : tables_(mappings::CodeTables::load({testing::kTables}, testing::kCanonical)) {
    fresh_store();
  }

  void fresh_store() {
    store_ = std::make_unique<MemoryFhirServer>();
    store_->refuse_transactions = true;
    store_->put_bundle(testing::read_file(testing::kFixture));
  }

  PatientOutcome run() {
    PipelineSettings settings = testing::fixture_settings();
    settings.write.mode = GetParam();
    Pipeline pipeline(store_.get(), tables_, thresholds_, settings);
    return pipeline.run_safely(testing::kPatient).outcome;
  }

  // "Type|system|value" -> how many resources carry it, over the adapter's
  // own identifier systems.
  std::map<std::string, int> adapter_identifiers() const {
    std::map<std::string, int> out;
    const std::string ours = std::string(testing::kCanonical) + "/NamingSystem/";
    for (const char* type : {"CarePlan", "Goal", "ServiceRequest", "CareTeam", "Device"}) {
      for (const auto& ref : store_->all(type)) {
        auto doc = fhir::JsonDocument::parse(store_->get(ref));
        for (fhir::Node id : doc.root().array("identifier")) {
          const std::string system(id.string("system").value_or(""));
          if (system.rfind(ours, 0) == 0)
            ++out[std::string(type) + "|" + system + "|" +
                  std::string(id.string("value").value_or(""))];
        }
      }
    }
    return out;
  }

  // The adapter's CarePlans (the fixture has one of its own).
  std::vector<std::string> adapter_plans() const {
    std::vector<std::string> out;
    for (const auto& ref : store_->all("CarePlan")) {
      if (store_->get(ref).find("/NamingSystem/mst-careplan") != std::string::npos)
        out.push_back(ref);
    }
    return out;
  }

  // How many Provenances name `plan` (any version of it) among their targets.
  std::size_t provenances_of(const std::string& plan) const {
    std::size_t n = 0;
    for (const auto& p : store_->all("Provenance")) {
      const std::string json = store_->get(p);
      if (json.find("\"reference\":\"" + plan + "\"") != std::string::npos ||
          json.find("\"reference\":\"" + plan + "/_history/") != std::string::npos)
        ++n;
    }
    return n;
  }

  // Every Goal, CareTeam, ServiceRequest and Device a plan of ours names
  // exists: never a plan pointing at what was not written.
  void expect_plans_resolve(const std::string& context) const {
    for (const auto& plan : adapter_plans()) {
      const std::string json = store_->get(plan);
      for (std::size_t at = json.find("\"reference\":\""); at != std::string::npos;
           at = json.find("\"reference\":\"", at + 1)) {
        const std::size_t start = at + 13;
        const std::string ref = json.substr(start, json.find('"', start) - start);
        if (ref.rfind("Patient/", 0) == 0 || ref.rfind("Condition/", 0) == 0 ||
            ref.rfind("Observation/", 0) == 0 || ref.rfind("Procedure/", 0) == 0)
          continue;
        EXPECT_FALSE(store_->get(ref).empty()) << context << ": " << plan << " names " << ref;
      }
    }
  }

  mappings::CodeTables tables_;
  RuleThresholds thresholds_;
  std::unique_ptr<MemoryFhirServer> store_;
};

TEST_P(WriteResume, WritesWithoutATransactionAndSaysHowInTheProvenance) {
  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  EXPECT_EQ(store_->transactions(), 0);
  ASSERT_EQ(adapter_plans().size(), 1u);
  EXPECT_EQ(o.plan_ref, adapter_plans().front());
  expect_plans_resolve("first run");
  const std::string policy = GetParam() == WriteMode::kBatch
                                 ? "http://hl7.org/fhir/R4/http.html#brules"
                                 : "http://hl7.org/fhir/R4/http.html#ccreate";
  const std::string sentence = GetParam() == WriteMode::kBatch
                                   ? "Written as batches of conditional requests"
                                   : "Written as individual conditional requests";
  std::size_t recorded = 0;
  for (const auto& p : store_->all("Provenance")) {
    const std::string json = store_->get(p);
    if (json.find(policy) != std::string::npos && json.find(sentence) != std::string::npos &&
        json.find("\"reference\":\"" + o.plan_ref + "\"") != std::string::npos)
      ++recorded;
  }
  EXPECT_EQ(recorded, 1u);
}

TEST_P(WriteResume, AFailureAfterAnyRequestResumesWithoutDuplicates) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const int n = store_->write_requests();
  const auto expected = adapter_identifiers();
  ASSERT_GE(n, 5);
  for (int k = 0; k < n; ++k) {
    const std::string context = "failing after " + std::to_string(k) + " of " + std::to_string(n);
    fresh_store();
    store_->fail_after_writes = k;
    const PatientOutcome failed = run();
    EXPECT_EQ(failed.kind, OutcomeKind::kFailed) << context << ": " << failed.detail;
    EXPECT_TRUE(failed.retryable) << context;
    expect_plans_resolve(context);
    // Only the Provenance, the last request, can be missing when a plan is there.
    if (k < n - 1) {
      EXPECT_TRUE(adapter_plans().empty()) << context;
    }

    store_->fail_after_writes.reset();
    const PatientOutcome resumed = run();
    EXPECT_EQ(resumed.kind, k < n - 1 ? OutcomeKind::kWritten : OutcomeKind::kUnchanged)
        << context << ": " << resumed.detail;
    EXPECT_EQ(adapter_identifiers(), expected) << context;
    expect_plans_resolve(context);
    // What the failed run wrote is ours, and the detail says so.
    EXPECT_EQ(resumed.detail.find("a person changed"), std::string::npos)
        << context << ": " << resumed.detail;
    // The plan has the Provenance of its write, even when only that was lost.
    EXPECT_EQ(provenances_of(adapter_plans().front()), 1u) << context << ": " << resumed.detail;

    const int writes = store_->write_requests();
    const PatientOutcome again = run();
    EXPECT_EQ(again.kind, OutcomeKind::kUnchanged) << context << ": " << again.detail;
    EXPECT_EQ(store_->write_requests(), writes) << context;
  }
}

TEST_P(WriteResume, ARevisionFailingAfterAnyRequestResumesWithoutDuplicates) {
  auto worsen_pain = [this] {
    std::string obs = store_->get("Observation/mst-p02-obs-pain");
    const auto at = obs.find("\"value\":4");
    ASSERT_NE(at, std::string::npos) << obs;
    obs.replace(at, 9, "\"value\":9");
    store_->put(obs);
  };
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  worsen_pain();
  const int before = store_->write_requests();
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const int n = store_->write_requests() - before;
  const auto expected = adapter_identifiers();
  for (int k = 0; k < n; ++k) {
    const std::string context =
        "revision failing after " + std::to_string(k) + " of " + std::to_string(n);
    fresh_store();
    ASSERT_EQ(run().kind, OutcomeKind::kWritten) << context;
    worsen_pain();
    store_->fail_after_writes = store_->write_requests() + k;
    EXPECT_EQ(run().kind, OutcomeKind::kFailed) << context;
    expect_plans_resolve(context);
    store_->fail_after_writes.reset();
    const PatientOutcome resumed = run();
    EXPECT_NE(resumed.kind, OutcomeKind::kFailed) << context << ": " << resumed.detail;
    EXPECT_EQ(adapter_identifiers(), expected) << context;
    expect_plans_resolve(context);
    EXPECT_EQ(provenances_of(adapter_plans().front()), 2u) << context << ": " << resumed.detail;
    const int writes = store_->write_requests();
    EXPECT_EQ(run().kind, OutcomeKind::kUnchanged) << context;
    EXPECT_EQ(store_->write_requests(), writes) << context;
  }
}

TEST_P(WriteResume, ARefusedMemberStopsTheWriteAndSaysWhy) {
  // A batch answers 200 whatever its entries did; the refused Goal is one
  // entry's 400 and its OperationOutcome (R4 http.html#brules).
  store_->fail_requests["POST Goal"] = 400;
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kFailed) << o.detail;
  EXPECT_NE(o.detail.find("400"), std::string::npos) << o.detail;
  EXPECT_NE(o.detail.find("error (processing)"), std::string::npos) << o.detail;
  EXPECT_TRUE(adapter_plans().empty()) << store_->get(adapter_plans().front());
  EXPECT_TRUE(store_->all("Provenance").empty());
  expect_plans_resolve("a refused Goal");
  // Once the server takes it, the plan is written whole.
  store_->fail_requests.clear();
  EXPECT_EQ(run().kind, OutcomeKind::kWritten);
  expect_plans_resolve("after the refusal");
}

TEST_P(WriteResume, AResumeSaysWhichMembersAnInterruptedRunOfOursWrote) {
  store_->fail_requests["POST CarePlan"] = 503;
  ASSERT_EQ(run().kind, OutcomeKind::kFailed);
  const auto goals = store_->all("Goal");
  ASSERT_FALSE(goals.empty());
  store_->fail_requests.clear();
  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  EXPECT_NE(o.detail.find("an earlier interrupted run of the adapter wrote: " + goals.front()),
            std::string::npos)
      << o.detail;
  EXPECT_EQ(o.detail.find("a person changed"), std::string::npos) << o.detail;
}

TEST_P(WriteResume, AMemberSomeoneChangedBeforeTheResumeIsLeftAndSaidSo) {
  store_->fail_requests["POST CarePlan"] = 503;
  ASSERT_EQ(run().kind, OutcomeKind::kFailed);
  // Still proposed, but no longer what the adapter wrote.
  std::string goal;
  for (const auto& g : store_->all("Goal")) {
    if (store_->get(g).find("\"description\"") != std::string::npos) goal = g;
  }
  ASSERT_FALSE(goal.empty());
  std::string json = store_->get(goal);
  const auto at = json.find("\"description\":{");
  json.insert(at + 15, "\"id\":\"edited\",");
  store_->put(json);
  store_->fail_requests.clear();
  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  // The edited Goal is someone's; the other members are still ours.
  EXPECT_NE(o.detail.find("left 1 resource(s) a person changed or another system wrote, and "
                          "linked the plan to them: " +
                          goal + " ("),
            std::string::npos)
      << o.detail;
  EXPECT_NE(o.detail.find("an earlier interrupted run of the adapter wrote"), std::string::npos)
      << o.detail;
}

TEST_P(WriteResume, AServerWithoutTheProvenanceSearchStillGetsUnchangedRuns) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  store_->fail_searches["Provenance"] = 400;
  const int writes = store_->write_requests();
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kUnchanged) << o.detail;
  EXPECT_NE(o.detail.find("could not look for its Provenance"), std::string::npos) << o.detail;
  EXPECT_EQ(store_->write_requests(), writes);
  // An outage is not a missing search: the run fails, to be retried.
  store_->fail_searches["Provenance"] = 503;
  EXPECT_EQ(run().kind, OutcomeKind::kFailed);
}

INSTANTIATE_TEST_SUITE_P(WithoutTransactions, WriteResume,
                         ::testing::Values(WriteMode::kBatch, WriteMode::kIndividual),
                         [](const ::testing::TestParamInfo<WriteMode>& mode) {
                           return std::string(write_mode_name(mode.param));
                         });

}  // namespace
}  // namespace mst::adapter
