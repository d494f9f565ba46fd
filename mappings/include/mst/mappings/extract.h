// The extractor: one patient's record -> the treatment considerations, as
// of one moment. Pure and deterministic: the same record, tables and as_of
// give the same Considerations whatever the order of the input resources.
// docs/considerations.md states every rule, code and threshold it applies.
#pragma once

#include "mst/fhir/datetime.h"
#include "mst/fhir/json.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/considerations.h"
#include "mst/mappings/patient_record.h"

namespace mst::mappings {

// Never throws for bad input: a resource that cannot be read is listed in
// `ignored` with the reason, and what cannot be derived in `data_gaps`.
// Resources dated after `as_of` are not used (they were not known then).
Considerations extract(const PatientRecord& record, const CodeTables& tables,
                       const fhir::DateTime& as_of);

// True for a Goal whose expressedBy is a Patient or RelatedPerson: a
// preference, the only kind of Goal extract() reads as input (a clinician's
// Goal, or the adapter's own proposal, is not).
bool expressed_by_patient(fhir::Node goal);

// True for a ServiceRequest that is a portable medical order (POLST:
// category LOINC 100823-4, or a POLST answer in orderDetail), the only
// ServiceRequest extract() reads as input.
bool is_portable_order(fhir::Node service_request);

// Whether a resource of `type` found by a patient's search is input to the
// plan: a Goal the patient expressed, a portable medical order, anything of
// another type. The pull and the change feed ask this one question, so
// neither reads back the adapter's own Goals and ServiceRequests.
bool is_plan_input(std::string_view type, fhir::Node resource);

// Documented ECOG <-> Karnofsky correspondence (clinical-decision.md §6, the
// widely circulated mapping): KPS 100/90 -> ECOG 0, 80/70 -> 1, 60/50 -> 2,
// 40/30 -> 3, 20/10 -> 4, 0 -> 5; ECOG -> the lower KPS of its band
// (0 -> 90, 1 -> 70, 2 -> 50, 3 -> 30, 4 -> 10, 5 -> 0).
int ecog_from_karnofsky(int kps);
int karnofsky_from_ecog(int ecog);

// SINS band of a total with the table's cut-offs (7 and 13 by default).
SinsBand sins_band(int total, const CodeTables& tables);
// Revised Tokuhashi 2005 band of a total (9 and 12 by default).
TokuhashiBand tokuhashi_band(int total, const CodeTables& tables);

}  // namespace mst::mappings
