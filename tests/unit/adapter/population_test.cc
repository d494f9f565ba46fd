// The population of a sync without `_lastUpdated`: Group, List and file
// members, and what makes each unreadable (an error, never a shorter list).
#include "mst/adapter/sync/population.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mst/adapter/sync/fhir_change_feed.h"
#include "mst/adapter/sync/population_feed.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/datetime.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter {
namespace {

using ::testing::HasSubstr;

constexpr const char* kBase = "https://ehr.example.org/fhir";
const std::int64_t kNow = fhir::DateTime::from_ymd(2026, 11, 20).start_ms();

std::vector<std::string> group(const std::string& json) {
  auto doc = fhir::JsonDocument::parse(json);
  return group_members(doc.root(), kBase, kNow);
}

std::vector<std::string> list(const std::string& json) {
  auto doc = fhir::JsonDocument::parse(json);
  return list_members(doc.root(), kBase);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const PopulationError& e) {
    return e.what();
  }
  return "(no PopulationError)";
}

TEST(Population, GroupMembersAreTheCurrentPatientMembers) {
  EXPECT_EQ(group(R"({"resourceType":"Group","id":"g","type":"person","actual":true,
    "member":[{"entity":{"reference":"Patient/b"}},
              {"entity":{"reference":"Patient/a"}},
              {"entity":{"reference":"https://ehr.example.org/fhir/Patient/c"}},
              {"entity":{"reference":"Patient/gone"},"inactive":true},
              {"entity":{"reference":"Patient/ended"},"period":{"end":"2026-11-01"}},
              {"entity":{"reference":"Patient/later"},"period":{"start":"2026-12-01"}},
              {"entity":{"reference":"Patient/now"},"period":{"start":"2026-11-01","end":"2026-11-20"}},
              {"entity":{"reference":"Patient/a"}}]})"),
            (std::vector<std::string>{"a", "b", "c", "now"}));
  EXPECT_TRUE(group(R"({"resourceType":"Group","id":"g","type":"person","actual":true})").empty());
}

TEST(Population, AGroupThatCannotBeReadWholeIsAnError) {
  EXPECT_THAT(error_of([] { group(R"({"resourceType":"List","id":"g"})"); }),
              HasSubstr("is a List, not a Group"));
  EXPECT_THAT(
      error_of([] {
        group(R"({"resourceType":"Group","id":"g","member":[{"entity":{"reference":"Patient/a"}},
                  {"entity":{"reference":"Practitioner/x"}}]})");
      }),
      HasSubstr("Group/g member 1 refers to a Practitioner, not a Patient"));
  EXPECT_THAT(
      error_of([] { group(R"({"resourceType":"Group","id":"g","member":[{"period":{}}]})"); }),
      HasSubstr("Group/g member 0 has no reference"));
  EXPECT_THAT(
      error_of([] {
        group(
            R"({"resourceType":"Group","id":"g","member":[{"entity":{"identifier":{"value":"123"}}}]})");
      }),
      HasSubstr("not a literal Patient/<id> reference"));
  EXPECT_THAT(
      error_of([] {
        group(
            R"({"resourceType":"Group","id":"g","member":[{"entity":{"reference":"https://other.org/fhir/Patient/a"}}]})");
      }),
      HasSubstr("another server"));
  EXPECT_THAT(error_of([] { group(R"({"resourceType":"Group","id":"g","member":{}})"); }),
              HasSubstr("Group/g"));
  EXPECT_THAT(
      error_of([] {
        group(
            R"({"resourceType":"Group","id":"g","member":[{"entity":{"reference":"Patient/a"},"period":{"end":"soon"}}]})");
      }),
      HasSubstr("Group/g"));
  EXPECT_THAT(error_of([] { group(R"({"resourceType":"Group","id":"g","actual":false})"); }),
              HasSubstr("actual=false"));
  // A server that sent part of a large Group.
  EXPECT_THAT(
      error_of([] {
        group(
            R"({"resourceType":"Group","id":"g","quantity":3,"member":[{"entity":{"reference":"Patient/a"}}]})");
      }),
      HasSubstr("says it has 3 members but lists 1"));
}

