// The client over the real Poco transport against a local HTTP server: real
// bytes on a socket, real clock, bounded waits.
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JWT/Signer.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "mst/fhir/client_errors.h"
#include "mst/fhir/rest_client.h"
#include "support/test_http_server.h"

namespace mst::fhir {
namespace {

using namespace std::chrono_literals;
using mst::testing::Reply;
using mst::testing::ServedRequest;
using mst::testing::TestHttpServer;

const Headers kFhirJson = {{"Content-Type", "application/fhir+json"}};

class SocketClientTest : public ::testing::Test {
 protected:
  SocketClientTest() {
    transport_options.connect_timeout = 1000ms;
    transport_options.request_timeout = 5000ms;
    policy.initial_backoff = 10ms;
    policy.max_backoff = 50ms;
    policy.deadline = 5000ms;
  }
  std::shared_ptr<RetryingSender> sender() {
    return std::make_shared<RetryingSender>(make_poco_transport(transport_options), policy,
                                            system_clock());
  }
  RestClient client(std::shared_ptr<AuthProvider> auth = make_no_auth()) {
    return RestClient(RestClientOptions{server.url("/fhir")}, sender(), std::move(auth));
  }

  TestHttpServer server;
  TransportOptions transport_options;
  RetryPolicy policy;
};

std::string bundle_page(const std::string& id, const std::string& next) {
  std::string links = R"([{"relation":"self","url":"x"})";
  if (!next.empty()) links += R"(,{"relation":"next","url":")" + next + R"("})";
  return R"({"resourceType":"Bundle","type":"searchset","link":)" + links +
         R"(],"entry":[{"resource":
    {"resourceType":"Condition","id":")" +
         id + R"("},"search":{"mode":"match"}}]})";
}

TEST_F(SocketClientTest, PagesThroughRelativeAndAbsoluteNextLinks) {
  const std::string absolute_next = server.url("/fhir?_getpages=abc&offset=2");
  server.handle("/fhir/Condition", [absolute_next](const ServedRequest& r, Reply& reply) {
    if (r.target.find("offset=1") != std::string::npos) {
      reply.send(200, bundle_page("c2", absolute_next), kFhirJson);
    } else {
      reply.send(200, bundle_page("c1", "Condition?patient=p%7C1&offset=1"), kFhirJson);
    }
  });
  server.reply("/fhir", 200, bundle_page("c3", ""), kFhirJson);

  SearchResult result = client().search("Condition", {{"patient", "p|1"}}, {});
  ASSERT_EQ(result.resources.size(), 3u);
  EXPECT_EQ(Resource(result.resources[2]).id(), "c3");
  EXPECT_TRUE(result.complete);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/fhir/Condition?patient=p%7C1");
  EXPECT_EQ(requests[1].target, "/fhir/Condition?patient=p%7C1&offset=1");
  EXPECT_EQ(requests[2].target, "/fhir?_getpages=abc&offset=2");
  EXPECT_EQ(requests[0].header("accept"), "application/fhir+json");
  EXPECT_EQ(requests[0].header("user-agent"), std::string("mst-adapter/") + MST_VERSION);
}

TEST_F(SocketClientTest, RetriesA503WithRetryAfterAndSendsTheBodyOnce) {
  int calls = 0;
  server.handle("/fhir/Goal", [&calls](const ServedRequest& r, Reply& reply) {
    if (++calls == 1) {
      reply.send(503, "busy", {{"Retry-After", "0"}});
      return;
    }
    EXPECT_EQ(r.header("if-none-exist"), "identifier=urn:mst%7Cg1");
    EXPECT_EQ(r.header("content-type"), "application/fhir+json; charset=utf-8");
    reply.send(201, R"({"resourceType":"Goal","id":"g1","meta":{"versionId":"1"}})",
               {{"Content-Type", "application/fhir+json"},
                {"ETag", "W/\"1\""},
                {"Location", "http://x/fhir/Goal/g1/_history/1"}});
  });
  FhirResponse r =
      client().create("Goal", R"({"resourceType":"Goal"})", {{"identifier", "urn:mst|g1"}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.id, "g1");
  EXPECT_EQ(r.version_id, "1");
  EXPECT_EQ(calls, 2);
}

TEST_F(SocketClientTest, AHangingServerEndsWithinTheDeadline) {
  policy.deadline = 700ms;
  server.handle("/fhir/Patient/slow", [](const ServedRequest&, Reply& reply) {
    if (reply.delay(10s)) reply.send(200, "{}");
  });
  const auto start = std::chrono::steady_clock::now();
  auto c = client();
  EXPECT_THROW(c.read("Patient", "slow"), DeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(SocketClientTest, ANonListeningPortIsServerUnreachable) {
  std::string url;
  {
    TestHttpServer gone;
    url = gone.url("/fhir");
  }
  policy.max_attempts = 2;
  RestClient c(RestClientOptions{url}, sender(), make_no_auth());
  try {
    c.capabilities();
    FAIL();
  } catch (const ServerUnreachable& e) {
    EXPECT_EQ(e.kind(), TransportError::Kind::kConnect) << e.what();
  }
}

TEST_F(SocketClientTest, SmartBackendAuthOverTheWire) {
  Poco::Crypto::RSAKey key(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE);
  std::ostringstream pub, priv;
  key.save(&pub, &priv);
  const std::string token_url = server.url("/auth/token");
  server.reply("/fhir/.well-known/smart-configuration", 200,
               R"({"token_endpoint":")" + token_url +
                   R"(","token_endpoint_auth_methods_supported":["private_key_jwt"]})",
               {{"Content-Type", "application/json"}});
  int tokens = 0;
  server.handle("/auth/token", [&](const ServedRequest& r, Reply& reply) {
    EXPECT_EQ(r.header("content-type"), "application/x-www-form-urlencoded");
    const auto at = r.body.find("client_assertion=");
    ASSERT_NE(at, std::string::npos);
    const std::string jwt = r.body.substr(at + 17, r.body.find('&', at) - at - 17);
    std::istringstream pub_in(pub.str());
    Poco::JWT::Signer verifier;
    verifier.setRSAKey(new Poco::Crypto::RSAKey(&pub_in));
    verifier.setAlgorithms({"RS384"});
    Poco::JWT::Token token = verifier.verify(jwt);
    EXPECT_EQ(token.payload().getValue<std::string>("aud"), token_url);
    ++tokens;
    reply.send(200,
               R"({"access_token":"at-)" + std::to_string(tokens) +
                   R"(","token_type":"bearer","expires_in":300})",
               {{"Content-Type", "application/json"}});
  });
  int reads = 0;
  server.handle("/fhir/Patient/p1", [&](const ServedRequest& r, Reply& reply) {
    // The first token is "revoked": exactly one re-authentication follows.
    if (++reads == 1) {
      EXPECT_EQ(r.header("authorization"), "Bearer at-1");
      reply.send(401);
      return;
    }
    EXPECT_EQ(r.header("authorization"), "Bearer at-2");
    reply.send(200, R"({"resourceType":"Patient","id":"p1"})", kFhirJson);
  });

  SmartBackendOptions options;
  options.fhir_base = server.url("/fhir");
  options.client_id = "mst";
  options.private_key_pem = priv.str();
  options.key_id = "k1";
  auto s = sender();
  RestClient c(RestClientOptions{server.url("/fhir")}, s, make_smart_backend_auth(options, s));
  EXPECT_EQ(c.read("Patient", "p1").id, "p1");
  EXPECT_EQ(tokens, 2);
  EXPECT_EQ(reads, 2);
}

}  // namespace
}  // namespace mst::fhir
