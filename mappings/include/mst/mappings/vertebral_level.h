// Vertebral level names ("C1".."S5") and the parser for levels written as
// text in a bodySite ("T12", "Th12", "T12 vertebra", "L1 vertebral body",
// "twelfth thoracic vertebra", "T11-L1", "C5-6"). SINS classes live in the
// spine-sites table, not here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/mappings/considerations.h"

namespace mst::mappings {

// A level's identity: canonical name, craniocaudal ordinal (C1 = 1 ...
// S5 = 29) and region.
struct LevelId {
  std::string name;
  int ordinal = 0;
  SpineRegion region = SpineRegion::kCervical;
  friend bool operator==(const LevelId&, const LevelId&) = default;
};

inline constexpr int kLevelCount = 29;

// "T12" (exactly as written by the tables: upper-case region letter, number
// without leading zero); nullopt for anything else, e.g. "T13" or "Co1".
std::optional<LevelId> level_from_name(std::string_view name);
// The level with this ordinal (1..29).
std::optional<LevelId> level_from_ordinal(int ordinal);

// Every level named in free text, in craniocaudal order without repeats.
// Accepts C/T/Th/D(dorsal)/L/S + number as whole words, ranges written with
// '-', 'to' or an en dash ("T11-L1", "C5-6"), lists with '/' ("L4/5" is L4
// and L5), and ordinal words before a region word ("first lumbar
// vertebra"). Returns nothing for text without a level.
std::vector<LevelId> parse_levels(std::string_view text);

const char* region_name(SpineRegion r);

}  // namespace mst::mappings
