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

// Which server a list is for when records are read from one server (the
// source) and plans written to another (the target, config.h).
enum class ServerRole {
  kBoth,    // one server reads and writes: every row
  kSource,  // the pull, the change feed, ConceptMaps: reads and searches only
  kTarget,  // the write-back and the searches it makes to prove ownership
};

// In the order scopes are requested. `server_concept_maps`: the
// configuration names ConceptMaps to read from the server at start
// (adapter.concept_map_urls), which adds a ConceptMap search.
std::vector<ServerInteraction> server_interactions(bool server_concept_maps,
                                                   ServerRole role = ServerRole::kBoth);

// The same rows as SMART needs them.
std::vector<fhir::ResourceAccess> server_access(bool server_concept_maps,
                                                ServerRole role = ServerRole::kBoth);

}  // namespace mst::adapter
