// What happened to one patient in one run: the vocabulary shared by `run`,
// `sync`, the state store, metrics and exit codes.
#pragma once

#include <string>

namespace mst::adapter {

enum class OutcomeKind {
  kWritten,    // a draft CarePlan was created or updated
  kBuilt,      // a plan was built but, by request (dry run, offline), not sent
  kUnchanged,  // the draft already says this; nothing was written
  kSkipped,    // no plan: no spinal metastasis, or a clinician owns the plan now
  kFailed,     // an error; nothing half-written
};

struct PatientOutcome {
  OutcomeKind kind = OutcomeKind::kFailed;
  std::string patient_id;
  std::string detail;       // one line for people: why skipped, what failed
  std::string skip_reason;  // no-spinal-metastasis | not-draft | duplicate-drafts
  std::string
      error_kind;  // failed only: unreachable | auth | rejected | conflict | input | internal
  bool retryable = false;    // failed only: worth trying again later
  std::string fingerprint;   // of the plan content, when one was computed
  std::string plan_ref;      // "CarePlan/id" of the adapter's draft, if any
  std::string plan_version;  // its version after this run
};

const char* outcome_name(OutcomeKind kind);

}  // namespace mst::adapter
