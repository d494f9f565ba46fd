#include "mst/adapter/server_interactions.h"

#include "mst/adapter/population.h"

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
      // A patient's treatment consents and refusals (preferences).
      {"Consent", kSearch},
      // Arrives through _include of the medication records.
      {"Medication", kRead},
      // Searched by patient (inputs) and by our identifier (plan_writer.cc);
      // a new plan is POSTed with ifNoneExist, a revision PUT by id with
      // If-Match.
      {"CarePlan", kCreate | kUpdate | kSearch, true, false},
      // Searched by patient as input (a Goal the patient expressed is a
      // preference). Created with ifNoneExist in the plan's transaction
      // (careplan_builder.cc); searched by identifier and subject, and
      // updated or withdrawn by id with If-Match, only while the adapter's
      // own untouched proposals (plan_writer.cc, plan_members.h).
      {"Goal", kCreate | kUpdate | kSearch, true, false},
      {"ServiceRequest", kCreate | kUpdate | kSearch, true, false},
      {"CareTeam", kCreate | kUpdate | kSearch, true, false},
      // The adapter's own Device, created once (POST with ifNoneExist), and
      // searched by identifier to prove who wrote a plan.
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

std::vector<ServerInteraction> population_interactions(const std::string& population) {
  try {
    // The whole Group or List in one read (population.cc).
    switch (PopulationSource::parse(population).kind) {
      case PopulationSource::Kind::kGroup:
        return {{"Group", kRead}};
      case PopulationSource::Kind::kList:
        return {{"List", kRead}};
      case PopulationSource::Kind::kSearch:
      case PopulationSource::Kind::kFile:
        break;
    }
  } catch (const PopulationError&) {
  }
  return {};
}

std::vector<fhir::ResourceAccess> population_access(const std::string& population) {
  std::vector<fhir::ResourceAccess> out;
  for (const auto& row : population_interactions(population)) out.push_back({row.type, row.access});
  return out;
}

}  // namespace mst::adapter
