// What the adapter needs from a FHIR server, checked against its
// CapabilityStatement. Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "mst/fhir/client.h"

namespace mst::adapter::cli {

struct RequirementCheck {
  std::string what;  // "search Condition"
  bool met = false;
  std::string detail;  // why not, when not met
};

// FHIR 4.0.x; read + search of Patient, Condition, Observation, CarePlan;
// create + update of CarePlan, Goal, CareTeam, ServiceRequest, Provenance;
// conditional update of the resources the adapter identifies by business
// identifier; system transaction.
std::vector<RequirementCheck> check_requirements(const fhir::Capabilities& caps);

}  // namespace mst::adapter::cli
