// What happened to one patient in one run: the vocabulary shared by `run`,
// `sync`, the state store, metrics and exit codes.
#pragma once

#include <string>

#include "mst/adapter/goals/skip_reason.h"
#include "mst/fhir/error_kind.h"

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
  std::string detail;                           // one line for people: why skipped, what failed
  SkipReason skip_reason = SkipReason::kNone;   // skip_reason_name() labels it
  ErrorKind error_kind = ErrorKind::kInternal;  // failed only; error_kind_name() labels it
  bool retryable = false;                       // failed only: worth trying again later
  std::string fingerprint;                      // of the plan content, when one was computed
  std::string plan_ref;                         // "CarePlan/id" of the adapter's draft, if any
  std::string plan_version;                     // its version after this run
};

const char* outcome_name(OutcomeKind kind);

}  // namespace mst::adapter
