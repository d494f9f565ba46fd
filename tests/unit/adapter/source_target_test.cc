// Issue #17, item 1: records read from one server (the source), plans
// written to another (the target). Two in-memory stores stand for the two
// servers; tests/integration/source_target_test.sh runs the same against two
// HAPI servers.
#include <gtest/gtest.h>

#include <algorithm>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "support/fixture_server.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter {
namespace {

using testing::MemoryFhirServer;

constexpr const char* kSourceBase = "https://ehr.test/fhir";
constexpr const char* kTargetBase = "https://repository.test/fhir";

class SourceAndTarget : public ::testing::Test {
 protected:
  SourceAndTarget()
      : tables_(mappings::CodeTables::load({testing::kTables}, testing::kCanonical)),
        source_(kSourceBase),
        target_(kTargetBase) {
    source_.put_bundle(testing::read_file(testing::kFixture));
  }

  PipelineSettings settings() const {
    PipelineSettings s = testing::fixture_settings();
    return s;
  }

  PatientOutcome run() {
    Pipeline pipeline(&source_, &target_, tables_, thresholds_, settings());
    return pipeline.run_safely(testing::kPatient).outcome;
  }

  std::string plan_on_target() {
    const auto plans = target_.all("CarePlan");
    EXPECT_EQ(plans.size(), 1u);
    return plans.empty() ? "" : target_.get(plans.front());
  }

  static bool asked(const MemoryFhirServer& store, const std::string& request) {
    const auto r = store.requests();
    return std::find(r.begin(), r.end(), request) != r.end();
  }

  mappings::CodeTables tables_;
  RuleThresholds thresholds_;
  MemoryFhirServer source_;
  MemoryFhirServer target_;
};

TEST_F(SourceAndTarget, ReadsGoToTheSourceWritesAndOwnershipSearchesToTheTarget) {
  const std::size_t source_plans = source_.all("CarePlan").size();
  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;

  EXPECT_EQ(source_.transactions(), 0);
  EXPECT_EQ(source_.all("CarePlan").size(), source_plans);
  EXPECT_TRUE(source_.all("Device").empty());
  EXPECT_TRUE(asked(source_, "GET Patient"));
  EXPECT_TRUE(asked(source_, "GET Condition"));
  EXPECT_FALSE(asked(source_, "GET Device"));
  // ServiceRequests are input only as portable medical orders (searched by
  // category on the source); the ownership searches of ours go to the target.
  EXPECT_TRUE(asked(target_, "GET ServiceRequest"));

  EXPECT_EQ(target_.transactions(), 1);
  EXPECT_TRUE(asked(target_, "GET Device"));
  EXPECT_TRUE(asked(target_, "GET CarePlan"));
  EXPECT_FALSE(asked(target_, "GET Patient"));
  EXPECT_FALSE(asked(target_, "GET Condition"));
  EXPECT_FALSE(asked(target_, "GET Observation"));
}

TEST_F(SourceAndTarget, ThePlanRefersToTheRecordByAbsoluteUrlsOnTheSource) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const std::string plan = plan_on_target();
  const std::string subject =
      std::string(kSourceBase) + "/Patient/" + std::string(testing::kPatient);
  EXPECT_NE(plan.find("\"subject\":{\"reference\":\"" + subject + "\"}"), std::string::npos)
      << plan;
  // Evidence: absolute on the source; what was written: local on the target.
  EXPECT_NE(plan.find("\"reference\":\"" + std::string(kSourceBase) + "/Condition/"),
            std::string::npos)
      << plan;
  EXPECT_EQ(plan.find("\"reference\":\"Condition/"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("\"reference\":\"Patient/"), std::string::npos) << plan;
  EXPECT_NE(plan.find("\"reference\":\"Goal/"), std::string::npos) << plan;
  for (const auto& ref : target_.all("Goal")) {
    EXPECT_NE(target_.get(ref).find(subject), std::string::npos) << target_.get(ref);
  }
  for (const auto& ref : target_.all("Provenance")) {
    const std::string prov = target_.get(ref);
    EXPECT_EQ(prov.find("\"reference\":\"Observation/"), std::string::npos) << prov;
  }
}

TEST_F(SourceAndTarget, ARerunWritesNothing) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const PatientOutcome again = run();
  EXPECT_EQ(again.kind, OutcomeKind::kUnchanged) << again.detail;
  EXPECT_EQ(target_.transactions(), 1);
  EXPECT_EQ(source_.transactions(), 0);
}

