// The fault proxy against a real local upstream (TestHttpServer): transparent
// at rate 0, each fault visible to the client at rate 1, writes never reaching
// the upstream unless reset-after-write is chosen, and runs reproducible by seed.
#include "fault_proxy/fault_proxy.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <gtest/gtest.h>

#include <chrono>
#include <istream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mst/fhir/json.h"
#include "support/test_http_server.h"

namespace mst::testing {
namespace {

using std::chrono::milliseconds;

// What one client saw.
struct Seen {
  bool no_response = false;  // reset or closed before a status line
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  std::optional<std::size_t> content_length;
  bool truncated() const { return content_length && body.size() < *content_length; }
};

Seen exchange(std::uint16_t port, const std::string& method, const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& headers = {},
              const std::string& body = "") {
  Seen seen;
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : headers) request.add(name, value);
    if (!body.empty() || method == "POST" || method == "PUT") {
      request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    seen.status = static_cast<int>(response.getStatus());
    for (const auto& [name, value] : response) seen.headers[name] = value;
    if (response.hasContentLength()) {
      seen.content_length = static_cast<std::size_t>(response.getContentLength64());
    }
    char buffer[4096];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      seen.body.append(buffer, static_cast<std::size_t>(in.gcount()));
    }
  } catch (const Poco::Exception&) {
    seen.no_response = seen.status == 0;
  }
  return seen;
}

class FaultProxyTest : public ::testing::Test {
 protected:
  FaultProxyTest() {
    upstream_.handle("/Patient", [](const ServedRequest& r, Reply& reply) {
      if (r.method == "POST") {
        reply.send(
            201, R"({"resourceType":"Patient","id":"new"})",
            {{"Location", "http://example.org/fhir/Patient/new/_history/1"}, {"ETag", "W/\"1\""}});
      } else {
        reply.send(200, R"({"resourceType":"Bundle","type":"searchset","total":0})",
                   {{"Content-Type", "application/fhir+json"}});
      }
    });
    upstream_.handle("/Patient/p1", [](const ServedRequest&, Reply& reply) {
      reply.send(200, R"({"resourceType":"Patient","id":"p1"})", {{"ETag", "W/\"2\""}});
    });
  }

  std::unique_ptr<FaultProxy> proxy(double rate, std::vector<Fault> faults, std::uint64_t seed = 42,
                                    milliseconds latency = milliseconds(150)) {
    FaultProxyOptions o;
    o.upstream = upstream_.url("");
    o.rate = rate;
    o.seed = seed;
    o.faults = std::move(faults);
    o.latency = latency;
    auto p = std::make_unique<FaultProxy>(o);
    p->start();
    return p;
  }

  TestHttpServer upstream_;
};

TEST(FaultPlan, RateZeroNeverFaultsAndRateOneAlwaysDoes) {
  const FaultPlan never(0.0, 7, default_faults());
  const FaultPlan always(1.0, 7, default_faults());
  for (std::uint64_t n = 0; n < 1000; ++n) {
    EXPECT_FALSE(never.fault_for(n).has_value());
    EXPECT_TRUE(always.fault_for(n).has_value());
  }
}

TEST(FaultPlan, SameSeedSameFaultsOtherSeedOtherFaults) {
  const FaultPlan a(0.3, 42, default_faults()), b(0.3, 42, default_faults()),
      c(0.3, 43, default_faults());
  std::size_t differ = 0, faults = 0;
  std::set<Fault> kinds;
  for (std::uint64_t n = 0; n < 10'000; ++n) {
    EXPECT_EQ(a.fault_for(n), b.fault_for(n));
    differ += a.fault_for(n) != c.fault_for(n);
    if (auto f = a.fault_for(n)) {
      ++faults;
      kinds.insert(*f);
    }
  }
  EXPECT_GT(differ, 1000u);
  // Deterministic for this seed, so a fixed band is no flake: 3,000 expected.
  EXPECT_GT(faults, 2800u);
  EXPECT_LT(faults, 3200u);
  EXPECT_EQ(kinds, (std::set<Fault>{Fault::kLatency, Fault::kReset, Fault::kTruncate,
                                    Fault::kTooManyRequests, Fault::kUnavailable}));
}

TEST(FaultPlan, ParsesFaultListsAndRefusesBadOnes) {
  EXPECT_EQ(parse_fault_list("reset,429,reset-after-write"),
            (std::vector<Fault>{Fault::kReset, Fault::kTooManyRequests, Fault::kResetAfterWrite}));
  EXPECT_THROW(parse_fault_list("reset,explode"), std::invalid_argument);
  EXPECT_THROW(parse_fault_list("reset,reset"), std::invalid_argument);
  EXPECT_THROW(parse_fault_list(""), std::invalid_argument);
  EXPECT_THROW(FaultPlan(1.5, 1, default_faults()), std::invalid_argument);
  EXPECT_THROW(FaultPlan(0.5, 1, {}), std::invalid_argument);
  for (Fault f : kAllFaults) EXPECT_EQ(parse_fault(fault_name(f)), f);
}

