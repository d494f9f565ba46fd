// The pull asks for every type the extractor reads: one search per type of
// detail::patient_searches() by patient, the medication records with their
// Medications included, and a Medication two searches include arrives once.
#include "mst/adapter/pipeline/record_puller.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "mst/mappings/extract.h"
#include "support/mock_client.h"

namespace mst::adapter {
namespace {

using ::testing::_;
using testing::MockClient;
using testing::param;
using testing::search_result;

const mappings::CodeTables& tables() {
  static const mappings::CodeTables t =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  return t;
}

// A searchset whose one match is `resource`, with `included` as includes.
fhir::SearchResult with_include(const std::string& resource, const std::string& included) {
  fhir::SearchResult r = search_result(R"({"resourceType":"Bundle","type":"searchset","entry":[
      {"resource":)" + resource + "}]}");
  auto doc = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(included));
  r.pages.push_back(doc);
  r.included.push_back(doc->root());
  return r;
}

// Every Observation search the pull makes, by its parameters.
std::vector<fhir::SearchParams> observation_searches(const PullOptions& options) {
  MockClient client;
  std::mutex mu;
  std::vector<fhir::SearchParams> asked;
  EXPECT_CALL(client, read(_, _)).WillOnce([](auto, auto) {
    fhir::FhirResponse r;
    r.status = 200;
    r.body = std::make_shared<const fhir::JsonDocument>(
        fhir::JsonDocument::parse(R"({"resourceType":"Patient","id":"p1"})"));
    return r;
  });
  EXPECT_CALL(client, search(_, _, _))
      .WillRepeatedly(
          [&](std::string_view type, const fhir::SearchParams& p, const fhir::SearchLimits&) {
            if (type == "Observation") {
              std::lock_guard lock(mu);
              asked.push_back(p);
            }
            return search_result(R"({"resourceType":"Bundle","type":"searchset"})");
          });
  pull_record(client, "p1", tables(), options);
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
  MockClient client;
  std::mutex mu;
  std::map<std::string, fhir::SearchParams> asked;
  const std::string med = R"({"resourceType":"Medication","id":"pem","code":{"coding":[{"system":)"
                          R"("http://www.nlm.nih.gov/research/umls/rxnorm","code":"1728072"}]}})";
  EXPECT_CALL(client, read(std::string_view("Patient"), std::string_view("p1")))
      .WillOnce([](auto, auto) {
        fhir::FhirResponse r;
        r.status = 200;
        r.body = std::make_shared<const fhir::JsonDocument>(
            fhir::JsonDocument::parse(R"({"resourceType":"Patient","id":"p1"})"));
        return r;
      });
  EXPECT_CALL(client, search(_, _, _))
      .WillRepeatedly([&](std::string_view type, const fhir::SearchParams& p,
                          const fhir::SearchLimits&) {
        {
          std::lock_guard lock(mu);
          asked[std::string(type)] = p;
        }
        auto admin = [](const std::string& id, const std::string& date) {
          return R"({"resourceType":"MedicationAdministration","id":")" + id +
                 R"(","status":"completed","subject":{"reference":"Patient/p1"},)"
                 R"("medicationReference":{"reference":"Medication/pem"},"effectiveDateTime":")" +
                 date + "\"}";
        };
        if (type == "MedicationAdministration") return with_include(admin("a1", "2025-05-25"), med);
        if (type == "MedicationRequest") {
          return with_include(R"({"resourceType":"MedicationRequest","id":"r1","status":"active",
              "intent":"order","subject":{"reference":"Patient/p1"},
              "medicationReference":{"reference":"Medication/pem"}})",
                              med);
        }
        return search_result(R"({"resourceType":"Bundle","type":"searchset"})");
      });
  PulledRecord pulled = pull_record(client, "p1", tables(), PullOptions{});
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
}  // namespace mst::adapter
