// The HTTP listener of `serve` over real sockets: how it shares its threads
// between keep-alive connections.
#include "mst/adapter/serve/serve_server.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <istream>
#include <iterator>
#include <string>
#include <thread>

#include "mst/adapter/ops/metrics.h"

namespace mst::adapter {
namespace {

// One GET on `session`; returns whether the answer keeps the connection.
bool get_keeps_alive(Poco::Net::HTTPClientSession& session) {
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/healthz",
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  request.setKeepAlive(true);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  const std::string body{std::istreambuf_iterator<char>(in), {}};
  EXPECT_EQ(response.getStatus(), Poco::Net::HTTPResponse::HTTP_OK);
  EXPECT_EQ(body, "ok");
  return response.getKeepAlive();
}

TEST(ServeServerTest, KeepAliveEndsWhileOthersWaitOrAfterA413) {
  EXPECT_TRUE(keep_alive_after(200, 0));
  EXPECT_FALSE(keep_alive_after(200, 1));
  EXPECT_FALSE(keep_alive_after(413, 0));
}

// With one thread, a busy keep-alive connection held it until the client
// went idle for the whole keep-alive timeout: a second EHR connection waited
// that long (seconds at concurrency 32 in bench/run-serve-latency.sh).
TEST(ServeServerTest, AWaitingConnectionIsAnsweredWithoutWaitingOutKeepAlive) {
  Metrics metrics;
  ServeLimits limits;
  limits.threads = 1;
  limits.queued = 4;
  limits.timeout = std::chrono::seconds(5);
  ServeServer server(
      "127.0.0.1:0", limits,
      [](std::string_view, std::string_view, std::string_view, std::string_view,
         const BrowserHeaders&) {
        ServeReply reply;
        reply.content_type = "text/plain";
        reply.body = "ok";
        return reply;
      },
      metrics);

  Poco::Net::HTTPClientSession first("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
  first.setKeepAlive(true);
  EXPECT_TRUE(get_keeps_alive(first));  // nobody waits: the connection stays

  // The one thread now waits for `first`'s next request; `second` queues.
  auto second = std::async(std::launch::async, [&] {
    const auto start = std::chrono::steady_clock::now();
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    get_keeps_alive(session);
    return std::chrono::steady_clock::now() - start;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(get_keeps_alive(first));  // `second` waits: this answer closes
  EXPECT_LT(second.get(), std::chrono::seconds(3));
}

}  // namespace
}  // namespace mst::adapter
