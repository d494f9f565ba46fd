// The one simulated clock of the tests: time moves only when the code under
// test sleeps or a test advances it, so backoff, deadlines, token expiry and
// resource timestamps are deterministic.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "mst/fhir/clock.h"

namespace mst::fhir::testing {

// Safe to share between threads: a patient's pull searches concurrently, and
// each search may back off.
class FakeClock : public Clock {
 public:
  // 2026-03-01T12:00:00Z: wall time for JWT and HTTP-date tests.
  static constexpr std::int64_t kStartEpochSeconds = 1'772'366'400;

  std::chrono::system_clock::time_point now() override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(kStartEpochSeconds)) +
           elapsed();
  }
  std::chrono::steady_clock::time_point steady_now() override {
    return std::chrono::steady_clock::time_point(std::chrono::hours(1)) + elapsed();
  }
  void sleep_for(std::chrono::milliseconds d) override {
    std::lock_guard lock(mu_);
    sleeps.push_back(d);
    if (d.count() > 0) elapsed_ += d;
  }
  void advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    elapsed_ += d;
  }
  std::chrono::milliseconds elapsed() const {
    std::lock_guard lock(mu_);
    return elapsed_;
  }
  // now() in milliseconds since the epoch, as FHIR instants are computed.
  std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
  }

  // Read it once the code under test has returned.
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  mutable std::mutex mu_;
  std::chrono::milliseconds elapsed_{0};
};

}  // namespace mst::fhir::testing
