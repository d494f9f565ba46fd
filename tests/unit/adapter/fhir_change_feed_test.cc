#include "mst/adapter/sync/fhir_change_feed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>

#include "mst/adapter/pipeline/record_puller.h"
#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/fhir/client_errors.h"
#include "support/mock_client.h"

namespace mst::adapter {
namespace {

using ::testing::_;
using testing::MockClient;
using testing::param;
using testing::search_result;

class FixedClock : public fhir::Clock {
 public:
  std::chrono::system_clock::time_point now() override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'795'000'000));
  }
  std::chrono::steady_clock::time_point steady_now() override { return {}; }
  void sleep_for(std::chrono::milliseconds) override {}
};

const mappings::CodeTables& tables() {
  static const mappings::CodeTables t =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  return t;
}

constexpr const char* kOwn = "http://mst-adapter.example.org/fhir/NamingSystem/mst-careplan";

TEST(FhirChangeFeed, FirstRunFindsPatientsWithSpinalOrBoneMetastasisConditions) {
  MockClient client;
  std::mutex mu;  // the feed searches concurrently
  std::vector<fhir::SearchParams> asked;
  EXPECT_CALL(client, search(std::string_view("Condition"), _, _))
      .WillRepeatedly(
          [&](std::string_view, const fhir::SearchParams& p, const fhir::SearchLimits&) {
            std::lock_guard lock(mu);
            asked.push_back(p);
            return search_result(R"({"resourceType":"Bundle","type":"searchset",
          "meta":{"lastUpdated":"2026-11-20T08:00:00.123+00:00"},
          "entry":[{"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}}},
                   {"resource":{"resourceType":"Condition","id":"c2","subject":{"reference":"Group/g"}}}]})");
          });
  FhirChangeFeed feed(client, tables(), {}, std::make_shared<FixedClock>());
  ChangeScan scan = feed.changed_since(std::nullopt);
  ASSERT_FALSE(asked.empty());
  EXPECT_TRUE(std::any_of(asked.begin(), asked.end(), [](const fhir::SearchParams& p) {
    return param(p, "code").find("http://snomed.info/sct|94602001") != std::string::npos;
  }));
  for (const auto& p : asked) {
    EXPECT_EQ(param(p, "_elements"), "subject");
    EXPECT_EQ(param(p, "_lastUpdated"), "");
  }
  EXPECT_EQ(scan.patient_ids.at(0), "p1");
  EXPECT_EQ(scan.scan_time, "2026-11-20T08:00:00Z");  // the server's clock, not ours
}

TEST(FhirChangeFeed, LaterRunsAskForChangesSinceTheCheckpointMinusTheOverlap) {
  MockClient client;
  std::mutex mu;  // the feed searches concurrently
  std::map<std::string, std::vector<fhir::SearchParams>> asked;
  EXPECT_CALL(client, search(_, _, _))
      .WillRepeatedly([&](std::string_view type, const fhir::SearchParams& p,
                          const fhir::SearchLimits&) {
        {
          std::lock_guard lock(mu);
          asked[std::string(type)].push_back(p);
        }
        if (type == "CarePlan") {
          return search_result(std::string(R"({"resourceType":"Bundle","type":"searchset","entry":[
            {"resource":{"resourceType":"CarePlan","id":"mine","subject":{"reference":"Patient/p9"},
              "author":{"reference":"Device/d1"},"identifier":[{"system":")") +
                               kOwn + R"(","value":"x"}]}},
            {"resource":{"resourceType":"CarePlan","id":"chemo","subject":{"reference":"Patient/p2"}}}]})");
        }
        if (type == "Observation" && !param(p, "category").empty()) {
          return search_result(R"({"resourceType":"Bundle","type":"searchset","entry":[
            {"resource":{"resourceType":"Observation","id":"o1","subject":{"reference":"http://x/fhir/Patient/p3"}}}]})");
        }
        return search_result(R"({"resourceType":"Bundle","type":"searchset"})");
      });
  ChangeFeedOptions opts;
  opts.own_identifier_system = kOwn;
  opts.overlap_s = 60;
  FhirChangeFeed feed(client, tables(), opts, std::make_shared<FixedClock>());
  ChangeScan scan = feed.changed_since(std::string("2026-11-20T08:00:00Z"));
  EXPECT_EQ(param(asked["Condition"].at(0), "_lastUpdated"), "gt2026-11-20T07:59:00Z");
  EXPECT_EQ(param(asked["CarePlan"].at(0), "_elements"), "subject,identifier,author");
  // The change feed watches every type the pull reads (one shared list).
  for (const char* type :
       {"Procedure", "MedicationRequest", "MedicationAdministration", "MedicationStatement"}) {
    ASSERT_EQ(asked[type].size(), 1u) << type;
    EXPECT_EQ(param(asked[type].at(0), "_lastUpdated"), "gt2026-11-20T07:59:00Z") << type;
    EXPECT_EQ(param(asked[type].at(0), "_elements"), "subject") << type;
  }
  EXPECT_GE(asked["Observation"].size(), 2u);  // by code chunks, and the imaging category
  std::sort(scan.patient_ids.begin(), scan.patient_ids.end());
  // The adapter's own draft is not a change; an absolute subject reference is read.
  EXPECT_EQ(scan.patient_ids, (std::vector<std::string>{"p2", "p3"}));
  EXPECT_EQ(scan.scan_time, "2026-11-18T11:06:40Z");  // no server time: ours
}

