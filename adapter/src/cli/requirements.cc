#include "cli/requirements.h"

namespace mst::adapter::cli {

namespace {

constexpr const char* kReadTypes[] = {"Patient", "Condition", "Observation", "CarePlan"};
constexpr const char* kWriteTypes[] = {"CarePlan", "Goal", "CareTeam", "ServiceRequest",
                                       "Provenance"};
// Written with PUT Type?identifier=... so a re-run replaces rather than duplicates.
constexpr const char* kConditionalTypes[] = {"CarePlan", "Goal", "CareTeam", "ServiceRequest"};

}  // namespace

std::vector<RequirementCheck> check_requirements(const fhir::Capabilities& caps) {
  std::vector<RequirementCheck> out;
  out.push_back({"FHIR version 4.0.x (R4)", caps.is_r4(),
                 caps.fhir_version.empty() ? "the server states no fhirVersion"
                                           : "the server speaks FHIR " + caps.fhir_version});
  auto interaction = [&](const std::string& verb, const char* type, const char* code) {
    const bool known = caps.resources.find(std::string_view(type)) != caps.resources.end();
    out.push_back({verb + " " + type, caps.supports(type, code),
                   known ? std::string("'") + code + "' is not declared for " + type
                         : std::string(type) + " is not a supported resource"});
  };
  for (const char* type : kReadTypes) {
    interaction("read", type, "read");
    interaction("search", type, "search-type");
  }
  for (const char* type : kWriteTypes) {
    interaction("create", type, "create");
    interaction("update", type, "update");
  }
  for (const char* type : kConditionalTypes) {
    auto it = caps.resources.find(std::string_view(type));
    out.push_back({std::string("conditional update ") + type,
                   it != caps.resources.end() && it->second.conditional_update,
                   std::string("conditionalUpdate is not true for ") + type});
  }
  out.push_back({"system transaction", caps.supports_system("transaction"),
                 "'transaction' is not a declared system interaction"});
  for (auto& check : out) {
    if (check.met) check.detail.clear();
  }
  return out;
}

}  // namespace mst::adapter::cli
