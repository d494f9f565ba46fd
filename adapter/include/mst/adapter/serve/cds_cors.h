// Cross-origin access to the CDS Hooks endpoints (discovery, the service and
// its feedback), for EHRs and sandboxes that call from a browser: CDS Hooks
// 2.0 asks services to support CORS. Only the origins of serve.cors_origins
// are let in ("*": any, for sandboxes); the review page and the ops
// endpoints never answer another origin.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mst/adapter/serve/cds_service.h"
#include "mst/adapter/serve/serve_server.h"

namespace mst::adapter {

// Whether `path` (query aside) is one CORS covers: /cds-services,
// /cds-services/{id}, /cds-services/{id}/feedback.
bool cors_path(std::string_view path);

// The headers a reply to `origin` carries: Access-Control-Allow-Origin (the
// origin itself, or "*" when `allowed` holds "*") and Vary: Origin; none
// when `origin` is empty or not allowed.
std::vector<std::pair<std::string, std::string>> cors_headers(
    const std::vector<std::string>& allowed, std::string_view origin);

// The answer to a preflight (OPTIONS): 204 with the headers above and the
// methods (GET, POST, OPTIONS), request headers (Authorization,
// Content-Type) and max-age a browser may cache it for; 204 without them
// for an origin not allowed, so the browser refuses the call itself.
ServeReply cors_preflight(const std::vector<std::string>& allowed, std::string_view origin);

// `handler` with CORS on the paths above: a preflight is answered before it
// (a preflight carries no Authorization, so it must not meet the EHR's JWT
// check), and its replies there carry cors_headers(). `handler` itself when
// `allowed` is empty: no CORS headers at all.
ServeHandler with_cors(std::vector<std::string> allowed, ServeHandler handler);

}  // namespace mst::adapter
