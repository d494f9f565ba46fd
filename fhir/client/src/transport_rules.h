// HTTP rules both transports apply the same way: what a request may carry,
// which redirects are followed and how, the exchange deadline, and the shape
// of error messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http_url.h"
#include "mst/fhir/http_transport.h"

namespace mst::fhir::detail {

// Throws TransportError(kInvalidRequest) unless the method is an HTTP token
// and every header has a token name and a value without CR, LF or NUL. The
// transport owns framing: Host, Content-Length, Transfer-Encoding, Connection,
// Keep-Alive, TE, Upgrade and Expect are rejected.
void validate_request(const HttpRequest& request);

// Methods that may be re-sent without changing the outcome (RFC 9110 9.2.2).
bool is_idempotent(std::string_view method);

// Whether the request carries Content-Length even when its body is empty.
bool sends_content_length(std::string_view method, const std::string& body);

// One hop of a redirect chain.
struct RedirectStep {
  HttpUrl url;
  std::string method;
  bool drop_body = false;  // 303, and 301/302 after POST, become a bodiless GET
};

// The next request when `status` is 301/302/303/307/308 with a Location that
// resolves to the same origin as `current`; nullopt otherwise (the response
// is then returned to the caller as it is).
std::optional<RedirectStep> next_redirect(const HttpUrl& current, std::string_view method,
                                          int status, std::optional<std::string_view> location);

using Clock = std::chrono::steady_clock;

// One request as a transport puts it on the wire: the original, or a hop of
// its redirect chain.
struct Outgoing {
  HttpUrl url;
  std::string method;
  const Headers* headers = nullptr;
  const std::string* body = nullptr;
};

// What a transport does for one Outgoing: send it, return the response or
// throw TransportError.
using SendOnce = std::function<HttpResponse(const Outgoing&)>;

// The flow both transports share: validates `request` (kInvalidRequest,
// nothing sent), sends it with `once`, and follows same-origin redirects up
// to options.max_redirects; the last response is returned as it is.
HttpResponse send_following_redirects(const TransportOptions& options, const HttpRequest& request,
                                      const SendOnce& once);

// Whether a header name equals `lower`, which is already lower-case.
bool header_is(std::string_view name, std::string_view lower);
bool has_header(const Headers& headers, std::string_view lower);

// No body whatever the headers say (RFC 9110 6.4.1).
bool bodiless(std::string_view method, int status);

// When the whole send() must be over: the request's own timeout when it is
// set and shorter than the transport's.
Clock::time_point exchange_deadline(const TransportOptions& options, const HttpRequest& request,
                                    Clock::time_point now);

// OpenSSL cipher list for both transports (TLS 1.2 and later only).
inline constexpr const char* kCipherList = "DEFAULT:!aNULL:!eNULL:!MD5:!RC4:!3DES";

// Throws TransportError(kTls) unless `path` is a PEM file with at least one
// certificate: a bad CA bundle is a configuration error, found at startup.
void check_ca_bundle(const std::string& path);

// Printable ASCII, at most 160 bytes: for library messages quoted in errors.
std::string sanitize_detail(std::string_view text);

// "METHOD scheme://host[:port]/path: what" as a TransportError.
[[noreturn]] void fail(TransportError::Kind kind, std::string_view method, const HttpUrl& url,
                       const std::string& what);

// Thrown past the HTTP library's handlers when the caller's sink threw: its
// own exception, not a network failure, is what the caller gets.
struct SinkFailed {
  std::exception_ptr error;
};

// Where a body goes: into the response, bounded by max_response_bytes, or
// to the caller's sink piece by piece, unbounded.
class BodyOut {
 public:
  BodyOut(std::string& body, const BodySink* sink, std::size_t limit)
      : body_(body), sink_(sink), limit_(limit) {}

  bool bounded() const { return sink_ == nullptr; }
  std::size_t size() const { return size_; }
  // Whether `n` more bytes would pass the bound.
  bool exceeds(std::uint64_t n) const { return bounded() && n > limit_ - size_; }
  void reserve(std::size_t n) {
    if (bounded()) body_.reserve(n);
  }
  void put(const char* data, std::size_t n) {
    if (n == 0) return;
    size_ += n;
    if (bounded()) {
      body_.append(data, n);
      return;
    }
    try {
      (*sink_)(std::string_view(data, n));
    } catch (...) {
      throw SinkFailed{std::current_exception()};
    }
  }

 private:
  std::string& body_;
  const BodySink* sink_;
  std::size_t limit_;
  std::size_t size_ = 0;
};

}  // namespace mst::fhir::detail
