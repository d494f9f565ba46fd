#include "patient_scope.h"

#include <set>

namespace mst::adapter::detail {

namespace {

std::set<std::string, std::less<>> names_of(const fhir::SearchParams& params) {
  std::set<std::string, std::less<>> names;
  for (const auto& [name, value] : params) {
    if (!value.empty()) names.insert(name);
  }
  return names;
}

}  // namespace

fhir::SearchParams patient_scoped(const fhir::Capabilities& caps, std::string_view type,
                                  fhir::SearchParams params, const std::string& patient_ref) {
  std::set<std::string, std::less<>> names = names_of(params);
  if (caps.search_allowed(type, names) || patient_ref.empty()) return params;
  // `patient` first: Epic and Oracle document it on every clinical type.
  for (const char* scope : {"patient", "subject"}) {
    auto with = names;
    with.insert(scope);
    if (caps.search_allowed(type, with)) {
      params.emplace_back(scope, patient_ref);
      return params;
    }
  }
  return params;
}

bool identifier_search_scoped(const fhir::Capabilities& caps, std::string_view type) {
  return patient_scoped(caps, type, {{"identifier", "x"}}, "Patient/x").size() > 1;
}

}  // namespace mst::adapter::detail
