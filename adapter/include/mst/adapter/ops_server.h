// A small local HTTP server for operations: GET /healthz (the process is
// alive), GET /readyz (the adapter can do its job), GET /metrics
// (Prometheus text). Serves on its own threads; stops in the destructor.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "mst/adapter/metrics.h"

namespace Poco::Net {
class HTTPServer;
}

namespace mst::adapter {

struct Readiness {
  bool ready = false;
  std::string reason;  // why not ready, one line
};

class OpsServer {
 public:
  // Listens on `listen` ("host:port"; port 0 picks a free one). Throws
  // std::runtime_error naming the address when it cannot bind.
  OpsServer(const std::string& listen, const Metrics& metrics,
            std::function<Readiness()> readiness);
  ~OpsServer();

  int port() const { return port_; }

 private:
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  int port_ = 0;
};

}  // namespace mst::adapter
