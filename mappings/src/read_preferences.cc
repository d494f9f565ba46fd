// Readers of the places FHIR records a patient's treatment preferences
// besides Observations and Conditions: a Goal the patient expressed, a
// Consent, and a Procedure not done because the patient declined it
// (fhir-coding.md §16.2); and the portable medical order (POLST) that
// constrains treatment as a clinician's order. Each yields statements;
// derive_preferences weighs them by time.
#include <array>

#include "extract_internal.h"
#include "mst/fhir/code_systems.h"
#include "mst/mappings/text.h"

namespace mst::mappings::detail {

namespace {

// Words that name the treatment a Consent or a refused Procedure is about.
constexpr std::array<std::string_view, 11> kSurgeryWords = {
    "surgery",       "operation",     "decompression",     "stabilisation",
    "stabilization", "fixation",      "laminectomy",       "vertebrectomy",
    "corpectomy",    "spinal fusion", "separation surgery"};
constexpr std::array<std::string_view, 5> kRadiotherapyWords = {"radiotherapy", "radiation", "sbrt",
                                                                "stereotactic", "radiosurgery"};

// Procedure-not-performed reasons that say the patient declined
// (fhir-coding.md §16.2: 105480006, 183944003, 416432009).
constexpr std::array<std::string_view, 3> kRefusalCodes = {"105480006", "183944003", "416432009"};
constexpr std::array<std::string_view, 6> kRefusalWords = {
    "declined", "declines", "refused", "refuses", "not wanted", "patient choice"};

template <std::size_t N>
bool names_any(const std::string& normalized, const std::array<std::string_view, N>& words) {
  for (auto w : words) {
    if (contains_phrase(normalized, w)) return true;
  }
  return false;
}

// "surgery", "radiotherapy" or "" for what `text` is about.
std::string_view subject_of(const std::string& text) {
  const std::string norm = normalize_text(text);
  if (names_any(norm, kSurgeryWords)) return "surgery";
  if (names_any(norm, kRadiotherapyWords)) return "radiotherapy";
  return {};
}

// "surgery" or "radiotherapy" when the code tables know `code` as a spinal
// operation or a radiotherapy, "" otherwise: a code outranks the words.
std::string_view coded_subject(const Context& ctx, const fhir::CodeableConcept& code) {
  if (ctx.tables.procedure(code) != nullptr) return "surgery";
  const CarePlanEntry* e = ctx.tables.care_plan(code);
  if (e && e->treatment == TreatmentKind::kRadiotherapy) return "radiotherapy";
  return {};
}

void append(std::string& out, std::string_view part) {
  if (part.empty()) return;
  if (!out.empty()) out += "; ";
  out += part;
}

std::string labels(fhir::Node::ArrayRange items) {
  std::string out;
  for (const auto& cc : fhir::read_codeable_concepts(items)) append(out, cc.label());
  return out;
}

std::string note_words(fhir::Node n) {
  std::string out;
  for (fhir::Node note : n.array("note")) {
    if (!note.is_object()) continue;
    if (auto t = note.string("text")) append(out, *t);
  }
  return out;
}

// The type a Reference names ("Patient"), or "" when it cannot be told.
std::string reference_type(fhir::Node n) {
  if (auto ref = fhir::read_reference(n)) return ref->type;
  return {};
}

// Initial portable medical treatment orders (ServiceRequest.category LOINC
// 100823-4) and the POLST initial-treatment answers in orderDetail
// (answer list LL6264-7), fhir-coding.md §16.2.
constexpr std::string_view kPortableOrderCategory = "100823-4";
struct OrderAnswer {
  std::string_view code;
  std::string_view token;
};
constexpr std::array<OrderAnswer, 3> kOrderAnswers = {{{"LA33475-7", "comfort-focused"},
                                                       {"LA33474-0", "selective-treatment"},
                                                       {"LA33473-2", "full-treatment"}}};

bool has_loinc(const std::vector<fhir::CodeableConcept>& concepts, std::string_view code) {
  for (const auto& cc : concepts) {
    for (const auto& c : cc.codings) {
      if (c.system == fhir::code_system::kLoinc && c.code == code) return true;
    }
  }
  return false;
}

}  // namespace
}  // namespace mst::mappings::detail

