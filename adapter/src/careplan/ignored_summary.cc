#include "ignored_summary.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>

namespace mst::adapter::detail {

namespace {

using mappings::IgnoredResource;

bool by_ref_then_reason(const IgnoredResource* a, const IgnoredResource* b) {
  return std::tie(a->ref, a->reason) < std::tie(b->ref, b->reason);
}

}  // namespace

std::vector<IgnoredGroup> group_ignored(const std::vector<IgnoredResource>& ignored,
                                        std::size_t max_examples) {
  std::vector<const IgnoredResource*> order;
  order.reserve(ignored.size());
  for (const auto& i : ignored) order.push_back(&i);
  // The extractor hands them over sorted already; sorting only when they are
  // not keeps a 5,000-resource record cheap.
  if (!std::is_sorted(order.begin(), order.end(), by_ref_then_reason)) {
    std::sort(order.begin(), order.end(), by_ref_then_reason);
  }

  std::vector<IgnoredGroup> groups;
  std::map<std::string_view, std::size_t> index;  // reason -> position in groups
  const IgnoredResource* previous = nullptr;
  for (const IgnoredResource* i : order) {
    if (previous != nullptr && previous->ref == i->ref && previous->reason == i->reason) continue;
    previous = i;
    auto [it, added] = index.try_emplace(i->reason, groups.size());
    if (added) groups.push_back({.reason = i->reason, .count = 0, .examples = {}});
    IgnoredGroup& g = groups[it->second];
    ++g.count;
    // References arrive in ascending order, so the first ones are the examples.
    if (g.examples.size() < max_examples) g.examples.push_back(i->ref);
  }
  std::sort(groups.begin(), groups.end(), [](const IgnoredGroup& a, const IgnoredGroup& b) {
    return a.count != b.count ? a.count > b.count : a.reason < b.reason;
  });
  return groups;
}

std::string ignored_line(const IgnoredGroup& group) {
  std::string out = group.reason + " (" + std::to_string(group.count);
  for (std::size_t k = 0; k < group.examples.size(); ++k) {
    out += k == 0 ? ": " : ", ";
    out += group.examples[k];
  }
  if (!group.examples.empty() && group.count > group.examples.size()) {
    out += " and " + std::to_string(group.count - group.examples.size()) + " more";
  }
  return out + ")";
}

std::size_t ignored_total(const std::vector<IgnoredGroup>& groups) {
  std::size_t n = 0;
  for (const auto& g : groups) n += g.count;
  return n;
}

}  // namespace mst::adapter::detail
