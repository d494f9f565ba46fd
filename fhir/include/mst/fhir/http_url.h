// Absolute http(s) URLs as the transports and the client need them: where to
// connect, what goes on the request line, which origin a credential belongs
// to, and a form that is safe to log. Percent-encoding is kept byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mst::fhir {

struct HttpUrl {
  std::string scheme;      // "http" or "https"
  std::string host;        // lower-case reg-name, IPv4 literal, or IPv6 literal without brackets
  std::uint16_t port = 0;  // explicit, or the scheme's default
  std::string path;        // starts with '/'; "/" when the URL has none
  std::string query;       // without the '?'; may be empty

  // Parses an absolute http or https URL; the fragment is dropped. Throws
  // TransportError(kInvalidRequest) on anything else, on user info
  // ("user:pass@"), on a missing host and on bytes that would need encoding.
  static HttpUrl parse(std::string_view text);

  // Resolves a reference (e.g. a Location header) against this URL, per
  // RFC 3986 section 5.2; throws like parse() if the result is not http(s).
  HttpUrl resolve(std::string_view reference) const;

  // "scheme://host:port", the port always explicit: the unit of connection
  // reuse and of trust for credentials and redirects.
  std::string origin() const;
  bool same_origin(const HttpUrl& other) const;

  // The request-target: path plus "?query" when there is one.
  std::string target() const;
  // "scheme://host[:port]" with the port only when not the default.
  std::string authority_url() const;
  // The full URL without its fragment.
  std::string str() const;
  // The URL without its query: safe for error messages and logs.
  std::string redacted() const;
};

}  // namespace mst::fhir
