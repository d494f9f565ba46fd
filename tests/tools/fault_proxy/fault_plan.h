// Which fault, if any, the proxy injects into its nth request: a pure
// function of (seed, n), so a run is reproduced exactly by its seed whatever
// the timing, as long as requests arrive in the same order.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace mst::testing {

enum class Fault {
  kLatency,          // added delay, then forwarded as usual
  kReset,            // TCP reset before any response
  kTruncate,         // Content-Length announces more than is sent, then close
  kTooManyRequests,  // 429 with Retry-After: 1
  kUnavailable,      // 503
  kResetAfterWrite,  // forwarded, then reset instead of the response
};
inline constexpr std::size_t kFaultKinds = 6;
inline constexpr std::array<Fault, kFaultKinds> kAllFaults = {
    Fault::kLatency,         Fault::kReset,       Fault::kTruncate,
    Fault::kTooManyRequests, Fault::kUnavailable, Fault::kResetAfterWrite};

// "latency", "reset", "truncate", "429", "503", "reset-after-write".
std::string_view fault_name(Fault fault);
std::optional<Fault> parse_fault(std::string_view name);
// A comma-separated list of fault names; throws std::invalid_argument naming
// the first unknown or repeated one.
std::vector<Fault> parse_fault_list(std::string_view names);
// The default set: every fault except reset-after-write, which lets a write
// reach the upstream and so is only for duplicate-write tests.
std::vector<Fault> default_faults();

class FaultPlan {
 public:
  // Throws std::invalid_argument unless 0 <= rate <= 1 and, when rate > 0,
  // `faults` is non-empty.
  FaultPlan(double rate, std::uint64_t seed, std::vector<Fault> faults);

  // The fault for request number `n` (0-based), or nullopt to pass it through.
  std::optional<Fault> fault_for(std::uint64_t n) const;

  double rate() const { return rate_; }
  std::uint64_t seed() const { return seed_; }
  const std::vector<Fault>& faults() const { return faults_; }

 private:
  double rate_;
  std::uint64_t seed_;
  std::vector<Fault> faults_;
};

}  // namespace mst::testing
