// Skip reasons are labels in logs, metrics (mst_plans_skipped_total{reason})
// and `run --format json`: stable across releases, one per reason.
#include "mst/adapter/goals/skip_reason.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mst::adapter {
namespace {

TEST(SkipReasons, LabelsAreStableAndDistinct) {
  using R = SkipReason;
  const std::vector<std::pair<R, std::string>> labels = {
      {R::kNoSpinalMetastasis, "no-spinal-metastasis"},
      {R::kDeceased, "deceased"},
      {R::kUnreadableConditions, "unreadable-conditions"},
      {R::kNotDraft, "not-draft"},
      {R::kEdited, "edited"},
      {R::kDuplicateDrafts, "duplicate-drafts"},
      {R::kLookAlike, "look-alike"},
  };
  std::set<std::string> seen;
  for (const auto& [reason, label] : labels) {
    EXPECT_EQ(skip_reason_name(reason), label);
    EXPECT_TRUE(seen.insert(label).second) << label;
  }
  EXPECT_EQ(std::string(skip_reason_name(R::kNone)), "");
}

}  // namespace
}  // namespace mst::adapter
