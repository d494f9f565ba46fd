// One HTTP exchange, behind an interface so the HTTP library can be swapped
// (Poco by default; cpprestsdk as a build option). Retries, auth and FHIR
// semantics live above this layer, in the client.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mst/fhir/errors.h"

namespace mst::fhir {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // GET, POST, PUT, DELETE
  std::string url;     // absolute http(s) URL
  Headers headers;
  std::string body;
  // When non-zero and shorter than TransportOptions::request_timeout, bounds
  // this exchange instead: the client passes what is left of its deadline.
  std::chrono::milliseconds timeout{0};
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;

  // First header with this (case-insensitive) name.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};  // whole exchange, per attempt
  std::size_t max_response_bytes = 64u << 20;
  bool verify_tls = true;  // never off by default
  std::string ca_file;     // PEM bundle; empty = system default
  int max_redirects = 3;   // same-origin redirects only; credentials never cross origins
  std::string user_agent = std::string("mst-adapter/") + MST_VERSION;
};

// Why an exchange produced no HTTP response.
class TransportError : public Error {
 public:
  enum class Kind { kConnect, kTimeout, kTls, kProtocol, kTooLarge };
  TransportError(Kind kind, const std::string& what) : Error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Sends one request and returns the response whatever its status; throws
// TransportError when there is none. Implementations are safe to call from
// several threads at once and reuse connections.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpTransport> make_poco_transport(const TransportOptions& options);
#ifdef MST_WITH_CPPREST
std::unique_ptr<HttpTransport> make_cpprest_transport(const TransportOptions& options);
#endif

}  // namespace mst::fhir
