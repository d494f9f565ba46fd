// The Provenance that records each write of the adapter's plan, and the
// repair of a missing one. Without a transaction a write can stop between
// the CarePlan and its Provenance; the next run finds the plan unchanged,
// so each Provenance carries the content fingerprint of the plan it records
// and the writer looks for one of its own with the current fingerprint.
// Pure functions: the writer does the I/O. docs/careplan-output.md,
// "Write modes".
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter {

// Copies the CarePlan's fingerprint extension (the one whose value is
// `fingerprint`) onto the bundle's Provenance entries. Does nothing when
// the CarePlan carries none.
void record_plan_fingerprint(fhir::JsonValue& bundle, const std::string& fingerprint);

// Whether `provenances` holds one of the adapter's (an agent is one of
// `device_refs`, "Device/<id>") naming `care_plan_ref` ("CarePlan/<id>", any
// version, relative or absolute under `base_url`) among its targets and
// carrying `fingerprint` as read by `read_fingerprint`.
bool has_plan_provenance(const std::vector<fhir::Node>& provenances,
                         const std::string& care_plan_ref, const std::set<std::string>& device_refs,
                         const std::string& fingerprint,
                         const std::function<std::string(fhir::Node)>& read_fingerprint,
                         const std::string& base_url);

// A transaction-shaped bundle that records, late, the Provenance of the
// plan `care_plan_ref` at `version` as built in `built` (its Device, for
// the agent, and its Provenance, aimed at the plan alone and saying it was
// recorded by a later run). Throws std::invalid_argument when `built` has
// no Provenance.
fhir::JsonValue missing_provenance_bundle(const fhir::JsonValue& built,
                                          const std::string& care_plan_ref,
                                          const std::string& version);

}  // namespace mst::adapter
