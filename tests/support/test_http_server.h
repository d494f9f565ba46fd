// A real HTTP(S) server on 127.0.0.1 and an ephemeral port, for tests that
// need one: register a handler per path, and each request runs it on a server
// thread. Besides normal replies a handler can misbehave on purpose (delay,
// trickle, reset, garbage) so clients can be tested against faulty servers.
//
//   mst::testing::TestHttpServer server;
//   server.handle("/Patient/1", [](const ServedRequest& r, Reply& reply) {
//     reply.send(200, R"({"resourceType":"Patient","id":"1"})",
//                {{"Content-Type", "application/fhir+json"}});
//   });
//   transport->send({"GET", server.url("/Patient/1"), {}, {}});
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/http_transport.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
}  // namespace Poco::Net

namespace mst::testing {

// A request as the server received it.
struct ServedRequest {
  std::string method;
  std::string target;     // path and query, as on the request line
  std::string path;       // target without the query
  fhir::Headers headers;  // names lower-cased, in arrival order
  std::string body;
  std::uint64_t connection = 0;         // 1-based, in accept order
  std::uint64_t nth_on_connection = 0;  // 1 for the first request on its connection

  std::optional<std::string_view> header(std::string_view name) const;
};

class TestHttpServer;

// How a handler answers. Use one of send/stream/trickle/raw/reset/close; a
// handler that uses none gets a 500.
class Reply {
 public:
  // A normal response; Content-Length is set unless `headers` has one (so a
  // test can announce a length it does not send).
  void send(int status, std::string_view body = {}, const fhir::Headers& headers = {});
  // A body of `size` bytes of 'x', generated as it is sent, chunked or with
  // Content-Length. Stops early when the client goes away.
  void stream(int status, std::uint64_t size, bool chunked);
  // Writes `head` raw, then `filler` once per `interval` until the client
  // goes away or the server stops: a server that never finishes.
  void trickle(std::string_view head, std::chrono::milliseconds interval,
               std::string_view filler = "x");
  // Writes these bytes instead of an HTTP response and closes.
  void raw(std::string_view bytes);
  // Closes with a TCP reset, without a response.
  void reset();
  // Closes cleanly (FIN), without a response.
  void close();
  // Waits; returns early (false) when the server is stopping.
  bool delay(std::chrono::milliseconds duration);

  bool replied() const { return replied_; }

 private:
  friend class TestHttpServer;
  Reply(TestHttpServer& server, Poco::Net::HTTPServerRequest& request,
        Poco::Net::HTTPServerResponse& response)
      : server_(server), request_(request), response_(response) {}
  void mark();

  TestHttpServer& server_;
  Poco::Net::HTTPServerRequest& request_;
  Poco::Net::HTTPServerResponse& response_;
  bool replied_ = false;
};

using Handler = std::function<void(const ServedRequest&, Reply&)>;

class TestHttpServer {
 public:
  // For https: PEM files of the server's certificate (chain) and key.
  struct TlsIdentity {
    std::string certificate_file;
    std::string key_file;
  };

  TestHttpServer();                                 // http
  explicit TestHttpServer(const TlsIdentity& tls);  // https
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // Routes requests whose path (no query) is exactly `path`; registering a
  // path again replaces its handler. Unrouted paths get 404.
  void handle(const std::string& path, Handler handler);
  // A handler that always sends this response.
  void reply(const std::string& path, int status, std::string body = {},
             fhir::Headers headers = {});

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" followed by `path_and_query`.
  std::string url(std::string_view path_and_query = "/") const;

  // Connections accepted so far.
  std::uint64_t connections() const { return accepted_.load(); }
  // Every request received so far, in arrival order.
  std::vector<ServedRequest> requests() const;
  std::size_t count(std::string_view path) const;

  // Stops accepting, aborts open connections and waits for handlers to
  // return (they see delay() return false). Idempotent; the destructor calls it.
  void stop();

 private:
  friend class Reply;
  class Impl;

  void accepted(const std::string& peer);
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
  bool wait_unless_stopping(std::chrono::milliseconds duration);
  bool stopping() const;

  std::unique_ptr<Impl> impl_;
  std::string scheme_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> accepted_{0};

  mutable std::mutex mu_;
  std::map<std::string, Handler> handlers_;
  std::vector<ServedRequest> requests_;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> peers_;  // peer -> (id, requests)
  bool stopping_ = false;
  std::condition_variable stop_cv_;
};

}  // namespace mst::testing
