// The patient record of a CDS Hooks call's prefetch: complete when every
// template of discovery has its value, then built the way `run --input`
// builds a record from a Bundle.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/serve/cds_discovery.h"
#include "mst/adapter/serve/cds_request.h"
#include "mst/mappings/patient_record.h"

namespace mst::adapter {

// The keys of `templates` the request's prefetch lacks (absent, null, or the
// OperationOutcome of a failed prefetch), in template order; empty when the
// prefetch is complete.
std::vector<std::string> missing_prefetch(const CdsRequest& request,
                                          const std::vector<PrefetchTemplate>& templates);

// The record of context.patientId from a complete prefetch. Throws
// CdsRequestError (400) when a value is not a FHIR resource, a search's value
// is not a Bundle of the searched type (its _include'd entries aside), or the
// resources cannot form that patient's record (another patient's data).
mappings::PatientRecord record_from_prefetch(const CdsRequest& request,
                                             const std::vector<PrefetchTemplate>& templates);

}  // namespace mst::adapter
