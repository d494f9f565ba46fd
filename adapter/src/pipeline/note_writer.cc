// PlanWriter in document mode: the plan as one DocumentReference note,
// found by the plan's identifier, revised only while still the adapter's
// untouched preliminary note (document_note.h).
#include "document_note.h"
#include "mst/adapter/careplan/plan_fingerprint.h"
#include "mst/adapter/pipeline/plan_writer.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/resource.h"
#include "patient_scope.h"

namespace mst::adapter {

namespace {

PatientOutcome refused(PatientOutcome out, SkipReason reason, const std::string& detail) {
  out.kind = OutcomeKind::kFailed;
  out.error_kind = ErrorKind::kConflict;
  out.retryable = false;
  out.skip_reason = reason;
  out.detail = detail;
  return out;
}

// The fingerprint extension's URL as the built CarePlan carries it.
std::string fingerprint_url_in(const fhir::JsonValue& transaction, const std::string& fingerprint) {
  const auto* entries = transaction.find("entry");
  if (entries == nullptr || !entries->is_array()) return "";
  for (const auto& e : entries->items()) {
    const auto* r = e.find("resource");
    const auto* exts = r ? r->find("extension") : nullptr;
    if (exts == nullptr || !exts->is_array()) continue;
    for (const auto& ext : exts->items()) {
      const auto* v = ext.find("valueString");
      const auto* url = ext.find("url");
      if (v && v->is_string() && v->str() == fingerprint && url && url->is_string())
        return url->str();
    }
  }
  return "";
}

}  // namespace

PatientOutcome PlanWriter::write_note(const PlanIdentity& identity, const PlanBuildFn& build) {
  PatientOutcome out;
  out.patient_id = identity.patient_id;
  std::string base_url = client_.base_url();
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  const NoteIdentity who{identity.patient_id, identity.identifier_system, identity.identifier_value,
                         identity.note_author};
  for (int attempt = 0;; ++attempt) {
    // EHRs search notes by patient; with the patient required, a note under
    // our identifier for another patient goes unseen (docs/careplan-output.md).
    fhir::SearchResult found = client_.search(
        "DocumentReference",
        detail::patient_scoped(
            capabilities(), "DocumentReference",
            {{"identifier", identity.identifier_system + "|" + identity.identifier_value}},
            "Patient/" + identity.patient_id),  // the note's subject (document_note.cc)
        fhir::SearchLimits{5, 50});
    found.require_complete();
    std::vector<std::string> foreign;
    std::vector<std::pair<fhir::Node, Verdict>> mine;
    for (fhir::Node n : found.resources) {
      if (fhir::Resource(n).type() != "DocumentReference") continue;
      Verdict v = judge_note(n, who, base_url);
      const std::string ref = "DocumentReference/" + std::string(n.string("id").value_or(""));
      if (v.standing == Standing::kOtherPatient || v.standing == Standing::kNotOurs) {
        foreign.push_back(ref + " (" + v.why + ")");
      } else {
        mine.emplace_back(n, std::move(v));
      }
    }
    if (!foreign.empty()) {
      std::string list;
      for (const auto& f : foreign) list += (list.empty() ? "" : "; ") + f;
      return refused(out, SkipReason::kLookAlike,
                     list +
                         " carries the adapter's plan identifier, but the adapter did not write "
                         "it and never modifies it. Find out where it came from, then run again");
    }
    if (mine.size() > 1) {
      std::string refs;
      for (const auto& [n, v] : mine)
        refs += (refs.empty() ? "" : ", ") +
                ("DocumentReference/" + std::string(n.string("id").value_or("")));
      return refused(out, SkipReason::kDuplicateDrafts,
                     "the adapter's note exists more than once (" + refs +
                         "); remove the extra copies, then run again");
    }
    std::string id, version, existing_fingerprint;
    if (!mine.empty()) {
      fhir::Resource res(mine.front().first);
      id = std::string(res.id());
      version = std::string(res.version_id());
      existing_fingerprint = read_fingerprint_(mine.front().first);
      out.plan_ref = "DocumentReference/" + id;
      out.plan_version = version;
      if (mine.front().second.standing == Standing::kChanged) {
        out.kind = OutcomeKind::kSkipped;
        out.skip_reason = SkipReason::kEdited;
        out.detail = out.plan_ref + ": " + mine.front().second.why +
                     ", so a clinician has taken it over and the adapter leaves it untouched";
        out.fingerprint = existing_fingerprint;
        return out;
      }
    }
    // The note carries the CarePlan's content; the CarePlan is never sent.
    BuiltPlan built = build(std::nullopt);
    out.fingerprint = built.fingerprint;
    if (!id.empty() && !existing_fingerprint.empty() && existing_fingerprint == built.fingerprint) {
      out.kind = OutcomeKind::kUnchanged;
      out.detail = "the note already says this";
      return out;
    }
    fhir::JsonValue note = build_note(built.bundle, who, built.fingerprint,
                                      fingerprint_url_in(built.bundle, built.fingerprint), id);
    if (options_.dry_run) {
      last_bundle_ = note.dump();
      out.kind = OutcomeKind::kBuilt;
      out.detail = id.empty() ? "dry run: would create the note" : "dry run: would revise the note";
      return out;
    }
    try {
      fhir::FhirResponse resp =
          id.empty()
              ? client_.create(
                    "DocumentReference", note.dump(),
                    {{"identifier", identity.identifier_system + "|" + identity.identifier_value}})
              : client_.update("DocumentReference", id, note.dump(), version);
      out.kind = OutcomeKind::kWritten;
      if (!resp.id.empty()) {
        out.plan_ref = "DocumentReference/" + resp.id;
        out.plan_version = resp.version_id;
      }
      out.detail = id.empty() ? "created the note" : "revised the note";
      return out;
    } catch (const fhir::VersionConflict&) {
      // Someone changed the note since we read it: read again, decide again.
      if (attempt >= options_.max_conflict_retries) throw;
    }
  }
}

}  // namespace mst::adapter
