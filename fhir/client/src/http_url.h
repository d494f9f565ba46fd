// A request URL as the transports need it: validated so that nothing unsafe
// reaches the request line, split into where to connect and what to send.
// Percent-encoding is kept byte for byte. (Resolving references and
// redacting arbitrary text are url.h's job.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mst::fhir::detail {

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

  // "scheme://host:port", the port always explicit: the key of the
  // connection pool.
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

}  // namespace mst::fhir::detail
