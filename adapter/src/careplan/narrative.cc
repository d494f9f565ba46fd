#include "mst/adapter/careplan/narrative.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "ignored_summary.h"
#include "mst/adapter/goals/assessment.h"

namespace mst::adapter {

using detail::join;
using detail::number_text;

namespace {

// What each byte becomes in XHTML text: itself (nullptr), an entity, or
// nothing (XML 1.0 allows only tab, newline and carriage return among the
// C0 controls, and DEL is dropped too).
struct XhtmlTable {
  const char* replacement[256] = {};
  constexpr XhtmlTable() {
    for (int u = 0; u < 0x20; ++u) replacement[u] = "";
    replacement[static_cast<unsigned char>('\t')] = nullptr;
    replacement[static_cast<unsigned char>('\n')] = nullptr;
    replacement[static_cast<unsigned char>('\r')] = nullptr;
    replacement[0x7f] = "";
    replacement[static_cast<unsigned char>('&')] = "&amp;";
    replacement[static_cast<unsigned char>('<')] = "&lt;";
    replacement[static_cast<unsigned char>('>')] = "&gt;";
    replacement[static_cast<unsigned char>('"')] = "&quot;";
    replacement[static_cast<unsigned char>('\'')] = "&#39;";
  }
};
constexpr XhtmlTable kXhtml;

}  // namespace

std::string xhtml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  // Copies runs of plain text in one go; most text has nothing to escape.
  std::size_t run = 0;
  for (std::size_t k = 0; k < text.size(); ++k) {
    const char* replacement = kXhtml.replacement[static_cast<unsigned char>(text[k])];
    if (replacement == nullptr) continue;
    out.append(text.data() + run, k - run);
    out += replacement;
    run = k + 1;
  }
  out.append(text.data() + run, text.size() - run);
  return out;
}

std::string paragraph_narrative(std::string_view text) {
  return "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>" + xhtml_escape(text) + "</p></div>";
}

namespace {

using mappings::Considerations;

std::string e(std::string_view s) { return xhtml_escape(s); }

std::string wrap(std::string_view tag, std::string_view inner) {
  std::string out;
  out.reserve(inner.size() + 2 * tag.size() + 5);
  out += '<';
  out += tag;
  out += '>';
  out += inner;
  out += "</";
  out += tag;
  out += '>';
  return out;
}

std::string list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += wrap("li", e(i));
  return wrap("ul", out);
}

std::string dated(const std::string& what, const std::optional<fhir::DateTime>& when) {
  return what + detail::day_text(when);
}

std::string cancer_row(const Considerations& c) {
  if (!c.cancer) return "Not documented";
  std::string s = c.cancer->label.empty() ? "Primary cancer (type not named)" : c.cancer->label;
  switch (c.cancer->radiosensitivity) {
    case mappings::Radiosensitivity::kSensitive:
      s += "; radiosensitive to conventional radiotherapy";
      break;
    case mappings::Radiosensitivity::kResistant:
      s += "; radioresistant to conventional radiotherapy";
      break;
    case mappings::Radiosensitivity::kUnknown:
      s += "; radiosensitivity unknown";
      break;
  }
  if (c.cancer->haematological) s += "; haematological malignancy";
  return s;
}

std::string spine_row(const Considerations& c, const PlanAssessment& a) {
  if (!c.spine.present) return "No spinal lesion recorded";
  if (c.spine.lesions.empty()) return "Spinal disease recorded; vertebral level not stated";
  const auto n = c.spine.lesions.size();
  std::string s = std::to_string(n) + (n == 1 ? " level: " : " levels: ") + a.levels;
  if (n > 1) s += c.spine.contiguous ? " (contiguous)" : " (not contiguous)";
  if (c.spine.any_junctional) s += "; includes a junctional level";
  return s;
}

std::string other_mets_row(const Considerations& c) {
  std::vector<std::string> parts;
  if (c.other_metastases.visceral) parts.push_back("visceral metastases");
  if (c.other_metastases.brain) parts.push_back("brain metastases");
  if (c.other_metastases.extraspinal_bone) parts.push_back("bone metastases outside the spine");
  return parts.empty() ? "None recorded" : join(parts, "; ");
}

std::string life_row(const Considerations& c, const PlanAssessment& a) {
  if (!a.prognosis.empty()) return a.prognosis;
  const auto& tok = c.life_expectancy.tokuhashi;
  std::string s = "Not documented";
  if (!tok.missing.empty())
    s += " (revised Tokuhashi inputs missing: " + join(tok.missing, ", ") + ")";
  return s;
}

