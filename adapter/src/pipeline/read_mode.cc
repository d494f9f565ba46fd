#include "mst/adapter/pipeline/read_mode.h"

namespace mst::adapter {

std::optional<ReadMode> parse_read_mode(std::string_view name) {
  if (name == "auto") return ReadMode::kAuto;
  if (name == "batch") return ReadMode::kBatch;
  if (name == "searches") return ReadMode::kSearches;
  return std::nullopt;
}

ReadMode auto_read_mode(const fhir::Capabilities& caps) {
  return caps.supports_system("batch") ? ReadMode::kBatch : ReadMode::kSearches;
}

bool batch_refused(const fhir::ClientError& e) {
  return e.method() == "POST" && e.status() >= 400 && e.status() < 500 && e.status() != 401 &&
         e.status() != 403 && e.status() != 408 && e.status() != 429;
}

}  // namespace mst::adapter
