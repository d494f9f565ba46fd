// The CDS Hooks cards of one patient's run: a pure function of the run the
// pipeline made (the same derivation and transaction `run --dry-run` prints),
// so a card never says other than the plan `run` would write.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "mst/adapter/goals/goal_plan.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter {

struct CardSource {
  std::string label = "MST Care-Plan Adapter";
  std::string url;  // where a clinician reads about the adapter; left out when empty
  // The adapter's canonical base: the override reasons' CodeSystem is
  // <canonical_base>/CodeSystem/mst-override-reason.
  std::string canonical_base;
};

// A reason a clinician may give for overriding a card. The one list: the
// cards offer it, and <canonical>/CodeSystem/mst-override-reason is
// generated from it (mst-adapter conformance).
struct OverrideReason {
  std::string_view code;
  std::string_view display;
  std::string_view definition;
};
std::span<const OverrideReason> override_reasons();

// "critical" on the emergency pathway, "warning" when the plan is urgent or
// more, "info" otherwise.
std::string card_indicator(const GoalPlan& plan);
// One line under 140 characters: pathway, urgency, how many goals and referrals.
std::string card_summary(const GoalPlan& plan);
// Markdown: the pathway, the actions now, the goals with priority, urgency
// and target, the referrals, the data gaps and the disclaimer.
std::string card_detail(const GoalPlan& plan);

// {"cards": [...]}: one card when the run built a plan (its suggestion
// creates the resources of the run's transaction), none when no plan is
// proposed. The card's uuid is named from `hook_instance`, so feedback can
// name it and the same call gives the same card. With `review_url` the card
// links ("absolute") to the review page there.
fhir::JsonValue cards_response(const PatientRun& run, const std::string& hook_instance,
                               const CardSource& source, const std::string& review_url = {});

}  // namespace mst::adapter
