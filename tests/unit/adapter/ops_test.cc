#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>

#include "mst/adapter/ops/metrics.h"
#include "mst/adapter/ops/ops_server.h"

namespace mst::adapter {
namespace {

TEST(Metrics, RendersPrometheusTextWithEveryDeclaredSeries) {
  Metrics m;
  m.count("mst_patients_processed_total", "written", 2);
  m.count("mst_plans_written_total");
  m.observe("mst_fhir_request_duration_seconds", 0.02);
  m.observe("mst_fhir_request_duration_seconds", 100);
  m.set_gauge("mst_sync_pending_patients", 3);
  EXPECT_EQ(m.counter("mst_patients_processed_total", "written"), 2u);
  EXPECT_EQ(m.histogram_count("mst_fhir_request_duration_seconds"), 2u);
  const std::string text = m.render();
  for (const char* line : {
           "# TYPE mst_patients_processed_total counter\n",
           "mst_patients_processed_total{outcome=\"written\"} 2\n",
           "mst_plans_written_total 1\n",
           "mst_plans_unchanged_total 0\n",
           "mst_fhir_request_duration_seconds_bucket{le=\"0.01\"} 0\n",
           "mst_fhir_request_duration_seconds_bucket{le=\"0.025\"} 1\n",
           "mst_fhir_request_duration_seconds_bucket{le=\"30\"} 1\n",
           "mst_fhir_request_duration_seconds_bucket{le=\"+Inf\"} 2\n",
           "mst_fhir_request_duration_seconds_count 2\n",
           "mst_sync_pending_patients 3\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n---\n" << text;
  }
}

struct Fetched {
  int status;
  std::string body;
};

Fetched get(int port, const std::string& path) {
  Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path,
                             Poco::Net::HTTPMessage::HTTP_1_1);
  s.sendRequest(req);
  Poco::Net::HTTPResponse resp;
  std::istream& in = s.receiveResponse(resp);
  std::stringstream body;
  body << in.rdbuf();
  return {resp.getStatus(), body.str()};
}

TEST(OpsServer, ServesHealthReadinessAndMetrics) {
  Metrics m;
  m.count("mst_plans_written_total", "", 5);
  std::atomic<bool> ready{false};
  OpsServer server("127.0.0.1:0", m, [&] {
    return Readiness{ready.load(), "state store not open"};
  });
  ASSERT_GT(server.port(), 0);
  EXPECT_EQ(get(server.port(), "/healthz").status, 200);
  auto not_ready = get(server.port(), "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.body, "not ready: state store not open\n");
  ready = true;
  EXPECT_EQ(get(server.port(), "/readyz").status, 200);
  auto metrics = get(server.port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("mst_plans_written_total 5\n"), std::string::npos);
  EXPECT_EQ(get(server.port(), "/other").status, 404);
}

// Sends `request` as is and reads the answer until the server closes.
std::string exchange(int port, const std::string& request) {
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  s.sendBytes(request.data(), static_cast<int>(request.size()));
  std::string out;
  char buf[1024];
  for (int n; (n = s.receiveBytes(buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  return out;
}

TEST(OpsServer, HeadIsGetWithoutBodyAndEvery405SaysWhatIsAllowed) {
  Metrics m;
  OpsServer server("127.0.0.1:0", m, [] { return Readiness{true, ""}; });
  const std::string head = exchange(server.port(), "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;  // no body
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "TRACE"}) {
    const std::string r =
        exchange(server.port(), std::string(method) + " /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(r.starts_with("HTTP/1.1 405 ")) << r;
    EXPECT_NE(r.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos) << r;
  }
  EXPECT_TRUE(exchange(server.port(), "garbage\r\n\r\n").starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(exchange(server.port(), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n")
                  .starts_with("HTTP/1.1 431 "));
}

// /readyz answers anyone who reaches the port (issue #12, finding 5).
TEST(OpsServer, ReadinessReasonIsFiltered) {
  Metrics m;
  OpsServer server("127.0.0.1:0", m, [] {
    return Readiness{false, "HTTP 500 Patient Jane Smith DOB 1961-04-02 \x1b[2J Bearer abcdef123"};
  });
  const auto r = get(server.port(), "/readyz");
  EXPECT_EQ(r.status, 503);
  for (const char* leak : {"Jane", "1961", "\x1b", "abcdef123"})
    EXPECT_EQ(r.body.find(leak), std::string::npos) << r.body;
}

// Two processes on one port would both answer probes for one another
// (SO_REUSEPORT); the second must fail to start.
TEST(OpsServer, ASecondListenerOnTheSamePortIsRefused) {
  Metrics m;
  OpsServer first("127.0.0.1:0", m, nullptr);
  try {
    OpsServer second("127.0.0.1:" + std::to_string(first.port()), m, nullptr);
    FAIL() << "bound twice";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
}

TEST(OpsServer, BindFailureNamesTheAddress) {
  Metrics m;
  try {
    OpsServer s("256.1.1.1:80", m, nullptr);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("256.1.1.1:80"), std::string::npos);
  }
}

}  // namespace
}  // namespace mst::adapter
