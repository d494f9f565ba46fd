// `check`'s deployment shape (docs/operations.md, "Deployment shapes"): a pure
// decision from the source's and target's CapabilityStatements.
#include "mst/adapter/cli/deployment_shape.h"

#include <gtest/gtest.h>

#include "mst/adapter/pipeline/server_interactions.h"
#include "support/capability_fixture.h"

namespace mst::adapter::cli {
namespace {

using mst::adapter::testing::capability_statement;

fhir::Capabilities caps_of(const std::string& json) {
  auto doc = fhir::JsonDocument::parse(json);
  return fhir::read_capabilities(doc.root());
}

// Every type the adapter uses, searchable by _lastUpdated: a change feed.
fhir::Capabilities with_last_updated(fhir::Capabilities caps) {
  for (auto& [type, support] : caps.resources) support.search_params.insert("_lastUpdated");
  return caps;
}

// As an EHR states "the patient is required" on a type's searches.
void require_patient(fhir::Capabilities& caps, const std::string& type) {
  caps.resources[type].required_search_params = {{"patient"}, {"subject"}};
}

// CarePlan, Goal and the other plan members read-only: no plan write; notes
// (DocumentReference) created and revised, conditionally.
fhir::Capabilities read_only_plans(fhir::Capabilities caps) {
  auto& notes = caps.resources["DocumentReference"];
  notes.interactions = {"read", "search-type", "create", "update"};
  notes.conditional_create = true;
  for (const char* type : {"CarePlan", "Goal", "CareTeam", "ServiceRequest", "Provenance"})
    caps.resources[type].interactions = {"read", "search-type"};
  caps.system_interactions.clear();
  return caps;
}

TEST(DeploymentShape, AFullServerIsOneServerOrAFhirRepositoryTarget) {
  const auto full = caps_of(capability_statement());
  EXPECT_EQ(deployment_shape(full, full, false).shape, Shape::kOneServer);
  EXPECT_EQ(deployment_shape(read_only_plans(full), full, true).shape, Shape::kRepositoryWrite);
  // Without transactions a full server still takes plans (batch or individual requests).
  const auto no_bundles = caps_of(capability_statement("4.0.1", true, false));
  EXPECT_EQ(deployment_shape(no_bundles, no_bundles, false).shape, Shape::kOneServer);
}

TEST(DeploymentShape, AnEhrThatTakesNotesButNoPlansIsNoteWrite) {
  const auto ehr = read_only_plans(caps_of(capability_statement()));
  EXPECT_EQ(deployment_shape(ehr, ehr, false).shape, Shape::kNoteWrite);
  // A target that takes notes only is the same shape, whatever the source.
  const auto full = caps_of(capability_statement());
  EXPECT_EQ(deployment_shape(full, ehr, true).shape, Shape::kNoteWrite);
}

TEST(DeploymentShape, NoWritePathLeavesCdsHooks) {
  auto ehr = read_only_plans(caps_of(capability_statement()));
  ehr.resources["DocumentReference"].interactions = {"read", "search-type"};
  const ShapeAdvice a = deployment_shape(ehr, ehr, false);
  EXPECT_EQ(a.shape, Shape::kReadOnly);
  EXPECT_NE(shape_text(a.shape).find("CDS Hooks calls instead (mst-adapter serve"),
            std::string::npos);
}

TEST(DeploymentShape, SyncUsesTheChangeFeedOnlyWhereItsSearchesNeedNoPatient) {
  const auto full = with_last_updated(caps_of(capability_statement()));
  ShapeAdvice a = deployment_shape(full, full, false);
  EXPECT_TRUE(a.change_feed);
  EXPECT_TRUE(a.population_search);
  EXPECT_NE(sync_text(a).find("change feed"), std::string::npos);

  // _lastUpdated declared, but Conditions only by patient (Oracle): re-pull,
  // and the population from a Group, a List or a file.
  auto oracle = full;
  require_patient(oracle, "Condition");
  a = deployment_shape(oracle, full, true);
  EXPECT_FALSE(a.change_feed);
  EXPECT_FALSE(a.population_search);
  EXPECT_NE(sync_text(a).find("re-pull"), std::string::npos);
  EXPECT_NE(sync_text(a).find("sync.population=group:ID, list:ID or file:PATH"), std::string::npos);

  // Observations only by patient: the feed cannot see them; the population
  // search (Conditions by code) still works.
  auto obs = full;
  require_patient(obs, "Observation");
  a = deployment_shape(obs, obs, false);
  EXPECT_FALSE(a.change_feed);
  EXPECT_TRUE(a.population_search);
}

}  // namespace
}  // namespace mst::adapter::cli
