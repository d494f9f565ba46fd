#include "mst/adapter/cli/requirements.h"

#include <algorithm>

namespace mst::adapter::cli {

namespace {

struct Declared {
  fhir::Access access;
  const char* verb;  // for the report line
  const char* code;  // CapabilityStatement.rest.resource.interaction.code
};
constexpr Declared kDeclared[] = {{fhir::kRead, "read", "read"},
                                  {fhir::kSearch, "search", "search-type"},
                                  {fhir::kCreate, "create", "create"},
                                  {fhir::kUpdate, "update", "update"},
                                  {fhir::kDelete, "delete", "delete"}};

}  // namespace

std::vector<RequirementCheck> check_requirements(const fhir::Capabilities& caps,
                                                 const std::vector<ServerInteraction>& needs,
                                                 const std::vector<std::string>& system_needs) {
  std::vector<RequirementCheck> out;
  out.push_back({"FHIR version 4.0.x (R4)", caps.is_r4(),
                 caps.fhir_version.empty() ? "the server states no fhirVersion"
                                           : "the server speaks FHIR " + caps.fhir_version});
  for (const ServerInteraction& need : needs) {
    const auto it = caps.resources.find(need.type);
    const bool known = it != caps.resources.end();
    for (const Declared& d : kDeclared) {
      if (!(need.access & d.access)) continue;
      out.push_back({std::string(d.verb) + " " + need.type, caps.supports(need.type, d.code),
                     known ? std::string("'") + d.code + "' is not declared for " + need.type
                           : need.type + " is not a supported resource"});
    }
    if (need.conditional_create) {
      out.push_back({"conditional create " + need.type, known && it->second.conditional_create,
                     "conditionalCreate is not true for " + need.type});
    }
    if (need.conditional_update) {
      out.push_back({"conditional update " + need.type, known && it->second.conditional_update,
                     "conditionalUpdate is not true for " + need.type});
    }
  }
  for (const auto& system : system_needs) {
    out.push_back({"system " + system, caps.supports_system(system),
                   "'" + system + "' is not a declared system interaction"});
  }
  for (auto& check : out) {
    if (check.met) check.detail.clear();
  }
  return out;
}

}  // namespace mst::adapter::cli
