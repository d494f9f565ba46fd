// The prefetch an EHR did not send, read from its fhirServer by the pull's
// own reads (one batch Bundle, or one request per template) and answered as
// the EHR would have prefetched it, so one path builds every call's record.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/pipeline/record_puller.h"
#include "mst/adapter/serve/cds_discovery.h"
#include "mst/fhir/client.h"
#include "mst/fhir/json_value.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter {

// {key: value} for each of `missing` (keys of prefetch_templates(tables,
// options)): the Patient, or the searchset Bundle of a search, holding what
// the pull keeps of it (keep_plan_inputs). Reads only those keys, in `mode`
// (kAuto reads as kSearches). Throws what the reads throw (fhir::NotFound
// for an unknown Patient, other fhir::ClientError), std::invalid_argument
// for a key no template has.
fhir::JsonValue fetch_prefetch(fhir::Client& client, const std::string& patient_id,
                               const std::vector<std::string>& missing,
                               const mappings::CodeTables& tables, const PullOptions& options,
                               ReadMode mode);

}  // namespace mst::adapter
