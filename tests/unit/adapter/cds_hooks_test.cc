// `serve`'s CDS Hooks parts: discovery follows the pull's searches, calls are
// validated, prefetch completeness, the cards, and a card agrees with the
// plan `run --dry-run` prints for the same fixture patient.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "mst/adapter/cli/app.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/pipeline/search_terms.h"
#include "mst/adapter/serve/cds_cards.h"
#include "mst/adapter/serve/cds_discovery.h"
#include "mst/adapter/serve/cds_request.h"
#include "mst/adapter/serve/cds_service.h"
#include "mst/adapter/serve/prefetch_record.h"
#include "mst/adapter/serve/serve_server.h"
#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"
#include "pipeline_setup.h"

namespace mst::adapter {
namespace {

using ::testing::HasSubstr;

const std::string kFixtures = std::string(MST_SOURCE_DIR) + "/tests/fixtures/patients/";
constexpr const char* kAsOf = "2026-11-20";  // the fixtures' as-of day (expected.json)

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Harness {
  std::ostringstream out, err;
  cli::Context context{out, err, {}, nullptr};
  cli::PipelineSetup setup;
  Metrics metrics;
  std::ostringstream log_out;
  Logger log{log_out, LogLevel::kInfo, LogFormat::kText, [] { return std::int64_t{0}; }};
  std::vector<std::string> fetched;  // "server token patient" per fetch

  Harness() {
    AdapterConfig config;
    config.as_of = kAsOf;
    setup = cli::load_pipeline_setup(config, context);
  }

  CdsService service(ReviewLinker review_link = {}) {
    CdsServiceOptions o;
    o.review_link = std::move(review_link);
    o.settings = setup.settings;
    o.source.canonical_base = setup.settings.canonical_base;
    o.max_body_bytes = 4u << 20;
    return CdsService(
        *setup.tables, *setup.thresholds, o,
        [this](const std::string& server, const std::string& token, const std::string& patient,
               const std::vector<std::string>& missing) {
          fetched.push_back(server + " " + token + " " + patient);
          // The patient, with nothing else on record.
          auto values = fhir::JsonValue::object();
          for (const auto& key : missing) {
            values.set(
                key,
                key == "patient"
                    ? fhir::JsonValue::object({{"resourceType", "Patient"}, {"id", patient}})
                    : fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "searchset"}}));
          }
          return values;
        },
        metrics, log);
  }
};

// A patient-view call whose prefetch holds `bundle`'s resources as an EHR
// would: the Patient under "patient", each other resource in the searchset of
// the first template searching its type, a type no template searches (a
// Medication) as an _include of the first template that includes.
fhir::JsonValue call_with_prefetch(const std::string& bundle_text,
                                   const std::vector<PrefetchTemplate>& templates,
                                   std::string* patient_id) {
  const auto bundle = fhir::JsonDocument::parse(bundle_text);
  std::map<std::string, fhir::JsonValue> entries;
  for (const auto& t : templates) entries.emplace(t.key, fhir::JsonValue::array());
  auto prefetch = fhir::JsonValue::object();
  fhir::JsonValue patient;
  for (fhir::Node e : bundle.root().array("entry")) {
    const fhir::Node r = e["resource"];
    const std::string type(*r.string("resourceType"));
    if (type == "Patient") {
      patient = fhir::JsonValue::from(r);
      *patient_id = std::string(*r.string("id"));
      continue;
    }
    auto searches = [&](const PrefetchTemplate& t) { return t.query.starts_with(type + "?"); };
    auto includes = [](const PrefetchTemplate& t) {
      return t.query.find("_include") != std::string::npos;
    };
    auto t = std::find_if(templates.begin(), templates.end(), searches);
    const bool included = t == templates.end();
    if (included) t = std::find_if(templates.begin(), templates.end(), includes);
    if (t == templates.end()) throw std::logic_error("no template takes a " + type);
    entries[t->key].push(fhir::JsonValue::object(
        {{"resource", fhir::JsonValue::from(r)},
         {"search", fhir::JsonValue::object({{"mode", included ? "include" : "match"}})}}));
  }
  for (const auto& t : templates) {
    if (t.key == "patient") {
      prefetch.set(t.key, patient);
      continue;
    }
    prefetch.set(t.key, fhir::JsonValue::object({{"resourceType", "Bundle"},
                                                 {"type", "searchset"},
                                                 {"entry", std::move(entries[t.key])}}));
  }
  return fhir::JsonValue::object(
      {{"hook", "patient-view"},
       {"hookInstance", "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"},
       {"context", fhir::JsonValue::object({{"patientId", *patient_id}})},
       {"prefetch", std::move(prefetch)}});
}

