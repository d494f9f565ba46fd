// Small queries over a GoalPlan for readable assertions.
#pragma once

#include <string>

#include "mst/adapter/goals/goal_plan.h"

namespace mst::adapter::testing {

inline bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

inline bool any_note(const GoalPlan& p, const std::string& needle) {
  for (const auto& n : p.notes) {
    if (contains(n, needle)) return true;
  }
  return false;
}

inline bool any_missing(const GoalPlan& p, const std::string& needle) {
  for (const auto& m : p.missing) {
    if (contains(m.input, needle) || contains(m.consequence, needle)) return true;
  }
  return false;
}

inline bool any_action(const GoalPlan& p, const std::string& needle) {
  for (const auto& a : p.actions) {
    if (contains(a.text, needle)) return true;
  }
  return false;
}

inline bool any_request(const Referral* r, const std::string& needle) {
  if (r == nullptr) return false;
  for (const auto& q : r->requests) {
    if (contains(q, needle)) return true;
  }
  return false;
}

// Any referral to `d`, at any urgency (one referral per discipline and urgency).
inline bool any_request_to(const GoalPlan& p, Discipline d, const std::string& needle) {
  for (const Referral* r : p.referrals_to(d)) {
    if (any_request(r, needle)) return true;
  }
  return false;
}

inline bool any_reason(const Referral* r, const std::string& needle) {
  if (r == nullptr) return false;
  for (const auto& q : r->reasons) {
    if (contains(q, needle)) return true;
  }
  return false;
}

}  // namespace mst::adapter::testing
