// What `run` tells its user: a short human summary or a JSON object for
// machines, from one patient's run. Resource ids and clinical codes only; the
// summary is for the operator's terminal, the plan itself is on the server.
#pragma once

#include <string>

#include "mst/adapter/pipeline/pipeline.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter {

std::string summary_text(const PatientRun& run);
// The whole reasoning as a readable report: each consideration, each goal
// with its rationale, evidence and targets, referrals, team, preferences,
// notes, data gaps and what was not used.
std::string explain_text(const Derivation& d);
fhir::JsonValue summary_json(const PatientRun& run);

}  // namespace mst::adapter
