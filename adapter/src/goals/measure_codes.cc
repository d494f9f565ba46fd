#include "mst/adapter/goals/measure_codes.h"

#include <stdexcept>
#include <string>

namespace mst::adapter {

namespace {

constexpr MeasureCode kMeasures[] = {
    {"ambulatory-status", "Ambulatory status",
     "Whether the patient walks independently, walks with an aid or does not walk; the target "
     "states the walking the goal aims for.",
     "Patchell 2005 [R35] (ambulation, the outcome of MSCC treatment); clinical-decision.md §7.4"},
    {"bladder-bowel", "Bladder and bowel care",
     "A bladder and bowel routine is in place: retention, incontinence and constipation are "
     "managed.",
     "Team rule: targets from bed and chair when walking cannot return "
     "(docs/clinical-rules.md, \"Established loss of walking\"); NICE QS56 [R28]"},
    {"pressure-area", "Pressure-area care",
     "No new pressure ulcer: the skin of a patient with reduced mobility is kept intact.",
     "Team rule: targets from bed and chair when walking cannot return "
     "(docs/clinical-rules.md, \"Established loss of walking\"); NICE QS56 [R28]"},
    {"seating", "Seating",
     "The patient sits out comfortably in a suitable wheelchair or chair, with pressure relief.",
     "Team rule: targets from bed and chair when walking cannot return "
     "(docs/clinical-rules.md, \"Established loss of walking\"); NICE QS56 [R28]"},
    {"transfers", "Transfers",
     "The patient transfers safely between bed, chair and toilet, with aids or carers as "
     "needed.",
     "Team rule: targets from bed and chair when walking cannot return "
     "(docs/clinical-rules.md, \"Established loss of walking\"); NICE QS56 [R28]"},
};

}  // namespace

std::span<const MeasureCode> measure_codes() { return kMeasures; }

const MeasureCode& measure_code(std::string_view code) {
  for (const auto& m : kMeasures) {
    if (m.code == code) return m;
  }
  throw std::out_of_range("no measure code \"" + std::string(code) + "\"");
}

}  // namespace mst::adapter
