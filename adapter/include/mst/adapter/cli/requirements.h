// What the adapter needs from a FHIR server, checked against its
// CapabilityStatement. Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/pipeline/server_interactions.h"
#include "mst/fhir/client.h"

namespace mst::adapter::cli {

struct RequirementCheck {
  std::string what;  // "search Condition"
  bool met = false;
  std::string detail;  // why not, when not met
};

// FHIR 4.0.x; each interaction of `needs` (server_interactions()) declared
// for its type, conditional creates and updates included; each system
// interaction of `system_needs` (system_interactions(): transaction, batch).
std::vector<RequirementCheck> check_requirements(const fhir::Capabilities& caps,
                                                 const std::vector<ServerInteraction>& needs,
                                                 const std::vector<std::string>& system_needs);

}  // namespace mst::adapter::cli
