// The goal engine's output: the proposed goals with their priority, urgency,
// rationale and evidence, the disciplines the plan needs and the referrals to
// propose. A value type; the CarePlan builder turns it into FHIR.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/adapter/goals/skip_reason.h"
#include "mst/mappings/considerations.h"

namespace mst::adapter {

// The seven goals of the source document, in the order plans list them.
enum class GoalCode {
  kPainRelief,
  kPreserveNeurologicFunction,
  kPreventFracture,
  kCorrectSpinalInstability,
  kImproveFunctionAmbulation,
  kSupportCancerTreatment,
  kDebulkTumor,
};

// Every goal code in GoalCode order: what the goal CodeSystem lists.
inline constexpr GoalCode kAllGoalCodes[] = {
    GoalCode::kPainRelief,
    GoalCode::kPreserveNeurologicFunction,
    GoalCode::kPreventFracture,
    GoalCode::kCorrectSpinalInstability,
    GoalCode::kImproveFunctionAmbulation,
    GoalCode::kSupportCancerTreatment,
    GoalCode::kDebulkTumor,
};

// Goal priority (http://terminology.hl7.org/CodeSystem/goal-priority). Ordered.
enum class Priority { kLow, kMedium, kHigh };

// Request priority (http://hl7.org/fhir/request-priority). Ordered: stat is highest.
enum class Urgency { kRoutine, kUrgent, kAsap, kStat };

// The pathway the plan is on, from the most urgent rule that fired: it decides
// which goals rank high (docs/clinical-rules.md, "Ranking").
enum class Pathway {
  kPlanned,    // next MDT or planned: rows 6-9, 11-13, 17-19
  kUrgent,     // within 24 h: rows 2, 10, row 9 with severe pain or neurology
  kEmergency,  // suspected or confirmed cord compression: rows 1, 3-5, 16
  // Comfort first: a short prognosis, or an established deficit with poor
  // performance status, and no emergency (rules_palliative.cc).
  kPalliative,
};

enum class Certainty {
  kConfirmed,  // every input the rule needs was present
  kPartial,    // some inputs were missing; they are named and never assumed favourable
};

// The disciplines of a spine-oncology multidisciplinary team.
enum class Discipline {
  kSpineSurgery,
  kRadiationOncology,
  kMedicalOncology,
  kDiagnosticRadiology,
  kInterventionalRadiology,
  kRehabilitation,
  // Leads systemic treatment of lymphoma, myeloma and leukaemia in place of
  // medical oncology (NICE NG234: discuss with the haematology MDT).
  kHaematology,
};

std::string_view code_of(GoalCode g);  // "pain-relief", ...
std::string_view display_of(GoalCode g);
// What the goal means, one or two sentences: the CodeSystem's definition.
std::string_view definition_of(GoalCode g);
std::string_view code_of(Priority p);  // "high-priority", ...
std::string_view display_of(Priority p);
std::string_view code_of(Urgency u);     // "routine" | "urgent" | "asap" | "stat"
std::string_view code_of(Discipline d);  // "spine-surgery", ...
std::string_view display_of(Discipline d);
std::string_view code_of(Certainty c);  // "confirmed" | "partial"
std::string_view code_of(Pathway p);    // "planned" | "urgent" | "emergency" | "palliative"

// Why a rule proposed something: the finding, the rule, the source.
struct RuleFiring {
  int row = 0;                // row of clinical-decision.md section 9; 0 = a team rule outside it
  std::string rule = {};      // short name, e.g. "High-grade compression, radioresistant tumour"
  std::string finding = {};   // what in the record triggered it, in plain words
  std::string proposal = {};  // what the rule proposes for this goal
  std::string source = {};    // e.g. "NOMS (Laufer 2013) [R6, R7]; Patchell 2005 [R35]"
  bool synthesis = false;     // the finding -> goal mapping is the team's own synthesis
  mappings::Evidence evidence = {};
};

// A measurable target for a goal (Goal.target).
struct Target {
  // The measure. `local_code` set: the code is in the adapter's own measure
  // CodeSystem (no standard code exists), else `system` holds the system URI.
  std::string system;
  std::string code;
  std::string display;
  bool local_code = false;
  // Either a numeric range (score units) or a text detail.
  bool has_range = false;
  double low = 0;
  double high = 0;
  std::string detail_text;
  std::string description;  // plain words, e.g. "Pain score 3 or lower on the 0-10 scale"
};

struct ProposedGoal {
  GoalCode code = GoalCode::kPainRelief;
  Priority priority = Priority::kLow;
  Urgency urgency = Urgency::kRoutine;
  Certainty certainty = Certainty::kConfirmed;
  std::vector<RuleFiring> reasons;    // in rule order
  std::vector<std::string> cautions;  // modifiers that temper this goal (prognosis, S-gate, ...)
  std::vector<std::string> missing;   // inputs that would firm up this goal
  mappings::Evidence evidence;        // sorted, unique union of the reasons' evidence
  std::vector<Target> targets;
  // Why the priority (or pain relief's urgency) differs from what the rules
  // proposed; empty when it does not (docs/clinical-rules.md, "Ranking").
  std::string ranking;