TEST(Population, ListMembersSkipDeletedEntries) {
  EXPECT_EQ(list(R"({"resourceType":"List","id":"l","status":"current","mode":"working",
    "entry":[{"item":{"reference":"Patient/z"}},{"item":{"reference":"Patient/y"},"deleted":true},
             {"item":{"reference":"Patient/x"}}]})"),
            (std::vector<std::string>{"x", "z"}));
  EXPECT_THAT(error_of([] {
                list(R"({"resourceType":"List","id":"l","status":"entered-in-error","entry":[]})");
              }),
              HasSubstr("List/l is entered-in-error"));
  EXPECT_THAT(error_of([] {
                list(R"({"resourceType":"List","id":"l","status":"current","mode":"changes"})");
              }),
              HasSubstr("mode 'changes'"));
  EXPECT_THAT(
      error_of([] {
        list(
            R"({"resourceType":"List","id":"l","status":"current","entry":[{"item":{"reference":"Condition/c"}}]})");
      }),
      HasSubstr("List/l entry 0 refers to a Condition"));
  EXPECT_THAT(error_of([] { list(R"({"resourceType":"Group","id":"l"})"); }),
              HasSubstr("not a List"));
}

TEST(Population, AFileHoldsOneIdALineWithComments) {
  EXPECT_EQ(file_members("# spine clinic, November\n"
                         "p-1\n"
                         "  Patient/p-2   # moved from oncology\r\n"
                         "\n"
                         "p-1\n"
                         "p.3",
                         "ids.txt"),
            (std::vector<std::string>{"p-1", "p-2", "p.3"}));
  EXPECT_TRUE(file_members("", "empty.txt").empty());
  EXPECT_THAT(error_of([] { file_members("p-1\np 2\n", "ids.txt"); }),
              HasSubstr("ids.txt line 2: not a patient id"));
  EXPECT_THAT(error_of([] { file_members("Patient/\n", "ids.txt"); }), HasSubstr("ids.txt line 1"));
}

TEST(Population, SourcesAreNamedInOneSetting) {
  EXPECT_EQ(PopulationSource::parse("search").kind, PopulationSource::Kind::kSearch);
  auto g = PopulationSource::parse("group:spine-mdt");
  EXPECT_EQ(g.kind, PopulationSource::Kind::kGroup);
  EXPECT_EQ(g.describe(), "Group/spine-mdt");
  EXPECT_EQ(PopulationSource::parse("list:l1").describe(), "List/l1");
  auto f = PopulationSource::parse("file:/etc/mst/ids.txt");
  EXPECT_EQ(f.kind, PopulationSource::Kind::kFile);
  EXPECT_EQ(f.target, "/etc/mst/ids.txt");
  EXPECT_THAT(error_of([] { PopulationSource::parse("group:a/b"); }), HasSubstr("not a FHIR id"));
  EXPECT_THAT(error_of([] { PopulationSource::parse("file:"); }), HasSubstr("names no file"));
  EXPECT_THAT(error_of([] { PopulationSource::parse("Group/x"); }),
              HasSubstr("search, group:<id>, list:<id> or file:<path>"));
}

TEST(Population, AnUnreadableFileIsAnError) {
  testing::MemoryFhirServer client;
  EXPECT_THAT(error_of([&] {
                read_population(PopulationSource::parse("file:/nonexistent/ids.txt"), client, 0);
              }),
              HasSubstr("cannot read the population file /nonexistent/ids.txt"));
}

fhir::Capabilities caps_with_last_updated(const std::string& except) {
  fhir::Capabilities caps;
  for (const char* type :
       {"Condition", "Observation", "CarePlan", "Procedure", "MedicationRequest",
        "MedicationAdministration", "MedicationStatement", "Consent", "Goal", "ServiceRequest"}) {
    if (type != except) caps.resources[type].search_params.insert("_lastUpdated");
  }
  return caps;
}

