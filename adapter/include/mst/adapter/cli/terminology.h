// The adapter's terminology as FHIR R4 resources (docs/conformance.md): a
// CodeSystem and an all-codes ValueSet for each code system of its own, and
// a ValueSet of the standard codes each code table reads. A pure function of
// the tables' text, the canonical base and the version: the same inputs give
// the same bytes, so the checked-in package can be compared with a fresh one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/json_value.h"

namespace mst::adapter::cli {

// One code-table file (mappings/tables/*.json): its file name and text.
struct TableSource {
  std::string name;
  std::string text;
};

// One resource and the file it is written to, "<type>-<id>.json".
struct TerminologyResource {
  std::string file_name;
  fhir::JsonValue resource;
};

// Sorted by file name. Throws mappings::CodeTableError when a table cannot
// be parsed or one of the adapter's own codes has no definition, UsageError
// when `canonical_base` is not an http(s) URL.
std::vector<TerminologyResource> terminology_resources(const std::vector<TableSource>& tables,
                                                       std::string_view canonical_base,
                                                       std::string_view version);

// The resource's text as written: pretty-printed, newline-terminated.
std::string terminology_file_text(const TerminologyResource& r);

}  // namespace mst::adapter::cli
