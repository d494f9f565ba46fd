// Issue #14 follow-up / #15 item 5: a patient-view call without (or with
// part of) its prefetch reads only what is missing from the EHR's server,
// through the pull's reads: one batch Bundle when the server takes it,
// searches when server.read_mode says so or the server refuses the batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <sstream>

#include "mst/adapter/pipeline/record_puller.h"
#include "mst/adapter/serve/cds_service.h"
#include "mst/adapter/serve/prefetch_fetch.h"
#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"
#include "support/fixture_server.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter {
namespace {

using testing::MemoryFhirServer;

constexpr const char* kEhr = "https://ehr.test/fhir";

// The in-memory server, counting CapabilityStatement reads (which its
// requests() leaves out).
class EhrServer : public MemoryFhirServer {
 public:
  fhir::Capabilities capabilities() override {
    ++statements;
    return MemoryFhirServer::capabilities();
  }
  int statements = 0;
};

class CdsPrefetchFetch : public ::testing::Test {
 protected:
  CdsPrefetchFetch()
      : tables_(mappings::CodeTables::load({testing::kTables}, testing::kCanonical)) {
    server_.put_bundle(testing::read_file(testing::kFixture));
  }

  // The service as `serve` wires it: the EHR's server (here in memory) read
  // through one ReadModeChoice, kept across calls.
  CdsService service(ReadMode mode) {
    CdsServiceOptions o;
    o.settings = testing::fixture_settings();
    o.settings.pull.read_mode = mode;
    o.source.canonical_base = testing::kCanonical;
    choice_ = std::make_shared<ReadModeChoice>(mode);
    auto fetch = [this, pull = o.settings.pull](const std::string& server, const std::string&,
                                                const std::string& patient,
                                                const std::vector<std::string>& missing) {
      fetched_from_.push_back(server);
      return choice_->run(server_, [&](ReadMode m) {
        return fetch_prefetch(server_, patient, missing, tables_, pull, m);
      });
    };
    return CdsService(tables_, thresholds_, o, fetch, metrics_, log_);
  }

  // A patient-view call for the fixture patient with `prefetch` (an object,
  // or null for none) and the EHR's server and token.
  static std::string call(const fhir::JsonValue& prefetch) {
    auto body = fhir::JsonValue::object(
        {{"hook", "patient-view"},
         {"hookInstance", "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"},
         {"fhirServer", kEhr},
         {"fhirAuthorization",
          fhir::JsonValue::object({{"access_token", "ehr-token"}, {"token_type", "Bearer"}})},
         {"context", fhir::JsonValue::object({{"patientId", testing::kPatient}})}});
    if (!prefetch.is_null()) body.set("prefetch", prefetch);
    return body.dump();
  }

  // The values of `keys` as the EHR would prefetch them, read by searches
  // from a copy of the server so the server under test counts nothing.
  fhir::JsonValue prefetched(const std::vector<std::string>& keys) {
    MemoryFhirServer copy;
    copy.put_bundle(testing::read_file(testing::kFixture));
    return fetch_prefetch(copy, testing::kPatient, keys, tables_, testing::fixture_settings().pull,
                          ReadMode::kSearches);
  }

  std::size_t requests() const { return server_.requests().size(); }

