#include "mst/adapter/sync/bulk_type_filter.h"

#include <algorithm>
#include <array>

#include "mst/adapter/sync/bulk_manifest.h"
#include "mst/fhir/datatypes.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

// Search result parameters (R4 search.html#modifyingresults): they shape a
// searchset, not which resources match.
bool is_result_parameter(std::string_view name) {
  static constexpr std::array<std::string_view, 9> kResult{
      "_include",  "_revinclude", "_sort",      "_count",        "_summary",
      "_elements", "_total",      "_contained", "_containedType"};
  if (const auto colon = name.find(':'); colon != std::string_view::npos)
    name = name.substr(0, colon);
  return std::find(kResult.begin(), kResult.end(), name) != kResult.end();
}

[[noreturn]] void refuse(std::string_view query, const std::string& why) {
  throw BulkExportError("sync.bulk_type_filter: '" + fhir::safe_text(query, 120) + "' " + why);
}

void check(std::string_view query, const std::vector<std::string>& types) {
  const auto mark = query.find('?');
  if (mark == std::string_view::npos) refuse(query, "is not Type?search");
  const std::string_view type = query.substr(0, mark);
  if (!fhir::is_resource_type_name(type)) refuse(query, "does not start with a resource type");
  if (std::find(types.begin(), types.end(), type) == types.end()) {
    refuse(query, "filters a type the export does not ask for (_type)");
  }
  std::string_view rest = query.substr(mark + 1);
  if (rest.empty()) refuse(query, "has no search after the '?'");
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == pair.size()) {
      refuse(query, "has a parameter that is not name=value");
    }
    if (is_result_parameter(pair.substr(0, eq))) {
      refuse(query, "uses a search result parameter, which a _typeFilter may not");
    }
  }
}

}  // namespace

std::vector<std::string> parse_type_filters(std::string_view setting,
                                            const std::vector<std::string>& types) {
  std::vector<std::string> filters;
  constexpr std::string_view kSpace = " \t\n";
  while (true) {
    const auto start = setting.find_first_not_of(kSpace);
    if (start == std::string_view::npos) break;
    setting.remove_prefix(start);
    const std::string_view query = setting.substr(0, setting.find_first_of(kSpace));
    setting.remove_prefix(query.size());
    check(query, types);
    filters.emplace_back(query);
  }
  return filters;
}

}  // namespace mst::adapter
