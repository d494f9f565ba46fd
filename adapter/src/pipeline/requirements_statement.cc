#include "mst/adapter/pipeline/requirements_statement.h"

#include <algorithm>
#include <string_view>

namespace mst::adapter {

namespace {

using fhir::JsonValue;

struct InteractionCode {
  fhir::Access access;
  std::string_view code;  // CapabilityStatement.rest.resource.interaction.code
};
constexpr InteractionCode kCodes[] = {{fhir::kRead, "read"},
                                      {fhir::kSearch, "search-type"},
                                      {fhir::kCreate, "create"},
                                      {fhir::kUpdate, "update"},
                                      {fhir::kDelete, "delete"}};

std::string trimmed(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

// One line per resource type, so a reader of the resource (and dom-6)
// needs no renderer. Types and codes are FHIR names: nothing to escape.
std::string narrative_row(const ServerInteraction& row) {
  std::string line = "<li>" + row.type + ":";
  for (const InteractionCode& c : kCodes) {
    if (row.access & c.access) line += " " + std::string(c.code);
  }
  if (row.conditional_create) line += ", conditional create";
  if (row.conditional_update) line += ", conditional update";
  return line + "</li>";
}

JsonValue resource_entry(const ServerInteraction& row) {
  JsonValue interactions = JsonValue::array();
  for (const InteractionCode& c : kCodes) {
    if (row.access & c.access) interactions.push(JsonValue::object({{"code", c.code}}));
  }
  JsonValue entry = JsonValue::object({{"type", row.type}, {"interaction", interactions}});
  // Absent means "not needed"; false would read as a statement about the
  // server rather than about the adapter.
  if (row.conditional_create) entry.set("conditionalCreate", true);
  if (row.conditional_update) entry.set("conditionalUpdate", true);
  return entry;
}

// The rows of `scope`, one per resource type.
std::vector<ServerInteraction> rows_of(const RequirementsScope& scope) {
  std::vector<ServerInteraction> rows =
      server_interactions(scope.server_concept_maps, scope.mode, scope.role);
  if (scope.role != ServerRole::kTarget) {
    // The sync population (a Group or List, an export) is read where the
    // records are.
    for (const ServerInteraction& add : population_interactions(scope.population, scope.changes)) {
      auto it = std::find_if(rows.begin(), rows.end(),
                             [&](const ServerInteraction& r) { return r.type == add.type; });
      if (it == rows.end()) {
        rows.push_back(add);
      } else {
        it->access |= add.access;
      }
    }
  }
  return rows;
}

std::string scope_text(const RequirementsScope& scope) {
  const char* role = scope.role == ServerRole::kSource   ? "the source server"
                     : scope.role == ServerRole::kTarget ? "the target server"
                                                         : "one server";
  return std::string(role) + ", write.mode=" + std::string(write_mode_name(scope.mode));
}

}  // namespace

JsonValue requirements_statement(const std::string& canonical_base, const std::string& date,
                                 const RequirementsScope& scope) {
  const std::string base = trimmed(canonical_base);
  JsonValue resources = JsonValue::array();
  std::string div =
      "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>What the MST Care-Plan Adapter needs from "
      "a FHIR R4 server (" +
      scope_text(scope) + "):</p><ul>";
  for (const ServerInteraction& row : rows_of(scope)) {
    resources.push(resource_entry(row));
    div += narrative_row(row);
  }
  const std::vector<std::string> system_needs = scope.role == ServerRole::kSource
                                                    ? std::vector<std::string>{}
                                                    : system_interactions(scope.mode);
  JsonValue system = JsonValue::array();
  for (const std::string& code : system_needs) {
    system.push(JsonValue::object({{"code", code}}));
    div += "<li>system: " + code + "</li>";
  }
  div += "</ul></div>";
  JsonValue rest = JsonValue::object(
      {{"mode", "server"},
       {"documentation",
        "The reads and searches of the pull and the sync change feed, and the writes, for " +
            scope_text(scope) +
            ". Other configurations (write modes, a source and a target apart, a sync "
            "population) have statements of their own: `mst-adapter check` verifies a server "
            "against the one of its configuration (docs/conformance.md)."},
       {"resource", std::move(resources)}});
  if (!system.items().empty()) rest.set("interaction", std::move(system));
  JsonValue statement = JsonValue::object(
      {{"resourceType", "CapabilityStatement"},
       {"id", "mst-adapter-requirements"},
       {"text", JsonValue::object({{"status", "generated"}, {"div", div}})},
       {"url", base + "/CapabilityStatement/mst-adapter-requirements"},
       {"name", "MstAdapterRequirements"},
       {"title", "What the MST Care-Plan Adapter needs from a FHIR server"},
       {"status", "draft"},
       {"date", date},
       {"publisher", "MST Care-Plan Adapter"},
       {"description",
        "Generated from the adapter's list of server interactions "
        "(adapter/src/pipeline/server_interactions.cc), the list its SMART scopes and "
        "`mst-adapter check` are derived from. A server declaring all of this in its own "
        "CapabilityStatement can serve the adapter as " +
            scope_text(scope) + "."},
       {"kind", "requirements"},
       {"fhirVersion", "4.0.1"},
       {"format", JsonValue::array({"json"})},
       {"rest", JsonValue::array({std::move(rest)})}});
  if (date.empty()) statement.erase("date");
  return statement;
}

DeclaredNeeds needs_of(const fhir::Capabilities& statement) {
  DeclaredNeeds needs;
  for (const auto& [type, support] : statement.resources) {
    ServerInteraction row{type};
    for (const InteractionCode& c : kCodes) {
      if (support.interactions.contains(c.code)) row.access |= c.access;
    }
    row.conditional_create = support.conditional_create;
    row.conditional_update = support.conditional_update;
    needs.resources.push_back(std::move(row));
  }
  needs.system.assign(statement.system_interactions.begin(), statement.system_interactions.end());
  return needs;
}

}  // namespace mst::adapter