  mappings::CodeTables tables_;
  RuleThresholds thresholds_;
  EhrServer server_;
  std::shared_ptr<ReadModeChoice> choice_;
  std::vector<std::string> fetched_from_;
  Metrics metrics_;
  std::ostringstream log_out_;
  Logger log_{log_out_, LogLevel::kInfo, LogFormat::kText, [] { return std::int64_t{0}; }};
};

std::vector<std::string> keys_of(const std::vector<PrefetchTemplate>& templates) {
  std::vector<std::string> keys;
  for (const auto& t : templates) keys.push_back(t.key);
  return keys;
}

// The card's plan, without what differs per call (none yet; the body whole).
std::string card_of(const ServeReply& reply) {
  const auto doc = fhir::JsonDocument::parse(reply.body);
  return fhir::JsonValue::from(doc.root().array("cards")[0]["suggestions"]).dump();
}

TEST_F(CdsPrefetchFetch, BatchAndSearchesAnswerTheSamePrefetch) {
  server_.caps.system_interactions = {"batch"};
  const auto keys = keys_of(service(ReadMode::kSearches).templates());
  const fhir::JsonValue by_search = prefetched(keys);
  const fhir::JsonValue by_batch =
      fetch_prefetch(server_, testing::kPatient, keys, tables_, testing::fixture_settings().pull,
                     ReadMode::kBatch);
  EXPECT_EQ(by_batch, by_search);
  EXPECT_EQ(requests(), 1u) << "one batch Bundle for every key";
  EXPECT_EQ(server_.searches().size(), keys.size() - 1) << "each search once, in the batch";
}

TEST_F(CdsPrefetchFetch, NoPrefetchIsOneBatchRequestPerCall) {
  server_.caps.system_interactions = {"batch", "transaction"};
  CdsService cds = service(ReadMode::kAuto);
  const ServeReply first = cds.patient_view(call(nullptr));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(server_.requests(), std::vector<std::string>{"transaction"}) << "one batch";
  EXPECT_EQ(server_.statements, 1);
  const ServeReply second = cds.patient_view(call(nullptr));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(requests(), 2u) << "a later call: one request";
  EXPECT_EQ(server_.statements, 1) << "the statement is read once per server";
  EXPECT_EQ(fetched_from_, (std::vector<std::string>{kEhr, kEhr}));

  // The card is the one a full prefetch gives, which reads nothing.
  const auto full = prefetched(keys_of(cds.templates()));
  const ServeReply from_prefetch = cds.patient_view(call(full));
  ASSERT_EQ(from_prefetch.status, 200) << from_prefetch.body;
  EXPECT_EQ(requests(), 2u);
  EXPECT_EQ(card_of(from_prefetch), card_of(first));
}

TEST_F(CdsPrefetchFetch, SearchesModeSendsOneRequestPerTemplate) {
  server_.caps.system_interactions = {"batch"};  // declared, not used
  CdsService cds = service(ReadMode::kSearches);
  const ServeReply reply = cds.patient_view(call(nullptr));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(requests(), cds.templates().size());
  const auto sent = server_.requests();
  EXPECT_EQ(std::count(sent.begin(), sent.end(), "transaction"), 0);
  EXPECT_EQ(server_.statements, 0) << "searches asks nothing of the statement";
}

TEST_F(CdsPrefetchFetch, PartialPrefetchReadsOnlyTheMissingKeys) {
  CdsService cds = service(ReadMode::kBatch);
  const auto keys = keys_of(cds.templates());
  ASSERT_GT(keys.size(), 3u);
  // The EHR sent the Patient and the Conditions, and failed the third key.
  auto prefetch = prefetched({keys[0], keys[1]});
  prefetch.set(keys[2], fhir::JsonValue::object({{"resourceType", "OperationOutcome"}}));
  const ServeReply reply = cds.patient_view(call(prefetch));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(requests(), 1u);
  const auto searched = server_.searches();
  ASSERT_EQ(searched.size(), keys.size() - 2);
  const auto templates = cds.templates();
  for (std::size_t i = 0; i < searched.size(); ++i) {
    EXPECT_TRUE(templates[i + 2].query.starts_with(searched[i].type + "?"))
        << templates[i + 2].query;
  }
  // The same card as from the whole record.
  const ServeReply whole = cds.patient_view(call(nullptr));
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(card_of(reply), card_of(whole));
}

TEST_F(CdsPrefetchFetch, AutoFallsBackToSearchesWhenTheBatchIsRefused) {
  server_.caps.system_interactions = {"batch"};
  server_.refuse_batch_reads = true;
  CdsService cds = service(ReadMode::kAuto);
  const std::size_t templates = cds.templates().size();
  const ServeReply first = cds.patient_view(call(nullptr));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(requests(), 1 + templates) << "the refused batch, then the searches";
  const ServeReply second = cds.patient_view(call(nullptr));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(requests(), 1 + 2 * templates) << "the refusal is remembered";
  EXPECT_EQ(server_.statements, 1);
  EXPECT_EQ(card_of(first), card_of(second));
}

TEST_F(CdsPrefetchFetch, ConfiguredBatchIsNotSecondGuessed) {
  server_.refuse_batch_reads = true;
  CdsService cds = service(ReadMode::kBatch);
  const ServeReply reply = cds.patient_view(call(nullptr));
  EXPECT_EQ(reply.status, 502) << reply.body;
  EXPECT_EQ(requests(), 1u);
}

TEST_F(CdsPrefetchFetch, AnUnknownPatientIs404) {
  server_.caps.system_interactions = {"batch"};
  CdsService cds = service(ReadMode::kAuto);
  auto body = fhir::JsonDocument::parse(call(nullptr));
  auto v = fhir::JsonValue::from(body.root());
  v.set("context", fhir::JsonValue::object({{"patientId", "nobody"}}));
  EXPECT_EQ(cds.patient_view(v.dump()).status, 404);
}

}  // namespace
}  // namespace mst::adapter
