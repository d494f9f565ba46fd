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

// What a statement covers: one configuration of the adapter. The default is
// the checked-in file's: one server, write.mode=transaction.
struct RequirementsScope {
  WriteMode mode = WriteMode::kTransaction;
  ServerRole role = ServerRole::kBoth;
  bool server_concept_maps = false;
  std::string population = "search";  // sync.population, read where the records are
  std::string changes = "auto";       // sync.changes
};

// The statement of server_interactions(), population_interactions() and
// system_interactions() for `scope`: a resource entry per type (its rows
// merged), every access bit an interaction, the conditional creates and
// updates as flags. `date` is the statement's date (R4 requires one; empty
// leaves it out, for a statement only read in memory).
// `check` verifies a server against the statement of its configuration.
fhir::JsonValue requirements_statement(const std::string& canonical_base, const std::string& date,
                                       const RequirementsScope& scope = {});

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
