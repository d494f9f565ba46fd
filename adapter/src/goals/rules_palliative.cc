// The palliative pathway (issue #11 item 4): with a short prognosis, or an
// established deficit and poor performance status, comfort comes first. Pain
// relief leads, with a prompt single radiotherapy fraction; function is
// sitting, transfers, skin and continence, not walking; nothing is imaged or
// operated on that would not change the patient's care.
#include "rules.h"

namespace mst::adapter::detail {

using G = GoalCode;

namespace {

std::string palliative_finding(const Assessment& a) {
  std::vector<std::string> parts;
  if (a.short_prognosis) parts.push_back(a.prognosis_text);
  if (a.established_deficit) {
    parts.push_back(std::string(a.established_complete ? "complete deficit, " : "") +
                    "unable to walk since " +
                    a.c->quality_of_life.non_ambulatory_since->date_string());
  }
  if (a.poor_ps == Tri::kYes) parts.push_back("performance status " + a.s_gate_reasons);
  return join(parts, "; ");
}

mappings::Evidence palliative_evidence(const Assessment& a) {
  const auto& q = a.c->quality_of_life;
  mappings::Evidence ev = a.prognosis_evidence;
  if (a.established_deficit) add_evidence(ev, q.ambulation.evidence);
  if (q.ecog) add_evidence(ev, q.ecog->evidence);
  if (q.karnofsky) add_evidence(ev, q.karnofsky->evidence);
  if (q.pain_score) add_evidence(ev, q.pain_score->evidence);
  return ev;
}

}  // namespace

void rule_palliative_pathway(const Assessment& a, PlanDraft& d) {
  // An emergency is never replaced by comfort care (hard rule 3).
  if (!a.palliative_candidate || d.emergency()) return;
  const auto& t = *a.t;
  d.mark_palliative();
  d.fired(14);
  const mappings::Evidence ev = palliative_evidence(a);
  const std::string finding = "Palliative pathway: " + palliative_finding(a);
  const std::string source =
      kSrcAstro2017 + "; " + kSrcAstro2024 + "; " + kSrcNoms + "; " + kSrcPatchell + " eligibility";
  const bool rt_worthwhile = a.survival_below_rt_min != Tri::kYes;
  const bool pain = a.pain_present == Tri::kYes;

  RuleFiring r{.row = 14,
               .rule = "Palliative pathway: comfort first",
               .finding = finding,
               .source = source,
               .synthesis = true,
               .evidence = ev};
  r.proposal = pain && rt_worthwhile
                   ? "pain relief first: analgesia now and a single 8 Gy fraction of radiotherapy "
                     "to the painful level, which relieves pain as well as longer courses"
                   : "pain relief first: analgesia and symptom control, reviewed regularly";
  d.goal(G::kPainRelief, Priority::kHigh, pain ? Urgency::kUrgent : Urgency::kRoutine, r);
  if (!rt_worthwhile) {
    d.caution(G::kPainRelief, "life expectancy under " + number_text(t.rt_min_survival_weeks) +
                                  " weeks: ASTRO 2024 recommends radiotherapy for quality of "
                                  "life only from 4 weeks; analgesia and comfort come first");
  }
  r.proposal =
      "function from bed and chair: seating, safe transfers, pressure-area care and a bladder "
      "and bowel routine, for comfort and dignity; regaining walking is not the target";
  d.goal(G::kImproveFunctionAmbulation, Priority::kHigh, Urgency::kRoutine, r);

  if (pain && rt_worthwhile) {
    d.refer(Discipline::kRadiationOncology, Urgency::kUrgent,
            "Single-fraction palliative radiotherapy (8 Gy x 1) to the painful spinal level" +
                (a.levels_text.empty() ? std::string() : " (" + a.levels_text + ")") +
                ", as soon as it can be arranged",
            "Palliative pathway: pain relief first (row 14; ASTRO 2017, ESMO 2020)",
            {G::kPainRelief}, ev, &kRadiotherapy);
  }
  d.refer(Discipline::kRehabilitation, Urgency::kRoutine,
          "Occupational therapy, physiotherapy and nursing for comfort: seating, transfers and "
          "handling, pressure-area care, bladder and bowel care",
          "Palliative pathway: function from bed and chair (team rule)",
          {G::kImproveFunctionAmbulation}, ev);
  d.action(14,
           "Involve the specialist palliative care team: symptom control, and goals of care "
           "discussed with the patient and those close to them.",
           kSrcAstro2024 + " (whole-person assessment); NICE NG234 [R26]", Urgency::kRoutine, ev);

  // What the pathway leaves out, and why, so the team sees it was weighed.
  std::vector<std::string> not_proposed = {"walking as a target"};
  if (a.ps_gates_procedures) not_proposed.push_back("surgery and SBRT");
  if (a.established_complete) {
    not_proposed.push_back("high-dose dexamethasone to preserve neurological function");
  }
  d.note("Palliative pathway (" + palliative_finding(a) +
         "): comfort comes first. Not proposed: " + join(not_proposed, "; ") +
         ". Imaging only to score stability or grade compression is not requested, since it "
         "would not change the plan. A new neurological symptom restarts the emergency pathway.");
}

}  // namespace mst::adapter::detail
