#include "transport_rules.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

#include "mst/fhir/url.h"

namespace mst::fhir::detail {

namespace {

bool is_token_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return kExtra.find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

[[noreturn]] void invalid(const std::string& why) {
  throw TransportError(TransportError::Kind::kInvalidRequest, "invalid request: " + why);
}

}  // namespace

void validate_request(const HttpRequest& request) {
  if (!is_token(request.method)) invalid("method is not an HTTP token");
  constexpr std::array<std::string_view, 8> kFraming = {
      "host",    "content-length", "transfer-encoding", "connection", "keep-alive", "te",
      "upgrade", "expect"};
  for (const auto& [name, value] : request.headers) {
    // Names are safe to quote (tokens only); values never are.
    if (!is_token(name)) invalid("a header name is not an HTTP token");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      invalid("header " + name + " has CR, LF or NUL in its value");
    }
    for (auto framing : kFraming) {
      if (iequals(name, framing)) invalid("header " + name + " is set by the transport");
    }
  }
}

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

bool sends_content_length(std::string_view method, const std::string& body) {
  return !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
}

std::optional<RedirectStep> next_redirect(const HttpUrl& current, std::string_view method,
                                          int status, std::optional<std::string_view> location) {
  if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
    return std::nullopt;
  }
  if (!location || location->empty()) return std::nullopt;
  RedirectStep step;
  try {
    step.url = HttpUrl::parse(resolve_url(current.str(), *location));
  } catch (const TransportError&) {
    return std::nullopt;  // an unusable Location: hand the 3xx to the caller
  }
  if (!step.url.same_origin(current)) return std::nullopt;
  step.method = std::string(method);
  // RFC 9110 15.4: 303 means "GET the other resource"; 301/302 after POST
  // are turned into GET by every deployed client, so servers expect it.
  if ((status == 303 && method != "HEAD") ||
      ((status == 301 || status == 302) && method == "POST")) {
    step.method = "GET";
    step.drop_body = true;
  }
  return step;
}

HttpResponse send_following_redirects(const TransportOptions& options, const HttpRequest& request,
                                      const SendOnce& once) {
  Outgoing out{{}, request.method, &request.headers, &request.body};
  try {
    out.url = HttpUrl::parse(request.url);
  } catch (const TransportError& e) {
    throw TransportError(TransportError::Kind::kInvalidRequest,
                         sanitize_detail(request.method) + ": " + e.what());
  }
  try {
    validate_request(request);
  } catch (const TransportError& e) {
    fail(TransportError::Kind::kInvalidRequest, sanitize_detail(request.method), out.url, e.what());
  }

  Headers bodiless_headers;
  const std::string no_body;
  for (int hop = 0;; ++hop) {
    HttpResponse response = once(out);
    if (hop >= options.max_redirects) return response;
    auto step = next_redirect(out.url, out.method, response.status, response.header("location"));
    if (!step) return response;
    out.url = std::move(step->url);
    out.method = std::move(step->method);
    if (step->drop_body) {
      // The body is gone, so are the headers that described it.
      bodiless_headers.clear();
      for (const auto& h : *out.headers) {
        if (!header_is(h.first, "content-type") && !header_is(h.first, "content-encoding")) {
          bodiless_headers.push_back(h);
        }
      }
      out.headers = &bodiless_headers;
      out.body = &no_body;
    }
  }
}

bool header_is(std::string_view name, std::string_view lower) {
  return name.size() == lower.size() &&
         std::equal(name.begin(), name.end(), lower.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

bool has_header(const Headers& headers, std::string_view lower) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return header_is(h.first, lower); });
}

bool bodiless(std::string_view method, int status) {
  return method == "HEAD" || status < 200 || status == 204 || status == 304;
}

Clock::time_point exchange_deadline(const TransportOptions& options, const HttpRequest& request,
                                    Clock::time_point now) {
  auto budget = options.request_timeout;
  if (request.timeout.count() > 0 && request.timeout < budget) budget = request.timeout;
  return now + budget;
}

void check_ca_bundle(const std::string& path) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  if (!store || X509_STORE_load_file(store.get(), path.c_str()) != 1) {
    ERR_clear_error();
    throw TransportError(TransportError::Kind::kTls,
                         "CA bundle " + path + " is not a readable PEM certificate file");
  }
}

std::string sanitize_detail(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= 160) break;
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : ' ');
  }
  return out;
}

void fail(TransportError::Kind kind, std::string_view method, const HttpUrl& url,
          const std::string& what) {
  throw TransportError(kind, std::string(method) + " " + url.redacted() + ": " + what);
}

}  // namespace mst::fhir::detail
