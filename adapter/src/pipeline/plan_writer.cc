#include "mst/adapter/plan_writer.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "mst/adapter/narrative.h"
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

// How a proposal of each kind is retired: the status element, the status
// the adapter wrote it with, the status that withdraws it (FHIR R4
// goal-status, request-status, care-team-status), the element naming it.
struct Retirement {
  std::string_view type;
  std::string_view status_element;
  std::string_view proposed;
  std::string_view retired;
  std::string_view noun;
  std::string_view label_element;  // holds a CodeableConcept's text, or a string
};

constexpr Retirement kRetirements[] = {
    {"Goal", "lifecycleStatus", "proposed", "cancelled", "goal", "description"},
    {"ServiceRequest", "status", "draft", "revoked", "referral", "code"},
    {"CareTeam", "status", "proposed", "inactive", "care team", "name"},
};

const Retirement* retirement_of(std::string_view type) {
  for (const auto& r : kRetirements) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

// "system|value" of every business identifier in the bundle's resources.
std::set<std::string> identifiers_in(const fhir::JsonValue& bundle) {
  std::set<std::string> out;
  const auto* entries = bundle.find("entry");
  if (entries == nullptr || !entries->is_array()) return out;
  for (const auto& e : entries->items()) {
    const auto* ids = e.find("resource") ? e.find("resource")->find("identifier") : nullptr;
    if (ids == nullptr || !ids->is_array()) continue;
    for (const auto& id : ids->items()) {
      const auto* system = id.find("system");
      const auto* value = id.find("value");
      if (system && value && system->is_string() && value->is_string()) {
        out.insert(system->str() + "|" + value->str());
      }
    }
  }
  return out;
}

// The value of the resource's identifier in `system`, or "" when it has none.
std::string identifier_value(fhir::Node resource, const std::string& system) {
  for (fhir::Node id : resource.array("identifier")) {
    if (id.string("system") == std::optional<std::string_view>(system)) {
      return std::string(id.string("value").value_or(""));
    }
  }
  return "";
}

// The resource as read, withdrawn: status, narrative and a reason a reader sees.
fhir::JsonValue retired_copy(fhir::Node resource, const Retirement& r) {
  fhir::JsonValue out = fhir::JsonValue::from(resource);
  std::string label;
  fhir::Node named = resource[r.label_element];
  if (auto text = named.is_object() ? named.string("text") : resource.string(r.label_element)) {
    label = std::string(*text);
  }
  const std::string why = "The revised draft care plan no longer proposes this " +
                          std::string(r.noun) + ", so the adapter withdrew it (" +
                          std::string(r.retired) + ").";
  out.set(r.status_element, std::string(r.retired));
  fhir::JsonValue text = fhir::JsonValue::object({{"status", "generated"}});
  text.set("div", paragraph_narrative("Withdrawn proposal" + (label.empty() ? "" : ": " + label) +
                                      ". " + why));
  out.set("text", std::move(text));
  if (r.type == "Goal") {
    out.set("statusReason", why);  // R4 Goal.statusReason; the others have none
  } else {
    fhir::JsonValue notes = out.find("note") && out.find("note")->is_array()
                                ? *out.find("note")
                                : fhir::JsonValue::array();
    notes.push(fhir::JsonValue::object({{"text", why}}));
    out.set("note", std::move(notes));
  }
  return out;
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

std::size_t PlanWriter::retire_dropped(const PlanIdentity& identity, fhir::JsonValue& bundle) {
  if (identity.members.empty()) return 0;
  const std::set<std::string> kept = identifiers_in(bundle);
  const std::string patient = "Patient/" + identity.patient_id;
  std::vector<fhir::JsonValue> retire_entries;
  std::vector<std::string> retired_refs;
  for (const auto& kind : identity.members) {
    const Retirement* r = retirement_of(kind.type);
    if (r == nullptr) continue;
    // Every resource of this patient carrying the adapter's identifier: also
    // finds ones an earlier version of the adapter left behind unreferenced.
    fhir::SearchResult found = client_.search(
        kind.type, {{"subject", patient}, {"identifier", kind.identifier_system + "|"}},
        fhir::SearchLimits{5, 500});
    found.require_complete();
    std::vector<std::pair<std::string, fhir::Node>> stale;
    for (fhir::Node n : found.resources) {
      fhir::Resource res(n);
      if (res.type() != kind.type) continue;
      const std::string value = identifier_value(n, kind.identifier_system);
      if (value.empty() || kept.count(kind.identifier_system + "|" + value)) continue;
      // Only what is still the adapter's untouched proposal: a clinician who
      // accepted, activated or otherwise moved it on owns it now.
      if (n.string(r->status_element) != std::optional<std::string_view>(r->proposed)) continue;
      // The search already asked for this patient; a server that ignored the
      // parameter must not make us touch another patient's resources.
      const auto subject = fhir::Reference::parse(n["subject"].string("reference").value_or(""));
      if (subject.type != "Patient" || subject.id != identity.patient_id) continue;
      stale.emplace_back(std::string(res.id()), n);
    }
    std::sort(stale.begin(), stale.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [id, n] : stale) {
      const std::string ref = kind.type + "/" + id;
      fhir::JsonValue request = fhir::JsonValue::object({{"method", "PUT"}, {"url", ref}});
      const std::string version(fhir::Resource(n).version_id());
      // A clinician's edit since our read fails the whole transaction (409),
      // and the write starts over from a fresh read.
      if (!version.empty()) request.set("ifMatch", "W/\"" + version + "\"");
      fhir::JsonValue entry =
          fhir::JsonValue::object({{"fullUrl", client_.base_url() + "/" + ref}});
      entry.set("resource", retired_copy(n, *r));
      entry.set("request", std::move(request));
      retire_entries.push_back(std::move(entry));
      retired_refs.push_back(ref);
    }
  }
  if (retire_entries.empty()) return 0;
  auto& entries = bundle.find("entry")->items();
  // Before the Provenance, which names them among the written resources.
  auto provenance = std::find_if(entries.begin(), entries.end(), [](const fhir::JsonValue& e) {
    const auto* res = e.find("resource");
    const auto* type = res ? res->find("resourceType") : nullptr;
    return type && type->is_string() && type->str() == "Provenance";
  });
  if (provenance != entries.end()) {
    fhir::JsonValue& prov = *provenance->find("resource");
    fhir::JsonValue targets = prov.find("target") && prov.find("target")->is_array()
                                  ? *prov.find("target")
                                  : fhir::JsonValue::array();
    for (const auto& ref : retired_refs)
      targets.push(fhir::JsonValue::object({{"reference", ref}}));
    prov.set("target", std::move(targets));
  }
  const std::size_t n = retire_entries.size();
  entries.insert(provenance, std::make_move_iterator(retire_entries.begin()),
                 std::make_move_iterator(retire_entries.end()));
  return n;
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
    // Only a revision can drop what an earlier draft proposed.
    const std::size_t retired = existing ? retire_dropped(identity, built.bundle) : 0;
    const std::string retired_note = retired == 0 ? ""
                                                  : "; withdrew " + std::to_string(retired) +
                                                        " proposal(s) the revision no longer makes";
    std::string body = built.bundle.dump();
    if (options_.dry_run) {
      last_bundle_ = std::move(body);
      out.kind = OutcomeKind::kBuilt;
      out.detail =
          (existing ? "dry run: would update the draft" : "dry run: would create the draft") +
          retired_note;
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
      out.detail = (existing ? "updated the draft" : "created the draft") + retired_note;
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
