// A hook for FaultProxy's callers: answer or rewrite a request before it is
// forwarded, and rewrite the upstream's answer on its way back. The EHR
// profile proxy (tests/tools/ehr_proxy) enforces a vendor's restrictions
// with it; faults still apply to whatever is forwarded.
#pragma once

#include <optional>
#include <string>

namespace mst::testing {

struct ProxiedRequest {
  std::string method;
  std::string target;  // path and query as the client sent it; may be rewritten
  std::string body;
  std::string proxy_origin;  // "http://127.0.0.1:PORT": for links the proxy writes
};

struct ProxyAnswer {
  int status = 200;
  std::string content_type = "application/fhir+json";
  std::string body;
};

class ExchangeFilter {
 public:
  virtual ~ExchangeFilter() = default;
  // An answer to send instead of forwarding, or nullopt to forward `request`
  // (whose target the filter may have rewritten). Called from many threads.
  virtual std::optional<ProxyAnswer> on_request(ProxiedRequest& request) = 0;
  // Rewrites the upstream's answer to a forwarded request in place.
  virtual void on_response(const ProxiedRequest& request, int status, std::string& body) = 0;
};

}  // namespace mst::testing
