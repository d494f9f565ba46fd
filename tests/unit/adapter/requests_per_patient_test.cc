// Issue #15, item 5: what one patient costs the server in requests. The
// pull goes as one batch Bundle when the server declares `batch`, the
// writer's ownership searches too, and the adapter's Devices are searched
// once per process: the same record and the same plan as one request per
// search, for every fixture patient, in at most 6 requests on a revision.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <typeinfo>

#include "mst/adapter/pipeline/pipeline.h"
#include "mst/adapter/pipeline/record_puller.h"
#include "mst/fhir/error_kind.h"
#include "support/fixture_server.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter {
namespace {

using testing::MemoryFhirServer;

std::vector<std::string> fixture_files() {
  std::vector<std::string> out;
  for (const char* dir : {"/tests/fixtures/patients", "/tests/fixtures/realworld"}) {
    for (const auto& e : std::filesystem::directory_iterator(std::string(MST_SOURCE_DIR) + dir)) {
      const std::string name = e.path().filename().string();
      if (e.path().extension() == ".json" && name != "expected.json") out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The id of the Bundle's Patient.
std::string patient_of(const std::string& bundle_json) {
  const auto doc = fhir::JsonDocument::parse(bundle_json);
  for (fhir::Node e : doc.root().array("entry")) {
    if (e["resource"].string("resourceType") == std::optional<std::string_view>("Patient"))
      return std::string(e["resource"].string("id").value_or(""));
  }
  return "";
}

// Every resource the record holds, by kind, as "Type/id".
std::vector<std::string> refs_of(const mappings::PatientRecord& r) {
  std::vector<std::string> out;
  for (const auto* list : {&r.conditions(), &r.observations(), &r.care_plans(), &r.procedures(),
                           &r.medication_uses(), &r.medications(), &r.others()}) {
    for (const auto& x : *list) out.push_back(x.ref);
    out.emplace_back("|");
  }
  if (r.patient()) out.push_back(r.patient()->ref);
  return out;
}

void declare_batch(MemoryFhirServer& server) {
  server.caps.system_interactions = {"batch", "transaction"};
}

PipelineSettings settings(ReadMode mode) {
  PipelineSettings s = testing::fixture_settings();
  s.pull.read_mode = mode;
  s.write.reads = mode;
  return s;
}

class RequestsPerPatient : public ::testing::Test {
 protected:
  RequestsPerPatient()
      : tables_(mappings::CodeTables::load({testing::kTables}, testing::kCanonical)) {}

  mappings::CodeTables tables_;
  RuleThresholds thresholds_;
};

TEST_F(RequestsPerPatient, BatchAndSearchesGiveTheSameRecordAndPlanForEveryFixturePatient) {
  const auto files = fixture_files();
  ASSERT_GE(files.size(), 13u);
  for (const auto& file : files) {
    SCOPED_TRACE(file);
    const std::string bundle = testing::read_file(file);
    const std::string patient = patient_of(bundle);
    ASSERT_FALSE(patient.empty());
    MemoryFhirServer by_batch, by_search;
    declare_batch(by_batch);
    declare_batch(by_search);  // declared, but not used: server.read_mode=searches
    by_batch.put_bundle(bundle);
    by_search.put_bundle(bundle);

    const PulledRecord a = pull_record(by_batch, patient, tables_, settings(ReadMode::kBatch).pull);
    const PulledRecord b =
        pull_record(by_search, patient, tables_, settings(ReadMode::kSearches).pull);
    EXPECT_EQ(a.warnings, b.warnings);
    EXPECT_EQ(refs_of(a.record), refs_of(b.record));
    EXPECT_EQ(a.record.duplicates(), b.record.duplicates());

    Pipeline p1(&by_batch, tables_, thresholds_, settings(ReadMode::kAuto));
    Pipeline p2(&by_search, tables_, thresholds_, settings(ReadMode::kSearches));
    const PatientOutcome o1 = p1.run_safely(patient).outcome;
    const PatientOutcome o2 = p2.run_safely(patient).outcome;
    EXPECT_EQ(o1.kind, o2.kind) << o1.detail << " / " << o2.detail;
    EXPECT_EQ(o1.fingerprint, o2.fingerprint);
    EXPECT_EQ(o1.detail, o2.detail);
    EXPECT_EQ(by_batch.all("CarePlan"), by_search.all("CarePlan"));
    for (const auto& type : {"CarePlan", "Goal", "ServiceRequest", "CareTeam", "Provenance"}) {
      for (const auto& ref : by_batch.all(type)) {
        EXPECT_EQ(by_batch.get(ref), by_search.get(ref)) << ref;
      }
    }
  }
}

// The pain score of mst-p02 rises: the plan changes.
void revise(MemoryFhirServer& server) {
  std::string obs = server.get("Observation/mst-p02-obs-pain");
  const auto at = obs.find("\"value\":4");
  ASSERT_NE(at, std::string::npos) << obs;
  obs.replace(at, 9, "\"value\":9");
  server.put(obs);
}

struct Costs {
  std::size_t first, revision, unchanged;
};

Costs measure(const mappings::CodeTables& tables, const RuleThresholds& thresholds, ReadMode mode,
              MemoryFhirServer& server) {
  server.put_bundle(testing::read_file(testing::kFixture));
  // One process, as a sync is: what it learns once (capabilities, the
  // adapter's Devices) is not paid per patient.
  Pipeline pipeline(&server, tables, thresholds, settings(mode));
  Costs c{};
  auto run = [&](OutcomeKind expected) {
    const std::size_t before = server.requests().size();
    const PatientOutcome o = pipeline.run_safely(testing::kPatient).outcome;
    EXPECT_EQ(o.kind, expected) << o.detail;
    return server.requests().size() - before;
  };
  c.first = run(OutcomeKind::kWritten);
  revise(server);
  c.revision = run(OutcomeKind::kWritten);
  c.unchanged = run(OutcomeKind::kUnchanged);
  return c;
}

TEST_F(RequestsPerPatient, ARevisionCostsAtMostSixRequestsWhenTheServerTakesBatches) {
  MemoryFhirServer server;
  declare_batch(server);
  const Costs batch = measure(tables_, thresholds_, ReadMode::kAuto, server);
  MemoryFhirServer plain;  // declares nothing: one request per search
  const Costs searches = measure(tables_, thresholds_, ReadMode::kAuto, plain);
  std::cout << "requests per patient (mst-p02): batch first=" << batch.first
            << " revision=" << batch.revision << " unchanged=" << batch.unchanged
            << "; searches first=" << searches.first << " revision=" << searches.revision
            << " unchanged=" << searches.unchanged << "\n";
  EXPECT_LE(batch.revision, 6u);
  EXPECT_LE(batch.unchanged, 3u);
  EXPECT_LT(batch.revision, searches.revision);
  EXPECT_LT(batch.first, searches.first);
}

// HAPI 8.8 answers batch reads but its CapabilityStatement does not say so:
// server.read_mode=batch must batch the writer's searches too, not only the pull's.
TEST_F(RequestsPerPatient, ReadModeBatchBatchesTheWritersSearchesOnAServerThatDoesNotDeclareIt) {
  MemoryFhirServer declared;
  declare_batch(declared);
  const Costs by_declaration = measure(tables_, thresholds_, ReadMode::kAuto, declared);
  MemoryFhirServer undeclared;
  undeclared.caps.system_interactions = {"transaction"};
  const Costs forced = measure(tables_, thresholds_, ReadMode::kBatch, undeclared);
  EXPECT_EQ(forced.first, by_declaration.first);
  EXPECT_EQ(forced.revision, by_declaration.revision);
  EXPECT_EQ(forced.unchanged, by_declaration.unchanged);
  EXPECT_LE(forced.revision, 6u);
}

TEST_F(RequestsPerPatient, TheDevicesAreSearchedOncePerProcessOnceOneExists) {
  MemoryFhirServer server;
  declare_batch(server);
  measure(tables_, thresholds_, ReadMode::kAuto, server);
  std::size_t device_searches = 0;
  for (const auto& s : server.searches()) device_searches += s.type == "Device";
  // Before the first write (none yet); the write tells where the Device
  // went, so the revision and the re-run ask no more.
  EXPECT_EQ(device_searches, 1u);
}

TEST_F(RequestsPerPatient, AServerThatRefusesBatchReadsIsReadBySearchesFromThenOn) {
  MemoryFhirServer server;
  declare_batch(server);
  server.refuse_batch_reads = true;
  server.put_bundle(testing::read_file(testing::kFixture));
  Pipeline pipeline(&server, tables_, thresholds_, settings(ReadMode::kAuto));
  const PatientOutcome first = pipeline.run_safely(testing::kPatient).outcome;
  EXPECT_EQ(first.kind, OutcomeKind::kWritten) << first.detail;
  revise(server);
  const std::size_t before = server.requests().size();
  const PatientOutcome again = pipeline.run_safely(testing::kPatient).outcome;
  EXPECT_EQ(again.kind, OutcomeKind::kWritten) << again.detail;
  // The pull no longer tries the batch: 16 reads, the plan search, one
  // refused member batch and its 6 searches, the transaction.
  EXPECT_EQ(server.requests().size() - before, 25u);
}

// What pull_record throws, classified, and its C++ type.
std::pair<ErrorKind, std::string> pull_failure(MemoryFhirServer& server, ReadMode mode,
                                               const mappings::CodeTables& tables) {
  try {
    pull_record(server, testing::kPatient, tables, settings(mode).pull);
  } catch (const std::exception& e) {
    return {classify(e).kind, typeid(e).name()};
  }
  return {ErrorKind::kInternal, "nothing thrown"};
}

TEST_F(RequestsPerPatient, AFailedBatchEntryFailsThePullAsTheSearchAloneWould) {
  for (const int status : {400, 404, 500, 503, 429}) {
    SCOPED_TRACE(status);
    MemoryFhirServer by_batch, by_search;
    for (auto* s : {&by_batch, &by_search}) {
      declare_batch(*s);
      s->put_bundle(testing::read_file(testing::kFixture));
      s->fail_searches["Condition"] = status;
    }
    const auto a = pull_failure(by_batch, ReadMode::kBatch, tables_);
    const auto b = pull_failure(by_search, ReadMode::kSearches, tables_);
    EXPECT_NE(a.second, "nothing thrown");
    EXPECT_EQ(a, b);
  }
}

TEST_F(RequestsPerPatient, AMissingPatientIsNotFoundInBothModes) {
  MemoryFhirServer by_batch, by_search;
  for (auto* s : {&by_batch, &by_search}) {
    declare_batch(*s);
    s->put_bundle(testing::read_file(testing::kFixture));
    s->remove(std::string("Patient/") + testing::kPatient);
  }
  const auto a = pull_failure(by_batch, ReadMode::kBatch, tables_);
  EXPECT_EQ(a.first, ErrorKind::kNotFound);
  EXPECT_EQ(a, pull_failure(by_search, ReadMode::kSearches, tables_));
}

}  // namespace
}  // namespace mst::adapter