TEST(Population, TheChangeFeedNeedsLastUpdatedOnEveryTypeItWatches) {
  EXPECT_TRUE(supports_change_feed(caps_with_last_updated("")));
  EXPECT_FALSE(supports_change_feed(caps_with_last_updated("Observation")));
  EXPECT_FALSE(supports_change_feed(caps_with_last_updated("Condition")));
  EXPECT_FALSE(supports_change_feed(caps_with_last_updated("ServiceRequest")));
  EXPECT_FALSE(supports_change_feed(fhir::Capabilities{}));
}

}  // namespace
}  // namespace mst::adapter

namespace mst::adapter {
namespace {

class CountingFeed : public ChangeFeed {
 public:
  ChangeScan changed_since(const std::optional<std::string>&) override {
    ++calls;
    return {};
  }
  int calls = 0;
};

TEST(Population, AutoChoosesTheChangeFeedOnceByTheCapabilityStatement) {
  std::ostringstream text;
  Logger log{text, LogLevel::kInfo, LogFormat::kText, [] { return std::int64_t{0}; }};
  for (const bool declared : {true, false}) {
    CountingFeed last_updated, repull;
    int reads = 0;
    AutoChangeFeed feed(
        [&] {
          if (++reads == 1)
            throw fhir::ServerUnreachable("GET", "/metadata", fhir::TransportError::Kind::kConnect,
                                          "down");
          return caps_with_last_updated(declared ? "" : "Procedure");
        },
        last_updated, repull, log);
    // A server down at start: the scan fails, nothing is chosen yet.
    EXPECT_THROW(feed.changed_since(std::nullopt), fhir::ServerUnreachable);
    feed.changed_since(std::nullopt);
    feed.changed_since(std::string("2026-11-20T00:00:00Z"));
    EXPECT_EQ(reads, 2);  // decided once
    EXPECT_EQ(last_updated.calls, declared ? 2 : 0);
    EXPECT_EQ(repull.calls, declared ? 0 : 2);
  }
  EXPECT_THAT(text.str(), HasSubstr("mode=last-updated"));
  EXPECT_THAT(text.str(), HasSubstr("mode=repull"));
}

TEST(Population, AutoPrefersLastUpdatedThenBulkExportThenTheRePull) {
  std::ostringstream text;
  Logger log{text, LogLevel::kInfo, LogFormat::kText, [] { return std::int64_t{0}; }};
  struct Case {
    bool last_updated, system_export, group_export, group;
    const char* expect;
  };
  for (const Case& c :
       {Case{true, true, true, false, "last-updated"},
        Case{false, true, false, false, "bulk-export"},
        Case{false, false, true, false, "repull"},  // only Group declares it
        Case{false, false, true, true, "bulk-export"},
        Case{true, true, false, true, "repull"}}) {  // a Group: no _lastUpdated feed
    CountingFeed last_updated, bulk, repull;
    AutoChangeFeed feed(
        [&] {
          fhir::Capabilities caps = caps_with_last_updated(c.last_updated ? "" : "Condition");
          if (c.system_export) caps.system_operations.insert("export");
          if (c.group_export) caps.resources["Group"].operations.insert("export");
          return caps;
        },
        c.group ? nullptr : &last_updated, &bulk, c.group, repull, log);
    feed.changed_since(std::nullopt);
    const std::string chosen = last_updated.calls ? "last-updated"
                               : bulk.calls       ? "bulk-export"
                                                  : "repull";
    EXPECT_EQ(chosen, c.expect) << c.last_updated << c.system_export << c.group_export << c.group;
    EXPECT_EQ(last_updated.calls + bulk.calls + repull.calls, 1);
  }
  EXPECT_THAT(text.str(), HasSubstr("mode=bulk-export"));
}

TEST(Population, AFilePopulationIsReadFromDisk) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("mst-population-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(path);
    out << "# ward 7\nb\na\n";
  }
  testing::MemoryFhirServer client;
  EXPECT_EQ(read_population(PopulationSource::parse("file:" + path.string()), client, 0),
            (std::vector<std::string>{"a", "b"}));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace mst::adapter
