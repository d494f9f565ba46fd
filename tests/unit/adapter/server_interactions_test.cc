// The one list of FHIR interactions (server_interactions.h) against what the
// adapter really sends: a pipeline run over HTTP and the sync change feed.
// An interaction missing from the list would go out without a SMART scope
// and be refused by a server that enforces scopes.
#include "mst/adapter/pipeline/server_interactions.h"

#include <gtest/gtest.h>

#include <set>

#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/adapter/sync/fhir_change_feed.h"
#include "mst/adapter/sync/population.h"
#include "support/fixture_server.h"
#include "support/memory_fhir_server.h"
#include "support/mock_client.h"

namespace mst::adapter {
namespace {

using ::testing::_;

// What one request does, as the SMART scopes see it.
struct Seen {
  std::string type;
  unsigned access = 0;
  bool conditional_create = false;
  bool conditional_update = false;
  std::string request;  // for messages
};

// The resource type and what follows it ("/id", "?query" or "") of a
// request URL or a transaction entry's request.url.
std::pair<std::string, std::string> split_type(std::string path) {
  const auto end = path.find_first_of("/?");
  if (end == std::string::npos) return {path, ""};
  return {path.substr(0, end), path.substr(end)};
}

// Every interaction in a transaction Bundle's entries.
void add_transaction(const std::string& body, std::vector<Seen>& out) {
  auto doc = fhir::JsonDocument::parse(body);
  for (fhir::Node e : doc.root().array("entry")) {
    fhir::Node request = e.object("request");
    const std::string method(*request.string("method"));
    auto [type, rest] = split_type(std::string(*request.string("url")));
    Seen s{type, 0, false, false, "transaction entry " + method + " " + type + rest};
    if (method == "POST") {
      s.access = fhir::kCreate;
      // ifNoneExist: the server searches before it creates.
      if (request["ifNoneExist"].present()) {
        s.access |= fhir::kSearch;
        s.conditional_create = true;
      }
    } else if (method == "PUT" && rest.starts_with("?")) {
      // Conditional update: a search, then an update or a create.
      s.access = fhir::kCreate | fhir::kUpdate | fhir::kSearch;
      s.conditional_update = true;
    } else if (method == "PUT") {
      s.access = fhir::kUpdate;
    } else if (method == "DELETE") {
      s.access = fhir::kDelete;
    } else if (method == "GET") {
      s.access = rest.starts_with("/") ? fhir::kRead : fhir::kSearch;
    }
    out.push_back(std::move(s));
  }
}

// A FixtureServer that also remembers every request it answered.
class RecordingServer : public testing::FixtureServer {
 public:
  fhir::HttpResponse send(const fhir::HttpRequest& r) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    return FixtureServer::send(r);
  }

