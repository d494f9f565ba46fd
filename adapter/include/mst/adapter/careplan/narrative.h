// The clinician-readable XHTML narrative of a draft CarePlan (FHIR
// Narrative: one <div> in the XHTML namespace, escaped text, no scripts,
// attributes or external references).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mst/adapter/careplan/plan_summary.h"
#include "mst/adapter/goals/goal_plan.h"
#include "mst/mappings/considerations.h"

namespace mst::adapter {

// Text safe inside XHTML element content and attribute values: escapes
// & < > " ' and drops control characters XML 1.0 does not allow.
std::string xhtml_escape(std::string_view text);

// How the narrative's last paragraph, "Prepared on <day> by <device>.",
// begins: the only part that changes from day to day, which the content
// fingerprint leaves out (plan_fingerprint.cc). Escaped text cannot contain
// a literal "<p>", so it is unambiguous.
inline constexpr std::string_view kPreparedParagraphStart = "<p>Prepared on ";

struct NarrativeContext {
  std::string as_of_day;  // "2024-03-05"
  std::string device;     // "MST Care-Plan Adapter 0.1.0"
};

// The CarePlan narrative, read in 30 seconds: first the pathway and the
// actions now with their urgency (then any alert), one line per goal, the
// referrals and the preferences; below them the details (considerations as
// the engine read them, each goal's full rationale, team, notes, data gaps,
// resources not used).
std::string careplan_narrative(const mappings::Considerations& c, const GoalPlan& plan,
                               const NarrativeContext& ctx);

struct LabeledText {
  std::string label;
  std::string text;
};

// The nine considerations in plain words, one row each, as the narrative and
// `explain` show them. Bands and readings come from `a`, the assessment the
// goal engine used (GoalPlan::assessment), never from defaults.
std::vector<LabeledText> consideration_summary(const mappings::Considerations& c,
                                               const PlanAssessment& a);

// Evidence references joined by ", ", each one whose fact was read from
// text (Considerations::read_from_text) followed by "(read from text:
// confirm)".
std::string evidence_text(const std::vector<std::string>& refs, const mappings::Considerations& c);

// "Observation/x mentions cord compression; not used: <reason>. Review it."
std::string alert_line(const mappings::Alert& a);

// "Read from text, confirm against the record: Condition/a, Observation/b."
// Empty when every fact rests on a code.
std::string read_from_text_line(const mappings::Considerations& c);

// A one-paragraph narrative for the smaller resources.
std::string paragraph_narrative(std::string_view text);

}  // namespace mst::adapter
