#include "mst/adapter/sync/fhir_change_feed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>

#include "mst/adapter/pipeline/record_puller.h"
#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/fhir/client_errors.h"
#include "support/fake_clock.h"
#include "support/memory_fhir_server.h"
#include "support/mock_client.h"

namespace mst::adapter {
namespace {

using fhir::testing::FakeClock;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::_;
using ::testing::AtLeast;
using testing::MemoryFhirServer;
using testing::MockClient;
using testing::param;
using testing::search_result;
using ::testing::StrictMock;

const mappings::CodeTables& tables() {
  static const mappings::CodeTables t =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  return t;
}

constexpr const char* kOwn = "http://mst-adapter.example.org/fhir/NamingSystem/mst-careplan";

// The feed's own clock, which the server's (2026-03-01) never reads: a scan
// time on the server's day came from the server.
std::shared_ptr<FakeClock> feed_clock() {
  auto clock = std::make_shared<FakeClock>();
  clock->advance(std::chrono::hours(24 * 30));
  return clock;
}

// A resource of `type` about `subject` (a reference), with `extra` members.
std::string about(const std::string& type, const std::string& id, const std::string& subject,
                  const std::string& extra = "") {
  return R"({"resourceType":")" + type + R"(","id":")" + id + R"(","subject":{"reference":")" +
         subject + R"("})" + (extra.empty() ? "" : "," + extra) + "}";
}

std::string coded(const std::string& element, const std::string& token) {
  const std::size_t bar = token.find('|');
  return "\"" + element + R"(":{"coding":[{"system":")" + token.substr(0, bar) + R"(","code":")" +
         token.substr(bar + 1) + R"("}]})";
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(FhirChangeFeed, FirstRunFindsPatientsWithSpinalOrBoneMetastasisConditions) {
  MemoryFhirServer server;
  server.put(
      about("Condition", "c1", "Patient/p1", coded("code", "http://snomed.info/sct|94602001")));
  server.put(about("Condition", "c2", "Group/g", coded("code", "http://snomed.info/sct|94602001")));
  // Hypertension: not a reason for a spine plan, so not the population.
  server.put(
      about("Condition", "c3", "Patient/p7", coded("code", "http://snomed.info/sct|38341003")));
  server.put(about("Procedure", "s1", "Patient/p8"));
  server.clock().advance(minutes(5));
  FhirChangeFeed feed(server, tables(), {}, feed_clock());
  ChangeScan scan = feed.changed_since(std::nullopt);
  EXPECT_EQ(scan.patient_ids, (std::vector<std::string>{"p1"}));
  EXPECT_EQ(scan.scan_time, "2026-03-01T12:05:00Z");  // the server's clock, not ours
  // Only Conditions, by code, and only their subjects.
  ASSERT_FALSE(server.searches().empty());
  for (const auto& s : server.searches()) {
    EXPECT_EQ(s.type, "Condition");
    EXPECT_NE(param(s.params, "code"), "");
    EXPECT_EQ(param(s.params, "_elements"), "subject");
    EXPECT_EQ(param(s.params, "_lastUpdated"), "");
  }
}

TEST(FhirChangeFeed, LaterRunsFindChangesSinceTheCheckpointMinusTheOverlap) {
  MemoryFhirServer server;  // its clock starts at 2026-03-01T12:00:00Z
  const std::string checkpoint = "2026-03-01T12:10:00Z";
  server.put(about("Condition", "old", "Patient/p0"));  // long before the checkpoint
  server.clock().advance(minutes(9) + seconds(30));
  // 30 s before the checkpoint: within the 60 s overlap, a late commit.
  server.put(about("Procedure", "late", "Patient/p1"));
  server.clock().advance(minutes(1) + seconds(30));
  // After the checkpoint: changes, whatever the type the pull reads.
  server.put(about("CarePlan", "chemo", "Patient/p2"));
  server.put(about("Observation", "o1", "http://x/fhir/Patient/p3",
                   R"("category":[{"coding":[{"code":"imaging"}]}])"));
  server.put(about("Observation", "o2", "Patient/p4",
                   coded("code", tables().observation_search_codes().front())));
  server.put(about("MedicationStatement", "m1", "Patient/p5"));
  // Not changes: the adapter's own draft, and an Observation the pull never
  // reads (neither its code nor its category).
  server.put(about("CarePlan", "mine", "Patient/p9",
                   R"("author":{"reference":"Device/d1"},"identifier":[{"system":")" +
                       std::string(kOwn) + R"(","value":"x"}])"));
  server.put(about("Observation", "o3", "Patient/p6",
                   R"("category":[{"coding":[{"code":"laboratory"}]}])"));
  server.clock().advance(seconds(5));

  ChangeFeedOptions opts;
  opts.own_identifier_system = kOwn;
  opts.overlap_s = 60;
  FhirChangeFeed feed(server, tables(), opts, feed_clock());
  ChangeScan scan = feed.changed_since(checkpoint);
  // An absolute subject reference is read as the patient it names.
  EXPECT_EQ(sorted(scan.patient_ids), (std::vector<std::string>{"p1", "p2", "p3", "p4", "p5"}));
  EXPECT_EQ(scan.scan_time, "2026-03-01T12:11:05Z");  // the server's searchset time
}

TEST(FhirChangeFeed, ACarePlanSearchAsksForTheFieldsThatTellTheAdaptersOwn) {
  MemoryFhirServer server;
  FhirChangeFeed feed(server, tables(), {}, feed_clock());
  feed.changed_since(std::string("2026-03-01T12:10:00Z"));
  std::map<std::string, std::string> elements;
  for (const auto& s : server.searches()) {
    EXPECT_EQ(param(s.params, "_lastUpdated"), "gt2026-03-01T12:08:00Z") << s.type;
    elements[s.type] = param(s.params, "_elements");
  }
  EXPECT_EQ(elements["CarePlan"], "subject,identifier,author");
  EXPECT_EQ(elements["Procedure"], "subject");
}

