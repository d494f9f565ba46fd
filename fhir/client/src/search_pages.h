// How a searchset's pages add up to one SearchResult, shared by a search and
// by the entries of a batch read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "mst/fhir/client.h"

namespace mst::fhir::detail {

// Adds the entries of one searchset page to `result` within `limits` and
// returns its next link, if any. Throws InvalidResponse (naming `method`,
// `url`, `status`) when `page` is not a Bundle.
std::optional<std::string_view> absorb_page(SearchResult& result, Node page,
                                            const SearchLimits& limits, const std::string& method,
                                            const std::string& url, int status);

// The absolute URL of the next page to fetch after `url`, or nullopt when
// paging ends there; a bound, a repeated link or a link to another origin
// than `origin` marks `result` incomplete with the reason. `visited` holds
// the URLs fetched so far.
std::optional<std::string> next_page_url(SearchResult& result, std::optional<std::string_view> next,
                                         const std::string& url, const std::string& origin,
                                         std::unordered_set<std::string>& visited,
                                         const SearchLimits& limits);

}  // namespace mst::fhir::detail