std::string quality_row(const Considerations& c, const PlanAssessment& a) {
  const auto& q = c.quality_of_life;
  std::vector<std::string> parts;
  if (q.pain_score)
    parts.push_back(dated("pain " + number_text(q.pain_score->value) + "/10", q.pain_score->when));
  if (q.mechanical_pain) parts.push_back("mechanical pain");
  if (q.new_back_pain && q.new_back_pain->value) {
    parts.push_back(dated("new back pain", q.new_back_pain->when));
  }
  if (q.ecog) {
    parts.push_back(dated("ECOG " + std::to_string(q.ecog->value) +
                              (q.ecog_derived ? " (converted from Karnofsky)" : ""),
                          q.ecog->when));
  }
  if (q.karnofsky) {
    parts.push_back(dated("Karnofsky " + std::to_string(q.karnofsky->value) +
                              (q.karnofsky_derived ? " (converted from ECOG)" : ""),
                          q.karnofsky->when));
  }
  switch (q.ambulation.value) {
    case mappings::Ambulation::kIndependent:
      parts.push_back("walks independently");
      break;
    case mappings::Ambulation::kWithAid:
      parts.push_back("walks with an aid");
      break;
    case mappings::Ambulation::kNonAmbulatory:
      parts.push_back(q.non_ambulatory_since
                          ? "unable to walk since " + q.non_ambulatory_since->to_string()
                          : "unable to walk");
      if (!a.walking.empty()) parts.push_back(a.walking);
      break;
    case mappings::Ambulation::kUnknown:
      parts.push_back("walking ability not recorded");
      break;
  }
  return join(parts, "; ");
}

std::string general_row(const Considerations& c, const PlanAssessment& a) {
  const auto& g = c.general_condition;
  std::vector<const mappings::Comorbidity*> cms;
  for (const auto& cm : g.comorbidities) cms.push_back(&cm);
  std::sort(cms.begin(), cms.end(), [](const auto* x, const auto* y) {
    return std::tie(x->kind, x->label, x->basis) < std::tie(y->kind, y->label, y->basis);
  });
  std::vector<std::string> parts;
  for (const auto* cm : cms) {
    std::string s = (cm->severe ? "severe " : "") + cm->label;
    if (!cm->basis.empty() && cm->basis != "condition") s += " (" + cm->basis + ")";
    parts.push_back(s);
  }
  if (g.haemoglobin_g_dl) {
    parts.push_back(dated("haemoglobin " + number_text(g.haemoglobin_g_dl->value) + " g/dL",
                          g.haemoglobin_g_dl->when));
  }
  if (g.hba1c_percent) {
    parts.push_back(
        dated("HbA1c " + number_text(g.hba1c_percent->value) + "%", g.hba1c_percent->when));
  }
  if (g.systolic_mmhg && g.diastolic_mmhg) {
    parts.push_back(dated("blood pressure " + number_text(g.systolic_mmhg->value) + "/" +
                              number_text(g.diastolic_mmhg->value) + " mmHg",
                          g.systolic_mmhg->when));
  }
  if (g.albumin_g_dl) {
    parts.push_back(
        dated("albumin " + number_text(g.albumin_g_dl->value) + " g/dL", g.albumin_g_dl->when));
  }
  if (!a.surgical_candidacy.empty()) parts.push_back("surgical candidacy " + a.surgical_candidacy);
  return parts.empty() ? "No comorbidity or laboratory value recorded" : join(parts, "; ");
}

std::string neuro_row(const Considerations& c) {
  const auto& n = c.neurology;
  std::vector<const mappings::NeurologicDeficit*> deficits;
  for (const auto& d : n.deficits) deficits.push_back(&d);
  std::sort(deficits.begin(), deficits.end(), [](const auto* x, const auto* y) {
    return std::make_tuple(!x->is_new, x->label, x->evidence) <
           std::make_tuple(!y->is_new, y->label, y->evidence);
  });
  std::vector<std::string> parts;
  parts.push_back(
      n.escc ? dated("ESCC (Bilsky) grade " + detail::escc_name(n.escc->value), n.escc->when)
             : "ESCC grade not documented");
  for (const auto* d : deficits) {
    parts.push_back((d->is_new ? "new: " : "") + dated(d->label, d->onset));
  }
  if (deficits.empty()) parts.push_back("no neurological deficit recorded");
  if (n.frankel) parts.push_back(std::string("Frankel ") + n.frankel->value);
  if (n.asia) parts.push_back(std::string("ASIA ") + n.asia->value);
  return join(parts, "; ");
}

std::string mechanical_row(const Considerations& c, const PlanAssessment& a) {
  const auto& m = c.mechanics;
  std::vector<std::string> parts;
  if (m.sins_total) {
    std::string s = "SINS " + std::to_string(m.sins_total->value) + " of 18";
    // The band the rules used (site thresholds), not the code tables' own.
    if (!a.sins_band.empty()) s += " (" + a.sins_band + ")";
    if (m.sins_computed) s += ", computed from its components";
    parts.push_back(dated(s, m.sins_total->when));
  } else {
    std::string s = "SINS not scored";
    if (!m.missing_components.empty()) s += " (missing: " + join(m.missing_components, ", ") + ")";
    parts.push_back(s);
  }
  if (m.subluxation) parts.push_back("subluxation or translation");
  if (!m.sins_total && !a.sins_band.empty()) parts.push_back("read as " + a.sins_band);
  if (m.pathological_fracture) parts.push_back("pathological vertebral fracture");
  return join(parts, "; ");
}

