// HttpTransport over cpprestsdk's http_client (Boost.Asio backend). The
// secondary implementation: cpprestsdk is in maintenance mode upstream.
// Where it cannot match the Poco transport, docs/http-transport.md says so.
#include <cpprest/http_client.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "deadline_watchdog.h"
#include "http_url.h"
#include "mst/fhir/http_transport.h"
#include "transport_rules.h"

namespace mst::fhir {

namespace {

using detail::BodyOut;
using detail::Clock;
using detail::fail;
using detail::HttpUrl;
using detail::Outgoing;
using detail::SinkFailed;
using Kind = TransportError::Kind;
using utility::conversions::to_string_t;
using utility::conversions::to_utf8string;
namespace http = web::http;
namespace client = web::http::client;

long long to_ms(Clock::duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// web::uri refuses some visible ASCII that servers accept raw (FHIR token
// searches put '|' in queries); percent-encoding them means the same thing.
std::string uri_safe(const std::string& target) {
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/?%";
  std::string out;
  for (char c : target) {
    if (std::isalnum(static_cast<unsigned char>(c)) || kAllowed.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

enum class Phase { kHeaders, kBody };

class CpprestTransport final : public HttpTransport {
 public:
  explicit CpprestTransport(const TransportOptions& options) : options_(options) {
    if (!options_.ca_file.empty()) detail::check_ca_bundle(options_.ca_file);
    config_.set_timeout(options_.request_timeout);  // idle time between reads; see the watchdog
    config_.set_validate_certificates(options_.verify_tls);
    config_.set_max_redirects(0);  // redirects are followed above, same-origin only
    config_.set_proxy(web::web_proxy(web::web_proxy::disabled));
    config_.set_ssl_context_callback([ca_file = options_.ca_file](boost::asio::ssl::context& ctx) {
      SSL_CTX* native = ctx.native_handle();
      SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
      SSL_CTX_set_cipher_list(native, detail::kCipherList);
      if (!ca_file.empty()) {
        // cpprestsdk has loaded the system store already; a configured
        // bundle replaces it, as it does for the Poco transport.
        SSL_CTX_set_cert_store(native, X509_STORE_new());
        ctx.load_verify_file(ca_file);
      }
    });
  }

  HttpResponse send(const HttpRequest& request) override { return send_with(request, nullptr); }

  HttpResponse send_streamed(const HttpRequest& request, const BodySink& sink) override {
    return send_with(request, &sink);
  }

 private:
  HttpResponse send_with(const HttpRequest& request, const BodySink* sink) {
    const auto started = Clock::now();
    const auto deadline = detail::exchange_deadline(options_, request, started);
    return detail::send_following_redirects(options_, request, [&](const Outgoing& out) {
      return exchange(out, deadline, deadline - started, sink);
    });
  }

  // Idempotent requests share a client per origin and so its keep-alive
  // pool. http_client re-sends a request, whatever its method, when a pooled
  // connection turns out closed; a non-idempotent one therefore gets a
  // client of its own, whose only connection is new.
  std::shared_ptr<client::http_client> client_for(const Outgoing& out) {
    const auto make = [&] {
      return std::make_shared<client::http_client>(web::uri(to_string_t(out.url.authority_url())),
                                                   config_);
    };
    if (!detail::is_idempotent(out.method)) return make();
    std::lock_guard lock(mu_);
    auto& slot = clients_[out.url.origin()];
    if (!slot) slot = make();
    return slot;
  }

  http::http_request build(const Outgoing& out) const {
    http::http_request request(to_string_t(out.method));
    request.set_request_uri(web::uri(to_string_t(uri_safe(out.url.target()))));
    auto& headers = request.headers();
    for (const auto& [name, value] : *out.headers) {
      headers.add(to_string_t(name), to_string_t(value));
    }
    if (!detail::has_header(*out.headers, "user-agent")) {
      headers.add(http::header_names::user_agent, to_string_t(options_.user_agent));
    }
    if (detail::sends_content_length(out.method, *out.body)) {
      request.set_body(std::vector<unsigned char>(out.body->begin(), out.body->end()));
      // set_body() adds a Content-Type the caller did not ask for.
      if (!detail::has_header(*out.headers, "content-type")) {
        headers.remove(http::header_names::content_type);
      }
    }
    return request;
  }

  HttpResponse exchange(const Outgoing& out, Clock::time_point deadline, Clock::duration budget,
                        const BodySink* sink) {
    if (Clock::now() >= deadline) {
      fail(Kind::kTimeout, out.method, out.url,
           "timed out after " + std::to_string(to_ms(budget)) + " ms before the request was sent");
    }
    http::http_request request = build(out);
    auto client = client_for(out);
    pplx::cancellation_token_source cancel;
    // http_client's own timeout restarts with every read, so a server that
    // trickles bytes would never trip it; cancelling closes the connection.
    auto guard = watchdog_.arm(deadline, [cancel]() mutable { cancel.cancel(); });

    HttpResponse result;
    Phase phase = Phase::kHeaders;
    try {
      http::http_response response = client->request(request, cancel.get_token()).get();
      phase = Phase::kBody;
      result.status = response.status_code();
      for (const auto& [name, value] : response.headers()) {
        std::string lower = to_utf8string(name);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        result.headers.emplace_back(std::move(lower), to_utf8string(value));
      }
      if (!detail::bodiless(out.method, result.status)) {
        const bool streamed = sink != nullptr && result.status >= 200 && result.status < 300;
        BodyOut body(result.body, streamed ? sink : nullptr, options_.max_response_bytes);
        read_body(response, out, cancel, result, body);
      }
    } catch (const SinkFailed& e) {
      cancel.cancel();  // the rest of the body is not wanted; the connection is not reused
      guard.disarm();
      std::rethrow_exception(e.error);
    } catch (const TransportError&) {
      cancel.cancel();
      guard.disarm();
      if (guard.fired()) timed_out(out, budget);
      throw;
    } catch (const std::exception& e) {
      guard.disarm();
      if (guard.fired()) timed_out(out, budget);
      classify(e, phase, out);
    }
    guard.disarm();
    if (guard.fired()) timed_out(out, budget);
    return result;
  }

  void read_body(http::http_response& response, const Outgoing& out,
                 pplx::cancellation_token_source& cancel, const HttpResponse& head, BodyOut& body) {
    const auto too_large = [&] {
      cancel.cancel();  // stops the download and keeps the connection out of the pool
      fail(Kind::kTooLarge, out.method, out.url,
           "response body exceeds the limit of " + std::to_string(options_.max_response_bytes) +
               " bytes");
    };
    std::optional<std::uint64_t> announced;
    if (auto length = head.header("content-length")) {
      try {
        announced = std::stoull(std::string(*length));
      } catch (const std::exception&) {
        fail(Kind::kProtocol, out.method, out.url, "malformed Content-Length");
      }
      if (body.exceeds(*announced)) too_large();
      body.reserve(static_cast<std::size_t>(*announced));
    }
    // The body arrives in a buffer that http_client fills as it reads;
    // draining it as it fills keeps memory near the limit (or flat, streamed).
    auto buffer = response.body().streambuf();
    std::vector<unsigned char> chunk(std::size_t{16} * 1024);
    while (true) {
      const std::size_t n = buffer.getn(chunk.data(), chunk.size()).get();
      if (n == 0) break;
      if (body.exceeds(n)) too_large();
      body.put(reinterpret_cast<const char*>(chunk.data()), n);
    }
    response.content_ready().get();  // rethrows a failure the buffer only reported as its end
    if (announced && body.size() != *announced) {
      fail(Kind::kProtocol, out.method, out.url,
           "the connection closed after " + std::to_string(body.size()) + " of " +
               std::to_string(*announced) + " body bytes");
    }
  }

  [[noreturn]] static void timed_out(const Outgoing& out, Clock::duration budget) {
    fail(Kind::kTimeout, out.method, out.url,
         "no complete response within " + std::to_string(to_ms(budget)) + " ms");
  }

  // cpprestsdk reports everything as http_exception with a fixed message and
  // an error code that has lost its category; the phase and the message are
  // what can be trusted.
  [[noreturn]] static void classify(const std::exception& e, Phase phase, const Outgoing& out) {
    const std::string what = e.what();
    const auto says = [&](std::string_view text) { return what.find(text) != std::string::npos; };
    int code = 0;
    if (const auto* h = dynamic_cast<const http::http_exception*>(&e))
      code = h->error_code().value();
    const std::string detail = detail::sanitize_detail(what);
    if (code == ETIMEDOUT) {
      fail(Kind::kTimeout, out.method, out.url,
           "timed out waiting for the server (" + detail + ")");
    }
    if (says("SSL") || says("handshake") || says("certificate")) {
      fail(Kind::kTls, out.method, out.url, "TLS failure (" + detail + ")");
    }
    if (says("Invalid HTTP status line") || says("Invalid chunked response header") ||
        says("invalid") || says("Invalid")) {
      fail(Kind::kProtocol, out.method, out.url, "malformed HTTP response (" + detail + ")");
    }
    if (phase == Phase::kBody && code != ECONNRESET) {
      fail(Kind::kProtocol, out.method, out.url,
           "the connection closed before the body was complete (" + detail + ")");
    }
    fail(Kind::kConnect, out.method, out.url,
         (phase == Phase::kBody ? "the connection was lost while reading the body ("
                                : "connection failed (") +
             detail + ")");
  }

  const TransportOptions options_;
  client::http_client_config config_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<client::http_client>> clients_;
  detail::DeadlineWatchdog watchdog_;
};

}  // namespace

std::unique_ptr<HttpTransport> make_cpprest_transport(const TransportOptions& options) {
  return std::make_unique<CpprestTransport>(options);
}

}  // namespace mst::fhir
