// sync.bulk_data=records: a patient's record built from an export's NDJSON
// lines equals the record the per-patient pull builds from the same server,
// for every fixture patient; what the export cannot vouch for is pulled; and
// however large the export, memory holds one bounded batch.
#include "mst/adapter/sync/export_records.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/fhir/json_value.h"
#include "mst/mappings/extract.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter {
namespace {

using testing::MemoryFhirServer;

const mappings::CodeTables& tables() {
  static const mappings::CodeTables t =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  return t;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class ExportRecordsTest : public ::testing::Test {
 protected:
  ExportRecordsTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("mst-export-records-" +
              std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        relevant_(tables(), {.observation_categories = PullOptions{}.observation_categories,
                             .code_search_category = {}}) {
    std::filesystem::create_directories(dir_);
  }
  ~ExportRecordsTest() override { std::filesystem::remove_all(dir_); }

  std::string path() const { return (dir_ / "state.sqlite.export").string(); }

  // What a Patient/$export of the pull's types (and the Medications) gives:
  // every stored resource of those types, one NDJSON file per type, read as
  // the feed reads it (the adapter's plan-input rule applied).
  static void export_into(const MemoryFhirServer& server, ExportRecords& records) {
    std::vector<std::string> types = BulkExportOptions::default_types();
    types.emplace_back("Medication");
    for (const auto& type : types) {
      std::string ndjson;
      for (const auto& ref : server.all(type)) {
        const std::string json =
            fhir::JsonValue::from(fhir::JsonDocument::parse(server.get(ref)).root()).dump(false);
        ndjson += json + "\n";
      }
      NdjsonPatientReader reader(
          type + " file",
          [](std::string_view t, fhir::Node n) { return mappings::is_plan_input(t, n); },
          std::size_t{16} << 20);
      reader.set_sink([&](std::string_view t, fhir::Node n, std::string_view line) {
        records.add(t, n, line);
      });
      reader.feed(ndjson);
      reader.finish();
    }
    records.finish();
  }

  std::filesystem::path dir_;
  detail::RelevantResourceFilter relevant_;
};

// Every list of the record, each resource as its ref and its JSON.
std::vector<std::string> contents(const mappings::PatientRecord& r) {
  std::vector<std::string> out{"patient " + r.patient_id()};
  auto list = [&](const char* name, const std::vector<mappings::RecordResource>& rs) {
    for (const auto& x : rs) {
      out.push_back(std::string(name) + " " + x.ref + " " +
                    fhir::JsonValue::from(x.node).dump(false));
    }
  };
  if (r.patient()) list("Patient", {*r.patient()});
  list("conditions", r.conditions());
  list("observations", r.observations());
  list("care_plans", r.care_plans());
  list("procedures", r.procedures());
  list("medication_uses", r.medication_uses());
  list("medications", r.medications());
  list("others", r.others());
  for (const auto& d : r.duplicates()) out.push_back("duplicate " + d);
  return out;
}

TEST_F(ExportRecordsTest, EveryFixturePatientsRecordEqualsItsPull) {
  int compared = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(MST_SOURCE_DIR) +
                                                               "/tests/fixtures/patients")) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("mst-p") || entry.path().extension() != ".json") continue;
    SCOPED_TRACE(name);
    MemoryFhirServer server;
    server.put_bundle(read_text(entry.path().string()));
    const std::vector<std::string> patients = server.all("Patient");
    ASSERT_EQ(patients.size(), 1u);
    const std::string id = patients.front().substr(std::string("Patient/").size());

    const PulledRecord pulled = pull_record(server, id, tables(), PullOptions{});
    ExportRecords records(path(), relevant_, {});
    export_into(server, records);
    const std::optional<PulledRecord> exported = records.record(id);
    ASSERT_TRUE(exported.has_value());
    EXPECT_EQ(contents(exported->record), contents(pulled.record));
    ++compared;
  }
  EXPECT_EQ(compared, 13);
}

