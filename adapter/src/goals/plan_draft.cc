#include "plan_draft.h"

#include <algorithm>

#include "mst/adapter/goals/measure_codes.h"
#include "ranking.h"

namespace mst::adapter::detail {

namespace {

template <typename T>
void push_unique(std::vector<T>& v, const T& item) {
  if (std::find(v.begin(), v.end(), item) == v.end()) v.push_back(item);
}

std::string preference_quote(const mappings::Preference& p) {
  return p.text.empty() ? "" : " (\"" + p.text + "\")";
}

}  // namespace

void PlanDraft::goal(GoalCode g, Priority p, Urgency u, RuleFiring r,
                     const std::vector<std::string>& missing_inputs) {
  auto [it, inserted] = goals_.try_emplace(g);
  ProposedGoal& goal = it->second;
  if (inserted) {
    goal.code = g;
    goal.priority = p;
    goal.urgency = u;
  }
  goal.priority = std::max(goal.priority, p);
  goal.urgency = std::max(goal.urgency, u);
  add_evidence(goal.evidence, r.evidence);
  goal.reasons.push_back(std::move(r));
  for (const auto& m : missing_inputs) push_unique(goal.missing, m);
  if (!goal.missing.empty()) goal.certainty = Certainty::kPartial;
}

ProposedGoal* PlanDraft::find_goal(GoalCode g) {
  auto it = goals_.find(g);
  return it == goals_.end() ? nullptr : &it->second;
}

void PlanDraft::caution(GoalCode g, const std::string& text) {
  if (auto* goal = find_goal(g)) push_unique(goal->cautions, text);
}

void PlanDraft::refer(Discipline d, Urgency u, const std::string& request,
                      const std::string& reason, const std::vector<GoalCode>& serves,
                      const mappings::Evidence& evidence, const Snomed* code) {
  // The systemic-treatment team of a haematological malignancy is haematology.
  if (d == Discipline::kMedicalOncology && a_.haematological) d = Discipline::kHaematology;
  const bool declined =
      (d == Discipline::kSpineSurgery && a_.declines_surgery != nullptr) ||
      (d == Discipline::kRadiationOncology && a_.declines_radiotherapy != nullptr);
  if (declined) {
    Withheld& w = withheld_[d];
    push_unique(w.requests, request);
    for (GoalCode g : serves) push_unique(w.serves, g);
    if (d != Discipline::kSpineSurgery || !surgical_opinion_needed()) return;
  }
  // Declining an operation withholds the operation, never the surgeon's
  // opinion on stability and immobilisation (NICE NG234: expert advice on
  // spinal stability within 24 h; clinical-decision.md §8 'Immobilisation').
  const std::string asked =
      declined ? std::string(
                     "Surgical opinion on spinal stability, immobilisation and non-operative "
                     "options (the patient declined an operation: none is proposed)")
               : request;
  if (declined) {
    code = nullptr;
    // One opinion is enough: asked already at this urgency or a higher one.
    for (auto& [key, r] : referrals_) {
      if (key.first == d && key.second >= u &&
          std::find(r.requests.begin(), r.requests.end(), asked) != r.requests.end()) {
        return;
      }
    }
  }
  auto [it, inserted] = referrals_.try_emplace({d, u});
  Referral& ref = it->second;
  if (inserted) {
    ref.to = d;
    ref.priority = u;
    if (code != nullptr) {
      ref.snomed_code = code->code;
      ref.snomed_display = code->display;
    }
  } else if (code == nullptr || ref.snomed_code != code->code) {
    // A second, differently coded (or uncoded) request: no single code fits.
    ref.snomed_code.clear();
    ref.snomed_display.clear();
  }
  push_unique(ref.requests, asked);
  push_unique(ref.reasons, reason);
  for (GoalCode g : serves) push_unique(ref.serves, g);
  std::sort(ref.serves.begin(), ref.serves.end());
  add_evidence(ref.evidence, evidence);
}

bool PlanDraft::surgical_opinion_needed() const {
  const auto& m = a_.c->mechanics;
  return emergency_ || a_.mscc_suspected || a_.escc_class == EsccClass::kHigh ||
         a_.sins_stable != Tri::kYes || m.pathological_fracture || m.instability_diagnosis;
}

void PlanDraft::apply_not_for_surgery() {
  const mappings::Preference* p = a_.not_for_surgery;
  if (p == nullptr) return;
  std::vector<std::pair<Discipline, Urgency>> surgical;
  for (const auto& [key, r] : referrals_) {
    if (key.first == Discipline::kSpineSurgery) surgical.push_back(key);
  }
  if (surgical.empty()) return;
  const std::string decision = "'" + p->text + "'" + day_text(p->when);
  // Instability scored after the decision is new to the team.
  const auto& sins = a_.c->mechanics.sins_total;
  const bool new_instability = a_.gross_instability == Tri::kYes && sins && sins->when &&
                               (!p->when || sins->when->start_ms() > p->when->start_ms());
  if (emergency_ || new_instability) {
    mdt_reopened_ = true;
    const std::string why = emergency_
                                ? "a new neurological deficit or cord compression (an emergency)"
                                : "spinal instability scored after the decision (SINS " +
                                      std::to_string(sins->value) + day_text(sins->when) + ")";
    for (const auto& key : surgical) {
      push_unique(referrals_[key].reasons,
                  "The MDT recorded " + decision + "; " + why +
                      " has appeared since: reconsider that decision urgently");
    }
    note("The MDT recorded " + decision + " (a clinical decision, not the patient's choice). " +
         "Since then " + why +
         " has appeared: the surgical referral stands and the team is asked to reconsider the "
         "decision urgently; the emergency actions are not delayed.");
    return;
  }
  std::vector<GoalCode> served;
  for (const auto& key : surgical) {
    const Referral& r = referrals_[key];
    for (const auto& q : r.requests) push_unique(mdt_withheld_, q);
    for (GoalCode g : r.serves) push_unique(served, g);
    referrals_.erase(key);
  }
  note("The MDT decided the patient is not for surgery at present: " + decision +
       ". No surgical referral is proposed (withheld: " + join(mdt_withheld_, "; ") +
       "). A new neurological deficit or new spinal instability would reopen the question.");
  for (GoalCode g : served) {
    caution(g,
            "the MDT decided 'not for surgery' at present, so no surgical referral is "
            "proposed for this goal");
  }
}

std::vector<Referral*> PlanDraft::referrals_to(Discipline d) {
  std::vector<Referral*> out;
  for (auto& [key, r] : referrals_) {
    if (key.first == d) out.push_back(&r);
  }
  return out;
}

void PlanDraft::team(Discipline d, const std::string& reason) { push_unique(team_[d], reason); }

void PlanDraft::action(int row, const std::string& text, const std::string& source, Urgency u,
                       const mappings::Evidence& evidence) {
  for (const auto& a : actions_) {
    if (a.text == text) return;
  }
  actions_.push_back(SuggestedAction{row, text, source, u, evidence});
}

void PlanDraft::note(const std::string& text) { push_unique(notes_, text); }

void PlanDraft::missing(const std::string& input, const std::string& consequence) {
  for (const auto& m : missing_) {
    if (m.input == input) return;
  }
  missing_.push_back(MissingInput{input, consequence});
}

void PlanDraft::fired(int row) { push_unique(fired_, row); }

bool PlanDraft::has_fired(int row) const {
  return std::find(fired_.begin(), fired_.end(), row) != fired_.end();
}

std::vector<ProposedGoal*> PlanDraft::goals() {
  std::vector<ProposedGoal*> out;
  for (auto& [code, g] : goals_) out.push_back(&g);
  return out;
}

std::vector<Referral*> PlanDraft::referrals() {
  std::vector<Referral*> out;
  for (auto& [key, r] : referrals_) out.push_back(&r);
  return out;
}

void PlanDraft::add_targets(ProposedGoal& g) const {
  const auto& c = *a_.c;
  const auto& t = *a_.t;
  if (g.code == GoalCode::kPainRelief) {
    Target pain;
    pain.system = fhir::code_system::kLoinc;
    pain.code = "72514-3";
    pain.display = "Pain severity - 0-10 verbal numeric rating [Score] - Reported";
    pain.has_range = true;
    pain.low = 0;
    pain.high = t.pain_target_max;
    pain.description =
        "Pain score of " + number_text(t.pain_target_max) + " or lower on the 0-10 numeric scale";
    if (c.quality_of_life.pain_score) {
      pain.description += " (currently " + number_text(c.quality_of_life.pain_score->value) +
                          day_text(c.quality_of_life.pain_score->when) + ")";
    }
    g.targets.push_back(pain);
  }
  if (g.code == GoalCode::kImproveFunctionAmbulation) {
    // Walking lost beyond the paraplegia window, or comfort first: the
    // targets are function from bed and chair, never walking again
    // (docs/clinical-rules.md, "The palliative pathway").
    if (a_.established_deficit || (palliative_ && !emergency_)) {
      add_care_targets(g);
      return;
    }
    Target walk;
    const MeasureCode& measure = measure_code("ambulatory-status");
    walk.code = measure.code;
    walk.display = measure.display;
    walk.local_code = true;
    switch (c.quality_of_life.ambulation.value) {
      case mappings::Ambulation::kIndependent:
        walk.detail_text = "Keeps walking independently";
        break;
      case mappings::Ambulation::kNonAmbulatory:
        walk.detail_text = "Regains walking, with or without an aid";
        break;
      case mappings::Ambulation::kWithAid:
      case mappings::Ambulation::kUnknown:
        walk.detail_text = "Walks independently or with an aid";
        break;
    }
    walk.description = walk.detail_text;
    g.targets.push_back(walk);
    if (a_.ecog && *a_.ecog <= 4) {
      Target ecog;
      ecog.system = fhir::code_system::kLoinc;
      ecog.code = "89247-1";
      ecog.display = "ECOG Performance Status score";
      ecog.has_range = true;
      ecog.low = 0;
      ecog.high = *a_.ecog;
      ecog.description =
          "ECOG performance status no worse than the current " + std::to_string(*a_.ecog);
      g.targets.push_back(ecog);
    }
  }
}

void PlanDraft::add_care_targets(ProposedGoal& g) const {
  auto local = [&g](std::string_view code, std::string detail) {
    const MeasureCode& measure = measure_code(code);
    Target t;
    t.code = measure.code;
    t.display = measure.display;
    t.local_code = true;
    t.detail_text = std::move(detail);
    t.description = t.detail_text;
    g.targets.push_back(std::move(t));
  };
  // Seating matters to someone who spends the day in a chair; a patient who
  // still walks keeps the other three.
  if (a_.non_ambulatory) {
    local("seating",
          "Sits out comfortably in a suitable wheelchair or chair, with pressure relief");
  }
  local("transfers",
        "Transfers safely between bed, chair and toilet, with aids or carers as needed");
  local("pressure-area", "No new pressure ulcer: skin kept intact");
  local("bladder-bowel",
        "A bladder and bowel routine in place: retention, incontinence and constipation managed");
}

GoalPlan PlanDraft::finish() {
  GoalPlan plan;
  plan.applicable = true;
  plan.emergency = emergency_;
  plan.palliative = palliative_ && !emergency_;

  // The team's own decision first, so the patient's refusal below sees
  // which surgical referral is left.
  apply_not_for_surgery();

  // Referrals withheld by the patient's stated preference: say so, and say
  // on each goal they would have served.
  for (const auto& [d, w] : withheld_) {
    const mappings::Preference* p =
        d == Discipline::kSpineSurgery ? a_.declines_surgery : a_.declines_radiotherapy;
    const std::string what = d == Discipline::kSpineSurgery ? "surgery" : "radiotherapy";
    const bool opinion_kept =
        d == Discipline::kSpineSurgery && !referrals_to(Discipline::kSpineSurgery).empty();
    std::string line = "The patient declined " + what + preference_quote(*p) +
                       (p->when ? " on " + p->when->date_string() : std::string()) + ". " +
                       (opinion_kept ? "No operation is proposed; the surgical opinion on "
                                       "stability and immobilisation is still asked for. "
                        : d == Discipline::kSpineSurgery
                            ? "No surgical referral is proposed: the spine is stable and not "
                              "compressed, so there is no stability question for a surgeon. "
                            : "No radiotherapy referral is proposed. ") +
                       "Withheld: " + join(w.requests, "; ") + ".";
    line += alternatives_.empty() ? " No alternative was found by the rules; the team can "
                                    "revisit this with the patient."
                                  : " Offered instead: " + join(alternatives_, "; ") + ".";
    note(line);
    for (GoalCode g : w.serves) {
      caution(g, "the patient declined " + what + ", so " +
                     (d == Discipline::kSpineSurgery ? std::string("no operation") : "no " + what) +
                     " is proposed for this goal" +
                     (alternatives_.empty() ? "" : "; alternatives are offered"));
    }
  }

  const bool surgical_referral = !referrals_to(Discipline::kSpineSurgery).empty();

  for (auto& [code, g] : goals_) {
    add_targets(g);
    plan.goals.push_back(std::move(g));
  }
  rank(plan);
  for (const auto& g : plan.goals) plan.urgency = std::max(plan.urgency, g.urgency);
  std::map<Discipline, std::vector<std::string>> team_reasons;
  for (auto& [key, r] : referrals_) {
    // An elective request waits for the emergency treatment; it is never sent
    // at the emergency's urgency (it has its own ServiceRequest).
    if (emergency_ && r.priority == Urgency::kRoutine) {
      r.after_emergency = true;
      push_unique(r.reasons, std::string(kAfterEmergency));
    }
    plan.urgency = std::max(plan.urgency, r.priority);
    for (const auto& why : r.reasons) {
      if (why != kAfterEmergency) push_unique(team_reasons[key.first], why);
    }
    plan.referrals.push_back(std::move(r));
  }
  for (const auto& [d, reasons] : team_) {
    for (const auto& extra : reasons) push_unique(team_reasons[d], extra);
  }
  for (auto& [d, reasons] : team_reasons) {
    if (!reasons.empty()) plan.team.push_back(TeamNeed{d, std::move(reasons)});
  }
  std::sort(plan.team.begin(), plan.team.end(),
            [](const TeamNeed& x, const TeamNeed& y) { return x.discipline < y.discipline; });

  // Every recorded preference is shown, with what the plan did about it.
  std::vector<const mappings::Preference*> prefs;
  for (const auto& p : a_.c->preferences) prefs.push_back(&p);
  std::sort(prefs.begin(), prefs.end(), [](const auto* x, const auto* y) {
    return std::tie(x->kind, x->text, x->evidence) < std::tie(y->kind, y->text, y->evidence);
  });
  for (const auto* p : prefs) {
    PreferenceShown shown{.kind = p->kind,
                          .text = p->text,
                          .effect = "",
                          .evidence = p->evidence,
                          .source = p->source};
    switch (p->kind) {
      case mappings::PreferenceKind::kDeclinesSurgery:
        if (!withheld_.count(Discipline::kSpineSurgery)) {
          shown.effect = "Respected: no surgical option was needed by the rules";
        } else {
          shown.effect =
              std::string("Respected: no operation is proposed") +
              (!surgical_referral
                   ? "; no surgical opinion is needed (stable spine, no compression)"
                   : "; the surgical opinion on stability and immobilisation is kept") +
              (alternatives_.empty() ? std::string()
                                     : "; offered instead: " + join(alternatives_, "; "));
        }
        break;
      case mappings::PreferenceKind::kNotForSurgery:
        shown.effect =
            !mdt_withheld_.empty()
                ? "A clinical decision, not the patient's preference: followed; no surgical "
                  "referral is proposed until a new deficit or new instability reopens it"
            : mdt_reopened_
                ? "A clinical decision, not the patient's preference: a new finding since asks "
                  "the team to reconsider it urgently; the emergency actions stand"
                : "A clinical decision, not the patient's preference: followed; no surgical "
                  "referral was needed by the rules";
        break;
      case mappings::PreferenceKind::kDeclinesRadiotherapy:
        shown.effect = withheld_.count(Discipline::kRadiationOncology)
                           ? "Respected: no radiotherapy referral is proposed"
                           : "Respected: no radiotherapy was needed by the rules";
        break;
      case mappings::PreferenceKind::kComfortFocused:
        shown.effect =
            p->source == mappings::PreferenceSource::kClinician
                ? "An existing order, not the patient's words: followed; debulking and elective "
                  "surgery are not proposed; any emergency pathway is shown with a prompt to "
                  "confirm the patient's wishes"
                : "Respected: debulking and elective surgery are not proposed; any emergency "
                  "pathway is shown with a prompt to confirm the patient's wishes";
        break;
      case mappings::PreferenceKind::kOther:
        if (p->source == mappings::PreferenceSource::kClinician) {
          shown.effect =
              "A clinician's decision, not the patient's preference: shown to the team, not "
              "applied as the patient's choice";
        } else if (!p->supersedes.empty()) {
          shown.effect = "The latest statement stands; it replaces " + p->supersedes +
                         ", so nothing is withheld on that account";
        } else {
          shown.effect = "Shown to the team; no rule acts on it automatically";
        }
        break;
    }
    plan.preferences.push_back(std::move(shown));
  }

  plan.actions = std::move(actions_);
  std::stable_sort(plan.actions.begin(), plan.actions.end(),
                   [](const auto& x, const auto& y) { return x.row < y.row; });
  plan.notes = std::move(notes_);
  plan.missing = std::move(missing_);
  plan.fired_rows = std::move(fired_);
  std::sort(plan.fired_rows.begin(), plan.fired_rows.end());
  return plan;
}

}  // namespace mst::adapter::detail
