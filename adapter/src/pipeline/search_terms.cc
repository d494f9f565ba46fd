#include "search_terms.h"

#include <algorithm>

namespace mst::adapter::detail {

std::vector<std::string> code_batches(const std::vector<std::string>& codes,
                                      std::size_t per_search) {
  const std::size_t n = std::max<std::size_t>(per_search, 1);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < codes.size(); i += n) {
    std::string batch;
    for (std::size_t j = i; j < std::min(codes.size(), i + n); ++j) {
      if (!batch.empty()) batch += ',';
      batch += codes[j];
    }
    out.push_back(std::move(batch));
  }
  return out;
}

bool has_identifier_system(fhir::Node resource, const std::string& system) {
  if (system.empty()) return false;
  try {
    for (fhir::Node id : resource.array("identifier")) {
      if (id.string("system") == system) return true;
    }
  } catch (const fhir::ElementError&) {
  }
  return false;
}

}  // namespace mst::adapter::detail
