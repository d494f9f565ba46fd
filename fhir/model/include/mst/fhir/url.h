// The few URL operations the client needs: query encoding, resolving a
// Bundle link against the page it came from, origin comparison, and a form
// of a URL that is safe to print.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mst::fhir {

// Query parameters in order; names and values unencoded. A name may repeat
// (FHIR ANDs repeated parameters).
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes one query name or value (UTF-8 bytes). Keeps RFC 3986
// unreserved characters and the FHIR separators ',' ':' '/' '$' '@', which
// are legal in a query.
std::string encode_query_component(std::string_view s);
// "a=1&b=x%7Cy" (without a leading '?').
std::string encode_query(const QueryParams& params);

// True for an absolute http:// or https:// URL with a host.
bool is_http_url(std::string_view url);
// "scheme://host[:port]" in lower case without a default port; empty when
// `url` is not an absolute http(s) URL.
std::string url_origin(std::string_view url);
// Resolves `ref` against the absolute URL `base` as RFC 3986 section 5.2 does:
// absolute, network-path ("//h/p"), absolute-path, query-only and relative
// references.
std::string resolve_url(std::string_view base, std::string_view ref);
// The URL for messages and logs: no user-info, no fragment, and query values
// replaced by "***" ("Patient?name=***&_count=***") since they may identify
// a patient.
std::string redact_url(std::string_view url);
// `text` with every http(s) URL in it passed through redact_url.
std::string redact_urls_in(std::string_view text);

}  // namespace mst::fhir
