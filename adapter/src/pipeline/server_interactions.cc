#include "mst/adapter/server_interactions.h"

#include <initializer_list>
#include <string_view>

namespace mst::adapter {

using fhir::kCreate;
using fhir::kRead;
using fhir::kSearch;
using fhir::kUpdate;

namespace {

std::vector<ServerInteraction> both_roles(bool server_concept_maps) {
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

bool one_of(const std::string& type, std::initializer_list<std::string_view> types) {
  for (auto t : types) {
    if (type == t) return true;
  }
  return false;
}

}  // namespace

std::vector<ServerInteraction> server_interactions(bool server_concept_maps, ServerRole role) {
  std::vector<ServerInteraction> rows = both_roles(server_concept_maps);
  if (role == ServerRole::kBoth) return rows;
  std::vector<ServerInteraction> out;
  for (ServerInteraction row : rows) {
    // The writer searches CarePlan, Goal, ServiceRequest, CareTeam and Device
    // by identifier on the server it writes to; the pull reads CarePlans and
    // Goals as inputs from the source.
    const bool written = one_of(
        row.type, {"CarePlan", "Goal", "ServiceRequest", "CareTeam", "Device", "Provenance"});
    if (role == ServerRole::kTarget) {
      if (written) out.push_back(row);
      continue;
    }
    if (written && !one_of(row.type, {"CarePlan", "Goal"})) continue;
    row.access &= kRead | kSearch;
    row.conditional_create = row.conditional_update = false;
    out.push_back(row);
  }
  return out;
}

std::vector<fhir::ResourceAccess> server_access(bool server_concept_maps, ServerRole role) {
  std::vector<fhir::ResourceAccess> out;
  for (const auto& row : server_interactions(server_concept_maps, role))
    out.push_back({row.type, row.access});
  return out;
}

}  // namespace mst::adapter