namespace mst::mappings {

bool expressed_by_patient(fhir::Node goal) {
  try {
    const std::string by = detail::reference_type(goal.object("expressedBy"));
    return by == "Patient" || by == "RelatedPerson";
  } catch (const fhir::Error&) {
    return false;
  }
}

bool is_portable_order(fhir::Node service_request) {
  try {
    if (detail::has_loinc(fhir::read_codeable_concepts(service_request.array("category")),
                          detail::kPortableOrderCategory))
      return true;
    const auto details = fhir::read_codeable_concepts(service_request.array("orderDetail"));
    for (const auto& answer : detail::kOrderAnswers) {
      if (detail::has_loinc(details, answer.code)) return true;
    }
  } catch (const fhir::Error&) {
  }
  return false;
}

bool is_plan_input(std::string_view type, fhir::Node resource) {
  if (type == "Goal") return expressed_by_patient(resource);
  if (type == "ServiceRequest") return is_portable_order(resource);
  return true;
}

}  // namespace mst::mappings

namespace mst::mappings::detail {

bool read_goal_preference(const Context& ctx, const RecordResource& r,
                          std::vector<PreferenceStatement>& out) {
  try {
    fhir::Node n = r.node;
    if (!expressed_by_patient(n)) return false;
    const std::string by = reference_type(n.object("expressedBy"));
    const std::string status(n.string("lifecycleStatus").value_or(""));
    if (status == "cancelled" || status == "entered-in-error" || status == "rejected") {
      ctx.ignore(r.ref, "Goal lifecycleStatus '" + status + "': not a preference in force");
      return true;
    }
    std::string text;
    if (auto d = fhir::read_codeable_concept(n.object("description"))) text = d->label();
    append(text, note_words(n));
    if (text.empty()) {
      ctx.ignore(r.ref, "Goal expressed by the patient has no description");
      return true;
    }
    std::optional<fhir::DateTime> when = fhir::read_datetime(n["statusDate"]);
    if (!when) when = fhir::read_datetime(n["startDate"]);
    if (when && ctx.after_as_of(*when)) {
      ctx.ignore(r.ref, "stated after the as-of time");
      return true;
    }
    out.push_back(
        {"", std::move(text), r.ref, when,
         by == "RelatedPerson" ? PreferenceSource::kRelatedPerson : PreferenceSource::kPatient});
    return true;
  } catch (const fhir::ElementError& err) {
    ctx.ignore(r.ref, std::string("unreadable Goal: ") + err.what());
    return true;
  }
}

bool read_consent(const Context& ctx, const RecordResource& r,
                  std::vector<PreferenceStatement>& out) {
  try {
    fhir::Node n = r.node;
    std::string scope;
    if (auto s = fhir::read_codeable_concept(n.object("scope"))) {
      for (const auto& c : s->codings) scope = std::string(c.code);
    }
    // Privacy, research and advance-directive consents say nothing about
    // which treatment the patient accepts.
    if (!scope.empty() && scope != "treatment") return false;
    fhir::Node provision = n.object("provision");
    std::string words = labels(n.array("category"));
    append(words, labels(provision.array("code")));
    append(words, labels(provision.array("action")));
    if (fhir::Node a = n.object("sourceAttachment"); a.is_object()) {
      append(words, a.string("title").value_or(""));
    }
    std::string_view subject;
    for (const auto& cc : fhir::read_codeable_concepts(provision.array("code"))) {
      if (subject.empty()) subject = coded_subject(ctx, cc);
    }
    if (subject.empty()) subject = subject_of(words);
    if (subject.empty()) return false;
    const std::string status(n.string("status").value_or(""));
    if (status != "active") {
      ctx.ignore(r.ref, "Consent status '" + status + "': not in force");
      return true;
    }
    std::optional<fhir::DateTime> when = fhir::read_datetime(n["dateTime"]);
    if (when && ctx.after_as_of(*when)) {
      ctx.ignore(r.ref, "consented after the as-of time");
      return true;
    }
    // A treatment consent without a provision type is a signed consent form.
    const bool deny = provision.string("type").value_or("permit") == "deny";
    PreferenceSource source = PreferenceSource::kPatient;
    for (fhir::Node p : n.array("performer")) {
      if (reference_type(p) == "RelatedPerson") source = PreferenceSource::kRelatedPerson;
    }
    std::string token = std::string(deny ? "declines-" : "accepts-") + std::string(subject);
    out.push_back({std::move(token), (deny ? "Consent refused: " : "Consent given: ") + words,
                   r.ref, when, source});
    return true;
  } catch (const fhir::ElementError& err) {
    ctx.ignore(r.ref, std::string("unreadable Consent: ") + err.what());
    return true;
  }
}

bool read_procedure_refusal(const Context& ctx, const RecordResource& r,
                            std::vector<PreferenceStatement>& out) {
  try {
    fhir::Node n = r.node;
    if (n.string("status").value_or("") != "not-done") return false;
    auto reason = fhir::read_codeable_concept(n.object("statusReason"));
    if (!reason) return false;
    bool refused = false;
    for (const auto& c : reason->codings) {
      for (auto code : kRefusalCodes) refused = refused || c.code == code;
    }
    if (!refused && reason->text) refused = names_any(normalize_text(*reason->text), kRefusalWords);
    if (!refused) return false;
    auto code = fhir::read_codeable_concept(n.object("code"));
    std::string_view subject;
    std::string label = code ? std::string(code->label()) : std::string("a procedure");
    if (code) subject = coded_subject(ctx, *code);
    if (subject.empty()) subject = subject_of(label);
    std::optional<fhir::DateTime> when = fhir::read_datetime(n["performedDateTime"]);
    if (!when) {
      if (auto p = fhir::read_period(n.object("performedPeriod"))) when = p->start;
    }
    if (when && ctx.after_as_of(*when)) {
      ctx.ignore(r.ref, "declined after the as-of time");
      return true;
    }
    std::string text = "Declined: " + label + " (" + std::string(reason->label()) + ")";
    append(text, note_words(n));
    out.push_back({subject.empty() ? "" : "declines-" + std::string(subject), std::move(text),
                   r.ref, when, PreferenceSource::kPatient});
    return true;
  } catch (const fhir::ElementError& err) {
    ctx.ignore(r.ref, std::string("unreadable Procedure: ") + err.what());
    return true;
  }
}

std::string portable_order_text(std::string_view token) {
  if (token == "comfort-focused")
    return "Portable medical order (POLST): comfort-focused treatments";
  if (token == "selective-treatment") return "Portable medical order (POLST): selective treatments";
  return "Portable medical order (POLST): full treatments";
}

bool read_portable_order(const Context& ctx, const RecordResource& r,
                         std::vector<PreferenceStatement>& out) {
  try {
    fhir::Node n = r.node;
    if (!is_portable_order(n)) return false;
    const auto details = fhir::read_codeable_concepts(n.array("orderDetail"));
    std::string_view token;
    for (const auto& answer : kOrderAnswers) {
      if (has_loinc(details, answer.code)) token = answer.token;
    }
    if (token.empty()) {
      ctx.ignore(r.ref, "portable medical order without an initial-treatment answer");
      return true;
    }
    const std::string status(n.string("status").value_or(""));
    if (status != "active") {
      ctx.ignore(r.ref, "portable medical order status '" + status + "': not in force");
      return true;
    }
    std::optional<fhir::DateTime> when = fhir::read_datetime(n["authoredOn"]);
    if (when && ctx.after_as_of(*when)) {
      ctx.ignore(r.ref, "ordered after the as-of time");
      return true;
    }
    std::string text = portable_order_text(token);
    append(text, note_words(n));
    out.push_back({std::string(token), std::move(text), r.ref, when, PreferenceSource::kClinician});
    return true;
  } catch (const fhir::ElementError& err) {
    ctx.ignore(r.ref, std::string("unreadable ServiceRequest: ") + err.what());
    return true;
  }
}

}  // namespace mst::mappings::detail
