#include "mst/adapter/serve/cds_cors.h"

#include <algorithm>

namespace mst::adapter {

namespace {

constexpr std::string_view kPrefix = "/cds-services";

// A browser sends the preflight again after this long (Chromium caps it at
// two hours, Firefox at a day).
constexpr const char* kMaxAgeSeconds = "7200";

}  // namespace

bool cors_path(std::string_view path) {
  path = path.substr(0, path.find('?'));
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == kPrefix) return true;
  if (!path.starts_with(kPrefix) || path.size() <= kPrefix.size() + 1 ||
      path[kPrefix.size()] != '/') {
    return false;
  }
  std::string_view rest = path.substr(kPrefix.size() + 1);  // {id} or {id}/feedback
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return true;
  return slash > 0 && rest.substr(slash) == "/feedback";
}

std::vector<std::pair<std::string, std::string>> cors_headers(
    const std::vector<std::string>& allowed, std::string_view origin) {
  if (origin.empty() || allowed.empty()) return {};
  // Vary even for "*": a cache in between must not serve one origin's
  // answer (or its absence) to another once the list changes.
  if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end()) {
    return {{"Access-Control-Allow-Origin", "*"}, {"Vary", "Origin"}};
  }
  if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return {};
  return {{"Access-Control-Allow-Origin", std::string(origin)}, {"Vary", "Origin"}};
}

ServeReply cors_preflight(const std::vector<std::string>& allowed, std::string_view origin) {
  ServeReply r{204, "text/plain", "", "", "", cors_headers(allowed, origin)};
  if (!r.headers.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
    r.headers.emplace_back("Access-Control-Max-Age", kMaxAgeSeconds);
  }
  return r;
}

ServeHandler with_cors(std::vector<std::string> allowed, ServeHandler handler) {
  if (allowed.empty()) return handler;
  return [allowed = std::move(allowed), handler = std::move(handler)](
             std::string_view method, std::string_view path, std::string_view body,
             std::string_view authorization, const BrowserHeaders& browser) {
    if (!cors_path(path)) return handler(method, path, body, authorization, browser);
    if (method == "OPTIONS") return cors_preflight(allowed, browser.origin);
    ServeReply reply = handler(method, path, body, authorization, browser);
    for (auto& h : cors_headers(allowed, browser.origin)) reply.headers.push_back(std::move(h));
    return reply;
  };
}

}  // namespace mst::adapter
