// A small local HTTP server for operations: GET /healthz (the process is
// alive), GET /readyz (the adapter can do its job), GET /metrics
// (Prometheus text); HEAD as GET without the body. One event thread serves
// every connection, each with a whole-exchange deadline, so idle or slow
// clients cannot hold a probe up (docs/operations.md). Stops in the destructor.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mst/adapter/ops/metrics.h"

namespace mst::adapter {

struct Readiness {
  bool ready = false;
  std::string reason;  // why not ready, one line
};

// The answer to one request; `allow` is set on 405.
struct OpsReply {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::string allow;
};

// What the ops endpoints answer to `method` `target`. Pure apart from the
// two callbacks; HEAD gets GET's reply (the caller drops the body).
OpsReply ops_reply(std::string_view method, std::string_view target, const Metrics& metrics,
                   const std::function<Readiness()>& readiness);

class OpsServer {
 public:
  // Listens on `listen` ("host:port"; port 0 picks a free one), alone: a
  // second listener on the same port fails here. Throws std::runtime_error
  // naming the address when it cannot bind.
  OpsServer(const std::string& listen, const Metrics& metrics,
            std::function<Readiness()> readiness);
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  int port() const { return port_; }

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
  int port_ = 0;
};

}  // namespace mst::adapter