TEST_F(ExportRecordsTest, TheFilterDropsWhatThePullWouldNotFind) {
  MemoryFhirServer server;
  server.put(R"({"resourceType":"Patient","id":"p1"})");
  // A heart rate: a code our tables do not search, in no category read whole.
  server.put(
      R"({"resourceType":"Observation","id":"hr","status":"final","subject":{"reference":"Patient/p1"},
    "code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]}})");
  // A survey: read whole whatever its code.
  server.put(
      R"({"resourceType":"Observation","id":"sv","status":"final","subject":{"reference":"Patient/p1"},
    "category":[{"coding":[{"code":"survey"}]}],"code":{"text":"pain"}})");
  ExportRecords records(path(), relevant_, {});
  export_into(server, records);
  const auto exported = records.record("p1");
  ASSERT_TRUE(exported);
  EXPECT_EQ(contents(exported->record),
            contents(pull_record(server, "p1", tables(), PullOptions{}).record));
  ASSERT_EQ(exported->record.observations().size(), 1u);
  EXPECT_EQ(exported->record.observations().front().id, "sv");
}

TEST_F(ExportRecordsTest, WhatTheExportCannotVouchForIsPulled) {
  MemoryFhirServer server;
  server.put(R"({"resourceType":"Patient","id":"p1"})");
  server.put(R"({"resourceType":"Patient","id":"p2"})");
  // p1's order names a Medication the export does not carry.
  server.put(R"({"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order",
    "subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/gone"}})");
  for (int i = 0; i < 3; ++i) {
    server.put(R"({"resourceType":"Condition","id":"c)" + std::to_string(i) +
               R"(","subject":{"reference":"Patient/p2"},"code":{"text":"x"}})");
  }
  ExportRecords unfinished(path(), relevant_, {});
  EXPECT_FALSE(unfinished.record("p2")) << "an export not finished vouches for nobody";

  ExportRecords records(path() + "2", relevant_, {.max_resources_per_patient = 4});
  export_into(server, records);
  EXPECT_FALSE(records.record("p1")) << "a Medication the pull would include is missing";
  EXPECT_FALSE(records.record("p3")) << "no Patient: the pull decides (404)";
  EXPECT_TRUE(records.record("p2"));

  ExportRecords bounded(path() + "3", relevant_, {.max_resources_per_patient = 3});
  export_into(server, bounded);
  EXPECT_FALSE(bounded.record("p2")) << "more resources than the pull's bound";
  bounded.reset();
  EXPECT_FALSE(bounded.record("p2")) << "a reset forgets the last export";
}

TEST_F(ExportRecordsTest, MemoryHoldsOneBoundedBatchHoweverLargeTheExport) {
  const ExportRecordOptions options{.batch_lines = 500, .batch_bytes = 256u << 10};
  ExportRecords records(path(), relevant_, options);
  NdjsonPatientReader reader("Condition file", nullptr, 1u << 20);
  reader.set_sink(
      [&](std::string_view t, fhir::Node n, std::string_view line) { records.add(t, n, line); });
  // 200,000 Conditions (about 40 MB) for 2,000 patients, fed in 64 KiB chunks.
  std::string chunk;
  std::size_t total = 0;
  for (int i = 0; i < 200'000; ++i) {
    chunk += R"({"resourceType":"Condition","id":"c)" + std::to_string(i) +
             R"(","subject":{"reference":"Patient/p)" + std::to_string(i % 2000) +
             R"("},"code":{"text":")" + std::string(120, 'x') + "\"}}\n";
    if (chunk.size() >= 64u << 10) {
      total += chunk.size();
      reader.feed(chunk);
      chunk.clear();
    }
  }
  total += chunk.size();
  reader.feed(chunk);
  reader.finish();
  records.add("Patient",
              fhir::JsonDocument::parse(R"({"resourceType":"Patient","id":"p7"})").root(),
              R"({"resourceType":"Patient","id":"p7"})");
  records.finish();
  EXPECT_EQ(records.lines(), 200'001u);
  EXPECT_GT(total, std::size_t{35} << 20);
  EXPECT_LE(records.peak_buffered_bytes(), options.batch_bytes + 1024);
  const auto p7 = records.record("p7");
  ASSERT_TRUE(p7);
  EXPECT_EQ(p7->record.conditions().size(), 100u);
}

}  // namespace
}  // namespace mst::adapter
