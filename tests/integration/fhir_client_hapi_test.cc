// The FHIR client against the real local HAPI server: what unit tests can
// only assume about status codes, ETags, paging links and conditional writes.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "mst/fhir/client_errors.h"
#include "mst/fhir/rest_client.h"

namespace mst::fhir {
namespace {

std::string base_url() {
  const char* dir = std::getenv("MST_HAPI_STATE_DIR");
  if (dir == nullptr) return {};
  std::ifstream in(std::string(dir) + "/url");
  std::string url;
  std::getline(in, url);
  return url;
}

// Unique per run, so parallel and repeated runs never see each other's data.
std::string run_id() {
  static const std::string id = std::to_string(
      std::chrono::system_clock::now().time_since_epoch().count() % 1'000'000'000'000);
  return id;
}

class HapiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = base_url();
    // Fail, never skip: a skipped test passes, and a missing server would
    // then pass the whole suite unseen.
    if (url_.empty()) {
      FAIL() << "no HAPI server: $MST_HAPI_STATE_DIR/url is missing or empty (run under the CTest "
                "hapi fixture, or scripts/hapi start and set MST_HAPI_STATE_DIR)";
    }
    RetryPolicy policy;
    policy.deadline = std::chrono::seconds(60);
    auto sender = std::make_shared<RetryingSender>(make_poco_transport({}), policy, system_clock());
    client_ = std::make_unique<RestClient>(RestClientOptions{url_}, sender, make_no_auth());
  }
  RestClient& client() { return *client_; }

  std::string url_;
  std::unique_ptr<RestClient> client_;
};

std::string goal(const std::string& identifier, const std::string& text) {
  return R"({"resourceType":"Goal","identifier":[{"system":"urn:mst-test","value":")" + identifier +
         R"("}],"lifecycleStatus":"proposed","description":{"text":")" + text +
         R"("},"subject":{"display":"test"}})";
}

TEST_F(HapiClientTest, ReadsTheCapabilityStatement) {
  Capabilities caps = client().capabilities();
  EXPECT_TRUE(caps.is_r4()) << caps.fhir_version;
  EXPECT_TRUE(caps.supports_system("transaction"));
  EXPECT_TRUE(caps.supports("CarePlan", "update"));
  EXPECT_TRUE(caps.resources.at("Goal").conditional_update);
}

TEST_F(HapiClientTest, ConditionalCreateFindsTheFirstResource) {
  const std::string id = "cc-" + run_id();
  FhirResponse first =
      client().create("Goal", goal(id, "a"), {{"identifier", "urn:mst-test|" + id}});
  EXPECT_EQ(first.status, 201);
  ASSERT_FALSE(first.id.empty());
  EXPECT_EQ(first.version_id, "1");
  FhirResponse second =
      client().create("Goal", goal(id, "b"), {{"identifier", "urn:mst-test|" + id}});
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.id, first.id);
}

TEST_F(HapiClientTest, AStaleIfMatchIsAVersionConflict) {
  FhirResponse created = client().create("Goal", goal("im-" + run_id(), "v1"), {});
  std::string body = goal("im-" + run_id(), "v2");
  body.insert(1, R"("id":")" + created.id + R"(",)");
  FhirResponse updated = client().update("Goal", created.id, body, created.version_id);
  EXPECT_EQ(updated.status, 200);
  EXPECT_EQ(updated.version_id, "2");
  EXPECT_EQ(updated.etag, "W/\"2\"");
  try {
    client().update("Goal", created.id, body, "1");
    FAIL() << "a stale If-Match must fail";
  } catch (const VersionConflict& e) {
    EXPECT_EQ(e.status(), 409);  // HAPI; the specification says 412
    EXPECT_NE(e.outcome().find("HAPI-0989"), std::string::npos) << e.what();
  }
  FhirResponse read = client().read("Goal", created.id);
  EXPECT_EQ(read.version_id, "2");
  EXPECT_EQ(client().vread("Goal", created.id, "1").version_id, "1");
}

TEST_F(HapiClientTest, ConditionalUpdateCreatesThenUpdatesTheSameResource) {
  const std::string id = "cu-" + run_id();
  FhirResponse created =
      client().update_conditional("Goal", {{"identifier", "urn:mst-test|" + id}}, goal(id, "1"));
  EXPECT_EQ(created.status, 201);
  FhirResponse updated =
      client().update_conditional("Goal", {{"identifier", "urn:mst-test|" + id}}, goal(id, "2"));
  EXPECT_EQ(updated.status, 200);
  EXPECT_EQ(updated.id, created.id);
  EXPECT_EQ(updated.version_id, "2");
}

TEST_F(HapiClientTest, PagesThroughHapiNextLinksWithinBounds) {
  const std::string tag = "pg-" + run_id();
  std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  for (int i = 0; i < 5; ++i) {
    if (i > 0) tx += ",";
    tx += R"({"resource":)" + goal(tag + "-" + std::to_string(i), "page") +
          R"(,"request":{"method":"POST","url":"Goal","ifNoneExist":"identifier=urn:mst-test|)" +
          tag + "-" + std::to_string(i) + R"("}})";
  }
  tx += "]}";
  FhirResponse response = client().transaction(tx);
  ASSERT_EQ(Bundle(response.resource()).entries().size(), 5u);
  for (const auto& e : Bundle(response.resource()).entries())
    EXPECT_EQ(e.response_status.substr(0, 3), "201");

  // The five identifiers ORed: exactly this run's Goals, two per page.
  std::string any;
  for (int i = 0; i < 5; ++i)
    any += (i ? "," : "") + std::string("urn:mst-test|") + tag + "-" + std::to_string(i);
  SearchResult all = client().search("Goal", {{"identifier", any}, {"_count", "2"}}, {});
  EXPECT_TRUE(all.complete) << all.incomplete_reason;
  EXPECT_EQ(all.resources.size(), 5u);
  EXPECT_EQ(all.pages.size(), 3u);

  SearchResult bounded =
      client().search("Goal", {{"identifier", any}, {"_count", "2"}}, SearchLimits{2, 100});
  EXPECT_FALSE(bounded.complete);
  EXPECT_EQ(bounded.resources.size(), 4u);
}

TEST_F(HapiClientTest, AMissingResourceIsNotFound) {
  try {
    client().read("Goal", "missing-" + run_id());
    FAIL();
  } catch (const NotFound& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_FALSE(e.outcome().empty());
  }
}

}  // namespace
}  // namespace mst::fhir
