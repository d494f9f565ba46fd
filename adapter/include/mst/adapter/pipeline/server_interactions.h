// Every FHIR interaction the adapter makes, by resource type: the one list
// from which the SMART scopes it requests and the capabilities `check`
// verifies are derived. A read or write added elsewhere without a row here
// fails server_interactions_test.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/pipeline/write_mode.h"
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
// (adapter.concept_map_urls), which adds a ConceptMap search. The writes
// depend on `mode`: the CarePlan modes write the plan and its members, the
// document mode one DocumentReference; auto is taken as the CarePlan modes
// (a site that can only take notes sets write.mode=document). `role` keeps
// the rows one server of a source/target pair needs.
std::vector<ServerInteraction> server_interactions(bool server_concept_maps,
                                                   WriteMode mode = WriteMode::kTransaction,
                                                   ServerRole role = ServerRole::kBoth);

// The system interactions `mode` posts to [base]: "transaction" or "batch".
std::vector<std::string> system_interactions(WriteMode mode);

// The same rows as SMART needs them.
std::vector<fhir::ResourceAccess> server_access(bool server_concept_maps,
                                                WriteMode mode = WriteMode::kTransaction,
                                                ServerRole role = ServerRole::kBoth);

// The read a sync population makes (sync.population): a Group or List read
// for group:<id> and list:<id>, nothing for search and file populations or
// a value that does not parse (configuration rejects it). With
// sync.changes=bulk-export, a read and search of every exported type too.
std::vector<ServerInteraction> population_interactions(const std::string& population,
                                                       const std::string& changes = "auto");
std::vector<fhir::ResourceAccess> population_access(const std::string& population,
                                                    const std::string& changes = "auto");

}  // namespace mst::adapter
