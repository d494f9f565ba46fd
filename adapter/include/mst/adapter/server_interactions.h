// Every FHIR interaction the adapter makes, by resource type: the one list
// from which the SMART scopes it requests and the capabilities `check`
// verifies are derived. A read or write added elsewhere without a row here
// fails server_interactions_test.
#pragma once

#include <string>
#include <vector>

#include "mst/fhir/smart_scopes.h"

namespace mst::adapter {

struct ServerInteraction {
  std::string type;
  unsigned access = 0;              // fhir::Access bits: the interactions made
  bool conditional_create = false;  // POST with ifNoneExist
  bool conditional_update = false;  // PUT Type?identifier=...
};

// In the order scopes are requested. `server_concept_maps`: the
// configuration names ConceptMaps to read from the server at start
// (adapter.concept_map_urls), which adds a ConceptMap search.
std::vector<ServerInteraction> server_interactions(bool server_concept_maps);

// The same rows as SMART needs them.
std::vector<fhir::ResourceAccess> server_access(bool server_concept_maps);

// The read a sync population makes (sync.population): a Group or List read
// for group:<id> and list:<id>, nothing for search and file populations or
// a value that does not parse (configuration rejects it).
std::vector<ServerInteraction> population_interactions(const std::string& population);
std::vector<fhir::ResourceAccess> population_access(const std::string& population);

}  // namespace mst::adapter