TEST(CdsDiscovery, TemplatesAreThePullsSearchesForThePatient) {
  Harness h;
  const auto templates = prefetch_templates(*h.setup.tables, h.setup.settings.pull);
  const PullOptions& pull = h.setup.settings.pull;
  const auto queries =
      detail::relevant_queries(*h.setup.tables, {"patient", "x"},
                               {.codes_per_search = pull.codes_per_search,
                                .observation_categories = pull.observation_categories,
                                .code_search_category = pull.code_search_category,
                                .with_includes = true});
  ASSERT_EQ(templates.size(), queries.size() + 1);
  EXPECT_EQ(templates[0].key, "patient");
  EXPECT_EQ(templates[0].query, "Patient/{{context.patientId}}");
  std::set<std::string> keys;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto& t = templates[i + 1];
    EXPECT_TRUE(keys.insert(t.key).second) << "duplicate key " << t.key;
    EXPECT_TRUE(t.query.starts_with(queries[i].type + "?patient={{context.patientId}}")) << t.query;
  }
  const std::string doc = discovery_document(templates).dump();
  EXPECT_THAT(doc, HasSubstr(R"("hook":"patient-view")"));
  EXPECT_THAT(doc, HasSubstr(R"("id":"mst-spine-careplan")"));
  EXPECT_THAT(doc, HasSubstr(R"("Condition?patient={{context.patientId}}")"));
}

