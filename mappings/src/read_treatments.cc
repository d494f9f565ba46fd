// Readers for cancer treatment recorded outside CarePlans: medication
// orders, administrations and statements (cancer-medications.json) and
// chemotherapy or radiotherapy Procedures (care-plans.json activity codes).
// "Ongoing" follows docs/considerations.md: an active or on-hold order or
// statement, or an administration or procedure inside the recency window.
#include <algorithm>

#include "extract_internal.h"

namespace mst::mappings::detail {

namespace {

// The end of a date range when known, else its start: when it last happened.
std::optional<fhir::DateTime> last_time(const std::optional<fhir::DateTime>& when,
                                        const std::optional<fhir::Period>& period) {
  if (when) return when;
  if (period) return period->end ? period->end : period->start;
  return std::nullopt;
}

std::optional<fhir::DateTime> first_time(const std::optional<fhir::DateTime>& when,
                                         const std::optional<fhir::Period>& period) {
  if (when) return when;
  if (period) return period->start ? period->start : period->end;
  return std::nullopt;
}

const std::string& window_key(TreatmentKind kind) {
  static const std::string bone = "recency.bone-targeted-agent";
  static const std::string other = "recency.cancer-treatment";
  return kind == TreatmentKind::kBoneTargeted ? bone : other;
}

// True when `when` is on or before as_of and no older than the window.
bool within(const Context& ctx, const fhir::DateTime& when, const std::string& key) {
  const std::int64_t days = fhir::days_between(when, ctx.as_of);
  return days >= 0 && days <= static_cast<std::int64_t>(ctx.tables.value(key));
}

struct Concept {
  fhir::CodeableConcept cc;
  std::string medication_ref;  // the Medication resource it came from, if any
};

// medicationCodeableConcept, or the code (then each ingredient) of the
// Medication that medicationReference names: contained, or in the record.
// An empty list with `problem` set when the reference cannot be followed.
std::vector<Concept> medication_concepts(fhir::Node n, const MedicationIndex& meds,
                                         std::string& problem) {
  std::vector<Concept> out;
  if (auto cc = fhir::read_codeable_concept(n.object("medicationCodeableConcept"))) {
    out.push_back({*cc, {}});
    return out;
  }
  auto ref = fhir::read_reference(n.object("medicationReference"));
  if (!ref) {
    problem = "no medication[x]";
    return out;
  }
  fhir::Node med;
  std::string med_ref;
  using K = fhir::Reference::Kind;
  if (ref->kind == K::kContained) {
    for (fhir::Node c : n.array("contained")) {
      if (c.is_object() && c.string("resourceType") == "Medication" && c.string("id") == ref->id) {
        med = c;
      }
    }
  } else {
    const std::string key = ref->kind == K::kUrnUuid ? "urn:uuid:" + ref->id : ref->relative();
    if (auto it = meds.find(key); it != meds.end()) {
      med = it->second.first;
      med_ref = it->second.second;
    }
  }
  if (!med.is_object()) {
    if (!ref->display.empty()) {
      fhir::CodeableConcept by_name;
      by_name.text = ref->display;
      out.push_back({by_name, {}});
      return out;
    }
    problem = "medicationReference names a Medication that is not in the record";
    return out;
  }
  if (auto cc = fhir::read_codeable_concept(med.object("code"))) out.push_back({*cc, med_ref});
  for (fhir::Node ing : med.array("ingredient")) {
    if (!ing.is_object()) continue;
    if (auto cc = fhir::read_codeable_concept(ing.object("itemCodeableConcept"))) {
      out.push_back({*cc, med_ref});
    }
  }
  if (out.empty()) problem = "the Medication has no code";
  return out;
}

ActiveTreatment make_treatment(TreatmentKind kind, std::string label, std::string status,
                               const std::string& ref) {
  ActiveTreatment t;
  t.kind = kind;
  t.label = std::move(label);
  t.status = std::move(status);
  add_evidence(t.evidence, ref);
  return t;
}

}  // namespace

MedicationIndex index_medications(const PatientRecord& record) {
  MedicationIndex out;
  for (const auto& m : record.medications()) {
    if (!m.id.empty()) out.emplace(m.type + "/" + m.id, std::make_pair(m.node, m.ref));
    if (!m.full_url.empty()) out.emplace(m.full_url, std::make_pair(m.node, m.ref));
  }
  return out;
}

void read_medication_use(const Context& ctx, const RecordResource& r, const MedicationIndex& meds,
                         std::vector<ActiveTreatment>& out) {
  try {
    fhir::Node n = r.node;
    std::string problem;
    const std::vector<Concept> concepts = medication_concepts(n, meds, problem);
    MedicationMatch match;
    const Concept* matched = nullptr;
    for (const auto& c : concepts) {
      match = ctx.tables.cancer_medication(c.cc);
      if (match.entry) {
        matched = &c;
        break;
      }
    }
    if (!matched) {
      // Most of a patient's medicines are not cancer treatment: only what
      // cannot be read at all is reported.
      if (!problem.empty()) ctx.ignore(r.ref, r.type + ": " + problem);
      return;
    }
    const std::string status(n.string("status").value_or(""));
    if (status == "entered-in-error") {
      ctx.ignore(r.ref, "status entered-in-error");
      return;
    }
    const TreatmentKind kind = match.entry->treatment;
    std::string label(matched->cc.label());
    if (label.empty()) label = match.entry->label;
    if (match.from_text) label += "; read from text: confirm";

    std::optional<fhir::DateTime> start;
    std::optional<fhir::DateTime> end;
    bool ongoing = false;
    if (r.type == "MedicationRequest") {
      const std::string intent(n.string("intent").value_or(""));
      if (intent == "proposal" || intent == "plan" || intent == "option" || intent == "directive") {
        ctx.ignore(r.ref, "intent '" + intent + "': a plan, not a current order");
        return;
      }
      start = fhir::read_datetime(n["authoredOn"]);
      if (start && ctx.after_as_of(*start)) {
        ctx.ignore(r.ref, "authored after the as-of time");
        return;
      }
      if (auto p = fhir::read_period(n.object("dispenseRequest").object("validityPeriod"))) {
        end = p->end;
      }
      if (status == "draft") {
        ctx.ignore(r.ref, "status draft: not yet ordered");
        return;
      }
      ongoing = status == "active" || status == "on-hold";
      if (end && end->end_ms() <= ctx.as_of.start_ms()) ongoing = false;  // order expired
    } else if (r.type == "MedicationStatement") {
      auto when = fhir::read_datetime(n["effectiveDateTime"]);
      auto period = fhir::read_period(n.object("effectivePeriod"));
      start = first_time(when, period);
      if (period) end = period->end;
      if (start && ctx.after_as_of(*start)) {
        ctx.ignore(r.ref, "effective after the as-of time");
        return;
      }
      if (status == "not-taken") {
        ctx.ignore(r.ref, "status not-taken");
        return;
      }
      if (status == "intended") {
        ctx.ignore(r.ref, "status intended: a plan, not a current treatment");
        return;
      }
      if (status == "active" || status == "on-hold") {
        ongoing = !(end && end->end_ms() <= ctx.as_of.start_ms());
      } else if (status == "completed") {
        auto last = last_time(when, period);
        ongoing = last && within(ctx, *last, window_key(kind));
        end.reset();  // a course taken this recently is presumed to continue
      }
    } else {  // MedicationAdministration
      auto when = fhir::read_datetime(n["effectiveDateTime"]);
      auto period = fhir::read_period(n.object("effectivePeriod"));
      start = first_time(when, period);
      auto last = last_time(when, period);
      if (status == "not-done") {
        ctx.ignore(r.ref, "status not-done");
        return;
      }
      if (!last) {
        ctx.ignore(r.ref, "MedicationAdministration has no effective time");
        return;
      }
      if (ctx.after_as_of(*start)) {
        ctx.ignore(r.ref, "effective after the as-of time");
        return;
      }
      const bool given = status == "completed" || status == "in-progress" || status == "on-hold";
      ongoing = given && within(ctx, *last, window_key(kind));
    }
    if (!ongoing) return;  // history: stopped, completed or expired
    ActiveTreatment t = make_treatment(kind, std::move(label), status, r.ref);
    t.start = start;
    t.end = end;
    if (!matched->medication_ref.empty()) add_evidence(t.evidence, matched->medication_ref);
    out.push_back(std::move(t));
  } catch (const fhir::ElementError& e) {
    ctx.ignore(r.ref, "unreadable " + r.type + ": " + e.what());
  }
}

bool read_treatment_procedure(const Context& ctx, const RecordResource& r,
                              std::vector<ActiveTreatment>& out) {
  try {
    fhir::Node n = r.node;
    // CodeX RT puts "radiotherapy" in category and the modality in code.
    const CarePlanEntry* e = nullptr;
    for (const char* field : {"code", "category"}) {
      if (auto cc = fhir::read_codeable_concept(n.object(field))) {
        const CarePlanEntry* found = ctx.tables.care_plan(*cc);
        if (found && found->role == CarePlanRole::kActivity && found->treatment) {
          e = found;
          break;
        }
      }
    }
    if (!e) return false;
    const std::string status(n.string("status").value_or(""));
    if (status == "entered-in-error" || status == "not-done" || status == "preparation" ||
        status == "unknown" || status.empty()) {
      ctx.ignore(r.ref, "Procedure status '" + status + "': not a treatment given");
      return true;
    }
    auto when = fhir::read_datetime(n["performedDateTime"]);
    auto period = fhir::read_period(n.object("performedPeriod"));
    auto start = first_time(when, period);
    auto last = last_time(when, period);
    if (!start) {
      ctx.ignore(r.ref, "Procedure has no performed date");
      return true;
    }
    if (ctx.after_as_of(*start)) {
      ctx.ignore(r.ref, "performed after the as-of time");
      return true;
    }
    std::vector<TreatmentKind> kinds{*e->treatment};
    if (e->also) kinds.push_back(*e->also);
    for (TreatmentKind kind : kinds) {
      const bool running =
          (status == "in-progress" || status == "on-hold") &&
          !(period && period->end && ctx.as_of.start_ms() >= period->end->end_ms());
      const bool recent =
          (status == "completed" || running) && within(ctx, *last, window_key(kind));
      ActiveTreatment t = make_treatment(kind, e->label, status, r.ref);
      t.start = start;
      if (running || recent) {
        out.push_back(std::move(t));
      } else if (kind == TreatmentKind::kRadiotherapy && status == "completed" &&
                 within(ctx, *last, "recency.spinal-surgery")) {
        // Finished, but rule 19 asks whether radiotherapy followed a recent
        // spinal operation: kept with its end so it is not "ongoing".
        t.end = last;
        out.push_back(std::move(t));
      }
    }
    return true;
  } catch (const fhir::ElementError& err) {
    ctx.ignore(r.ref, std::string("unreadable Procedure: ") + err.what());
    return true;
  }
}

}  // namespace mst::mappings::detail
