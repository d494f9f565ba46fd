#include "mst/adapter/pipeline/patient_outcome.h"

namespace mst::adapter {

const char* outcome_name(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kWritten:
      return "written";
    case OutcomeKind::kBuilt:
      return "built";
    case OutcomeKind::kUnchanged:
      return "unchanged";
    case OutcomeKind::kSkipped:
      return "skipped";
    case OutcomeKind::kFailed:
      return "failed";
  }
  return "failed";
}

}  // namespace mst::adapter
