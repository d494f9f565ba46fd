// Internal: scores and grades written in words, as charts send them in
// valueString or a CodeableConcept's text ("SINS 9", "pain 7/10", "ECOG 2",
// "Grade 1b", "Bilsky 1c"). Parsing is conservative: a text with two
// different candidates yields none, and says why.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mst/mappings/code_tables.h"

namespace mst::mappings::detail {

// A value found in a text, or why none was taken.
template <typename T>
struct TextValue {
  std::optional<T> value;
  std::string problem;  // set when value is not
};

// The one number `raw` states. A denominator equal to `scale_max` ("9/18",
// "7 out of 10") is the scale, not a value; a number glued to letters
// ("T10", "C79") is not a value either.
TextValue<double> number_in_text(std::string_view raw, std::optional<double> scale_max);

// The one number `raw` states and the unit written right after it ("9.8
// g/dL", "Hb 98 g/L", "6.1 mmol/L (low)"); the unit is empty when none
// follows.
struct TextQuantity {
  std::optional<double> value;
  std::string unit;
  std::string problem;  // set when value is not
};
TextQuantity quantity_in_text(std::string_view raw);

// The one grade of `e` that `raw` names, word by word ("Grade 2", "ESCC 1b",
// "Frankel D", "1 c").
TextValue<std::string> grade_in_text(const ObservationEntry& e, std::string_view raw);

}  // namespace mst::mappings::detail
