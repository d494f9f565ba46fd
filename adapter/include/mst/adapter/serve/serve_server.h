// The HTTP listener of `serve`: Poco::Net::HTTPServer with a bounded thread
// pool and queue and socket timeouts, bodies read up to a limit, every
// request counted and timed per endpoint in Metrics. Routing is the
// handler's; stops (finishing requests in flight) in the destructor.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mst/adapter/ops/metrics.h"
#include "mst/adapter/serve/cds_service.h"

namespace mst::adapter {

struct ServeLimits {
  int threads = 8;                   // requests answered at once
  int queued = 64;                   // connections waiting beyond those; more are refused
  std::chrono::seconds timeout{10};  // per socket read or write
  std::size_t max_body_bytes = 16u << 20;
};

// `authorization` is the request's Authorization header, empty when absent.
using ServeHandler =
    std::function<ServeReply(std::string_view method, std::string_view path, std::string_view body,
                             std::string_view authorization, const BrowserHeaders& browser)>;

// The endpoint label of `path` for metrics: "discovery", "patient-view",
// "feedback", "review", "healthz", "readyz", "metrics" or "other" (bounded, so a
// scanner cannot grow the registry).
std::string endpoint_label(std::string_view path);

// Whether a connection stays open for another request after a reply of
// `status`. Each keep-alive connection holds one of the server's threads, so
// while `queued_connections` wait for a thread the reply closes its
// connection and the queue advances; a 413 closes it too (its body was left
// unread).
bool keep_alive_after(int status, int queued_connections);

// True when the host of `listen` ("host:port") is a loopback address or
// "localhost".
bool is_loopback_listen(const std::string& listen);

class ServeServer {
 public:
  // Binds `listen` ("host:port"; port 0 picks one) alone: SO_REUSEADDR but
  // not SO_REUSEPORT, so a second process is refused. Throws
  // std::runtime_error naming the address when it cannot bind.
  ServeServer(const std::string& listen, const ServeLimits& limits, ServeHandler handler,
              Metrics& metrics);
  ~ServeServer();
  ServeServer(const ServeServer&) = delete;
  ServeServer& operator=(const ServeServer&) = delete;

  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace mst::adapter