TEST(FaultProxyOptionsCheck, RefusesBadUpstreamsAndNonLoopbackListeners) {
  FaultProxyOptions o;
  o.upstream = "https://127.0.0.1:1";
  EXPECT_THROW(FaultProxy{o}, std::invalid_argument);
  o.upstream = "not a url";
  EXPECT_THROW(FaultProxy{o}, std::invalid_argument);
  o.upstream = "http://127.0.0.1:1";
  o.listen_host = "0.0.0.0";
  EXPECT_THROW(FaultProxy{o}, std::invalid_argument);
}

TEST_F(FaultProxyTest, AtRateZeroItIsTransparent) {
  auto p = proxy(0.0, default_faults());
  const std::string body = R"({"resourceType":"Patient","name":[{"family":"Ö"}]})";
  Seen created = exchange(p->port(), "POST", "/Patient?_format=json",
                          {{"Content-Type", "application/fhir+json"},
                           {"If-None-Exist", "identifier=urn:x|1"},
                           {"Authorization", "Bearer t"}},
                          body);
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.headers["Location"], "http://example.org/fhir/Patient/new/_history/1");
  EXPECT_EQ(created.headers["ETag"], "W/\"1\"");
  Seen updated = exchange(p->port(), "PUT", "/Patient/p1", {{"If-Match", "W/\"1\""}}, body);
  EXPECT_EQ(updated.status, 200);
  EXPECT_EQ(updated.body, R"({"resourceType":"Patient","id":"p1"})");
  Seen searched = exchange(p->port(), "GET", "/Patient?identifier=a%7Cb&_count=5");
  EXPECT_EQ(searched.status, 200);
  EXPECT_EQ(searched.headers["Content-Type"], "application/fhir+json");

  const auto got = upstream_.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/Patient?_format=json");
  EXPECT_EQ(got[0].body, body);
  EXPECT_EQ(got[0].header("if-none-exist"), "identifier=urn:x|1");
  EXPECT_EQ(got[0].header("authorization"), "Bearer t");
  EXPECT_EQ(got[0].header("content-type"), "application/fhir+json");
  // The client's Host goes through, so server-made links point at the proxy.
  EXPECT_EQ(got[0].header("host"), "127.0.0.1:" + std::to_string(p->port()));
  EXPECT_EQ(got[1].method, "PUT");
  EXPECT_EQ(got[1].header("if-match"), "W/\"1\"");
  EXPECT_EQ(got[2].target, "/Patient?identifier=a%7Cb&_count=5");

  const FaultCounts c = p->counts();
  EXPECT_EQ(c.requests, 3u);
  EXPECT_EQ(c.forwarded, 3u);
  EXPECT_EQ(c.total_injected(), 0u);
}

TEST_F(FaultProxyTest, LatencyDelaysThenForwards) {
  auto p = proxy(1.0, {Fault::kLatency});
  const auto start = std::chrono::steady_clock::now();
  Seen seen = exchange(p->port(), "GET", "/Patient");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(150));
  EXPECT_EQ(seen.status, 200);
  EXPECT_EQ(upstream_.count("/Patient"), 1u);
  EXPECT_EQ(p->counts().of(Fault::kLatency), 1u);
}

TEST_F(FaultProxyTest, ResetGivesNoResponseAndNothingReachesTheUpstream) {
  auto p = proxy(1.0, {Fault::kReset});
  EXPECT_TRUE(exchange(p->port(), "GET", "/Patient").no_response);
  EXPECT_TRUE(exchange(p->port(), "POST", "/Patient", {}, "{}").no_response);
  EXPECT_EQ(upstream_.requests().size(), 0u);
  EXPECT_EQ(p->counts().of(Fault::kReset), 2u);
}

TEST_F(FaultProxyTest, TruncateCutsTheUpstreamBodyOfAReadShort) {
  auto p = proxy(1.0, {Fault::kTruncate});
  Seen seen = exchange(p->port(), "GET", "/Patient");
  EXPECT_EQ(seen.status, 200);
  EXPECT_TRUE(seen.truncated()) << seen.body.size();
  EXPECT_EQ(*seen.content_length,
            std::string(R"({"resourceType":"Bundle","type":"searchset","total":0})").size());
  EXPECT_THROW(fhir::JsonDocument::parse(seen.body), fhir::ParseError);
  EXPECT_EQ(upstream_.count("/Patient"), 1u);
}

TEST_F(FaultProxyTest, TruncateNeverForwardsAWrite) {
  auto p = proxy(1.0, {Fault::kTruncate});
  Seen seen = exchange(p->port(), "POST", "/Patient", {}, "{}");
  EXPECT_EQ(seen.status, 503);
  EXPECT_TRUE(seen.truncated());
  EXPECT_EQ(upstream_.requests().size(), 0u);
}

