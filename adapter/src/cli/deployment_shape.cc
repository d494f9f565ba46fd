#include "mst/adapter/cli/deployment_shape.h"

#include "mst/adapter/pipeline/write_mode.h"
#include "mst/adapter/sync/fhir_change_feed.h"

namespace mst::adapter::cli {

ShapeAdvice deployment_shape(const fhir::Capabilities& source, const fhir::Capabilities& target,
                             bool separate_target) {
  bool plans = false;
  bool notes = false;
  for (const ModeSupport& s : write_mode_support(target)) {
    if (!s.possible()) continue;
    if (s.mode == WriteMode::kDocument) {
      notes = true;
    } else {
      plans = true;
    }
  }
  ShapeAdvice advice;
  if (plans) {
    advice.shape = separate_target ? Shape::kRepositoryWrite : Shape::kOneServer;
  } else if (notes) {
    advice.shape = Shape::kNoteWrite;
  } else {
    advice.shape = Shape::kReadOnly;
  }
  advice.change_feed = supports_change_feed(source);
  advice.population_search = supports_population_search(source);
  return advice;
}

std::string shape_text(Shape shape) {
  switch (shape) {
    case Shape::kOneServer:
      return "one server";
    case Shape::kRepositoryWrite:
      return "EHR read + FHIR repository write (set target.base_url)";
    case Shape::kNoteWrite:
      return "EHR read + note write (set write.mode=document)";
    case Shape::kReadOnly:
      break;
  }
  return "read only: no write path; answer the EHR's CDS Hooks calls instead (mst-adapter serve, "
         "docs/cds-hooks.md)";
}

std::string sync_text(const ShapeAdvice& advice) {
  std::string out =
      advice.change_feed
          ? "change feed (_lastUpdated; sync.changes=auto uses it)"
          : "re-pull (no usable _lastUpdated: sync re-pulls its population, sync.changes=auto)";
  out += advice.population_search
             ? "; population by search possible (sync.population=search)"
             : "; population search refused without a patient: set sync.population=group:ID, "
               "list:ID or file:PATH";
  return out;
}

}  // namespace mst::adapter::cli
