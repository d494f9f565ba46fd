#include "mst/adapter/server_interactions.h"

namespace mst::adapter {

using fhir::kCreate;
using fhir::kRead;
using fhir::kSearch;
using fhir::kUpdate;

std::vector<ServerInteraction> server_interactions(bool server_concept_maps) {
  std::vector<ServerInteraction> rows = {
      // The pull (record_puller.cc): the Patient by id, the rest by search
      // (search_terms.cc); the sync change feed searches the same types.
      {"Patient", kRead},
      {"Condition", kSearch},
      {"Observation", kSearch},
      {"Procedure", kSearch},
      {"MedicationRequest", kSearch},
      {"MedicationAdministration", kSearch},
      {"MedicationStatement", kSearch},
      // Arrives through _include of the medication records.
      {"Medication", kRead},
      // Searched by patient (inputs) and by our identifier (plan_writer.cc);
      // a new plan is POSTed with ifNoneExist, a revision PUT by id with
      // If-Match.
      {"CarePlan", kCreate | kUpdate | kSearch, true, false},
      // Written by conditional update in the plan's transaction
      // (careplan_builder.cc), searched and withdrawn by plan_writer.cc.
      {"Goal", kCreate | kUpdate | kSearch, false, true},
      {"ServiceRequest", kCreate | kUpdate | kSearch, false, true},
      {"CareTeam", kCreate | kUpdate | kSearch, false, true},
      // The adapter's own Device, created once (POST with ifNoneExist).
      {"Device", kCreate | kSearch, true, false},
      {"Provenance", kCreate},
  };
  if (server_concept_maps) rows.push_back({"ConceptMap", kSearch});
  return rows;
}

std::vector<fhir::ResourceAccess> server_access(bool server_concept_maps) {
  std::vector<fhir::ResourceAccess> out;
  for (const auto& row : server_interactions(server_concept_maps))
    out.push_back({row.type, row.access});
  return out;
}

}  // namespace mst::adapter