  // Plain-language rationale: each reason (finding, proposal, rule, source),
  // the ranking, then cautions and missing inputs.
  std::string rationale() const;
  // The same sentences in groups, one per reason, then the ranking, each
  // caution and the missing inputs: rationale() is their join with spaces.
  std::vector<std::string> rationale_parts() const;
  // The section-9 rows of the reasons, sorted, unique (0: a team rule).
  std::vector<int> fired_rows() const;
  // The bibliography keys ("R35") the reasons' sources cite in brackets,
  // sorted, unique: which evidence the goal rests on, for machines.
  std::vector<std::string> cited_keys() const;
};

// A referral to propose (ServiceRequest-level): one discipline at one
// urgency, holding only the requests made at that urgency.
struct Referral {
  Discipline to = Discipline::kSpineSurgery;
  Urgency priority = Urgency::kRoutine;
  // An elective (routine) request while an emergency pathway is open: it
  // waits until the emergency treatment is done.
  bool after_emergency = false;
  std::vector<std::string> requests;  // what is asked, in rule order
  std::vector<std::string> reasons;   // why, one line per rule
  std::vector<GoalCode> serves;       // sorted, unique
  // A verified SNOMED CT procedure code when exactly one applies (else empty).
  std::string snomed_code;
  std::string snomed_display;
  mappings::Evidence evidence;
};

// A discipline the plan needs and why.
struct TeamNeed {
  Discipline discipline = Discipline::kSpineSurgery;
  std::vector<std::string> reasons;
};

// A suggested action that is not a referral (e.g. steroid, immobilisation).
struct SuggestedAction {
  int row = 0;
  std::string text;
  std::string source;
  Urgency urgency = Urgency::kRoutine;
  mappings::Evidence evidence;
};

// An input the rules needed but did not have, and what that changes.
struct MissingInput {
  std::string input;        // e.g. "ESCC (Bilsky) grade"
  std::string consequence;  // e.g. "epidural compression cannot be graded; ..."
};

// A patient preference as the plan shows it, and how the plan respected it.
struct PreferenceShown {
  mappings::PreferenceKind kind = mappings::PreferenceKind::kOther;
  std::string text;
  std::string effect;  // e.g. "no surgical referral proposed"
  mappings::Evidence evidence;
  // Whose statement: a clinician's decision or order (an MDT's "not for
  // surgery", a POLST) is never worded as the patient's preference.
  mappings::PreferenceSource source = mappings::PreferenceSource::kPatient;
};

// How the engine read the patient, under the thresholds it used. The builder,
// the narrative and `explain` show only this reading, never a recomputed one,
// so the plan text cannot disagree with the goals under site thresholds.
struct PlanAssessment {
  RuleThresholds thresholds;      // the values every rule of this plan used
  std::string levels;             // "T11-T12", "T4, L2", or empty
  std::string ongoing_treatment;  // "chemotherapy (Docetaxel), ...", empty when none
  // What the survival estimate rests on and how the rules read it, e.g.
  // "stated life expectancy of about 5 months (2024-03-01); read as a poor
  // prognosis (below 6 months)". Empty when no estimate is recorded.
  std::string prognosis;
  std::string prognosis_band;  // "poor" | "intermediate" | "favourable" | "unknown"
  // The SINS band by `thresholds`: "stable" | "potentially unstable" |
  // "unstable"; empty without a SINS total or subluxation.
  std::string sins_band;
  // Loss of walking read against the paraplegia window, e.g. "walking lost
  // within the 48-hour window"; empty when the patient walks or it is unknown.
  std::string walking;
  std::string surgical_candidacy;  // "lowered (ECOG 3, severe anaemia)", or empty
};

struct GoalPlan {
  // False when no plan is proposed (e.g. no spinal metastasis); then
  // `not_applicable_reason` says why and everything else is empty.
  bool applicable = false;
  std::string not_applicable_reason;
  // For machines (run --format json, metrics), when !applicable.
  SkipReason not_applicable_code = SkipReason::kNoSpinalMetastasis;

  Urgency urgency = Urgency::kRoutine;  // the highest urgency of goals and referrals
  bool emergency = false;               // an emergency pathway (rows 1, 3-5, 16) fired
  bool palliative = false;              // the palliative pathway fired (never with `emergency`)
  Pathway pathway =
      Pathway::kPlanned;            // emergency iff `emergency`, else palliative iff `palliative`
  std::vector<ProposedGoal> goals;  // in GoalCode order
  // In Discipline order, most urgent first within a discipline; one per
  // discipline and urgency.
  std::vector<Referral> referrals;
  std::vector<TeamNeed> team;            // in Discipline order
  std::vector<SuggestedAction> actions;  // in rule order
  std::vector<PreferenceShown> preferences;
  std::vector<std::string> notes;  // hard-rule statements, de-escalation, rules not applied and why
  std::vector<MissingInput> missing;  // in the order the rules met them, unique
  // The data gaps as the plan's note and narrative list them, one "what:
  // detail" line each: the record's gaps (sorted), then `missing`. Built once
  // by the engine; later stages only print it.
  std::vector<std::string> data_gaps;
  std::vector<int> fired_rows;  // section 9 rows that fired, sorted, unique
  // The reading the rules used; set on every plan, applicable or not.
  PlanAssessment assessment;

  const ProposedGoal* find(GoalCode g) const;
  // The most urgent referral to `d`, or null.
  const Referral* find(Discipline d) const;
  // Every referral to `d`, most urgent first.
  std::vector<const Referral*> referrals_to(Discipline d) const;
  bool fired(int row) const;
};

}  // namespace mst::adapter