TEST(FhirChangeFeed, AServerThatDoesNotSayItsTimeLeavesOurs) {
  StrictMock<MockClient> client;  // the searchset's meta is the point: no meta at all
  EXPECT_CALL(client, search(_, _, _)).Times(AtLeast(1)).WillRepeatedly([](auto, auto, auto) {
    return search_result(R"({"resourceType":"Bundle","type":"searchset"})");
  });
  FhirChangeFeed feed(client, tables(), {}, feed_clock());
  EXPECT_EQ(feed.changed_since(std::string("2026-03-01T12:10:00Z")).scan_time,
            "2026-03-31T12:00:00Z");
}

TEST(FhirChangeFeed, AnIncompleteSearchFailsTheScan) {
  // A page bound is the client's, not the server's: scripted.
  StrictMock<MockClient> client;
  EXPECT_CALL(client, search(_, _, _)).WillRepeatedly([](auto, auto, auto) {
    fhir::SearchResult r;
    r.complete = false;
    r.incomplete_reason = "max_pages reached";
    return r;
  });
  FhirChangeFeed feed(client, tables(), {}, feed_clock());
  EXPECT_THROW(feed.changed_since(std::nullopt), fhir::SearchIncomplete);
}

TEST(FhirChangeFeed, SearchesRunAtOnceAndAFailureWaitsForTheRest) {
  // The timing of the requests is the point: scripted.
  StrictMock<MockClient> client;
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0, max_in_flight = 0, calls = 0;
  EXPECT_CALL(client, search(_, _, _))
      .WillRepeatedly([&](std::string_view type, const fhir::SearchParams&,
                          const fhir::SearchLimits&) -> fhir::SearchResult {
        std::unique_lock lock(mu);
        ++calls;
        max_in_flight = std::max(max_in_flight, ++in_flight);
        cv.notify_all();
        // Searches one after another would each time out here, never overlap.
        cv.wait_for(lock, std::chrono::seconds(2), [&] { return max_in_flight >= 2; });
        --in_flight;
        if (type == "CarePlan") {
          throw fhir::HttpStatusError("GET", "http://x/fhir/CarePlan", 503, "", "unavailable");
        }
        return search_result(R"({"resourceType":"Bundle","type":"searchset"})");
      });
  FhirChangeFeed feed(client, tables(), {}, feed_clock());
  EXPECT_THROW(feed.changed_since(std::string("2026-11-20T08:00:00Z")), fhir::HttpStatusError);
  std::lock_guard lock(mu);
  EXPECT_GE(max_in_flight, 2);
  // Condition, CarePlan, Procedure, three medication types, Observation codes, imaging
  EXPECT_GE(calls, 8);
  EXPECT_EQ(in_flight, 0);  // every search had returned when the error was rethrown
}

// Every search a server was asked (type and parameters) once `scoping`
// parameters (the patient, _lastUpdated, _include, _elements, _count) are set aside:
// what each one reads, whoever it is for.
using Reads = std::set<std::pair<std::string, fhir::SearchParams>>;

Reads reads_of(const MemoryFhirServer& server) {
  Reads reads;
  for (const auto& s : server.searches()) {
    fhir::SearchParams kept;
    for (const auto& [key, value] : s.params) {
      if (key != "patient" && key != "_lastUpdated" && key != "_include" && key != "_elements" &&
          key != "_count")
        kept.emplace_back(key, value);
    }
    reads.emplace(s.type, std::move(kept));
  }
  return reads;
}

TEST(FhirChangeFeed, AsksForLargePagesOfSubjectsOnly) {
  // At a server's default page size (HAPI: 20) a first scan of 500 patients
  // cost each worker ~560 requests.
  MemoryFhirServer watcher;
  FhirChangeFeed feed(watcher, tables(), {}, feed_clock());
  feed.changed_since(std::string("2026-11-20T08:00:00Z"));
  ASSERT_FALSE(watcher.searches().empty());
  for (const auto& s : watcher.searches()) {
    const auto has = [&](std::string_view key, std::string_view value) {
      return std::find(s.params.begin(), s.params.end(),
                       std::pair<std::string, std::string>(key, value)) != s.params.end();
    };
    EXPECT_TRUE(has("_count", "200")) << s.type;
  }
}

TEST(FhirChangeFeed, WatchesEverySearchThePullMakes) {
  // A type (or code, or category) the pull reads but the feed does not watch
  // would be a change no sync ever sees.
  MemoryFhirServer puller;
  puller.put(R"({"resourceType":"Patient","id":"p1"})");
  pull_record(puller, "p1", tables(), PullOptions{});
  const Reads pulled = reads_of(puller);

  MemoryFhirServer watcher;
  FhirChangeFeed feed(watcher, tables(), {}, feed_clock());
  feed.changed_since(std::string("2026-11-20T08:00:00Z"));
  const Reads watched = reads_of(watcher);

  ASSERT_GT(pulled.size(), 8u);
  for (const auto& read : pulled) {
    EXPECT_TRUE(watched.contains(read)) << read.first << " searched by the pull, not watched";
  }
  // The bulk export names every type the pull searches, and the Patient.
  const auto exported = BulkExportOptions::default_types();
  EXPECT_NE(std::find(exported.begin(), exported.end(), "Patient"), exported.end());
  for (const auto& [type, params] : pulled) {
    EXPECT_NE(std::find(exported.begin(), exported.end(), type), exported.end())
        << type << " searched by the pull, not exported";
  }
}

}  // namespace
}  // namespace mst::adapter
