// The resources a plan did not use, grouped by reason: the CarePlan's note
// and narrative name every reason with a count and a few example references,
// so the plan stays small however long the record is.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mst/mappings/considerations.h"

namespace mst::adapter::detail {

struct IgnoredGroup {
  std::string reason;
  std::size_t count = 0;              // distinct references with this reason
  std::vector<std::string> examples;  // the first references in string order
};

inline constexpr std::size_t kIgnoredExamples = 3;

// Groups by exact reason text, most frequent first (ties by reason). A
// reference listed twice with the same reason counts once. The result does
// not depend on the order of `ignored`.
std::vector<IgnoredGroup> group_ignored(const std::vector<mappings::IgnoredResource>& ignored,
                                        std::size_t max_examples = kIgnoredExamples);

// "<reason> (<count>: <ref>, <ref>, <ref> and <n> more)".
std::string ignored_line(const IgnoredGroup& group);

// Distinct (reference, reason) pairs over all groups.
std::size_t ignored_total(const std::vector<IgnoredGroup>& groups);

}  // namespace mst::adapter::detail
