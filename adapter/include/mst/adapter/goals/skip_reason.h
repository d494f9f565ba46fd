// Why a patient got no new plan, or why a person must look at the one they
// have: a closed set, each with the stable label that logs, metrics
// (mst_plans_skipped_total{reason}) and `run --format json` show.
#pragma once

namespace mst::adapter {

enum class SkipReason {
  kNone,
  kNoSpinalMetastasis,    // "no-spinal-metastasis"
  kDeceased,              // "deceased": the adapter's draft is withdrawn
  kUnreadableConditions,  // "unreadable-conditions": a Condition that could not be read may be it
  kNotDraft,              // "not-draft": a clinician took the plan out of draft
  kEdited,                // "edited": a person changed the adapter's draft
  kDuplicateDrafts,       // "duplicate-drafts": two drafts, a person must choose
  kLookAlike,             // "look-alike": another's resource carries the adapter's identifier
};

// The label, e.g. "not-draft"; "" for kNone.
const char* skip_reason_name(SkipReason reason);

}  // namespace mst::adapter
