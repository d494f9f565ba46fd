#include "mst/adapter/serve/cds_cards.h"

#include <Poco/UUID.h>
#include <Poco/UUIDGenerator.h>

#include <sstream>

#include "mst/adapter/careplan/plan_summary.h"
#include "mst/fhir/json.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

// Record text goes into markdown: its own emphasis or link syntax must show
// as typed, never as formatting or a link the EHR renders.
std::string md(std::string_view text) {
  std::string out;
  for (char c : fhir::printable(text)) {
    if (c == '\\' || c == '*' || c == '_' || c == '[' || c == ']' || c == '<' || c == '>' ||
        c == '`' || c == '#' || c == '|') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string pathway_name(const GoalPlan& plan) {
  switch (plan.pathway) {
    case Pathway::kEmergency:
      return "Emergency pathway (suspected cord compression)";
    case Pathway::kUrgent:
      return "Urgent pathway";
    case Pathway::kPalliative:
      return "Palliative pathway";
    case Pathway::kPlanned:
      break;
  }
  return "Planned pathway";
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string name_uuid(const std::string& name) {
  return Poco::UUIDGenerator::defaultGenerator().createFromName(Poco::UUID::uri(), name).toString();
}

// The resources of the run's transaction as CDS Hooks actions: POST is a
// create, PUT an update of the adapter's own draft.
fhir::JsonValue actions_of(const std::string& transaction) {
  auto actions = fhir::JsonValue::array();
  const auto doc = fhir::JsonDocument::parse(transaction);
  for (fhir::Node entry : doc.root().array("entry")) {
    const fhir::Node resource = entry["resource"];
    if (!resource.is_object()) continue;
    const std::string method(entry.object("request").string("method").value_or("POST"));
    const std::string type(resource.string("resourceType").value_or(""));
    actions.push(fhir::JsonValue::object({
        {"type", method == "PUT" ? "update" : "create"},
        {"description", (method == "PUT" ? "Update the draft " : "Create the draft ") + type},
        {"resource", fhir::JsonValue::from(resource)},
    }));
  }
  return actions;
}

fhir::JsonValue coding(const std::string& system, std::string_view code, std::string_view display) {
  return fhir::JsonValue::object(
      {{"system", system}, {"code", std::string(code)}, {"display", std::string(display)}});
}

}  // namespace

std::string card_indicator(const GoalPlan& plan) {
  if (plan.pathway == Pathway::kEmergency) return "critical";
  if (plan.urgency >= Urgency::kUrgent || plan.pathway == Pathway::kUrgent) return "warning";
  return "info";
}

std::string card_summary(const GoalPlan& plan) {
  std::string s = pathway_name(plan);
  if (plan.urgency != Urgency::kRoutine) s += ", " + urgency_word(plan.urgency);
  s += ": " + plural(plan.goals.size(), "goal", "goals") + ", " +
       plural(plan.referrals.size(), "referral", "referrals") + " proposed";
  // The spec's limit is characters; bytes are never fewer.
  return fhir::cut_utf8(std::move(s), 139);
}

std::string card_detail(const GoalPlan& plan) {
  std::ostringstream out;
  out << "**" << md(pathway_line(plan)) << "**\n";
  if (const auto now = actions_now(plan); !now.empty()) {
    out << "\n**Act now**\n\n";
    for (const auto& a : now) out << "- " << urgency_word(a.urgency) << ": " << md(a.text) << "\n";
  }
  out << "\n**Proposed goals**\n\n";
  for (const auto& line : goal_lines(plan)) {
    const ProposedGoal& g = *line.goal;
    out << "- **" << md(display_of(g.code)) << "** (" << priority_word(g.priority) << " priority, "
        << urgency_word(g.urgency) << "): " << md(line.target) << "\n";
  }
  if (!plan.referrals.empty()) {
    out << "\n**Referrals**\n\n";
    for (const auto& r : plan.referrals) {
      out << "- " << md(display_of(r.to)) << ", " << urgency_word(r.priority);
      if (r.after_emergency) out << " (after the emergency treatment)";
      for (std::size_t i = 0; i < r.requests.size(); ++i) {
        out << (i == 0 ? ": " : "; ") << md(r.requests[i]);
      }
      out << "\n";
    }
  }
  if (!plan.data_gaps.empty()) {
    out << "\n**Data gaps**\n\n";
    for (const auto& gap : plan.data_gaps) out << "- " << md(gap) << "\n";
  }
  out << "\n*A draft proposal for the clinical team's review; it decides no treatment.*\n";
  return out.str();
}

std::span<const OverrideReason> override_reasons() {
  // CDS Hooks 2.0 leaves the reasons to the service; these are the ones a
  // team reviewing a proposed plan gives for setting it aside.
  static constexpr OverrideReason kReasons[] = {
      {"already-planned", "The team has already planned this patient's care",
       "The multidisciplinary team has a plan for this patient already; the proposal adds "
       "nothing to it."},
      {"data-outdated", "The record the proposal rests on is out of date",
       "The chart the proposal was derived from does not yet show the patient's current state "
       "(a new finding, result or decision is not recorded)."},
      {"disagree", "Clinical judgement differs from the proposal",
       "The reviewing clinician judges the proposed goals, urgency or referrals wrong for this "
       "patient."},
      {"patient-declined", "The patient declines",
       "The patient declines the care the proposal describes."},
  };
  return kReasons;
}

fhir::JsonValue cards_response(const PatientRun& run, const std::string& hook_instance,
                               const CardSource& source, const std::string& review_url) {
  auto cards = fhir::JsonValue::array();
  if (run.derivation && run.derivation->plan.applicable && !run.transaction.empty()) {
    const GoalPlan& plan = run.derivation->plan;
    auto src = fhir::JsonValue::object({{"label", source.label}});
    if (!source.url.empty()) src.set("url", source.url);
    const std::string reasons = source.canonical_base + "/CodeSystem/mst-override-reason";
    const std::string card_id = name_uuid("card:" + hook_instance + ":" + run.outcome.patient_id);
    auto suggestion = fhir::JsonValue::object({
        {"label", "Create the draft care plan for review"},
        {"uuid", name_uuid("suggestion:" + card_id)},
        {"isRecommended", false},
        {"actions", actions_of(run.transaction)},
    });
    auto offered = fhir::JsonValue::array();
    for (const OverrideReason& r : override_reasons())
      offered.push(coding(reasons, r.code, r.display));
    auto card = fhir::JsonValue::object({
        {"uuid", card_id},
        {"summary", card_summary(plan)},
        {"indicator", card_indicator(plan)},
        {"detail", card_detail(plan)},
        {"source", std::move(src)},
        {"suggestions", fhir::JsonValue::array({std::move(suggestion)})},
        {"selectionBehavior", "at-most-one"},
        {"overrideReasons", std::move(offered)},
    });
    if (!review_url.empty()) {
      card.set(
          "links",
          fhir::JsonValue::array({fhir::JsonValue::object(
              {{"label", "Review the draft plan"}, {"url", review_url}, {"type", "absolute"}})}));
    }
    cards.push(std::move(card));
  }
  return fhir::JsonValue::object({{"cards", std::move(cards)}});
}

}  // namespace mst::adapter
