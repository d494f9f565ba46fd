// Function, systemic condition, prognosis, ongoing treatment and the
// patient's preferences: rows 14, 15, 17, 18 and 20 of the rule table, most
// of which modify what the other rows proposed.
#include <algorithm>

#include "rules.h"

namespace mst::adapter::detail {

using G = GoalCode;

bool from_emergency_row(const ProposedGoal& g) {
  for (const auto& r : g.reasons) {
    if (r.row == 1 || r.row == 3 || r.row == 4 || r.row == 5 || r.row == 16) return true;
  }
  return false;
}

void rule_ambulation(const Assessment& a, PlanDraft& d) {
  const auto& amb = a.c->quality_of_life.ambulation;
  if (amb.value == mappings::Ambulation::kUnknown) {
    d.missing("ambulatory status",
              "walking ability is not recorded, so the function goal has no "
              "baseline");
  }
  if (a.established_deficit && !d.has_goal(G::kImproveFunctionAmbulation)) {
    // Beyond the paraplegia window walking is not a realistic target;
    // function from bed and chair is (docs/clinical-rules.md, "The
    // palliative pathway").
    const auto& since = *a.c->quality_of_life.non_ambulatory_since;
    RuleFiring r{
        .row = 0,
        .rule = "Established loss of walking",
        .finding = "Unable to walk since " + since.date_string() + ", longer than " +
                   number_text(a.t->paraplegia_window_hours) + " h",
        .proposal =
            "function from bed and chair: wheelchair seating, safe transfers, pressure-area "
            "care and a bladder and bowel routine; regaining walking is not the target",
        .source = kSrcPatchell + " (paraplegia over 48 h excluded); " + kSrcQs56,
        .synthesis = true,
        .evidence = amb.evidence};
    d.goal(G::kImproveFunctionAmbulation, Priority::kMedium, Urgency::kRoutine, r);
    d.refer(Discipline::kRehabilitation, Urgency::kRoutine,
            "Rehabilitation for established paraplegia: wheelchair seating, transfers, "
            "pressure-area care and a bladder and bowel programme",
            "Goal: function from bed and chair (walking lost beyond the 48 h window)",
            {G::kImproveFunctionAmbulation}, amb.evidence);
    return;
  }
  const bool impaired = amb.value == mappings::Ambulation::kWithAid ||
                        amb.value == mappings::Ambulation::kNonAmbulatory;
  if (impaired && !d.has_goal(G::kImproveFunctionAmbulation)) {
    RuleFiring r{
        .row = 0,
        .rule = "Reduced mobility",
        .finding = amb.value == mappings::Ambulation::kWithAid ? "Walks only with an aid"
                                                               : "Unable to walk",
        .proposal = "rehabilitation to improve mobility and walking (aids, bracing, physiotherapy)",
        .source = "the source document's goal of improving function and walking",
        .synthesis = true,
        .evidence = amb.evidence};
    d.goal(G::kImproveFunctionAmbulation, Priority::kMedium, Urgency::kRoutine, r);
  }
  if (d.has_goal(G::kImproveFunctionAmbulation)) {
    d.refer(Discipline::kRehabilitation, Urgency::kRoutine,
            "Rehabilitation assessment: mobility, walking aids, bracing and physiotherapy",
            "Goal: improve function and walking", {G::kImproveFunctionAmbulation}, amb.evidence);
  }
}

void rule_bone_targeted_agent(const Assessment& a, PlanDraft& d) {
  const auto& c = *a.c;
  if (a.bone_agent_active) return;
  if (a.primary_spine_tumour) return;  // ESMO's advice is for bone metastases
  const std::string key = c.cancer ? c.cancer->key : "";
  if (key == "prostate") {
    // ESMO 2020 names castration-resistant prostate cancer; castration
    // status is not in the record, so the rule cannot tell.
    d.note(
        "Prostate cancer with bone metastases and no bone-targeted agent recorded: ESMO 2020 "
        "recommends zoledronate or denosumab when the cancer is castration-resistant; the "
        "record does not say, so medical oncology decides (rule table row 18 not applied).");
    return;
  }
  const bool listed = key == "breast" || key == "myeloma";
  if (!listed && a.survival_ge_bone_agent != Tri::kYes) {
    if (a.survival_ge_bone_agent == Tri::kUnknown) {
      d.missing("life expectancy for a bone-targeted agent",
                "ESMO 2020 suggests zoledronate or denosumab for solid tumours with bone "
                "metastases when life expectancy is at least " +
                    number_text(a.t->bone_agent_min_survival_months) +
                    " months; eligibility cannot be assessed");
    }
    return;
  }
  mappings::Evidence ev = c.spine.evidence;
  if (c.cancer) add_evidence(ev, c.cancer->evidence);
  add_evidence(ev, a.prognosis_evidence);
  std::string finding =
      "Bone (spinal) metastases from " + a.cancer_label + " and no bone-targeted agent recorded";
  if (!listed) finding += "; " + a.prognosis_text;
  RuleFiring r{
      .row = 18,
      .rule = "Bone metastases without a bone-targeted agent",
      .finding = finding,
      .proposal =
          "discuss zoledronate or denosumab with medical oncology to reduce skeletal events",
      .source = kSrcEsmo,
      .synthesis = true,
      .evidence = ev};
  d.goal(G::kPreventFracture, Priority::kLow, Urgency::kRoutine, r);
  r.proposal = "a bone-targeted agent becomes part of the cancer treatment plan";
  d.goal(G::kSupportCancerTreatment, Priority::kLow, Urgency::kRoutine, r);
  d.refer(Discipline::kMedicalOncology, Urgency::kRoutine,
          "Discuss a bone-targeted agent (zoledronate or denosumab)",
          "Bone metastases without a bone-targeted agent (row 18)",
          {G::kPreventFracture, G::kSupportCancerTreatment}, ev);
  d.fired(18);
}

void rule_systemic_gate(const Assessment& a, PlanDraft& d) {
  const auto& c = *a.c;
  if (a.s_gate == Tri::kUnknown) {
    d.missing("performance status (ECOG or Karnofsky)",
              "fitness for surgery (NOMS 'S') and for SBRT (SC.24) cannot be judged");
    return;
  }
  if (a.s_gate != Tri::kYes) return;
  d.fired(15);
  std::string line = "Systemic condition (NOMS 'S'): " + a.s_gate_reasons +
                     " lowers surgical candidacy; radiotherapy or vertebral augmentation is "
                     "preferred where it achieves the goal, and medical optimisation comes first.";
  if (a.operable == Tri::kUnknown) {
    line +=
        " Poor performance status may be caused by the new neurological deficit itself, so "
        "fitness for surgery is left to the spine surgeon.";
  }
  d.note(line);
  for (ProposedGoal* g : d.goals()) {
    if (from_emergency_row(*g)) continue;
    if (g->code == G::kCorrectSpinalInstability || g->code == G::kDebulkTumor) {
      d.caution(g->code, "surgical candidacy is lowered (" + a.s_gate_reasons +
                             "); non-surgical means are preferred where they work");
    }
  }
  for (Referral* ref : d.referrals_to(Discipline::kSpineSurgery)) {
    if (ref->priority < Urgency::kAsap) {
      ref->reasons.push_back("Surgical candidacy lowered (" + a.s_gate_reasons +
                             "): the surgeon weighs whether surgery clearly helps (row 15)");
    }
  }
  for (const auto* cm : a.severe_comorbidities) {
    std::string text = "Medical optimisation before any procedure: " + cm->label;
    if (!cm->basis.empty() && cm->basis != "condition") text += " (" + cm->basis + ")";
    if (cm->kind == mappings::ComorbidityKind::kAnaemia)
      text += "; correct the anaemia before surgery";
    d.action(15, text + ".", kSrcNoms + "; " + kSrcPatchell + " ('medically operable')",
             Urgency::kRoutine, cm->evidence);
  }
  (void)c;
}

void rule_poor_prognosis(const Assessment& a, PlanDraft& d) {
  const auto& c = *a.c;
  if (a.poor_prognosis == Tri::kUnknown) {
    std::string consequence =
        "Patchell's 3-month criterion, bone-agent eligibility and "
        "de-escalation for a short prognosis cannot be assessed";
    const auto& tok = c.life_expectancy.tokuhashi;
    if (!tok.missing.empty()) {
      consequence += "; revised Tokuhashi inputs missing: " + join(tok.missing, ", ");
    }
    d.missing("life expectancy (a stated estimate or a complete revised Tokuhashi score)",
              consequence);
    return;
  }
  d.note(
      "Survival estimates are imprecise (the revised Tokuhashi score was about 63% accurate "
      "in a review of 1,686 patients [R12]); the estimate here (" +
      a.prognosis_text + ") is one input, not a prediction for this patient.");
  if (a.poor_prognosis != Tri::kYes) return;
  d.fired(14);
  std::string line = "Poor prognosis (" + a.prognosis_text +
                     "): pain relief and neurological function come first, by the least "
                     "burdensome means (short-course radiotherapy, analgesia, bracing); surgery "
                     "only if it clearly serves them.";
  if (d.emergency()) {
    line += " The emergency pathway is kept: a prognosis score never cancels it.";
  }
  d.note(line);
  if (ProposedGoal* g = d.find_goal(G::kDebulkTumor); g != nullptr && !from_emergency_row(*g)) {
    g->priority = Priority::kLow;
    d.caution(G::kDebulkTumor,
              "with a short prognosis, long-term local control matters less "
              "(rule table row 14)");
  }
  for (Referral* ref : d.referrals_to(Discipline::kRadiationOncology)) {
    ref->reasons.push_back(
        "Short prognosis: a single 8 Gy fraction is preferred where it "
        "suffices (row 14; ASTRO 2017, ESMO 2020)");
  }
  for (Referral* ref : d.referrals_to(Discipline::kSpineSurgery)) {
    if (ref->priority < Urgency::kAsap) {
      ref->reasons.push_back(
          "Short prognosis: surgery only if it clearly relieves pain or "
          "protects neurological function (row 14)");
    }
  }
  if (a.survival_below_rt_min == Tri::kYes) {
    d.note("Life expectancy under " + number_text(a.t->rt_min_survival_weeks) +
           " weeks: ASTRO 2024 conditionally recommends radiotherapy for quality of life only "
           "from 4 weeks; comfort care comes first outside an emergency.");
  }
}

void rule_ongoing_treatment(const Assessment& a, PlanDraft& d) {
  const auto& c = *a.c;
  const std::string team = systemic_team(a);
  if (a.ongoing.empty()) {
    if (c.treatments.empty()) {
      d.missing("current cancer treatment",
                "none is recorded; confirm with " + team +
                    " whether treatment is ongoing, "
                    "because spine treatment must not interfere with it");
    }
    return;
  }
  const std::string labels = treatment_labels(a);
  mappings::Evidence ev;
  for (const auto* tr : a.ongoing) add_evidence(ev, tr->evidence);
  Urgency emergency_urgency = Urgency::kRoutine;
  for (const ProposedGoal* g : d.goals()) {
    if (from_emergency_row(*g)) emergency_urgency = std::max(emergency_urgency, g->urgency);
  }
  RuleFiring r{.row = 17,
               .rule = "Ongoing cancer treatment",
               .finding = "Ongoing " + labels,
               .source = kSrcPrinciple + "; " + kSrcNoms,
               .synthesis = true,
               .evidence = ev};
  if (d.emergency()) {
    r.proposal = "coordinate with " + team +
                 " now; a delay in spine treatment would risk "
                 "serious neurological damage, so the spine pathway goes ahead and the ongoing "
                 "treatment is paused or adjusted only as the oncologist advises";
    d.goal(G::kSupportCancerTreatment, Priority::kHigh, emergency_urgency, r);
    d.refer(Discipline::kMedicalOncology, emergency_urgency,
            "Coordinate ongoing " + labels + " with the urgent spine treatment",
            "Ongoing cancer treatment during a spine emergency (row 17, hard rule)",
            {G::kSupportCancerTreatment}, ev);
    d.note("Hard rule: spine treatment must not interfere with the ongoing " + labels +
           " unless a delay risks serious neurological damage. Here it does (emergency pathway), "
           "so spine treatment is not deferred; " +
           team + " is asked to coordinate.");
  } else {
    r.proposal =
        "schedule spine treatment around the ongoing treatment rather than interrupt "
        "it; agree the timing with " +
        team;
    d.goal(G::kSupportCancerTreatment, Priority::kMedium, Urgency::kRoutine, r);
    d.refer(Discipline::kMedicalOncology, Urgency::kRoutine,
            "Coordinate the timing of spine treatment with ongoing " + labels,
            "Ongoing cancer treatment (row 17, hard rule)", {G::kSupportCancerTreatment}, ev);
    for (Referral* ref : d.referrals()) {
      if (ref->to == Discipline::kMedicalOncology || ref->to == Discipline::kHaematology) continue;
      ref->reasons.push_back(ref->priority == Urgency::kRoutine
                                 ? "Timing to be agreed with " + team + " so that the ongoing " +
                                       labels + " is not interrupted (row 17)"
                                 : "Coordinate with " + team + ": ongoing " + labels + " (row 17)");
    }
    d.note("Hard rule: spine treatment must not interfere with the ongoing " + labels +
           ". No finding suggests that a delay risks serious neurological damage, so non-urgent "
           "spine procedures are scheduled around it.");
  }
  d.fired(17);
}

void rule_preferences(const Assessment& a, PlanDraft& d) {
  const auto& c = *a.c;
  d.fired(20);
  if (c.preferences.empty()) {
    d.missing("patient preferences and goals of care",
              "not recorded; discuss with the patient before the team decides (ASTRO 2024 "
              "whole-person assessment; NICE shared decision-making)");
  }
  if (a.comfort_focused == nullptr) return;
  if (ProposedGoal* g = d.find_goal(G::kDebulkTumor); g != nullptr && !from_emergency_row(*g)) {
    d.drop_goal(G::kDebulkTumor);
    d.note("Debulking is not proposed: " + comfort_basis(a) + ".");
  }
  if (d.emergency()) {
    for (ProposedGoal* g : d.goals()) {
      if (from_emergency_row(*g)) {
        d.caution(g->code, comfort_basis(a) +
                               ": confirm urgently with the patient "
                               "whether emergency treatment is wanted");
      }
    }
  }
}

void rule_input_quality(const Assessment& a, PlanDraft& d) {
  const auto& c = *a.c;
  if (!c.cancer || (a.onco == Onco::kUnknown && !a.haematological)) {
    d.missing("primary cancer histology and its radiosensitivity",
              "NOMS 'O' (conventional radiotherapy versus SBRT or surgery) cannot be judged");
  }
  auto stale = [&d](const std::string& what, const auto& fact) {
    if (fact && fact->stale) {
      d.missing(what + " recorded" + day_text(fact->when),
                "older than its recency window; confirm it is still current before acting on it");
    }
  };
  stale("ESCC grade", c.neurology.escc);
  stale("SINS", c.mechanics.sins_total);
  stale("ECOG", c.quality_of_life.ecog);
  stale("Karnofsky score", c.quality_of_life.karnofsky);
  stale("pain score", c.quality_of_life.pain_score);
  stale("stated life expectancy", c.life_expectancy.stated_months);
  if (a.ecog && *a.ecog >= 5) {
    d.note("ECOG 5 (dead) is recorded: check the record before acting on this plan.");
  }
}

}  // namespace mst::adapter::detail
