// The Bulk Data change feed against a scripted client: kick-off, polling
// with Retry-After, the manifest, NDJSON reading and every failure path.
#include "mst/adapter/sync/bulk_export_feed.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <sstream>

#include "mst/adapter/sync/bulk_type_filter.h"
#include "mst/adapter/sync/population.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/rest_client.h"
#include "mst/mappings/code_tables.h"
#include "support/fake_clock.h"
#include "support/mock_client.h"
#include "support/mock_transport.h"

namespace mst::adapter {
namespace {

using std::chrono::milliseconds;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using testing::MockClient;

using fhir::testing::FakeClock;

fhir::HttpResponse answer(int status, std::string body = "", fhir::Headers headers = {}) {
  fhir::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

constexpr const char* kStatus = "http://fhir.test/fhir/$export-poll-status?_jobId=j1";
constexpr const char* kTime = "2026-03-01T12:00:05.123Z";

std::string manifest(const std::string& outputs, const std::string& errors = "",
                     const std::string& time = kTime) {
  return R"({"transactionTime":")" + time +
         R"(","request":"x","requiresAccessToken":true,"output":[)" + outputs + R"(],"error":[)" +
         errors + "]}";
}

std::string file(const std::string& type, const std::string& name) {
  return R"({"type":")" + type + R"(","url":"http://fhir.test/fhir/Binary/)" + name + R"("})";
}

class BulkExportFeedTest : public ::testing::Test {
 protected:
  BulkExportFeedTest() {
    options.min_poll = milliseconds(1000);
    options.max_poll = milliseconds(8000);
    options.max_wait = milliseconds(60'000);
    options.own_identifier_system = "urn:mst:plan";
    EXPECT_CALL(client, base_url()).Times(::testing::AnyNumber());
  }
  // Answers requests from `answers` in order; a DELETE is answered 202
  // without taking one.
  void script(std::vector<fhir::HttpResponse> answers) {
    queue.assign(answers.begin(), answers.end());
    EXPECT_CALL(client, exchange(_, _))
        .WillRepeatedly(Invoke([this](const fhir::HttpRequest& r, bool authorize) {
          sent.push_back(r);
          authorized.push_back(authorize);
          if (r.method == "DELETE") return answer(202);
          if (queue.empty()) {
            ADD_FAILURE() << "unexpected " << r.method << " " << r.url;
            return answer(500);
          }
          auto a = queue.front();
          queue.pop_front();
          return a;
        }));
  }
  ChangeScan scan(const std::optional<std::string>& since) {
    BulkExportFeed feed(client, options, clock, log);
    return feed.changed_since(since);
  }
  std::size_t deletes() const {
    return static_cast<std::size_t>(std::count_if(
        sent.begin(), sent.end(), [](const auto& r) { return r.method == "DELETE"; }));
  }

  ::testing::StrictMock<MockClient> client;
  BulkExportOptions options;
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::ostringstream log_text;
  Logger log{log_text, LogLevel::kDebug, LogFormat::kText, [] { return std::int64_t{0}; }};
  std::deque<fhir::HttpResponse> queue;
  std::vector<fhir::HttpRequest> sent;
  std::vector<bool> authorized;
};

std::string header(const fhir::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

TEST_F(BulkExportFeedTest, KicksOffPollsAndCollectsThePatientsTheFilesName) {
  options.group_id = "mst-cohort";
  script({answer(202, "", {{"content-location", kStatus}}),
          answer(202, "", {{"retry-after", "3"}, {"x-progress", "50%"}}), answer(202),
          answer(200, manifest(file("Observation", "o1") + "," + file("Patient", "p1"))),
          answer(200,
                 "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Patient/a\"}}\n"
                 "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Group/g\"}}\n"
                 "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Patient/b\"}}\n"),
          answer(200, "{\"resourceType\":\"Patient\",\"id\":\"c\"}")});
  ChangeScan s = scan(std::string("2026-02-01T00:00:00Z"));
  EXPECT_EQ(s.patient_ids, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s.scan_time, kTime);  // the manifest's transactionTime, not our clock
  EXPECT_FALSE(s.population);
  const auto& kick = sent.at(0);
  EXPECT_EQ(kick.method, "GET");
  EXPECT_THAT(kick.url, HasSubstr("http://fhir.test/fhir/Group/mst-cohort/$export"
                                  "?_type=Patient,Observation,Condition,"));
  EXPECT_THAT(kick.url, HasSubstr("&_since=2026-02-01T00:00:00Z"));
  EXPECT_EQ(header(kick, "Prefer"), "respond-async");
  EXPECT_EQ(header(kick, "Accept"), "application/fhir+json");
  EXPECT_EQ(sent.at(1).url, kStatus);
  // Retry-After 3 s, then our own backoff (doubled from the minimum).
  EXPECT_EQ(clock->sleeps, (std::vector<milliseconds>{milliseconds(3000), milliseconds(2000)}));
  EXPECT_TRUE(authorized.at(4));  // requiresAccessToken
  ASSERT_EQ(sent.back().method, "DELETE");
  EXPECT_EQ(sent.back().url, kStatus);
}

TEST_F(BulkExportFeedTest, AFirstRunIsAFullPatientExport) {
  script({answer(202, "", {{"content-location", kStatus}}), answer(200, manifest(""))});
  ChangeScan s = scan(std::nullopt);
  EXPECT_TRUE(s.patient_ids.empty());
  EXPECT_THAT(sent.at(0).url, HasSubstr("/fhir/Patient/$export?_type="));
  EXPECT_THAT(sent.at(0).url, ::testing::Not(HasSubstr("_since")));
  EXPECT_EQ(s.scan_time, kTime);
}

// sync.bulk_type_filter: one _typeFilter parameter per query, encoded so
// its own ?, = and & stay inside the value.
TEST_F(BulkExportFeedTest, TypeFiltersAreSentOneParameterEach) {
  options.type_filters = {"Observation?category=laboratory,vital-signs",
                          "MedicationRequest?status=active&intent=order"};
  script({answer(202, "", {{"content-location", kStatus}}), answer(200, manifest(""))});
  scan(std::nullopt);
  const std::string& url = sent.at(0).url;
  EXPECT_THAT(url, HasSubstr("&_typeFilter=Observation%3Fcategory%3Dlaboratory,vital-signs"
                             "&_typeFilter=MedicationRequest%3Fstatus%3Dactive%26intent%3Dorder"));
  std::size_t filters = 0;
  for (auto at = url.find("_typeFilter="); at != std::string::npos;
       at = url.find("_typeFilter=", at + 1)) {
    ++filters;
  }
  EXPECT_EQ(filters, 2u);
}

TEST_F(BulkExportFeedTest, NoTypeFilterByDefault) {
  script({answer(202, "", {{"content-location", kStatus}}), answer(200, manifest(""))});
  scan(std::nullopt);
  EXPECT_THAT(sent.at(0).url, ::testing::Not(HasSubstr("_typeFilter")));
}

// The pull reads every medication record type (with its Medication by
// _include): an export that left one out would miss a change to it.
TEST(BulkExportOptions, TheDefaultTypesHoldEveryTypeThePullReads) {
  const auto types = BulkExportOptions::default_types();
  for (const char* type : {"Patient", "Observation", "Condition", "Procedure", "MedicationRequest",
                           "MedicationAdministration", "MedicationStatement"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << type;
  }
  for (const auto& type : detail::relevant_types()) {
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << type;
  }
}

TEST(ParseTypeFilters, SplitsOnSpaceAndChecksEachQuery) {
  const std::vector<std::string> types{"Patient", "Observation", "MedicationRequest"};
  EXPECT_TRUE(parse_type_filters("", types).empty());
  EXPECT_TRUE(parse_type_filters("  ", types).empty());
  EXPECT_EQ(parse_type_filters(" Observation?category=laboratory  MedicationRequest?status=active ",
                               types),
            (std::vector<std::string>{"Observation?category=laboratory",
                                      "MedicationRequest?status=active"}));
  const auto refused = [&](const std::string& setting, const std::string& why) {
    try {
      parse_type_filters(setting, types);
      ADD_FAILURE() << setting << " was accepted";
    } catch (const BulkExportError& e) {
      EXPECT_THAT(e.what(), HasSubstr(why)) << setting;
    }
  };
  refused("Observation", "is not Type?search");
  refused("observation?code=1", "does not start with a resource type");
  refused("Goal?status=active", "a type the export does not ask for");
  refused("Observation?", "has no search");
  refused("Observation?code", "not name=value");
  refused("Observation?code=1&=2", "not name=value");
  refused("Observation?code=1&_include=Observation:subject", "search result parameter");
  refused("Observation?_sort=date", "search result parameter");
}

TEST_F(BulkExportFeedTest, TheAdaptersOwnPlansAreNotChanges) {
  script({answer(202, "", {{"content-location", kStatus}}),
          answer(200, manifest(file("CarePlan", "cp"))),
          answer(200, R"({"resourceType":"CarePlan","subject":{"reference":"Patient/ours"},)"
                      R"("identifier":[{"system":"urn:mst:plan","value":"1"}],)"
                      R"("author":{"reference":"Device/mst"}})"
                      "\n"
                      R"({"resourceType":"CarePlan","subject":{"reference":"Patient/theirs"}})")});
  EXPECT_EQ(scan(kTime).patient_ids, (std::vector<std::string>{"theirs"}));
}

// sync.bulk_data=records: a full export's lines become the records (not the
// adapter's own plan); a `_since` export holds only changes, so it fills
// nothing and its patients are pulled.
TEST_F(BulkExportFeedTest, OnlyAFullExportFillsTheRecords) {
  const std::string lines =
      R"({"resourceType":"Patient","id":"a"})"
      "\n"
      R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/a"},"code":{"text":"x"}})"
      "\n"
      R"({"resourceType":"CarePlan","id":"ours","subject":{"reference":"Patient/a"},)"
      R"("identifier":[{"system":"urn:mst:plan","value":"1"}],"author":{"reference":"Device/mst"}})"
      "\n";
  const auto tables =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  const detail::RelevantResourceFilter relevant(tables, {});
  const std::string path = ::testing::TempDir() + "bulk-feed-records.export";
  ExportRecords records(path, relevant, {});
  options.records = &records;
  script({answer(202, "", {{"content-location", kStatus}}),
          answer(200, manifest(file("Patient", "all"))), answer(200, lines)});
  EXPECT_EQ(scan(std::nullopt).patient_ids, (std::vector<std::string>{"a"}));
  const auto record = records.record("a");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->record.conditions().size(), 1u);
  EXPECT_TRUE(record->record.care_plans().empty());
  EXPECT_THAT(log_text.str(), HasSubstr("records_kept=2"));

  script({answer(202, "", {{"content-location", kStatus}}),
          answer(200, manifest(file("Patient", "all"))), answer(200, lines)});
  EXPECT_EQ(scan(kTime).patient_ids, (std::vector<std::string>{"a"}));
  EXPECT_FALSE(records.record("a")) << "a _since export vouches for no record";
}

// Servers add resources the changed ones reference (HAPI adds the
// Conditions a CarePlan addresses): older than `_since`, they are no change.
TEST_F(BulkExportFeedTest, ResourcesLastUpdatedBeforeTheCheckpointAreNotChanges) {
  script(
      {answer(202, "", {{"content-location", kStatus}}),
       answer(200, manifest(file("Condition", "c"))),
       answer(200, R"({"resourceType":"Condition","subject":{"reference":"Patient/old"},)"
                   R"("meta":{"lastUpdated":"2026-02-28T23:59:59.999Z"}})"
                   "\n"
                   R"({"resourceType":"Condition","subject":{"reference":"Patient/new"},)"
                   R"("meta":{"lastUpdated":"2026-03-01T00:00:00.000+00:00"}})"
                   "\n"
                   R"({"resourceType":"Condition","subject":{"reference":"Patient/undated"}})")});
  ChangeScan s = scan(std::string("2026-03-01T00:00:00.000Z"));
  EXPECT_EQ(s.patient_ids, (std::vector<std::string>{"new", "undated"}));
  EXPECT_THAT(log_text.str(), HasSubstr("not_changed_since=1"));
}

// A Group export reads the Group first: its members go with the scan, and a
// Group that cannot be read fails the scan before any export is started.
TEST_F(BulkExportFeedTest, AGroupExportCarriesTheMembersReadBeforeTheKickOff) {
  options.group_id = "g";
  options.members = [this] {
    EXPECT_TRUE(sent.empty());
    return std::vector<std::string>{"m1", "m2"};
  };
  script({answer(202, "", {{"content-location", kStatus}}), answer(200, manifest(""))});
  ChangeScan s = scan(kTime);
  EXPECT_EQ(s.members, (std::vector<std::string>{"m1", "m2"}));

  options.members = []() -> std::vector<std::string> { throw PopulationError("no such Group"); };
  sent.clear();
  EXPECT_THROW(scan(kTime), PopulationError);
  EXPECT_TRUE(sent.empty());
}

TEST_F(BulkExportFeedTest, AMalformedLineNamesTheFileAndLineAndKeepsTheCheckpoint) {
  script({answer(202, "", {{"content-location", kStatus}}),
          answer(200, manifest(file("Observation", "o1"))),
          answer(200,
                 "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Patient/a\"}}\n"
                 "{\"resourceType\":\"Observ")});
  try {
    scan(kTime);
    ADD_FAILURE() << "a truncated line was taken as data";
  } catch (const BulkExportError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Observation file http://fhir.test/fhir/Binary/o1 line 2"));
  }
  EXPECT_EQ(deletes(), 1u);  // the export is cleaned up all the same
}

TEST_F(BulkExportFeedTest, AnErrorInTheErrorFilesFailsTheScanAndWarningsDoNot) {
  const std::string outcome =
      R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception",)"
      R"("diagnostics":"Observation export failed"}]})";
  script({answer(202, "", {{"content-location", kStatus}}),
          answer(200, manifest(file("Observation", "o1"), file("OperationOutcome", "e1"))),
          answer(200, outcome + "\n")});
  EXPECT_THROW(
      {
        try {
          scan(kTime);
        } catch (const BulkExportError& e) {
          EXPECT_THAT(e.what(), HasSubstr("Observation export failed"));
          EXPECT_THAT(e.what(), HasSubstr("checkpoint stays"));
          throw;
        }
      },
      BulkExportError);

  sent.clear();
  script({answer(202, "", {{"content-location", kStatus}}),
          answer(200, manifest("", file("OperationOutcome", "e1"))),
          answer(200, R"({"resourceType":"OperationOutcome","issue":[{"severity":"warning",)"
                      R"("code":"informational","diagnostics":"slow"}]})")});
  EXPECT_NO_THROW(scan(kTime));
  EXPECT_THAT(log_text.str(), HasSubstr("sync.bulk_export_warnings"));
}

TEST_F(BulkExportFeedTest, AServerErrorWhilePollingFailsWithItsOutcome) {
  script({answer(202, "", {{"content-location", kStatus}}), answer(202),
          answer(500, R"({"resourceType":"OperationOutcome","issue":[{"severity":"fatal",)"
                      R"("code":"exception","diagnostics":"job crashed"}]})")});
  try {
    scan(kTime);
    ADD_FAILURE() << "a failed export produced a scan";
  } catch (const BulkExportError& e) {
    EXPECT_THAT(e.what(), HasSubstr("status poll failed: HTTP 500"));
    EXPECT_THAT(e.what(), HasSubstr("job crashed"));
  }
}

TEST_F(BulkExportFeedTest, AKickOffRefusalOrAMissingStatusUrlIsAClearError) {
  script({answer(400, R"({"resourceType":"OperationOutcome","issue":[{"severity":"error",)"
                      R"("code":"not-supported","diagnostics":"_since unsupported"}]})"),
          answer(202)});
  EXPECT_THROW(
      {
        try {
          scan(kTime);
        } catch (const BulkExportError& e) {
          EXPECT_THAT(e.what(), HasSubstr("kick-off (/Patient/$export) failed: HTTP 400"));
          throw;
        }
      },
      BulkExportError);
  EXPECT_THROW(scan(kTime), BulkExportError);  // 202 without Content-Location
  EXPECT_EQ(deletes(), 0u);                    // nothing to clean up
}

TEST_F(BulkExportFeedTest, AnExportThatOutlastsTheWaitIsCancelled) {
  std::vector<fhir::HttpResponse> answers{answer(202, "", {{"content-location", kStatus}})};
  for (int i = 0; i < 50; ++i) answers.push_back(answer(202, "", {{"retry-after", "120"}}));
  script(answers);
  EXPECT_THROW(scan(kTime), BulkExportError);
  // Retry-After 120 s is held to max_poll (8 s), and the total to max_wait.
  for (auto d : clock->sleeps) EXPECT_EQ(d, milliseconds(8000));
  EXPECT_LE(clock->elapsed(), options.max_wait);
  EXPECT_EQ(sent.back().method, "DELETE");
}

TEST_F(BulkExportFeedTest, AManifestWithoutTransactionTimeIsRefused) {
  script({answer(202, "", {{"content-location", kStatus}}), answer(200, manifest("", "", "soon"))});
  EXPECT_THROW(scan(kTime), BulkExportError);
}

// Files come through the HTTP client's streamed GET, in pieces that split
// lines anywhere. A connection lost part-way is not resumed: the scan fails
// (the checkpoint stays), the records taken so far are never served, and
// the export is cancelled; the next round exports again, from the start.
class BulkExportStreamTest : public ::testing::Test {
 protected:
  BulkExportStreamTest() {
    options.min_poll = milliseconds(1000);
    options.max_poll = milliseconds(1000);
    const auto sender = std::make_shared<fhir::RetryingSender>(transport, fhir::RetryPolicy{},
                                                               clock, [] { return 0.0; });
    client = std::make_unique<fhir::RestClient>(fhir::RestClientOptions{"http://fhir.test/fhir"},
                                                sender, fhir::make_no_auth());
    EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([this](const fhir::HttpRequest& r) {
      sent.push_back(r.method + " " + r.url);
      if (r.method == "DELETE") return answer(202);
      if (r.url.find("$export?") != std::string::npos)
        return answer(202, "", {{"content-location", kStatus}});
      return answer(200, manifest(file("Patient", "p") + "," + file("Condition", "c")));
    }));
  }

  // Hands `text` over in pieces of 7 bytes; throws a broken connection
  // after `drop_after` pieces when set.
  static fhir::HttpResponse pieces(const std::string& text, const fhir::BodySink& sink,
                                   std::optional<std::size_t> drop_after = std::nullopt) {
    std::size_t n = 0;
    for (std::size_t at = 0; at < text.size(); at += 7) {
      if (drop_after && n++ == *drop_after) {
        throw fhir::TransportError(fhir::TransportError::Kind::kConnect,
                                   "connection reset by peer");
      }
      sink(std::string_view(text).substr(at, 7));
    }
    return answer(200);
  }

  std::shared_ptr<::testing::StrictMock<fhir::testing::MockTransport>> transport =
      std::make_shared<::testing::StrictMock<fhir::testing::MockTransport>>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::unique_ptr<fhir::RestClient> client;
  BulkExportOptions options;
  std::ostringstream log_text;
  Logger log{log_text, LogLevel::kDebug, LogFormat::kText, [] { return std::int64_t{0}; }};
  std::vector<std::string> sent;
};

const std::string kPatients =
    "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"id\":\"b\"}\n";
const std::string kConditions =
    R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/a"},"code":{"text":"x"}})"
    "\n"
    R"({"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/c"},"code":{"text":"y"}})"
    "\n";

TEST_F(BulkExportStreamTest, FilesAreReadFromTheStreamedGetInPieces) {
  EXPECT_CALL(*transport, send_streamed(_, _))
      .WillRepeatedly(Invoke([](const fhir::HttpRequest& r, const fhir::BodySink& sink) {
        return pieces(r.url.ends_with("/p") ? kPatients : kConditions, sink);
      }));
  BulkExportFeed feed(*client, options, clock, log);
  EXPECT_EQ(feed.changed_since(std::nullopt).patient_ids,
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(sent.back(), std::string("DELETE ") + kStatus);
}

TEST_F(BulkExportStreamTest, AConnectionLostMidFileFailsTheScanAndServesNoRecords) {
  const auto tables =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  const detail::RelevantResourceFilter relevant(tables, {});
  ExportRecords records(::testing::TempDir() + "bulk-stream-drop.export", relevant, {});
  options.records = &records;
  int downloads = 0;
  EXPECT_CALL(*transport, send_streamed(_, _))
      .WillRepeatedly(Invoke([&](const fhir::HttpRequest& r, const fhir::BodySink& sink) {
        ++downloads;
        // The Patient file whole, then the Condition file breaks after its
        // first line has been read.
        if (r.url.ends_with("/p")) return pieces(kPatients, sink);
        return pieces(kConditions, sink, kConditions.find('\n') / 7 + 2);
      }));
  BulkExportFeed feed(*client, options, clock, log);
  try {
    feed.changed_since(std::nullopt);
    ADD_FAILURE() << "a file cut short must not look complete";
  } catch (const fhir::ServerUnreachable& e) {
    EXPECT_THAT(e.what(), HasSubstr("a streamed body is not resumed"));
  }
  EXPECT_EQ(downloads, 2) << "the broken download is not repeated into the same reader";
  EXPECT_GT(records.lines(), 2u) << "lines were taken before the break";
  EXPECT_FALSE(records.holds_export());
  EXPECT_FALSE(records.record("a")) << "a half-read export vouches for no record";
  EXPECT_EQ(sent.back(), std::string("DELETE ") + kStatus);

  // The next round starts again with a fresh export and loses nothing.
  EXPECT_CALL(*transport, send_streamed(_, _))
      .WillRepeatedly(Invoke([](const fhir::HttpRequest& r, const fhir::BodySink& sink) {
        return pieces(r.url.ends_with("/p") ? kPatients : kConditions, sink);
      }));
  EXPECT_EQ(feed.changed_since(std::nullopt).patient_ids,
            (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_TRUE(records.record("a"));
  EXPECT_EQ(records.record("a")->record.conditions().size(), 1u) << "no line twice";
}

TEST(NdjsonPatientReader, ReadsLinesSplitAcrossChunksAndSkipsBlankOnes) {
  const std::string text =
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/p1\"}}\r\n\n"
      "{\"resourceType\":\"Consent\",\"patient\":{\"reference\":\"Patient/p2\"}}\n";
  for (std::size_t chunk : {1u, 7u, 1000u}) {
    NdjsonPatientReader reader("f", {}, 1024);
    for (std::size_t at = 0; at < text.size(); at += chunk) reader.feed(text.substr(at, chunk));
    reader.finish();
    EXPECT_EQ(reader.patient_ids(), (std::set<std::string>{"p1", "p2"})) << chunk;
  }
}

TEST(NdjsonPatientReader, RefusesALineLongerThanItsBound) {
  NdjsonPatientReader reader("big.ndjson", {}, 16);
  try {
    reader.feed("{\"resourceType\":\"Patient\",\"id\":\"p\"}\n");
    ADD_FAILURE();
  } catch (const BulkExportError& e) {
    EXPECT_THAT(e.what(), HasSubstr("big.ndjson line 1: longer than 16 bytes"));
  }
}

TEST(NdjsonPatientReader, ALineWithoutAResourceTypeIsAnError) {
  NdjsonPatientReader reader("f.ndjson", {}, 1024);
  reader.feed("{\"resourceType\":\"Patient\",\"id\":\"p\"}\n");
  EXPECT_THROW(reader.feed("[1,2]\n"), BulkExportError);
  NdjsonPatientReader last("f.ndjson", {}, 1024);
  last.feed("{\"id\":\"p\"}");  // the last line, without its newline
  EXPECT_THROW(last.finish(), BulkExportError);
}

TEST(SupportsBulkExport, ReadsGroupAndSystemLevelDeclarations) {
  fhir::Capabilities caps;
  EXPECT_FALSE(supports_bulk_export(caps, false));
  caps.system_operations.insert("export");
  EXPECT_TRUE(supports_bulk_export(caps, false));
  EXPECT_FALSE(supports_bulk_export(caps, true));
  caps.resources["Group"].operations.insert("export");
  EXPECT_TRUE(supports_bulk_export(caps, true));
}

}  // namespace
}  // namespace mst::adapter
