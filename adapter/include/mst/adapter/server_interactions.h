// Every FHIR interaction the adapter makes, by resource type: the one list
// from which the SMART scopes it requests and the capabilities `check`
// verifies are derived. A read or write added elsewhere without a row here
// fails server_interactions_test.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/write_mode.h"
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
// (adapter.concept_map_urls), which adds a ConceptMap search. The writes
// depend on `mode`: the CarePlan modes write the plan and its members, the
// document mode one DocumentReference; auto is taken as the CarePlan modes
// (a site that can only take notes sets write.mode=document).
std::vector<ServerInteraction> server_interactions(bool server_concept_maps,
                                                   WriteMode mode = WriteMode::kTransaction);

// The system interactions `mode` posts to [base]: "transaction" or "batch".
std::vector<std::string> system_interactions(WriteMode mode);

// The same rows as SMART needs them.
std::vector<fhir::ResourceAccess> server_access(bool server_concept_maps,
                                                WriteMode mode = WriteMode::kTransaction);

}  // namespace mst::adapter
