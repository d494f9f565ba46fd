#include "fault_proxy/fault_plan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mst::testing {

namespace {

// SplitMix64 (Steele, Lea and Flood 2014): a bijective 64-bit mixer, so
// neighbouring (seed, n) pairs give unrelated draws.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

constexpr std::array<std::string_view, kFaultKinds> kNames = {
    "latency", "reset", "truncate", "429", "503", "reset-after-write"};

}  // namespace

std::string_view fault_name(Fault fault) { return kNames[static_cast<std::size_t>(fault)]; }

std::optional<Fault> parse_fault(std::string_view name) {
  for (Fault f : kAllFaults) {
    if (fault_name(f) == name) return f;
  }
  return std::nullopt;
}

std::vector<Fault> parse_fault_list(std::string_view names) {
  std::vector<Fault> out;
  std::size_t start = 0;
  while (start <= names.size()) {
    std::size_t comma = names.find(',', start);
    if (comma == std::string_view::npos) comma = names.size();
    const std::string_view name = names.substr(start, comma - start);
    const auto fault = parse_fault(name);
    if (!fault) {
      throw std::invalid_argument("unknown fault '" + std::string(name) +
                                  "' (known: latency, reset, truncate, 429, 503, "
                                  "reset-after-write)");
    }
    if (std::find(out.begin(), out.end(), *fault) != out.end()) {
      throw std::invalid_argument("fault '" + std::string(name) + "' is listed twice");
    }
    out.push_back(*fault);
    start = comma + 1;
  }
  return out;
}

std::vector<Fault> default_faults() {
  return {Fault::kLatency, Fault::kReset, Fault::kTruncate, Fault::kTooManyRequests,
          Fault::kUnavailable};
}

FaultPlan::FaultPlan(double rate, std::uint64_t seed, std::vector<Fault> faults)
    : rate_(rate), seed_(seed), faults_(std::move(faults)) {
  if (!(rate >= 0.0 && rate <= 1.0)) {
    throw std::invalid_argument("fault rate must be within [0, 1], not " + std::to_string(rate));
  }
  if (rate > 0.0 && faults_.empty()) {
    throw std::invalid_argument("a fault rate above 0 needs at least one fault kind");
  }
}

std::optional<Fault> FaultPlan::fault_for(std::uint64_t n) const {
  if (faults_.empty()) return std::nullopt;
  const std::uint64_t draw = mix(seed_ ^ mix(n));
  // Top 53 bits as a double in [0, 1): rate 1 always faults, rate 0 never.
  const double u = static_cast<double>(draw >> 11) * 0x1.0p-53;
  if (!(u < rate_)) return std::nullopt;
  return faults_[mix(draw) % faults_.size()];
}

}  // namespace mst::testing
