#include "mst/adapter/goals/skip_reason.h"

namespace mst::adapter {

const char* skip_reason_name(SkipReason reason) {
  switch (reason) {
    case SkipReason::kNone:
      return "";
    case SkipReason::kNoSpinalMetastasis:
      return "no-spinal-metastasis";
    case SkipReason::kDeceased:
      return "deceased";
    case SkipReason::kUnreadableConditions:
      return "unreadable-conditions";
    case SkipReason::kNotDraft:
      return "not-draft";
    case SkipReason::kEdited:
      return "edited";
    case SkipReason::kDuplicateDrafts:
      return "duplicate-drafts";
    case SkipReason::kLookAlike:
      return "look-alike";
  }
  return "";
}

}  // namespace mst::adapter
