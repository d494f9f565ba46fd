#include "mst/adapter/pipeline/run_report.h"

#include <sstream>

#include "mst/adapter/careplan/narrative.h"

namespace mst::adapter {

namespace {

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

}  // namespace

std::string summary_text(const PatientRun& run) {
  const PatientOutcome& o = run.outcome;
  std::ostringstream out;
  out << "patient:  Patient/" << o.patient_id << "\n";
  out << "outcome:  " << outcome_name(o.kind);
  if (!o.detail.empty()) out << " (" << o.detail << ")";
  out << "\n";
  if (!o.plan_ref.empty()) {
    out << "plan:     " << o.plan_ref;
    if (!o.plan_version.empty()) out << " version " << o.plan_version;
    out << "\n";
  }
  if (!run.derivation) return out.str();
  // Shown with or without a plan: an unread cord compression matters most
  // when the rules found nothing to propose.
  for (const auto& a : run.derivation->considerations.alerts) {
    out << "alert:    " << alert_line(a) << "\n";
  }
  if (!run.derivation->plan.applicable) return out.str();
  const GoalPlan& plan = run.derivation->plan;
  out << "urgency:  " << code_of(plan.urgency) << (plan.emergency ? " (emergency pathway)" : "")
      << "\n";
  out << "goals:\n";
  for (const auto& g : plan.goals) {
    out << "  " << pad(code_of(g.priority), 16) << pad(code_of(g.urgency), 9)
        << pad(code_of(g.code), 30) << display_of(g.code)
        << (g.certainty == Certainty::kPartial ? " (inputs missing)" : "") << "\n";
  }
  if (!plan.referrals.empty()) {
    out << "referrals:\n";
    for (const auto& r : plan.referrals) {
      out << "  " << pad(code_of(r.priority), 9) << pad(code_of(r.to), 26) << display_of(r.to)
          << "\n";
    }
  }
  const auto& c = run.derivation->considerations;
  if (!c.read_from_text.empty()) {
    out << "read from text (confirm):\n";
    for (const auto& r : c.read_from_text) out << "  - " << r << "\n";
  }
  if (!c.data_gaps.empty()) {
    out << "data gaps:\n";
    for (const auto& g : c.data_gaps) out << "  - " << g.consideration << ": " << g.detail << "\n";
  }
  if (!c.ignored.empty()) {
    out << "not used:\n";
    for (const auto& i : c.ignored) out << "  - " << i.ref << ": " << i.reason << "\n";
  }
  return out.str();
}

namespace {

std::string joined(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

}  // namespace

std::string explain_text(const Derivation& d) {
  // The narrative's structure in plain text: pathway and actions now, one
  // line per goal, referrals, preferences; then the details.
  const auto& c = d.considerations;
  const GoalPlan& plan = d.plan;
  std::ostringstream out;
  out << c.patient_ref << ", as of " << c.as_of.date_string() << "\n\n";
  if (plan.applicable) {
    out << "PATHWAY AND ACTIONS NOW\n  " << pathway_line(plan) << "\n";
    const auto now = actions_now(plan);
    if (now.empty()) out << "  Nothing needs doing before the team meets.\n";
    for (const auto& a : now) out << "  - [" << code_of(a.urgency) << "] " << a.text << "\n";
    out << "\n";
  }
  if (!c.alerts.empty()) {
    out << "ALERTS: SAFETY-RELEVANT FINDINGS NOT USED\n";
    for (const auto& a : c.alerts) out << "  ! " << alert_line(a) << "\n";
    out << "\n";
  }
  if (!plan.applicable) {
    out << "NO PLAN\n  " << plan.not_applicable_reason << "\n\n";
  } else {
    out << "GOALS (priority, urgency, target, why)\n";
    for (const auto& line : goal_lines(plan)) {
      const ProposedGoal& g = *line.goal;
      out << "  - " << display_of(g.code) << ": " << priority_word(g.priority) << ", "
          << code_of(g.urgency) << "; target: " << line.target << "; why: " << line.why << "\n";
    }
    out << "\nREFERRALS\n";
    if (plan.referrals.empty()) out << "  none\n";
    for (const auto& r : plan.referrals) {
      out << "  - " << display_of(r.to) << " [" << code_of(r.priority)
          << "]: " << joined(r.requests, "; ") << "\n      because " << joined(r.reasons, "; ")
          << "\n";
    }
    out << "\nPATIENT PREFERENCES AND CLINICAL DECISIONS\n";
    if (plan.preferences.empty()) out << "  none recorded: discuss with the patient\n";
    for (const auto& p : plan.preferences) {
      out << "  - "
          << (p.source == mappings::PreferenceSource::kClinician ? "clinical decision: "
                                                                 : "patient: ")
          << "\"" << p.text << "\": " << p.effect << "\n";
    }
    out << "\n";
  }
  out << "DETAILS: CONSIDERATIONS\n";
  for (const auto& row : consideration_summary(c, plan.assessment)) {
    out << "  " << pad(row.label + ":", 26) << row.text << "\n";
  }
  if (const std::string line = read_from_text_line(c); !line.empty()) {
    out << "  " << line << "\n";
  }
  if (const auto changed = threshold_changes(plan.assessment.thresholds); !changed.empty()) {
    out << "  Site thresholds in use (default in parentheses): " << joined(changed, "; ") << "\n";
  }
  if (plan.applicable) {
    out << "\nDETAILS: WHY EACH GOAL\n";
    int n = 0;
    for (const auto& g : plan.goals) {
      out << "  " << ++n << ". " << display_of(g.code) << ": " << display_of(g.priority) << ", "
          << code_of(g.urgency) << (g.certainty == Certainty::kPartial ? ", inputs missing" : "")
          << "\n";
      out << "     Why: " << g.rationale() << "\n";
      if (!g.evidence.empty()) out << "     Evidence: " << evidence_text(g.evidence, c) << "\n";
      for (const auto& t : g.targets) out << "     Target: " << t.description << "\n";
    }
    out << "\nTEAM\n";
    for (const auto& t : plan.team) {
      out << "  - " << display_of(t.discipline) << ": " << joined(t.reasons, "; ") << "\n";
    }
    if (!plan.notes.empty()) {
      out << "\nNOTES\n";
      for (const auto& note : plan.notes) out << "  - " << note << "\n";
    }
    if (!plan.missing.empty()) {
      out << "\nMISSING INPUTS\n";
      for (const auto& m : plan.missing) out << "  - " << m.input << ": " << m.consequence << "\n";
    }
  }
  if (!c.data_gaps.empty()) {
    out << "\nDATA GAPS\n";
    for (const auto& g : c.data_gaps) out << "  - " << g.consideration << ": " << g.detail << "\n";
  }
  if (!c.ignored.empty()) {
    out << "\nNOT USED\n";
    for (const auto& i : c.ignored) out << "  - " << i.ref << ": " << i.reason << "\n";
  }
  out << "\nA draft proposal for the multidisciplinary spine-oncology team, not a treatment "
         "decision.\n";
  return out.str();
}

fhir::JsonValue summary_json(const PatientRun& run) {
  using fhir::JsonValue;
  const PatientOutcome& o = run.outcome;
  JsonValue j = JsonValue::object(
      {{"patient", o.patient_id}, {"outcome", outcome_name(o.kind)}, {"detail", o.detail}});
  if (o.skip_reason != SkipReason::kNone) j.set("reason", skip_reason_name(o.skip_reason));
  if (o.kind == OutcomeKind::kFailed) {
    j.set("error_kind", error_kind_name(o.error_kind));
    j.set("retryable", o.retryable);
  }
  if (!o.plan_ref.empty()) j.set("plan", o.plan_ref);
  if (!o.plan_version.empty()) j.set("version", o.plan_version);
  if (!o.fingerprint.empty()) j.set("fingerprint", o.fingerprint);
  if (!run.derivation) return j;
  JsonValue alerts = JsonValue::array();
  for (const auto& a : run.derivation->considerations.alerts) {
    alerts.push(JsonValue::object({{"ref", a.ref}, {"finding", a.finding}, {"reason", a.reason}}));
  }
  j.set("alerts", std::move(alerts));
  JsonValue from_text = JsonValue::array();
  for (const auto& r : run.derivation->considerations.read_from_text) from_text.push(r);
  j.set("read_from_text", std::move(from_text));
  const GoalPlan& plan = run.derivation->plan;
  j.set("applicable", plan.applicable);
  if (!plan.applicable) return j;
  j.set("urgency", std::string(code_of(plan.urgency)));
  j.set("emergency", plan.emergency);
  j.set("pathway", std::string(code_of(plan.pathway)));
  JsonValue goals = JsonValue::array();
  for (const auto& g : plan.goals) {
    goals.push(JsonValue::object({{"code", std::string(code_of(g.code))},
                                  {"priority", std::string(code_of(g.priority))},
                                  {"urgency", std::string(code_of(g.urgency))},
                                  {"certainty", std::string(code_of(g.certainty))}}));
  }
  j.set("goals", std::move(goals));
  JsonValue referrals = JsonValue::array();
  for (const auto& r : plan.referrals) {
    referrals.push(JsonValue::object({{"to", std::string(code_of(r.to))},
                                      {"priority", std::string(code_of(r.priority))},
                                      {"after_emergency", r.after_emergency}}));
  }
  j.set("referrals", std::move(referrals));
  JsonValue gaps = JsonValue::array();
  for (const auto& g : run.derivation->considerations.data_gaps) {
    gaps.push(JsonValue::object({{"consideration", g.consideration}, {"detail", g.detail}}));
  }
  j.set("data_gaps", std::move(gaps));
  JsonValue ignored = JsonValue::array();
  for (const auto& i : run.derivation->considerations.ignored) {
    ignored.push(JsonValue::object({{"ref", i.ref}, {"reason", i.reason}}));
  }
  j.set("ignored", std::move(ignored));
  return j;
}

}  // namespace mst::adapter
