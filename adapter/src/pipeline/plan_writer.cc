#include "mst/adapter/plan_writer.h"

#include <algorithm>

#include "mst/fhir/client_errors.h"
#include "mst/fhir/resource.h"

namespace mst::adapter {

namespace {

// The id and version of the CarePlan in a transaction-response Bundle.
std::pair<std::string, std::string> written_care_plan(fhir::Node response) {
  for (const auto& e : fhir::Bundle(response).entries()) {
    auto ref = fhir::Reference::parse(e.response_location);
    if (ref.type == "CarePlan") return {ref.id, ref.version};
  }
  return {};
}

}  // namespace

PlanWriter::PlanWriter(fhir::Client& client, FingerprintReader read_fingerprint,
                       WriteOptions options)
    : client_(client), read_fingerprint_(std::move(read_fingerprint)), options_(options) {}

std::mutex& PlanWriter::patient_lock(const std::string& patient_id) {
  std::lock_guard lock(locks_mu_);
  auto& m = locks_[patient_id];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

std::vector<ExistingPlan> PlanWriter::find(const PlanIdentity& id) {
  fhir::SearchResult r =
      client_.search("CarePlan", {{"identifier", id.identifier_system + "|" + id.identifier_value}},
                     fhir::SearchLimits{5, 50});
  r.require_complete();
  std::vector<ExistingPlan> plans;
  for (fhir::Node n : r.resources) {
    fhir::Resource res(n);
    ExistingPlan p;
    p.id = std::string(res.id());
    p.version = std::string(res.version_id());
    p.status = std::string(n.string("status").value_or(""));
    p.fingerprint = read_fingerprint_(n);
    plans.push_back(std::move(p));
  }
  std::sort(plans.begin(), plans.end(),
            [](const ExistingPlan& a, const ExistingPlan& b) { return a.id < b.id; });
  return plans;
}

PatientOutcome PlanWriter::write(const PlanIdentity& identity, const PlanBuildFn& build) {
  std::lock_guard patient_guard(patient_lock(identity.patient_id));
  PatientOutcome out;
  out.patient_id = identity.patient_id;
  for (int attempt = 0;; ++attempt) {
    std::vector<ExistingPlan> found = find(identity);
    if (found.size() > 1) {
      // Another writer raced us (or a copy was restored). Writing to either
      // could hide the other from the team; a person must choose.
      std::string refs;
      for (const auto& p : found) refs += (refs.empty() ? "" : ", ") + ("CarePlan/" + p.id);
      out.kind = OutcomeKind::kFailed;
      out.error_kind = "conflict";
      out.retryable = false;
      out.skip_reason = "duplicate-drafts";
      out.detail = "the adapter's plan exists more than once (" + refs +
                   "); remove the extra copies, then run again";
      return out;
    }
    std::optional<ExistingPlan> existing;
    if (!found.empty()) existing = found.front();
    if (existing) {
      out.plan_ref = "CarePlan/" + existing->id;
      out.plan_version = existing->version;
    }
    if (existing && existing->status != "draft") {
      out.kind = OutcomeKind::kSkipped;
      out.skip_reason = "not-draft";
      out.detail = "CarePlan/" + existing->id + " is '" + existing->status +
                   "': a clinician has taken it over, so the adapter leaves it untouched";
      out.fingerprint = existing->fingerprint;
      return out;
    }
    BuiltPlan built = build(existing);
    out.fingerprint = built.fingerprint;
    if (existing && !existing->fingerprint.empty() && existing->fingerprint == built.fingerprint) {
      out.kind = OutcomeKind::kUnchanged;
      out.detail = "the draft already says this";
      return out;
    }
    std::string body = built.bundle.dump();
    if (options_.dry_run) {
      last_bundle_ = std::move(body);
      out.kind = OutcomeKind::kBuilt;
      out.detail = existing ? "dry run: would update the draft" : "dry run: would create the draft";
      return out;
    }
    try {
      fhir::FhirResponse resp = client_.transaction(std::move(body));
      auto [id, version] = written_care_plan(resp.resource());
      out.kind = OutcomeKind::kWritten;
      if (!id.empty()) {
        out.plan_ref = "CarePlan/" + id;
        out.plan_version = version;
      }
      out.detail = existing ? "updated the draft" : "created the draft";
      if (!existing && find(identity).size() > 1) {
        // A concurrent writer created one too, past the conditional create.
        out.detail +=
            "; another writer created a second copy at the same time: the next run "
            "reports both";
        out.skip_reason = "duplicate-drafts";
      }
      return out;
    } catch (const fhir::VersionConflict&) {
      // Someone changed the draft after we read it: read again and decide
      // again (they may have taken it out of draft).
      if (attempt >= options_.max_conflict_retries) throw;
    }
  }
}

}  // namespace mst::adapter