std::string goal_rows(const GoalPlan& plan) {
  std::string rows;
  for (const auto& line : goal_lines(plan)) {
    const ProposedGoal& g = *line.goal;
    rows +=
        wrap("tr", wrap("td", e(display_of(g.code))) + wrap("td", e(priority_word(g.priority))) +
                       wrap("td", e(urgency_word(g.urgency))) + wrap("td", e(line.target)) +
                       wrap("td", e(line.why)));
  }
  return rows;
}

// The long form of each goal: every rule with its finding, proposal and
// source, then the evidence. Below the summary, for whoever wants to check.
std::string goal_details(const Considerations& c, const GoalPlan& plan) {
  std::string out;
  for (const auto& g : plan.goals) {
    // One item per rule: several rules run together in one paragraph were
    // unreadable in a 700 px panel (issue #11 item 7).
    std::string parts;
    for (const auto& part : g.rationale_parts()) parts += wrap("li", e(part));
    if (!g.evidence.empty()) parts += wrap("li", "Evidence: " + e(evidence_text(g.evidence, c)));
    out += wrap("li", wrap("b", e(display_of(g.code))) + wrap("ul", parts));
  }
  return wrap("ul", out);
}

// The actions under one bold heading per urgency, most urgent first: the
// urgency is what a clinician scans for, and six "Immediately (stat):"
// prefixes in a row hid it.
std::string actions_by_urgency(const std::vector<ActionNow>& actions) {
  std::string out;
  for (std::size_t k = 0; k < actions.size();) {
    const Urgency u = actions[k].urgency;
    std::string items;
    for (; k < actions.size() && actions[k].urgency == u; ++k)
      items += wrap("li", e(actions[k].text));
    out += wrap("p", wrap("b", e(urgency_word(u)) + ":")) + wrap("ul", items);
  }
  return out;
}

// A refusal or a comfort-care wish changes what is done now; it is stated
// beside the actions, not only in the preferences section further down.
std::string preferences_that_act(const GoalPlan& plan) {
  std::string out;
  for (const auto& p : plan.preferences) {
    if (p.kind == mappings::PreferenceKind::kOther || p.effect.empty()) continue;
    // A paragraph, not a list item: under the last urgency's list an item
    // read as one more action at that urgency.
    // The MDT's "not for surgery" and a portable medical order (POLST) act
    // too, but they are the clinicians' decisions, not the patient's words.
    const char* label = p.source == mappings::PreferenceSource::kClinician ? "Clinical decision:"
                                                                           : "Patient preference:";
    out += wrap("p", wrap("b", label) + " " + e("\"" + p.text + "\": " + p.effect));
  }
  return out;
}

}  // namespace

std::string evidence_text(const std::vector<std::string>& refs, const Considerations& c) {
  std::string out;
  for (const auto& r : refs) {
    if (!out.empty()) out += ", ";
    out += r;
    if (std::binary_search(c.read_from_text.begin(), c.read_from_text.end(), r))
      out += " (read from text: confirm)";
  }
  return out;
}

std::string alert_line(const mappings::Alert& a) {
  return a.ref + " mentions " + a.finding + "; not used: " + a.reason +
         ". Review it: it may change the urgency.";
}

std::string read_from_text_line(const Considerations& c) {
  if (c.read_from_text.empty()) return {};
  return "Read from text, confirm against the record: the facts resting on " +
         join(c.read_from_text, ", ") +
         " were read from free text or a value written in words, not from a code.";
}

std::vector<LabeledText> consideration_summary(const Considerations& c, const PlanAssessment& a) {
  return {
      {"Type of cancer", cancer_row(c)},
      {"Spinal tumours", spine_row(c, a)},
      {"Other metastases", other_mets_row(c)},
      {"Current cancer treatment",
       a.ongoing_treatment.empty() ? "None recorded" : a.ongoing_treatment},
      {"Life expectancy", life_row(c, a)},
      {"Quality of life", quality_row(c, a)},
      {"General condition", general_row(c, a)},
      {"Neurological status", neuro_row(c)},
      {"Mechanical status", mechanical_row(c, a)},
  };
}

