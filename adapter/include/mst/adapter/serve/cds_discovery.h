// The CDS Hooks discovery document of `serve`: one patient-view service whose
// prefetch templates are the pull's own searches (detail::relevant_queries),
// so what an EHR prefetches is exactly what `run` would have read.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/pipeline/record_puller.h"
#include "mst/fhir/json_value.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter {

inline constexpr const char* kCdsServiceId = "mst-spine-careplan";

// One prefetch entry: its key and its FHIR query template, relative to the
// EHR's base ("Condition?patient={{context.patientId}}").
struct PrefetchTemplate {
  std::string key;
  std::string query;
};

// "patient" (Patient/{{context.patientId}}), then one per search of the
// pull, in the pull's order; keys are the type in lower camel case, numbered
// when a type is searched more than once ("observation1").
std::vector<PrefetchTemplate> prefetch_templates(const mappings::CodeTables& tables,
                                                 const PullOptions& options);

// {"services": [...]} as GET /cds-services answers it.
fhir::JsonValue discovery_document(const std::vector<PrefetchTemplate>& templates);

}  // namespace mst::adapter
