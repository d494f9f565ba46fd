// The pull asks for every type the extractor reads: one search per type of
// detail::patient_searches() by patient, the medication records with their
// Medications included, and a Medication two searches include arrives once.
#include "mst/adapter/pipeline/record_puller.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "mst/fhir/client_errors.h"
#include "mst/mappings/extract.h"
#include "support/memory_fhir_server.h"
#include "support/mock_client.h"

namespace mst::adapter {
namespace {

using testing::MemoryFhirServer;
using testing::param;

const mappings::CodeTables& tables() {
  static const mappings::CodeTables t =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  return t;
}

// Every Observation search the pull makes, by its parameters.
std::vector<fhir::SearchParams> observation_searches(const PullOptions& options) {
  MemoryFhirServer server;
  server.put(R"({"resourceType":"Patient","id":"p1"})");
  pull_record(server, "p1", tables(), options);
  std::vector<fhir::SearchParams> asked;
  for (const auto& s : server.searches()) {
    if (s.type == "Observation") asked.push_back(s.params);
  }
  return asked;
}

TEST(RecordPuller, ObservationSearchesByCodeCarryTheConfiguredCategory) {
  // An EHR that refuses an Observation search without a category (Epic R4)
  // must still be asked for our codes, within the categories that hold them.
  PullOptions options;
  options.code_search_category = "laboratory,vital-signs";
  int by_code = 0;
  for (const auto& p : observation_searches(options)) {
    EXPECT_FALSE(param(p, "category").empty()) << "an Observation search without a category";
    if (!param(p, "code").empty()) {
      ++by_code;
      EXPECT_EQ(param(p, "category"), "laboratory,vital-signs");
    }
  }
  EXPECT_GT(by_code, 0);
  // By default a code search names no category: it finds uncategorised results too.
  for (const auto& p : observation_searches(PullOptions{})) {
    if (!param(p, "code").empty()) {
      EXPECT_EQ(param(p, "category"), "");
    }
  }
}

TEST(RecordPuller, PullsMedicationRecordsWithTheirMedications) {
  MemoryFhirServer server;
  server.put(R"({"resourceType":"Patient","id":"p1"})");
  server.put(R"({"resourceType":"Medication","id":"pem","code":{"coding":[{"system":)"
             R"("http://www.nlm.nih.gov/research/umls/rxnorm","code":"1728072"}]}})");
  server.put(R"({"resourceType":"MedicationAdministration","id":"a1","status":"completed",
      "subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/pem"},
      "effectiveDateTime":"2025-05-25"})");
  server.put(R"({"resourceType":"MedicationRequest","id":"r1","status":"active",
      "intent":"order","subject":{"reference":"Patient/p1"},
      "medicationReference":{"reference":"Medication/pem"}})");
  // Another patient's record is not this one's.
  server.put(R"({"resourceType":"MedicationRequest","id":"r2","status":"active",
      "intent":"order","subject":{"reference":"Patient/p2"},
      "medicationReference":{"reference":"Medication/pem"}})");
  PulledRecord pulled = pull_record(server, "p1", tables(), PullOptions{});
  std::map<std::string, fhir::SearchParams> asked;
  for (const auto& s : server.searches()) asked[s.type] = s.params;
  for (const char* type : {"Condition", "CarePlan", "Procedure", "MedicationRequest",
                           "MedicationAdministration", "MedicationStatement"}) {
    ASSERT_TRUE(asked.count(type)) << type;
    EXPECT_EQ(param(asked[type], "patient"), "p1") << type;
  }
  EXPECT_EQ(param(asked["MedicationRequest"], "_include"), "MedicationRequest:medication");
  EXPECT_EQ(param(asked["MedicationStatement"], "_include"), "MedicationStatement:medication");
  EXPECT_EQ(param(asked["Condition"], "_include"), "");
  ASSERT_EQ(pulled.record.medications().size(), 1u);
  EXPECT_TRUE(pulled.record.duplicates().empty());  // included twice, one resource
  EXPECT_EQ(pulled.record.medication_uses().size(), 2u);

  auto c = mappings::extract(pulled.record, tables(), *fhir::DateTime::parse("2025-06-01"));
  ASSERT_EQ(c.treatments.size(), 1u);
  EXPECT_EQ(c.treatments[0].kind, mappings::TreatmentKind::kChemotherapy);
  EXPECT_EQ(c.treatments[0].evidence,
            (mappings::Evidence{"Medication/pem", "MedicationAdministration/a1",
                                "MedicationRequest/r1"}));
}

}  // namespace
// A server whose CapabilityStatement read fails with `error` `failures`
// times before it answers.
class StatementServer : public testing::MemoryFhirServer {
 public:
  fhir::Capabilities capabilities() override {
    ++statements;
    if (failures > 0) {
      --failures;
      if (missing) throw fhir::NotFound("GET", "/metadata", 404, "", "no statement");
      throw fhir::ServerUnreachable("GET", "/metadata", fhir::TransportError::Kind::kConnect,
                                    "down");
    }
    return MemoryFhirServer::capabilities();
  }
  int failures = 0;
  bool missing = false;
  int statements = 0;
};

// `serve` starting while the EHR's server is down reads by searches until
// the server answers, then as its statement says: not by searches for good.
// It asks again a minute after a failure, not at every read.
TEST(ReadModeChoice, AStatementTheServerCouldNotGiveIsAskedForAgainAMinuteLater) {
  StatementServer server;
  server.caps.system_interactions = {"batch"};
  server.failures = 2;
  auto now = std::chrono::steady_clock::time_point{};
  ReadModeChoice choice(ReadMode::kAuto, [&] { return now; });
  EXPECT_EQ(choice.resolve(server), ReadMode::kSearches);
  EXPECT_EQ(choice.resolve(server), ReadMode::kSearches);
  EXPECT_EQ(server.statements, 1);
  now += std::chrono::seconds(61);
  EXPECT_EQ(choice.resolve(server), ReadMode::kSearches);  // still down
  EXPECT_EQ(server.statements, 2);
  now += std::chrono::seconds(61);
  EXPECT_EQ(choice.resolve(server), ReadMode::kBatch);  // back: its statement declares batch
  now += std::chrono::hours(1);
  EXPECT_EQ(choice.resolve(server), ReadMode::kBatch);
  EXPECT_EQ(server.statements, 3);  // then kept
}

TEST(ReadModeChoice, AServerWithoutAStatementIsNotAskedAgain) {
  StatementServer server;
  server.caps.system_interactions = {"batch"};
  server.failures = 1;
  server.missing = true;
  ReadModeChoice choice(ReadMode::kAuto);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(choice.resolve(server), ReadMode::kSearches);
  EXPECT_EQ(server.statements, 1);
}

}  // namespace mst::adapter
