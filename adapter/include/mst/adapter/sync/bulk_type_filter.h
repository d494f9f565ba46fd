// sync.bulk_type_filter: Bulk Data `_typeFilter` queries
// (https://hl7.org/fhir/uv/bulkdata/export.html#_typefilter-query-parameter),
// each `Type?search` narrowing what the export returns of one of its types.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mst::adapter {

// Splits the setting (queries separated by spaces) and checks each: a type
// the export asks for (`types`), then name=value pairs joined by `&`, none a
// search result parameter (_include, _sort, _count, ...), which the IG
// forbids here. Throws BulkExportError naming the query and what is wrong.
std::vector<std::string> parse_type_filters(std::string_view setting,
                                            const std::vector<std::string>& types);

}  // namespace mst::adapter