  std::vector<Seen> interactions() const {
    std::lock_guard lock(mu_);
    std::vector<Seen> out;
    const std::string base = std::string(testing::kBase);
    for (const auto& r : requests_) {
      std::string path = r.url.substr(base.size());
      if (path.starts_with("/")) path.erase(0, 1);
      if (r.method == "POST" && path.empty()) {
        add_transaction(r.body, out);
        continue;
      }
      auto [type, rest] = split_type(path);
      Seen s{type, 0, false, false, r.method + " " + path};
      if (r.method == "GET") s.access = rest.starts_with("/") ? fhir::kRead : fhir::kSearch;
      if (r.method == "POST") s.access = fhir::kCreate;
      if (r.method == "PUT") s.access = fhir::kUpdate;
      if (r.method == "DELETE") s.access = fhir::kDelete;
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<fhir::HttpRequest> requests_;
};

void expect_listed(const std::vector<Seen>& seen, WriteMode mode = WriteMode::kTransaction) {
  const auto rows = server_interactions(false, mode);
  for (const Seen& s : seen) {
    // The CapabilityStatement (the writer reads which searches need the
    // patient) is no resource interaction and needs no scope.
    if (s.type == "metadata") continue;
    auto row = std::find_if(rows.begin(), rows.end(),
                            [&](const ServerInteraction& r) { return r.type == s.type; });
    ASSERT_NE(row, rows.end()) << s.request << ": " << s.type << " is not in server_interactions()";
    EXPECT_EQ(s.access & ~row->access, 0u)
        << s.request << ": server_interactions() lacks some of it for " << s.type;
    EXPECT_TRUE(!s.conditional_create || row->conditional_create) << s.request;
    EXPECT_TRUE(!s.conditional_update || row->conditional_update) << s.request;
  }
}

class ServerInteractionsRun : public testing::PipelineFixture {
 protected:
  ServerInteractionsRun() {
    recorder_ = std::make_shared<RecordingServer>();
    server_ = recorder_;
  }
  std::shared_ptr<RecordingServer> recorder_;
};

TEST_F(ServerInteractionsRun, APipelineRunUsesOnlyListedInteractions) {
  PatientRun r = run();
  ASSERT_EQ(recorder_->writes().size(), 1u) << "the fixture patient gets a plan written";
  const auto seen = recorder_->interactions();
  expect_listed(seen);
  // The run did read and write: the check above had something to check.
  std::set<std::string> types;
  for (const auto& s : seen) types.insert(s.type);
  for (const char* t : {"Patient", "Condition", "Procedure", "CarePlan", "Goal", "Device",
                        "Provenance", "ServiceRequest"}) {
    EXPECT_TRUE(types.count(t)) << t << " was not seen; the fixture changed?";
  }
}

TEST_F(ServerInteractionsRun, ANoteRunUsesOnlyTheDocumentModesInteractions) {
  write_mode_ = WriteMode::kDocument;
  PatientRun r = run();
  EXPECT_EQ(r.outcome.kind, OutcomeKind::kWritten) << r.outcome.detail;
  const auto seen = recorder_->interactions();
  expect_listed(seen, WriteMode::kDocument);
  std::set<std::string> types;
  for (const auto& s : seen) types.insert(s.type);
  EXPECT_TRUE(types.count("DocumentReference"));
  for (const char* t : {"Device", "Provenance", "CareTeam"})
    EXPECT_FALSE(types.count(t)) << t << " is not touched in document mode";
  // ServiceRequests only as input: portable medical orders, searched.
  for (const auto& s : seen) {
    if (s.type == "ServiceRequest") {
      EXPECT_EQ(s.access, fhir::kSearch) << s.request;
    }
  }
}

TEST(ServerInteractions, TheDocumentModesScopesWriteOnlyNotes) {
  EXPECT_EQ(fhir::system_scopes(server_access(false, WriteMode::kDocument), fhir::ScopeSyntax::kV2),
            "system/Patient.r system/Observation.rs system/Condition.rs "
            "system/CarePlan.rs system/Procedure.rs system/Goal.rs "
            "system/Consent.rs system/ServiceRequest.rs "
            "system/MedicationRequest.rs system/MedicationAdministration.rs "
            "system/MedicationStatement.rs system/Medication.r "
            "system/DocumentReference.crus");
  // The CarePlan modes, auto among them, ask for the same scopes.
  for (WriteMode m : {WriteMode::kAuto, WriteMode::kBatch, WriteMode::kIndividual})
    EXPECT_EQ(fhir::system_scopes(server_access(false, m), fhir::ScopeSyntax::kV2),
              fhir::system_scopes(server_access(false), fhir::ScopeSyntax::kV2));
}

TEST(ServerInteractions, TheSyncChangeFeedUsesOnlyListedInteractions) {
  testing::MemoryFhirServer server;
  const auto tables =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  FhirChangeFeed feed(server, tables, ChangeFeedOptions{}, fhir::system_clock());
  feed.changed_since(std::nullopt);
  feed.changed_since(std::string("2026-01-01T00:00:00Z"));
  std::vector<Seen> seen;
  for (const auto& s : server.searches())
    seen.push_back({s.type, fhir::kSearch, false, false, "search"});
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(server.requests().size(), seen.size());  // searches, nothing else
  expect_listed(seen);
}

// A Group or List population is one read, listed (and so scoped and
// checked) only when configured.
TEST(ServerInteractions, APopulationReadIsListedWhenConfigured) {
  for (const auto& [population, type] : {std::pair{"group:g1", "Group"}, {"list:l1", "List"}}) {
    testing::MemoryFhirServer server;
    const std::string id = std::string(population).substr(std::string(population).find(':') + 1);
    server.put(R"({"resourceType":")" + std::string(type) + R"(","id":")" + id + "\"}");
    read_population(PopulationSource::parse(population), server, 0);
    // One request, not a search: a read.
    ASSERT_EQ(server.requests(), (std::vector<std::string>{"GET " + std::string(type)}));
    EXPECT_TRUE(server.searches().empty());
    const std::vector<Seen> seen{{type, fhir::kRead, false, false, "read " + id}};
    const auto rows = population_interactions(population);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].type, type);
    EXPECT_EQ(seen[0].type, type);
    EXPECT_EQ(seen[0].access & ~rows[0].access, 0u);
    EXPECT_EQ(fhir::system_scopes(population_access(population), fhir::ScopeSyntax::kV2),
              "system/" + std::string(type) + ".r");
  }
  EXPECT_TRUE(population_interactions("search").empty());
  EXPECT_TRUE(population_interactions("file:/etc/ids.txt").empty());
}

