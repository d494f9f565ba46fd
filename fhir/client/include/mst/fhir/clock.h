// Time and waiting, behind an interface so retry, deadline and token-expiry
// logic runs deterministically in tests.
#pragma once

#include <chrono>
#include <memory>

namespace mst::fhir {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: JWT iat/exp and HTTP-dates in Retry-After.
  virtual std::chrono::system_clock::time_point now() = 0;
  // Monotonic time: deadlines and access-token lifetimes.
  virtual std::chrono::steady_clock::time_point steady_now() = 0;
  // Blocks the calling thread for `d` (no-op when d <= 0).
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

// The process's real clocks. Thread-safe.
std::shared_ptr<Clock> system_clock();

}  // namespace mst::fhir
