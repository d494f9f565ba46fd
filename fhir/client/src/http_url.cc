#include "http_url.h"

#include <cctype>
#include <optional>

#include "mst/fhir/http_transport.h"

namespace mst::fhir::detail {

namespace {

[[noreturn]] void invalid(const std::string& why) {
  throw TransportError(TransportError::Kind::kInvalidRequest, "invalid URL: " + why);
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Path and query bytes: visible ASCII only, '%' followed by two hex digits.
// Spaces, controls and non-ASCII must be percent-encoded by the caller; that
// also makes request-line injection impossible.
void check_component(std::string_view text, const char* what) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c >= 0x7f)
      invalid(std::string(what) + " has a byte that must be percent-encoded");
    if (c == '%' && (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2]))) {
      invalid(std::string(what) + " has a malformed percent-encoding");
    }
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_reg_name(std::string_view host) {
  for (char c : host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == '_' || c == '~' || c == '%';
    if (!ok) return false;
  }
  return true;
}

bool valid_ipv6(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  return host.find(':') != std::string_view::npos;
}

struct Split {
  std::optional<std::string_view> scheme;
  std::optional<std::string_view> authority;
  std::string_view path;
  std::optional<std::string_view> query;
};

// The generic split of RFC 3986 appendix B; no validation.
Split split(std::string_view text) {
  Split s;
  if (const auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  const auto colon = text.find(':');
  const auto first_delim = text.find_first_of("/?");
  if (colon != std::string_view::npos && colon > 0 &&
      (first_delim == std::string_view::npos || colon < first_delim) &&
      std::isalpha(static_cast<unsigned char>(text[0]))) {
    bool ok = true;
    for (char c : text.substr(0, colon)) {
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
    }
    if (ok) {
      s.scheme = text.substr(0, colon);
      text.remove_prefix(colon + 1);
    }
  }
  if (text.starts_with("//")) {
    text.remove_prefix(2);
    const auto end = text.find_first_of("/?");
    s.authority = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
  }
  const auto question = text.find('?');
  s.path = text.substr(0, question);
  if (question != std::string_view::npos) s.query = text.substr(question + 1);
  return s;
}

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

}  // namespace

HttpUrl HttpUrl::parse(std::string_view text) {
  const Split s = split(text);
  if (!s.scheme) invalid("not absolute");
  HttpUrl url;
  url.scheme = lower(*s.scheme);
  if (url.scheme != "http" && url.scheme != "https") invalid("scheme is not http or https");
  if (!s.authority) invalid("no authority");
  std::string_view authority = *s.authority;
  if (authority.find('@') != std::string_view::npos) {
    invalid("user info in URLs is not accepted; send credentials in a header");
  }
  std::string_view port_text;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) invalid("unterminated IPv6 literal");
    const auto host = authority.substr(1, close - 1);
    if (!valid_ipv6(host)) invalid("malformed IPv6 literal");
    url.host = lower(host);
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') invalid("garbage after IPv6 literal");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    const auto host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (host.empty()) invalid("no host");
    if (!valid_reg_name(host)) invalid("host has characters that are not allowed");
    url.host = lower(host);
  }
  if (url.host.empty()) invalid("no host");
  url.port = default_port(url.scheme);
  if (!port_text.empty()) {
    unsigned long value = 0;
    if (port_text.size() > 5) invalid("port out of range");
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) invalid("port is not a number");
      value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (value == 0 || value > 65535) invalid("port out of range");
    url.port = static_cast<std::uint16_t>(value);
  }
  check_component(s.path, "path");
  url.path = s.path.empty() ? "/" : std::string(s.path);
  if (s.query) {
    check_component(*s.query, "query");
    url.query = std::string(*s.query);
  }
  return url;
}

std::string HttpUrl::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool HttpUrl::same_origin(const HttpUrl& other) const {
  return scheme == other.scheme && host == other.host && port == other.port;
}

std::string HttpUrl::target() const { return query.empty() ? path : path + "?" + query; }

std::string HttpUrl::authority_url() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = scheme + "://" + (v6 ? "[" + host + "]" : host);
  if (port != default_port(scheme)) out += ":" + std::to_string(port);
  return out;
}

std::string HttpUrl::str() const { return authority_url() + target(); }

std::string HttpUrl::redacted() const { return authority_url() + path; }

}  // namespace mst::fhir::detail
