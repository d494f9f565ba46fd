// One HTTP exchange, behind an interface so the HTTP library can be swapped
// (Poco by default; cpprestsdk as a build option). Retries, auth and FHIR
// semantics live above this layer, in the client.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mst/fhir/errors.h"

namespace mst::fhir {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Takes a response body piece by piece, in order.
using BodySink = std::function<void(std::string_view piece)>;

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
  // Keep-alive pool: idle connections kept per scheme+host+port, and how long
  // one may sit idle before it is closed instead of reused.
  std::size_t max_idle_per_origin = 8;
  std::chrono::milliseconds idle_timeout{30'000};
};

// Why an exchange produced no HTTP response. what() names the method and the
// URL without its query string, never a header value or a body.
class TransportError : public Error {
 public:
  enum class Kind {
    kConnect,         // refused, reset, or closed before a complete response
    kTimeout,         // connect_timeout or the exchange deadline passed
    kTls,             // handshake, certificate or host name verification failed
    kProtocol,        // the peer did not speak HTTP/1.1 correctly (incl. truncated body)
    kTooLarge,        // the body exceeds max_response_bytes; reading stopped early
    kInvalidRequest,  // the request cannot be sent as given (bad URL or header); nothing sent
  };
  TransportError(Kind kind, const std::string& what) : Error(what), kind_(kind) {}
  Kind kind() const { return kind_; }
  ErrorKind error_kind() const override {
    return kind_ == Kind::kInvalidRequest ? ErrorKind::kInvalidRequest : ErrorKind::kUnreachable;
  }

 private:
  Kind kind_;
};

// "connect", "timeout", ... for logs and metrics labels.
const char* to_string(TransportError::Kind kind);

// Sends one request and returns the response whatever its status; throws
// TransportError when there is none. Implementations are safe to call from
// several threads at once and reuse connections; they follow same-origin
// redirects only and never send a non-idempotent request twice.
// docs/http-transport.md has the full contract.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;

  // Like send(), except that a 2xx response's body is handed to `sink` in
  // pieces as it arrives (HttpResponse::body stays empty), so memory does not
  // grow with it and max_response_bytes does not bound it; other responses
  // keep their body as send() does. An exception from `sink` ends the exchange
  // and reaches the caller as it is. The default, for transports that cannot
  // stream, reads the whole body with send() and hands it over at once.
  virtual HttpResponse send_streamed(const HttpRequest& request, const BodySink& sink);
};

std::unique_ptr<HttpTransport> make_poco_transport(const TransportOptions& options);
#ifdef MST_WITH_CPPREST
std::unique_ptr<HttpTransport> make_cpprest_transport(const TransportOptions& options);
#endif

}  // namespace mst::fhir