TEST(FhirChangeFeed, AnIncompleteSearchFailsTheScan) {
  MockClient client;
  EXPECT_CALL(client, search(_, _, _)).WillRepeatedly([](auto, auto, auto) {
    fhir::SearchResult r;
    r.complete = false;
    r.incomplete_reason = "max_pages reached";
    return r;
  });
  FhirChangeFeed feed(client, tables(), {}, std::make_shared<FixedClock>());
  EXPECT_THROW(feed.changed_since(std::nullopt), fhir::SearchIncomplete);
}

TEST(FhirChangeFeed, SearchesRunAtOnceAndAFailureWaitsForTheRest) {
  MockClient client;
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
  FhirChangeFeed feed(client, tables(), {}, std::make_shared<FixedClock>());
  EXPECT_THROW(feed.changed_since(std::string("2026-11-20T08:00:00Z")), fhir::HttpStatusError);
  std::lock_guard lock(mu);
  EXPECT_GE(max_in_flight, 2);
  // Condition, CarePlan, Procedure, three medication types, Observation codes, imaging
  EXPECT_GE(calls, 8);
  EXPECT_EQ(in_flight, 0);  // every search had returned when the error was rethrown
}

// Every search the pull or the feed makes (type and parameters) once
// `scoping` parameters (the patient, _lastUpdated, _include, _elements) are
// set aside: what each one reads, whoever it is for.
using Reads = std::set<std::pair<std::string, fhir::SearchParams>>;

void record_search(Reads& reads, std::mutex& mu, std::string_view type,
                   const fhir::SearchParams& p) {
  fhir::SearchParams kept;
  for (const auto& [key, value] : p) {
    if (key != "patient" && key != "_lastUpdated" && key != "_include" && key != "_elements")
      kept.emplace_back(key, value);
  }
  std::lock_guard lock(mu);
  reads.emplace(std::string(type), std::move(kept));
}

TEST(FhirChangeFeed, WatchesEverySearchThePullMakes) {
  // A type (or code, or category) the pull reads but the feed does not watch
  // would be a change no sync ever sees.
  std::mutex mu;
  Reads pulled, watched;
  MockClient puller;
  EXPECT_CALL(puller, read(_, _)).WillOnce([](auto, auto) {
    fhir::FhirResponse r;
    r.status = 200;
    r.body = std::make_shared<const fhir::JsonDocument>(
        fhir::JsonDocument::parse(R"({"resourceType":"Patient","id":"p1"})"));
    return r;
  });
  EXPECT_CALL(puller, search(_, _, _))
      .WillRepeatedly(
          [&](std::string_view type, const fhir::SearchParams& p, const fhir::SearchLimits&) {
            record_search(pulled, mu, type, p);
            return search_result(R"({"resourceType":"Bundle","type":"searchset"})");
          });
  pull_record(puller, "p1", tables(), PullOptions{});

  MockClient watcher;
  EXPECT_CALL(watcher, search(_, _, _))
      .WillRepeatedly(
          [&](std::string_view type, const fhir::SearchParams& p, const fhir::SearchLimits&) {
            record_search(watched, mu, type, p);
            return search_result(R"({"resourceType":"Bundle","type":"searchset"})");
          });
  FhirChangeFeed feed(watcher, tables(), {}, std::make_shared<FixedClock>());
  feed.changed_since(std::string("2026-11-20T08:00:00Z"));

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
