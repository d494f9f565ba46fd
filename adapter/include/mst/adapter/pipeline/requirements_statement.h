// What the adapter needs from a server, as a FHIR CapabilityStatement
// (kind=requirements): conformance/capability/mst-adapter-requirements.json
// is this statement for the default canonical base, generated, never edited
// (requirements_statement_test fails when they differ). docs/conformance.md.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/pipeline/server_interactions.h"
#include "mst/fhir/client.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter {

// The statement of server_interactions() and system_interactions() for the
// default write mode (transaction) with one server: every row a resource
// entry, every access bit an interaction, the conditional creates and
// updates as flags. `date` is the statement's date (R4 requires one).
fhir::JsonValue requirements_statement(const std::string& canonical_base, const std::string& date);

// The needs a requirements statement declares, read back as the rows
// `check` verifies: resources with their interactions and conditional
// flags, and the system interactions. Interactions the adapter has no access
// bit for (vread, history, patch) are not read.
struct DeclaredNeeds {
  std::vector<ServerInteraction> resources;
  std::vector<std::string> system;
};
DeclaredNeeds needs_of(const fhir::Capabilities& statement);

}  // namespace mst::adapter