TEST(CdsRequestTest, RefusesWhatItCannotUse) {
  auto status_of = [](std::string_view body, std::size_t max = 1 << 20) {
    try {
      parse_cds_request(body, "patient-view", max);
      return 0;
    } catch (const CdsRequestError& e) {
      return e.status();
    }
  };
  const std::string ok =
      R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p1"}})";
  EXPECT_EQ(status_of(ok), 0);
  EXPECT_EQ(status_of(ok, 10), 413);
  EXPECT_EQ(status_of("{not json"), 400);
  EXPECT_EQ(status_of("[]"), 400);
  EXPECT_EQ(status_of(R"({"hook":"patient-view","context":{"patientId":"p1"}})"), 400);
  EXPECT_EQ(status_of(R"({"hook":"order-select","hookInstance":"i","context":{"patientId":"p"}})"),
            400);
  EXPECT_EQ(status_of(R"({"hook":"patient-view","hookInstance":"i","context":{}})"), 400);
  EXPECT_EQ(
      status_of(R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"a/b"}})"),
      400);
  EXPECT_EQ(status_of(R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p"},)"
                      R"("fhirAuthorization":{"access_token":"t","token_type":"Bearer"}})"),
            400);
  EXPECT_EQ(status_of(R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p"},)"
                      R"("fhirServer":"ftp://x"})"),
            400);
  EXPECT_EQ(status_of(R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p"},)"
                      R"("prefetch":[1]})"),
            400);
  const auto r = parse_cds_request(
      R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p1"},)"
      R"("fhirServer":"https://ehr/fhir","fhirAuthorization":{"access_token":"tok",)"
      R"("token_type":"Bearer","expires_in":300,"scope":"patient/*.read","subject":"s"}})",
      "patient-view", 1 << 20);
  EXPECT_EQ(r.patient_id, "p1");
  EXPECT_EQ(r.fhir_server, "https://ehr/fhir");
  EXPECT_EQ(r.access_token, "tok");
}

TEST(CdsPrefetch, NullOrAbsentValuesAreMissing) {
  const std::vector<PrefetchTemplate> templates = {{"patient", "Patient/{{context.patientId}}"},
                                                   {"condition", "Condition?patient=x"}};
  const auto r = parse_cds_request(
      R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p1"},)"
      R"("prefetch":{"patient":{"resourceType":"Patient","id":"p1"},"condition":null}})",
      "patient-view", 1 << 20);
  EXPECT_EQ(missing_prefetch(r, templates), std::vector<std::string>{"condition"});
  const auto none = parse_cds_request(
      R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p1"}})", "patient-view",
      1 << 20);
  EXPECT_EQ(missing_prefetch(none, templates).size(), 2u);
}

TEST(CdsPrefetch, AFailedPrefetchsOperationOutcomeIsMissing) {
  const std::vector<PrefetchTemplate> templates = {{"patient", "Patient/{{context.patientId}}"},
                                                   {"condition", "Condition?patient=x"}};
  const auto r =
      parse_cds_request(R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p1"},)"
                        R"("prefetch":{"patient":{"resourceType":"Patient","id":"p1"},)"
                        R"("condition":{"resourceType":"OperationOutcome","issue":[]}}})",
                        "patient-view", 1 << 20);
  EXPECT_EQ(missing_prefetch(r, templates), std::vector<std::string>{"condition"});
}

// A search's value must be its searchset: another resource, or a match of
// another type, would be read as this search's answer.
TEST(CdsPrefetch, SearchValuesMustBeBundlesOfTheSearchedType) {
  const std::vector<PrefetchTemplate> templates = {
      {"patient", "Patient/{{context.patientId}}"},
      {"medicationRequest", "MedicationRequest?patient=x&_include=MedicationRequest:medication"}};
  auto call = [](const std::string& value) {
    return parse_cds_request(
        R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p1"},)"
        R"("prefetch":{"patient":{"resourceType":"Patient","id":"p1"},"medicationRequest":)" +
            value + "}}",
        "patient-view", 1 << 20);
  };
  auto refusal = [&](const std::string& value) -> std::string {
    try {
      record_from_prefetch(call(value), templates);
    } catch (const CdsRequestError& e) {
      EXPECT_EQ(e.status(), 400);
      return e.what();
    }
    return "accepted";
  };
  const std::string request =
      R"({"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order",)"
      R"("subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/x"}})";
  const std::string medication = R"({"resourceType":"Medication","id":"x"})";
  EXPECT_THAT(refusal(R"({"resourceType":"MedicationRequest","id":"m1"})"),
              testing::HasSubstr("must be the searchset Bundle"));
  EXPECT_THAT(refusal(R"({"resourceType":"Bundle","entry":[{"resource":)" + medication + "}]}"),
              testing::HasSubstr("entry[0] is a Medication, but the medicationRequest template"));
  EXPECT_THAT(refusal(R"({"resourceType":"Bundle","entry":[{"resource":{"id":"z"}}]})"),
              testing::HasSubstr("without a resourceType"));
  EXPECT_THAT(refusal(R"({"resourceType":"Bundle","entry":{}})"),
              testing::HasSubstr("entry is not an array"));
  EXPECT_EQ(refusal(R"({"resourceType":"Bundle","type":"searchset","entry":[{"resource":)" +
                    request + R"(,"search":{"mode":"match"}},{"resource":)" + medication +
                    R"(,"search":{"mode":"include"}}]})"),
            "accepted");
}

TEST(CdsPrefetch, AnotherPatientsDataIsRefused) {
  const std::vector<PrefetchTemplate> templates = {{"patient", "Patient/{{context.patientId}}"}};
  const auto r =
      parse_cds_request(R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p1"},)"
                        R"("prefetch":{"patient":{"resourceType":"Patient","id":"p2"}}})",
                        "patient-view", 1 << 20);
  EXPECT_THROW(record_from_prefetch(r, templates), CdsRequestError);
}

TEST(CdsCards, IndicatorFollowsThePathway) {
  GoalPlan plan;
  plan.applicable = true;
  EXPECT_EQ(card_indicator(plan), "info");
  plan.urgency = Urgency::kUrgent;
  plan.pathway = Pathway::kUrgent;
  EXPECT_EQ(card_indicator(plan), "warning");
  plan.urgency = Urgency::kStat;
  plan.pathway = Pathway::kEmergency;
  plan.emergency = true;
  EXPECT_EQ(card_indicator(plan), "critical");
  EXPECT_LT(card_summary(plan).size(), 140u);
}

TEST(CdsCards, RecordTextCannotFormatTheDetail) {
  GoalPlan plan;
  plan.applicable = true;
  plan.data_gaps = {"pain: see [here](http://evil) **now**"};
  const std::string detail = card_detail(plan);
  EXPECT_THAT(detail, HasSubstr(R"(\[here\](http://evil) \*\*now\*\*)"));
}

// The card's suggestion is the transaction `run --dry-run` prints for the
// same fixture patient, resource for resource.
TEST(CdsService, CardAgreesWithRunDryRun) {
  for (const char* name : {"mst-p01", "mst-p05"}) {
    SCOPED_TRACE(name);
    const std::string path = kFixtures + name + ".json";
    std::ostringstream out, err;
    cli::Context ctx{out, err, {}, nullptr};
    ASSERT_EQ(cli::run_cli({"run", "--input", path, "--dry-run", "--as-of", kAsOf}, ctx), kSuccess)
        << err.str();
    const auto dry_run = fhir::JsonDocument::parse(out.str());

    Harness h;
    CdsService service = h.service();
    std::string patient_id;
    const auto call = call_with_prefetch(read_file(path), service.templates(), &patient_id);
    const ServeReply reply = service.patient_view(call.dump());
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto cards = fhir::JsonDocument::parse(reply.body);
    const auto card = cards.root().array("cards");
    ASSERT_EQ(card.size(), 1u);
    const auto actions = card[0].array("suggestions")[0].array("actions");
    const auto entries = dry_run.root().array("entry");
    ASSERT_EQ(actions.size(), entries.size());
    std::size_t goals = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(fhir::JsonValue::from(actions[i]["resource"]),
                fhir::JsonValue::from(entries[i]["resource"]));
      if (entries[i]["resource"].string("resourceType") == "Goal") ++goals;
    }
    EXPECT_GT(goals, 0u);
    EXPECT_TRUE(h.fetched.empty()) << "a complete prefetch fetches nothing";
  }
}

// The card links to the review page of the call's patient (issue #14 item
// 3): the linker gets the call's patientId and the run the card shows.
TEST(CdsService, CardLinksToTheReviewPageOfThisRun) {
  Harness h;
  std::vector<std::string> kept;
  CdsService service = h.service([&](const std::string& patient, const PatientRun& run,
                                     const fhir::DateTime&, const std::string& fhir_server) {
    kept.push_back(patient + " " + run.outcome.fingerprint + " [" + fhir_server + "]");
    return "https://cds.test/review/" + patient + "?t=abc";
  });
  std::string patient_id;
  const auto call =
      call_with_prefetch(read_file(kFixtures + "mst-p01.json"), service.templates(), &patient_id);
  const ServeReply reply = service.patient_view(call.dump());
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_THAT(kept[0], ::testing::StartsWith(patient_id + " "));
  const auto doc = fhir::JsonDocument::parse(reply.body);
  const fhir::Node link = doc.root().array("cards")[0].array("links")[0];
  EXPECT_EQ(link.string("url").value_or(""), "https://cds.test/review/" + patient_id + "?t=abc");
  EXPECT_EQ(link.string("type").value_or(""), "absolute");
  EXPECT_EQ(link.string("label").value_or(""), "Review the draft plan");
}

TEST(CdsService, MissingPrefetchFetchesFromTheCallersServerOnly) {
  Harness h;
  CdsService service = h.service();
  const std::string base =
      R"({"hook":"patient-view","hookInstance":"i","context":{"patientId":"p1"})";
  EXPECT_EQ(service.patient_view(base + "}").status, 412);
  EXPECT_TRUE(h.fetched.empty());
  const std::string with_server = base +
                                  R"(,"fhirServer":"https://ehr.test/fhir","fhirAuthorization":)"
                                  R"({"access_token":"ehr-token","token_type":"Bearer"}})";
  EXPECT_EQ(service.patient_view(with_server).status, 200);
  ASSERT_EQ(h.fetched.size(), 1u);
  EXPECT_EQ(h.fetched[0], "https://ehr.test/fhir ehr-token p1");
  // A token never travels in clear to another host.
  const std::string cleartext = base +
                                R"(,"fhirServer":"http://ehr.test/fhir","fhirAuthorization":)"
                                R"({"access_token":"ehr-token","token_type":"Bearer"}})";
  EXPECT_EQ(service.patient_view(cleartext).status, 400);
  EXPECT_EQ(h.fetched.size(), 1u);
}

TEST(CdsService, RoutesAndFeedback) {
  Harness h;
  CdsService service = h.service();
  EXPECT_EQ(service.handle("GET", "/cds-services", "").status, 200);
  EXPECT_EQ(service.handle("POST", "/cds-services", "").status, 405);
  EXPECT_EQ(service.handle("GET", "/cds-services/mst-spine-careplan", "").status, 405);
  EXPECT_EQ(service.handle("POST", "/cds-services/other", "{}").status, 404);
  const std::string feedback = "/cds-services/mst-spine-careplan/feedback";
  EXPECT_EQ(service.handle("POST", feedback, R"({"feedback":[{"card":"c","outcome":"accepted"}]})")
                .status,
            200);
  EXPECT_EQ(h.metrics.counter("mst_cds_feedback_total", "accepted"), 1u);
  // One bad item: nothing of the body is recorded.
  EXPECT_EQ(service
                .handle("POST", feedback,
                        R"({"feedback":[{"card":"c","outcome":"accepted"},{"card":"d"}]})")
                .status,
            400);
  EXPECT_EQ(h.metrics.counter("mst_cds_feedback_total", "accepted"), 1u);
  EXPECT_EQ(service.handle("POST", feedback, "nope").status, 400);
}

TEST(ServeServerTest, EndpointLabelsAndLoopback) {
  EXPECT_EQ(endpoint_label("/cds-services"), "discovery");
  EXPECT_EQ(endpoint_label("/cds-services/mst-spine-careplan"), "patient-view");
  EXPECT_EQ(endpoint_label("/cds-services/mst-spine-careplan/feedback"), "feedback");
  EXPECT_EQ(endpoint_label("/readyz?x"), "readyz");
  EXPECT_EQ(endpoint_label("/random/scan"), "other");
  EXPECT_TRUE(is_loopback_listen("127.0.0.1:8080"));
  EXPECT_TRUE(is_loopback_listen("localhost:0"));
  EXPECT_TRUE(is_loopback_listen("[::1]:8080"));
  EXPECT_FALSE(is_loopback_listen("0.0.0.0:8080"));
  EXPECT_FALSE(is_loopback_listen("10.1.2.3:8080"));
}

}  // namespace
}  // namespace mst::adapter
