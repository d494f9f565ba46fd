// Idempotent write-back of one patient's draft plan. Finds the adapter's
// earlier plan by its business identifier and then: writes nothing when the
// content is unchanged; never touches a plan a clinician took out of draft;
// updates a draft only with If-Match on the version it read (re-reading on a
// conflict, a bounded number of times), retiring in the same transaction the
// adapter's still-proposed Goals, ServiceRequests and CareTeam the revision
// no longer proposes; creates with a conditional create so concurrent
// writers converge on one plan. Each write is one transaction.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mst/adapter/careplan_builder.h"
#include "mst/adapter/patient_outcome.h"
#include "mst/fhir/client.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter {

// The adapter's plan as found on the server.
struct ExistingPlan {
  std::string id;
  std::string version;      // meta.versionId
  std::string status;       // CarePlan.status
  std::string fingerprint;  // as stored in the plan by the builder; may be empty
};

// What the builder made for this patient.
struct BuiltPlan {
  fhir::JsonValue bundle;  // a transaction Bundle
  std::string fingerprint;
};

struct PlanIdentity {
  std::string patient_id;
  std::string identifier_system;  // the adapter's CarePlan identifier system
  std::string identifier_value;
  // When a revision of a draft drops one of these (plan_member_kinds), the
  // same transaction retires it (Goal cancelled, ServiceRequest revoked,
  // CareTeam inactive).
  std::vector<PlanMemberKind> members;
};

struct WriteOptions {
  int max_conflict_retries = 3;
  bool dry_run = false;  // build and compare, never write
};

// Builds the transaction for the plan found (or for none).
using PlanBuildFn = std::function<BuiltPlan(const std::optional<ExistingPlan>&)>;
// Reads the fingerprint a CarePlan carries (empty when it has none).
using FingerprintReader = std::function<std::string(fhir::Node care_plan)>;

class PlanWriter {
 public:
  PlanWriter(fhir::Client& client, FingerprintReader read_fingerprint, WriteOptions options);

  // Writes (or not) one patient's plan. Serialised per patient inside this
  // process. Server errors propagate as fhir::ClientError; a duplicate plan
  // made by another writer is reported as a non-retryable failure.
  PatientOutcome write(const PlanIdentity& identity, const PlanBuildFn& build);

  // The transaction the last dry run would have sent (empty before one).
  const std::string& last_dry_run_bundle() const { return last_bundle_; }

 private:
  std::vector<ExistingPlan> find(const PlanIdentity& identity);
  // Adds to `bundle` the retirement of what the revision drops; returns how
  // many resources it retires.
  std::size_t retire_dropped(const PlanIdentity& identity, fhir::JsonValue& bundle);
  std::mutex& patient_lock(const std::string& patient_id);

  fhir::Client& client_;
  FingerprintReader read_fingerprint_;
  WriteOptions options_;
  std::mutex locks_mu_;
  std::unordered_map<std::string, std::unique_ptr<std::mutex>> locks_;
  std::string last_bundle_;
};

}  // namespace mst::adapter
