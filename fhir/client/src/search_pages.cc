#include "search_pages.h"

#include <algorithm>

#include "mst/fhir/client_errors.h"

namespace mst::fhir::detail {

std::optional<std::string_view> absorb_page(SearchResult& result, Node page,
                                            const SearchLimits& limits, const std::string& method,
                                            const std::string& url, int status) {
  try {
    Bundle bundle(page);
    if (result.pages.empty()) result.total = bundle.total();
    for (const BundleEntry& entry : bundle.entries()) {
      if (entry.search_mode == "outcome") {
        auto issues = read_outcome_issues(entry.resource);
        result.warnings.insert(result.warnings.end(), issues.begin(), issues.end());
      } else if (entry.search_mode == "include") {
        if (entry.resource) result.included.push_back(entry.resource);
      } else if (entry.resource) {
        if (result.resources.size() >= limits.max_resources) {
          result.complete = false;
          result.incomplete_reason =
              "stopped at the limit of " + std::to_string(limits.max_resources) + " resources";
          break;
        }
        result.resources.push_back(entry.resource);
      }
    }
    return bundle.link("next");
  } catch (const Error& e) {
    throw InvalidResponse(method, url, status, "", std::string("not a search Bundle: ") + e.what());
  }
}

std::optional<std::string> next_page_url(SearchResult& result, std::optional<std::string_view> next,
                                         const std::string& url, const std::string& origin,
                                         std::unordered_set<std::string>& visited,
                                         const SearchLimits& limits) {
  if (!result.complete || !next || next->empty()) return std::nullopt;
  if (result.resources.size() >= limits.max_resources) {
    result.complete = false;
    result.incomplete_reason = "stopped at the limit of " + std::to_string(limits.max_resources) +
                               " resources; the server has more pages";
    return std::nullopt;
  }
  const std::size_t max_pages = std::max<std::size_t>(limits.max_pages, 1);
  if (result.pages.size() >= max_pages) {
    result.complete = false;
    result.incomplete_reason =
        "stopped at the limit of " + std::to_string(max_pages) + " pages; the server has more";
    return std::nullopt;
  }
  std::string next_url = resolve_url(url, *next);
  if (url_origin(next_url) != origin) {
    result.complete = false;
    result.incomplete_reason = "the next link points to another origin (" + url_origin(next_url) +
                               "); not followed, so credentials stay with " + origin;
    return std::nullopt;
  }
  if (!visited.insert(next_url).second) {
    result.complete = false;
    result.incomplete_reason = "the server repeated a next link (" + redact_url(next_url) +
                               ") after " + std::to_string(result.pages.size()) + " pages";
    return std::nullopt;
  }
  return next_url;
}

}  // namespace mst::fhir::detail
