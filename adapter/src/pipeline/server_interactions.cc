#include "mst/adapter/pipeline/server_interactions.h"

#include <initializer_list>
#include <string_view>

#include "mst/adapter/pipeline/search_terms.h"
#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/adapter/sync/population.h"

namespace mst::adapter {

using fhir::kCreate;
using fhir::kRead;
using fhir::kSearch;
using fhir::kUpdate;

namespace {

// Adds `row`, or its access and conditions to the row of its type.
void add(std::vector<ServerInteraction>& rows, const ServerInteraction& row) {
  for (ServerInteraction& r : rows) {
    if (r.type != row.type) continue;
    r.access |= row.access;
    r.conditional_create |= row.conditional_create;
    r.conditional_update |= row.conditional_update;
    return;
  }
  rows.push_back(row);
}

std::vector<ServerInteraction> both_roles(bool server_concept_maps, WriteMode mode) {
  // The pull (record_puller.cc): the Patient by id, the rest by the searches
  // the change feed also makes (detail::relevant_queries); the Medication an
  // order names arrives through _include.
  std::vector<ServerInteraction> rows = {{"Patient", kRead}};
  for (const std::string& type : detail::relevant_types()) add(rows, {type, kSearch});
  add(rows, {"Medication", kRead});
  if (mode == WriteMode::kDocument) {
    // The plan goes out as one note, conditionally created on the plan's
    // identifier, searched by it, and revised by id with If-Match
    // (document_writer.cc). Its author is the adapter by display only, so
    // no Device is written.
    add(rows, {"DocumentReference", kCreate | kUpdate | kSearch, true, false});
  } else {
    // The same rows for transaction, batch and individual requests: each
    // entry of the transaction becomes one request of the same kind.
    for (const ServerInteraction& row : std::initializer_list<ServerInteraction>{
             // Searched by our identifier (plan_writer.cc); a new plan is POSTed
             // with ifNoneExist, a revision PUT by id with If-Match.
             {"CarePlan", kCreate | kUpdate | kSearch, true, false},
             // Created with ifNoneExist in the plan's transaction
             // (careplan_builder.cc); searched by identifier and subject, and
             // updated or withdrawn by id with If-Match, only while the adapter's
             // own untouched proposals (plan_writer.cc, plan_members.h).
             {"Goal", kCreate | kUpdate | kSearch, true, false},
             {"ServiceRequest", kCreate | kUpdate | kSearch, true, false},
             {"CareTeam", kCreate | kUpdate | kSearch, true, false},
             // The adapter's own Device, created once (POST with ifNoneExist), and
             // searched by identifier to prove who wrote a plan.
             {"Device", kCreate | kSearch, true, false},
             // One per write; without a transaction, searched by the plan it
             // names to find one an interrupted write left out (plan_provenance.h).
             {"Provenance", kCreate | kSearch},
         }) {
      add(rows, row);
    }
  }
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

std::vector<ServerInteraction> server_interactions(bool server_concept_maps, WriteMode mode,
                                                   ServerRole role) {
  std::vector<ServerInteraction> rows = both_roles(server_concept_maps, mode);
  if (role == ServerRole::kBoth) return rows;
  std::vector<ServerInteraction> out;
  for (ServerInteraction row : rows) {
    // The writer searches CarePlan, Goal, ServiceRequest, CareTeam, Device
    // (or DocumentReference) by identifier on the server it writes to; the
    // pull reads CarePlans, Goals and portable orders (ServiceRequest) as
    // inputs from the source.
    const bool written = mode == WriteMode::kDocument
                             ? row.type == "DocumentReference"
                             : one_of(row.type, {"CarePlan", "Goal", "ServiceRequest", "CareTeam",
                                                 "Device", "Provenance"});
    if (role == ServerRole::kTarget) {
      if (written) out.push_back(row);
      continue;
    }
    if (written && !one_of(row.type, {"CarePlan", "Goal", "ServiceRequest"})) continue;
    if (row.type == "DocumentReference") continue;
    row.access &= kRead | kSearch;
    row.conditional_create = row.conditional_update = false;
    out.push_back(row);
  }
  return out;
}

std::vector<std::string> system_interactions(WriteMode mode) {
  switch (mode) {
    case WriteMode::kAuto:
    case WriteMode::kTransaction:
      return {"transaction"};
    case WriteMode::kBatch:
      return {"batch"};
    case WriteMode::kIndividual:
    case WriteMode::kDocument:
      return {};
  }
  return {};
}

std::vector<fhir::ResourceAccess> server_access(bool server_concept_maps, WriteMode mode,
                                                ServerRole role) {
  std::vector<fhir::ResourceAccess> out;
  for (const auto& row : server_interactions(server_concept_maps, mode, role))
    out.push_back({row.type, row.access});
  return out;
}

std::vector<ServerInteraction> population_interactions(const std::string& population,
                                                       const std::string& changes) {
  std::vector<ServerInteraction> rows;
  if (changes == "bulk-export") {
    // $export reads every resource of the exported types (bulk_export_feed.cc):
    // the Bulk Data IG's SMART backend scopes are system/<type>.read (v1) or
    // .rs (v2), one per type.
    for (const auto& type : BulkExportOptions::default_types())
      rows.push_back({type, kRead | kSearch});
  }
  try {
    // The whole Group or List in one read (population.cc).
    switch (PopulationSource::parse(population).kind) {
      case PopulationSource::Kind::kGroup:
        rows.push_back({"Group", kRead});
        break;
      case PopulationSource::Kind::kList:
        rows.push_back({"List", kRead});
        break;
      case PopulationSource::Kind::kSearch:
      case PopulationSource::Kind::kFile:
        break;
    }
  } catch (const PopulationError&) {
  }
  return rows;
}

std::vector<fhir::ResourceAccess> population_access(const std::string& population,
                                                    const std::string& changes) {
  std::vector<fhir::ResourceAccess> out;
  for (const auto& row : population_interactions(population, changes))
    out.push_back({row.type, row.access});
  return out;
}

}  // namespace mst::adapter
