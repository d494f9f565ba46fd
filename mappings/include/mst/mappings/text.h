// Text normalisation for the documented synonyms: text-only CodeableConcepts
// and free-text preferences are compared after normalise_text(), never raw.
#pragma once

#include <string>
#include <string_view>

namespace mst::mappings {

// Lower-cases ASCII letters, turns every other non-alphanumeric byte into a
// single space and trims: "Spinal Instability-Neoplastic  Score " ->
// "spinal instability neoplastic score". Non-ASCII bytes are kept as-is.
std::string normalize_text(std::string_view text);

// True when normalised `phrase` occurs in normalised `text` on word
// boundaries ("declines surgery" is in "pt declines surgery today" but
// "no surgery" is not in "piano surgery").
bool contains_phrase(std::string_view normalized_text, std::string_view normalized_phrase);

// `text` with every control character (newlines included) turned into a
// space: site codes, displays and comments quoted in one-line messages.
std::string one_line(std::string text);

}  // namespace mst::mappings