std::string careplan_narrative(const Considerations& c, const GoalPlan& plan,
                               const NarrativeContext& ctx) {
  // Read in 30 seconds (issue #11): the pathway and what to do now, one line
  // per goal, the referrals; the reasoning and the record follow below.
  std::string h;
  h += "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
  h += wrap("h2", "Draft spine care plan for " + e(c.patient_ref) +
                      ": a proposal for the multidisciplinary team");

  h += wrap("h3", "Pathway and actions now");
  h += wrap("p", wrap("b", e(pathway_line(plan))));
  const auto now = actions_now(plan);
  h += now.empty() ? wrap("p",
                          "Nothing needs doing before the team meets: the referrals below "
                          "are routine.")
                   : actions_by_urgency(now);
  h += preferences_that_act(plan);
  if (!c.alerts.empty()) {
    // Right under the actions: a finding the rules could not read may change
    // them, so it must not sit unseen at the bottom of a long record.
    h += wrap("h3", "Alerts: safety-relevant findings the adapter did not use");
    std::vector<std::string> items;
    for (const auto& a : c.alerts) items.push_back(alert_line(a));
    h += list(items);
  }

  h += wrap("h3", "Proposed goals");
  if (plan.goals.empty()) {
    h += wrap("p", "No goal is proposed until the missing inputs below are available.");
  } else {
    h += wrap("table", wrap("thead", wrap("tr",
                                          "<th>Goal</th><th>Priority</th><th>Urgency</th>"
                                          "<th>Target</th><th>Why</th>")) +
                           wrap("tbody", goal_rows(plan)));
  }

  h += wrap("h3", "Referrals proposed");
  if (plan.referrals.empty()) {
    h += wrap("p", "None.");
  } else {
    std::string refs;
    for (const auto& r : plan.referrals) {
      refs += wrap("tr", wrap("td", e(display_of(r.to))) + wrap("td", e(urgency_word(r.priority))) +
                             wrap("td", e(join(r.requests, "; "))) +
                             wrap("td", e(join(r.reasons, "; "))));
    }
    h += wrap("table",
              wrap("thead", wrap("tr", "<th>To</th><th>Urgency</th><th>What</th><th>Why</th>")) +
                  wrap("tbody", refs));
  }

  h += wrap("h3", "Patient preferences");
  if (plan.preferences.empty()) {
    h += wrap("p", "None recorded: to be discussed with the patient before the team decides.");
  } else {
    std::vector<std::string> prefs;
    for (const auto& p : plan.preferences) prefs.push_back("\"" + p.text + "\": " + p.effect);
    h += list(prefs);
  }
  h += wrap("p", wrap("b",
                      "Draft proposal generated by software for review by the "
                      "multidisciplinary spine-oncology team. It is not a treatment "
                      "decision: every goal and referral needs a clinician's review."));

  // ---- Details: what the summary above rests on.
  h += wrap("h3", "Details: considerations");
  std::string body;
  for (const auto& row : consideration_summary(c, plan.assessment)) {
    body += wrap("tr", wrap("th", e(row.label)) + wrap("td", e(row.text)));
  }
  h += wrap("table", wrap("tbody", body));
  if (const std::string line = read_from_text_line(c); !line.empty()) h += wrap("p", e(line));
  if (const auto changed = threshold_changes(plan.assessment.thresholds); !changed.empty()) {
    h += wrap("p",
              e("Site thresholds in use (default in parentheses): " + join(changed, "; ") + "."));
  }

  if (!plan.goals.empty()) {
    h += wrap("h3", "Details: why each goal");
    h += goal_details(c, plan);
  }

  h += wrap("h3", "Team the plan needs");
  std::vector<std::string> team;
  for (const auto& t : plan.team) {
    team.push_back(std::string(display_of(t.discipline)) + ": " + join(t.reasons, "; "));
  }
  h += team.empty() ? wrap("p", "No discipline beyond the treating team.") : list(team);

  if (!plan.notes.empty()) {
    h += wrap("h3", "Notes");
    h += list(plan.notes);
  }

  h += wrap("h3", "Data gaps");
  h += plan.data_gaps.empty() ? wrap("p", "None found.") : list(plan.data_gaps);

  if (!c.ignored.empty()) {
    // Counted by reason with a few examples: a long record can have thousands.
    const auto groups = detail::group_ignored(c.ignored);
    h += wrap("h3", "Resources not used");
    const std::size_t total = detail::ignored_total(groups);
    h += wrap("p", e(std::to_string(total) + (total == 1 ? " resource was" : " resources were") +
                     " not used. By reason, with the number of resources and the first "
                     "references as examples:"));
    std::vector<std::string> items;
    for (const auto& g : groups) items.push_back(detail::ignored_line(g));
    h += list(items);
  }
  // The only part that changes from day to day; the content fingerprint
  // leaves this last paragraph out (plan_fingerprint.cc).
  h += std::string(kPreparedParagraphStart) + e(ctx.as_of_day) + " by " + e(ctx.device) + ".</p>";
  h += "</div>";
  return h;
}

}  // namespace mst::adapter
