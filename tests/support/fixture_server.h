// A fhir::HttpTransport serving one fixture patient
// (tests/fixtures/patients/mst-p02.json) to a Pipeline over the real
// RestClient, with any answer replaceable, and every write recorded: for
// end-to-end pipeline tests without a server.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "mst/fhir/auth.h"
#include "mst/fhir/clock.h"
#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"
#include "mst/fhir/rest_client.h"
#include "mst/fhir/retry_policy.h"

namespace mst::adapter::testing {

inline constexpr const char* kBase = "http://ehr.test/fhir";
inline constexpr const char* kPatient = "mst-p02";
inline const std::string kFixture =
    std::string(MST_SOURCE_DIR) + "/tests/fixtures/patients/mst-p02.json";
inline const std::string kTables = std::string(MST_SOURCE_DIR) + "/mappings/tables";
inline constexpr const char* kCanonical = "http://mst-adapter.example.org/fhir";

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The settings a pipeline over the fixture patient runs with: the test
// canonical base, the fixtures' as-of day, our own plan identifier system.
inline PipelineSettings fixture_settings() {
  PipelineSettings s;
  s.canonical_base = kCanonical;
  s.as_of = fhir::DateTime::from_ymd(2026, 11, 20);
  BuildOptions build;
  build.canonical_base = kCanonical;
  s.pull.own_identifier_system = careplan_identifier("Patient/x", build).system;
  return s;
}

inline std::string searchset(const std::vector<std::string>& resources) {
  std::string s = R"({"resourceType":"Bundle","type":"searchset","total":)" +
                  std::to_string(resources.size()) + R"(,"entry":[)";
  for (std::size_t i = 0; i < resources.size(); ++i) {
    s += (i ? "," : "") + std::string(R"({"resource":)") + resources[i] +
         R"(,"search":{"mode":"match"}})";
  }
  return s + "]}";
}

// Serves the fixture's resources: GET Patient/<id>, and for a search every
// resource of the searched type (the puller and extractor sort out codes);
// the adapter's own CarePlan (searched by identifier) does not exist yet. Any
// request that is not a GET is a write: it is recorded and answered as a
// created plan. `replace(key, ...)` swaps the answer for "Patient" (the read)
// or a searched type.
class FixtureServer : public fhir::HttpTransport {
 public:
  FixtureServer() {
    auto doc = fhir::JsonDocument::parse(read_file(kFixture));
    for (fhir::Node e : doc.root().array("entry")) {
      fhir::Node r = e.object("resource");
      by_type_[std::string(*r.string("resourceType"))].push_back(fhir::JsonValue::from(r).dump());
    }
  }

  void replace(const std::string& key, int status, std::string body) {
    replaced_[key] = {status, std::move(body)};
  }
  // Answers writes with this status and body instead of a created plan.
  void answer_writes(int status, std::string body) { write_answer_ = {status, std::move(body)}; }
  // Adds a resource to what a search of its type answers.
  void add(const std::string& type, std::string resource) {
    by_type_[type].push_back(std::move(resource));
  }

  fhir::HttpResponse send(const fhir::HttpRequest& r) override {
    std::lock_guard lock(mu_);
    fhir::HttpResponse out;
    out.status = 200;
    out.headers = {{"content-type", "application/fhir+json"}};
    if (r.method != "GET") {
      writes_.push_back(r.method + " " + r.url);
      bodies_.push_back(r.body);
      out.status = write_answer_.first;
      out.body = write_answer_.second;
      return out;
    }
    std::string path = r.url.substr(std::string(kBase).size() + 1);
    std::string query;
    if (auto q = path.find('?'); q != std::string::npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
    const std::string key = path.rfind("Patient/", 0) == 0 ? "Patient" : path;
    if (auto it = replaced_.find(key); it != replaced_.end()) {
      out.status = it->second.first;
      out.body = it->second.second;
      return out;
    }
    if (key == "Patient") {
      out.body = by_type_["Patient"].at(0);
    } else if (key == "CarePlan" && query.rfind("identifier=", 0) == 0) {
      out.body = searchset({});
    } else {
      out.body = searchset(by_type_[key]);
    }
    return out;
  }

  std::vector<std::string> writes() const {
    std::lock_guard lock(mu_);
    return writes_;
  }
  std::string last_write_body() const {
    std::lock_guard lock(mu_);
    return bodies_.empty() ? "" : bodies_.back();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::string>> by_type_;
  std::map<std::string, std::pair<int, std::string>> replaced_;
  std::pair<int, std::string> write_answer_{
      200, R"({"resourceType":"Bundle","type":"transaction-response","entry":[{"response":)"
           R"({"status":"201 Created","location":"CarePlan/written-1/_history/1"}}]})"};
  std::vector<std::string> writes_;
  std::vector<std::string> bodies_;
};

// Runs the pipeline for the fixture patient against a FixtureServer.
class PipelineFixture : public ::testing::Test {
 protected:
  PipelineFixture()
      : tables_(mappings::CodeTables::load({kTables}, kCanonical)),
        server_(std::make_shared<FixtureServer>()) {}

  PatientRun run() {
    fhir::RetryPolicy policy;
    policy.max_attempts = 1;
    auto sender = std::make_shared<fhir::RetryingSender>(server_, policy, fhir::system_clock());
    fhir::RestClient client({kBase}, sender, fhir::make_no_auth());
    PipelineSettings settings = fixture_settings();
    settings.write.mode = write_mode_;
    Pipeline pipeline(&client, tables_, thresholds_, settings);
    return pipeline.run_safely(kPatient);
  }

  // The notes of the CarePlan in the one transaction that was sent.
  std::string written_plan_notes() const {
    EXPECT_EQ(server_->writes().size(), 1u);
    auto doc = fhir::JsonDocument::parse(server_->last_write_body());
    std::string notes;
    for (fhir::Node e : doc.root().array("entry")) {
      fhir::Node res = e.object("resource");
      if (res.string("resourceType") != "CarePlan") continue;
      for (fhir::Node n : res.array("note")) notes += std::string(n.string("text").value_or(""));
    }
    return notes;
  }

  mappings::CodeTables tables_;
  RuleThresholds thresholds_;
  std::shared_ptr<FixtureServer> server_;
  WriteMode write_mode_ = WriteMode::kTransaction;
};

}  // namespace mst::adapter::testing