TEST_F(SourceAndTarget, ARevisionUpdatesTheTargetsResourcesById) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const std::string goal = target_.all("Goal").front();
  std::string obs = source_.get("Observation/mst-p02-obs-pain");
  const auto at = obs.find("\"value\":4");
  ASSERT_NE(at, std::string::npos) << obs;
  obs.replace(at, 9, "\"value\":9");
  source_.put(obs);

  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  EXPECT_EQ(target_.all("CarePlan").size(), 1u);
  EXPECT_NE(target_.get(goal).find("\"versionId\":\"2\""), std::string::npos) << target_.get(goal);
  EXPECT_EQ(source_.transactions(), 0);
}

TEST_F(SourceAndTarget, APlanAClinicianEditedOnTheTargetIsLeftAlone) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const std::string ref = target_.all("CarePlan").front();
  std::string plan = target_.get(ref);
  const auto at = plan.find("\"status\":\"draft\"");
  ASSERT_NE(at, std::string::npos);
  plan.replace(at, 16, "\"status\":\"active\"");
  target_.put(plan);
  const std::string edited = target_.get(ref);

  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kSkipped) << o.detail;
  EXPECT_EQ(o.skip_reason, SkipReason::kNotDraft);
  EXPECT_EQ(target_.get(ref), edited);
  EXPECT_EQ(target_.transactions(), 1);
}

TEST_F(SourceAndTarget, APlanForTheTargetsOwnPatientOfTheSameIdIsALookAlike) {
  // The target's "Patient/mst-p02" is not the source's: a plan about it
  // under our identifier is never the adapter's to change.
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const std::string ref = target_.all("CarePlan").front();
  std::string plan = target_.get(ref);
  const std::string absolute = std::string(kSourceBase) + "/Patient/";
  for (auto at = plan.find(absolute); at != std::string::npos; at = plan.find(absolute)) {
    plan.replace(at, absolute.size(), "Patient/");
  }
  target_.put(plan);
  const std::string moved = target_.get(ref);

  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kFailed) << o.detail;
  EXPECT_EQ(o.skip_reason, SkipReason::kLookAlike) << o.detail;
  EXPECT_EQ(target_.get(ref), moved);
}

TEST_F(SourceAndTarget, IdentifiersAreNamedFromTheSourcesPatientUrl) {
  BuildOptions one_server;
  one_server.canonical_base = testing::kCanonical;
  BuildOptions other_source = one_server;
  other_source.source_base = kSourceBase;
  BuildOptions third = one_server;
  third.source_base = "https://other-ehr.test/fhir";
  const auto a = careplan_identifier("Patient/p1", one_server);
  const auto b = careplan_identifier("Patient/p1", other_source);
  const auto c = careplan_identifier("Patient/p1", third);
  EXPECT_NE(a.value, b.value);
  EXPECT_NE(b.value, c.value);
  EXPECT_EQ(b.value, careplan_identifier("Patient/p1", other_source).value);

  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  EXPECT_NE(plan_on_target().find(b.system + "\",\"value\":\"" +
                                  careplan_identifier("Patient/mst-p02", other_source).value),
            std::string::npos)
      << plan_on_target();
}

TEST_F(SourceAndTarget, TwoClientsOfOneServerKeepRelativeReferences) {
  // Reading and writing with different credentials on one server: the plan
  // is the one-server plan.
  MemoryFhirServer same_server(kSourceBase);
  Pipeline pipeline(&source_, &same_server, tables_, thresholds_, settings());
  ASSERT_EQ(pipeline.run_safely(testing::kPatient).outcome.kind, OutcomeKind::kWritten);
  const std::string plan = same_server.get(same_server.all("CarePlan").front());
  EXPECT_NE(plan.find("\"subject\":{\"reference\":\"Patient/mst-p02\"}"), std::string::npos)
      << plan;
  EXPECT_EQ(plan.find(kSourceBase), std::string::npos) << plan;
}

}  // namespace
}  // namespace mst::adapter