TEST(ServerInteractions, BulkExportReadsEveryExportedTypeOnlyInThatMode) {
  // The feed's kick-off names its types in _type; each needs a scope.
  const auto types = BulkExportOptions::default_types();
  const auto rows = population_interactions("group:g1", "bulk-export");
  for (const auto& type : types) {
    EXPECT_TRUE(std::any_of(rows.begin(), rows.end(), [&](const auto& r) {
      return r.type == type && (r.access & fhir::kRead) && (r.access & fhir::kSearch);
    })) << type;
  }
  EXPECT_TRUE(
      std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.type == "Group"; }));
  EXPECT_THAT(
      fhir::system_scopes(population_access("search", "bulk-export"), fhir::ScopeSyntax::kV2),
      ::testing::HasSubstr("system/Observation.rs"));
  EXPECT_TRUE(population_interactions("search", "repull").empty());
  EXPECT_TRUE(population_interactions("search", "auto").empty());
}

TEST(ServerInteractions, ConceptMapsAreSearchedOnlyWhenConfigured) {
  auto has = [](const std::vector<ServerInteraction>& rows) {
    return std::any_of(rows.begin(), rows.end(),
                       [](const ServerInteraction& r) { return r.type == "ConceptMap"; });
  };
  EXPECT_FALSE(has(server_interactions(false)));
  EXPECT_TRUE(has(server_interactions(true)));
}

// Pinned: the Keycloak integration tests and docs/configuration.md name
// these scopes. A change here is a change every deployment must grant.
TEST(ServerInteractions, TheDefaultScopesInBothSyntaxes) {
  EXPECT_EQ(fhir::system_scopes(server_access(false), fhir::ScopeSyntax::kV2),
            "system/Patient.r system/Observation.rs system/Condition.rs "
            "system/CarePlan.crus system/Procedure.rs system/Goal.crus "
            "system/Consent.rs system/ServiceRequest.crus "
            "system/MedicationRequest.rs system/MedicationAdministration.rs "
            "system/MedicationStatement.rs system/Medication.r "
            "system/CareTeam.crus system/Device.crs system/Provenance.crs");
  EXPECT_EQ(fhir::system_scopes(server_access(false), fhir::ScopeSyntax::kV1),
            "system/Patient.read system/Observation.read system/Condition.read "
            "system/CarePlan.read system/CarePlan.write system/Procedure.read "
            "system/Goal.read system/Goal.write system/Consent.read "
            "system/ServiceRequest.read system/ServiceRequest.write "
            "system/MedicationRequest.read system/MedicationAdministration.read "
            "system/MedicationStatement.read system/Medication.read "
            "system/CareTeam.read system/CareTeam.write system/Device.read "
            "system/Device.write system/Provenance.read system/Provenance.write");
}

}  // namespace
}  // namespace mst::adapter

namespace mst::adapter {
namespace {

TEST(ServerRoles, TheSourceIsOnlyReadTheTargetGetsTheWritesAndTheirSearches) {
  for (bool maps : {false, true}) {
    const auto source = server_interactions(maps, WriteMode::kTransaction, ServerRole::kSource);
    const auto target = server_interactions(maps, WriteMode::kTransaction, ServerRole::kTarget);
    std::set<std::string> source_types;
    for (const auto& row : source) {
      source_types.insert(row.type);
      EXPECT_EQ(row.access & (fhir::kCreate | fhir::kUpdate), 0u) << row.type;
      EXPECT_FALSE(row.conditional_create) << row.type;
    }
    EXPECT_TRUE(source_types.count("Condition"));
    EXPECT_TRUE(source_types.count("CarePlan"));  // the patient's plans are inputs
    EXPECT_FALSE(source_types.count("Device"));
    EXPECT_TRUE(source_types.count("ServiceRequest"));  // portable medical orders
    EXPECT_EQ(source_types.count("ConceptMap"), maps ? 1u : 0u);
    std::set<std::string> target_types;
    for (const auto& row : target) target_types.insert(row.type);
    EXPECT_EQ(target_types, (std::set<std::string>{"CarePlan", "Goal", "ServiceRequest", "CareTeam",
                                                   "Device", "Provenance"}));
    // Together they are the one-server list.
    const auto both = server_interactions(maps);
    for (const auto& row : both) {
      unsigned split = 0;
      for (const auto& s : source) split |= s.type == row.type ? s.access : 0u;
      for (const auto& t : target) split |= t.type == row.type ? t.access : 0u;
      EXPECT_EQ(split, row.access) << row.type;
    }
  }
}

}  // namespace
}  // namespace mst::adapter
