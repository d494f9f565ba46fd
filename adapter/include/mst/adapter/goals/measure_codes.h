// The adapter's own Goal.target.measure codes (<canonical>/CodeSystem/mst-measure),
// for targets no standard code names. The one list: the goal engine takes its
// codes and displays from it, and the measure CodeSystem is generated from it.
#pragma once

#include <span>
#include <string_view>

namespace mst::adapter {

struct MeasureCode {
  std::string_view code;
  std::string_view display;
  std::string_view definition;
  std::string_view source;
};

// Every measure code, sorted by code.
std::span<const MeasureCode> measure_codes();
// The entry for `code`; throws std::out_of_range for a code not in the list.
const MeasureCode& measure_code(std::string_view code);

}  // namespace mst::adapter
