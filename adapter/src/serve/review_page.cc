#include "mst/adapter/serve/review_page.h"

#include <set>
#include <sstream>

#include "mst/adapter/careplan/narrative.h"
#include "mst/adapter/careplan/plan_summary.h"

namespace mst::adapter {

namespace {

std::string e(std::string_view s) { return xhtml_escape(s); }

// Urgency is shown as a word in a coloured badge: the word carries it for
// readers who cannot tell the colours apart and on a black-and-white print.
// Each text/background pair is over 4.5:1 (WCAG 2.1 AA, 1.4.3); the browser
// test recomputes the ratios from this stylesheet.
constexpr std::string_view kStyle = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff;margin:0;line-height:1.45}
header,main,nav,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{border-bottom:2px solid #1a1a1a;padding-top:1rem}
h1{font-size:1.5rem;margin:.25rem 0 .5rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #767676}
h3{font-size:1.05rem;margin:1rem 0 .25rem}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
a{color:#0645ad}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #767676;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}
dl.facts{display:grid;grid-template-columns:minmax(10rem,16rem) 1fr;gap:.2rem 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
.badge{display:inline-block;padding:0 .4rem;border-radius:.25rem;font-weight:700}
.u-stat{color:#ffffff;background:#9b1c1c}
.u-asap{color:#ffffff;background:#8a3b00}
.u-urgent{color:#1a1a1a;background:#ffd166}
.u-routine{color:#0b3d20;background:#d8f3dc}
.alert{border-left:.4rem solid #9b1c1c;padding-left:.5rem}
.note{color:#3d3d3d}
form button{font-size:1rem;padding:.4rem 1rem}
@media print{
nav,form,.no-print{display:none}
body{font-size:10.5pt}
header,main,footer{max-width:none;padding:0}
a{color:#000;text-decoration:none}
a[href]::after{content:" (" attr(href) ")";
font - size : 8pt
}
.badge{border : 1px solid #000} section { break - inside : avoid - page }
}
)css";

bool linkable_base(std::string_view base) {
  return base.starts_with("https://") || base.starts_with("http://");
}

// "Type/id" with a FHIR type and id (so the link cannot be a path of our
// choosing); anything else is shown as text only.
bool plain_reference(std::string_view ref) {
  const auto slash = ref.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= ref.size()) return false;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const char c = ref[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    (i > slash && (c == '-' || c == '.'));
    if (!ok && i != slash) return false;
  }
  return ref.size() - slash - 1 <= 64;
}

std::string evidence_html(const std::vector<std::string>& refs, const mappings::Considerations& c,
                          std::string_view base) {
  std::set<std::string> from_text(c.read_from_text.begin(), c.read_from_text.end());
  std::string out;
  for (const auto& ref : refs) {
    if (!out.empty()) out += ", ";
    if (linkable_base(base) && plain_reference(ref)) {
      out += "<a href=\"" + e(std::string(base) + "/" + ref) + "\">" + e(ref) + "</a>";
    } else {
      out += e(ref);
    }
    if (from_text.contains(ref)) out += " (read from text: confirm)";
  }
  return out;
}

std::string badge(Urgency u) {
  return "<span class=\"badge " + urgency_class(u) + "\">" + e(urgency_word(u)) + "</span>";
}

std::string list_of(const std::vector<std::string>& items) {
  std::string out = "<ul>";
  for (const auto& i : items) out += "<li>" + e(i) + "</li>";
  return out + "</ul>";
}

std::string page(std::string_view title, std::string_view body) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  out += "<meta name=\"referrer\" content=\"no-referrer\">";
  out += "<title>" + e(title) + "</title><style>";
  out += kStyle;
  out += "</style></head><body>";
  out += body;
  out +=
      "<footer><p class=\"note\">A draft proposal for the multidisciplinary spine-oncology "
      "team, not a treatment decision. MST Care-Plan Adapter.</p></footer></body></html>\n";
  return out;
}

void section(std::ostringstream& out, std::string_view id, std::string_view heading) {
  out << "<section id=\"" << id << "\" aria-labelledby=\"" << id << "-h\"><h2 id=\"" << id
      << "-h\">" << e(heading) << "</h2>";
}

void write_form(std::ostringstream& out, const ReviewPageInput& in) {
  section(out, "write", "Write the draft to the record");
  if (in.write_action.empty()) {
    out << "<p>" << e(in.no_write_reason) << "</p></section>";
    return;
  }
  out << "<p>Writes this draft CarePlan, its goals and referrals to the record as a proposal "
         "for the team (status draft), exactly as <code>mst-adapter run</code> would. "
         "This page can write once.</p>"
      << "<form method=\"post\" action=\"" << e(in.write_action) << "\">"
      << "<input type=\"hidden\" name=\"t\" value=\"" << e(in.review_id) << "\">"
      << "<input type=\"hidden\" name=\"write_token\" value=\"" << e(in.write_token) << "\">"
      << "<button type=\"submit\">Write the draft plan</button></form></section>";
}

}  // namespace

std::string urgency_class(Urgency u) { return "u-" + std::string(code_of(u)); }

std::string review_message_html(std::string_view title, std::string_view message) {
  std::string body =
      "<header><h1>" + e(title) + "</h1></header><main><p>" + e(message) + "</p></main>";
  return page(title, body);
}

std::string review_page_html(const ReviewPageInput& in) {
  const Derivation& d = *in.derivation;
  const auto& c = d.considerations;
  const GoalPlan& plan = d.plan;
  const std::string base = in.fhir_base;
  std::ostringstream out;
  const std::string title = "Draft spine care plan for review: Patient/" + in.patient_id;
  out << "<header><p class=\"note\">MST Care-Plan Adapter: draft for review</p><h1>" << e(title)
      << "</h1><p>As of " << e(c.as_of.date_string());
  if (plan.applicable) out << ". Overall urgency: " << badge(plan.urgency);
  out << "</p></header>";
  out << "<nav aria-label=\"Sections\"><ul>";
  const char* links[][2] = {
      {"pathway", "Pathway"},         {"goals", "Goals"},     {"referrals", "Referrals"},
      {"preferences", "Preferences"}, {"gaps", "Data gaps"},  {"considerations", "Considerations"},
      {"why", "Why each goal"},       {"sources", "Sources"}, {"write", "Write"}};
  for (const auto& l : links) {
    if (!plan.applicable && std::string_view(l[0]) != "considerations" &&
        std::string_view(l[0]) != "gaps")
      continue;
    out << "<li><a href=\"#" << l[0] << "\">" << l[1] << "</a></li>";
  }
  out << "</ul></nav><main>";

  if (!c.alerts.empty()) {
    section(out, "alerts", "Alerts: safety-relevant findings not used");
    out << "<ul>";
    for (const auto& a : c.alerts) out << "<li class=\"alert\">" << e(alert_line(a)) << "</li>";
    out << "</ul></section>";
  }
  if (!plan.applicable) {
    section(out, "pathway", "No plan proposed");
    out << "<p>" << e(plan.not_applicable_reason) << "</p></section>";
  } else {
    section(out, "pathway", "Pathway and actions now");
    out << "<p>" << e(pathway_line(plan)) << "</p>";
    const auto now = actions_now(plan);
    if (now.empty()) out << "<p>Nothing needs doing before the team meets.</p>";
    if (!now.empty()) {
      out << "<ul>";
      for (const auto& a : now) out << "<li>" << badge(a.urgency) << " " << e(a.text) << "</li>";
      out << "</ul>";
    }
    out << "</section>";

    section(out, "goals", "Proposed goals");
    out << "<table><thead><tr><th scope=\"col\">Goal</th><th scope=\"col\">Priority</th>"
           "<th scope=\"col\">Urgency</th><th scope=\"col\">Target</th><th scope=\"col\">Why"
           "</th></tr></thead><tbody>";
    for (const auto& line : goal_lines(plan)) {
      const ProposedGoal& g = *line.goal;
      out << "<tr><th scope=\"row\">" << e(display_of(g.code)) << "</th><td>"
          << e(priority_word(g.priority)) << "</td><td>" << badge(g.urgency) << "</td><td>"
          << e(line.target) << "</td><td>" << e(line.why) << "</td></tr>";
    }
    out << "</tbody></table></section>";

    section(out, "referrals", "Referrals");
    if (plan.referrals.empty()) out << "<p>None proposed.</p>";
    if (!plan.referrals.empty()) {
      out << "<table><thead><tr><th scope=\"col\">To</th><th scope=\"col\">Urgency</th>"
             "<th scope=\"col\">Asked</th><th scope=\"col\">Because</th><th scope=\"col\">"
             "Evidence</th></tr></thead><tbody>";
      for (const auto& r : plan.referrals) {
        out << "<tr><th scope=\"row\">" << e(display_of(r.to)) << "</th><td>" << badge(r.priority)
            << (r.after_emergency ? " after the emergency treatment" : "") << "</td><td>"
            << list_of(r.requests) << "</td><td>" << list_of(r.reasons) << "</td><td>"
            << evidence_html(r.evidence, c, base) << "</td></tr>";
      }
      out << "</tbody></table>";
    }
    out << "</section>";

    section(out, "preferences", "Patient preferences and clinical decisions");
    if (plan.preferences.empty()) out << "<p>None recorded: discuss with the patient.</p>";
    if (!plan.preferences.empty()) {
      out << "<ul>";
      for (const auto& p : plan.preferences) {
        out << "<li>"
            << (p.source == mappings::PreferenceSource::kClinician ? "Clinical decision: "
                                                                   : "Patient: ")
            << "&ldquo;" << e(p.text) << "&rdquo;: " << e(p.effect);
        if (!p.evidence.empty()) out << " (" << evidence_html(p.evidence, c, base) << ")";
        out << "</li>";
      }
      out << "</ul>";
    }
    out << "</section>";
  }

  section(out, "gaps", "Data gaps");
  std::vector<std::string> gaps = plan.data_gaps;
  if (!plan.applicable) {
    for (const auto& g : c.data_gaps) gaps.push_back(g.consideration + ": " + g.detail);
  }
  if (gaps.empty()) out << "<p>None.</p>";
  if (!gaps.empty()) out << list_of(gaps);
  out << "</section>";

  section(out, "considerations", "Considerations as the rules read them");
  out << "<dl class=\"facts\">";
  for (const auto& row : consideration_summary(c, plan.assessment)) {
    out << "<dt>" << e(row.label) << "</dt><dd>" << e(row.text) << "</dd>";
  }
  out << "</dl>";
  if (const std::string line = read_from_text_line(c); !line.empty()) {
    out << "<p>" << e(line) << "</p>";
  }
  if (const auto changed = threshold_changes(plan.assessment.thresholds); !changed.empty()) {
    out << "<p>Site thresholds in use (default in parentheses):</p>" << list_of(changed);
  }
  out << "</section>";

  std::set<std::string> sources;
  if (plan.applicable) {
    section(out, "why", "Why each goal");
    for (const auto& g : plan.goals) {
      out << "<h3>" << e(display_of(g.code)) << "</h3><p>" << e(priority_word(g.priority))
          << " priority, " << badge(g.urgency)
          << (g.certainty == Certainty::kPartial ? ", inputs missing" : "") << "</p><p>"
          << e(g.rationale()) << "</p>";
      if (!g.evidence.empty()) {
        out << "<p>Evidence: " << evidence_html(g.evidence, c, base) << "</p>";
      }
      if (!g.targets.empty()) {
        std::vector<std::string> targets;
        for (const auto& t : g.targets) targets.push_back(t.description);
        out << "<p>Targets:</p>" << list_of(targets);
      }
      for (const auto& r : g.reasons) {
        if (!r.source.empty()) sources.insert(r.source);
      }
    }
    for (const auto& a : plan.actions) {
      if (!a.source.empty()) sources.insert(a.source);
    }
    out << "</section>";

    section(out, "team", "Team");
    out << "<ul>";
    for (const auto& t : plan.team) {
      std::string reasons;
      for (const auto& r : t.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
      out << "<li>" << e(display_of(t.discipline)) << ": " << e(reasons) << "</li>";
    }
    out << "</ul></section>";
    if (!plan.notes.empty()) {
      section(out, "notes", "Notes");
      out << list_of(plan.notes) << "</section>";
    }
    section(out, "sources", "Sources the rules rest on");
    out << "<p>Citations as in docs/clinical-rules.md of the adapter; bracketed keys name its "
           "bibliography.</p>"
        << list_of(std::vector<std::string>(sources.begin(), sources.end())) << "</section>";
  }
  if (!c.ignored.empty()) {
    section(out, "not-used", "Not used");
    out << "<ul>";
    for (const auto& i : c.ignored) {
      out << "<li>" << evidence_html({i.ref}, c, base) << ": " << e(i.reason) << "</li>";
    }
    out << "</ul></section>";
  }
  if (plan.applicable) write_form(out, in);
  out << "</main>";
  return page(title, out.str());
}

}  // namespace mst::adapter