TEST_F(FaultProxyTest, TooManyRequestsCarriesRetryAfterAndIsNotForwarded) {
  auto p = proxy(1.0, {Fault::kTooManyRequests});
  Seen seen = exchange(p->port(), "PUT", "/Patient/p1", {{"If-Match", "W/\"1\""}}, "{}");
  EXPECT_EQ(seen.status, 429);
  EXPECT_EQ(seen.headers["Retry-After"], "1");
  auto outcome = fhir::JsonDocument::parse(seen.body);
  EXPECT_EQ(outcome.root().string("resourceType"), "OperationOutcome");
  EXPECT_EQ(upstream_.requests().size(), 0u);
  EXPECT_EQ(p->counts().of(Fault::kTooManyRequests), 1u);
}

TEST_F(FaultProxyTest, UnavailableIsNotForwarded) {
  auto p = proxy(1.0, {Fault::kUnavailable});
  EXPECT_EQ(exchange(p->port(), "POST", "/Patient", {}, "{}").status, 503);
  EXPECT_EQ(exchange(p->port(), "GET", "/Patient").status, 503);
  EXPECT_EQ(upstream_.requests().size(), 0u);
  EXPECT_EQ(p->counts().of(Fault::kUnavailable), 2u);
}

TEST_F(FaultProxyTest, ResetAfterWriteLetsTheWriteThroughAndDropsTheResponse) {
  auto p = proxy(1.0, {Fault::kResetAfterWrite});
  EXPECT_TRUE(
      exchange(p->port(), "POST", "/Patient", {}, R"({"resourceType":"Patient"})").no_response);
  ASSERT_EQ(upstream_.requests().size(), 1u);
  EXPECT_EQ(upstream_.requests()[0].body, R"({"resourceType":"Patient"})");
  EXPECT_EQ(p->counts().of(Fault::kResetAfterWrite), 1u);
}

TEST_F(FaultProxyTest, StatsAreJsonAndNotProxied) {
  auto p = proxy(1.0, {Fault::kUnavailable});
  (void)exchange(p->port(), "GET", "/Patient");
  Seen stats = exchange(p->port(), "GET", "/__proxy/stats");
  ASSERT_EQ(stats.status, 200);
  auto doc = fhir::JsonDocument::parse(stats.body);
  EXPECT_EQ(doc.root().integer("requests"), 1);
  EXPECT_EQ(doc.root().integer("forwarded"), 0);
  EXPECT_EQ(doc.root().object("faults").integer("503"), 1);
  EXPECT_EQ(doc.root().object("faults").integer("reset"), 0);
  EXPECT_EQ(upstream_.requests().size(), 0u);
}

TEST_F(FaultProxyTest, AnUnreachableUpstreamIsA502) {
  FaultProxyOptions o;
  o.upstream = "http://127.0.0.1:1";  // a privileged port nothing here listens on
  o.rate = 0;
  FaultProxy p(o);
  p.start();
  Seen seen = exchange(p.port(), "GET", "/Patient");
  EXPECT_EQ(seen.status, 502);
  EXPECT_EQ(fhir::JsonDocument::parse(seen.body).root().string("resourceType"), "OperationOutcome");
  EXPECT_EQ(p.counts().upstream_errors, 1u);
}

// The sequence of what clients see, for `seed`, over sequential requests.
std::vector<std::string> run_with_seed(TestHttpServer& upstream, std::uint64_t seed) {
  FaultProxyOptions o;
  o.upstream = upstream.url("");
  o.rate = 0.5;
  o.seed = seed;
  o.latency = milliseconds(1);
  FaultProxy p(o);
  p.start();
  std::vector<std::string> seen;
  for (int i = 0; i < 40; ++i) {
    Seen s = exchange(p.port(), "GET", "/Patient");
    seen.push_back(s.no_response   ? "reset"
                   : s.truncated() ? "truncated " + std::to_string(s.status)
                                   : std::to_string(s.status));
  }
  return seen;
}

TEST_F(FaultProxyTest, RunsAreReproducibleBySeed) {
  const auto a = run_with_seed(upstream_, 42);
  EXPECT_EQ(run_with_seed(upstream_, 42), a);
  EXPECT_NE(run_with_seed(upstream_, 7), a);
  // Every default fault shows up in 40 requests at rate 0.5 with this seed.
  const std::set<std::string> kinds(a.begin(), a.end());
  EXPECT_TRUE(kinds.count("reset") && kinds.count("429") && kinds.count("503") &&
              kinds.count("truncated 200") && kinds.count("200"))
      << ::testing::PrintToString(a);
}

TEST_F(FaultProxyTest, StopEndsADelayInProgress) {
  auto p = proxy(1.0, {Fault::kLatency}, 42, milliseconds(60'000));
  std::thread client([&] { (void)exchange(p->port(), "GET", "/Patient"); });
  std::this_thread::sleep_for(milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  p->stop();
  client.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(upstream_.requests().size(), 0u);
}

}  // namespace
}  // namespace mst::testing
