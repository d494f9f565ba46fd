// Test doubles for the FHIR client: a scripted HttpTransport and a clock
// whose time moves only when the code under test sleeps (or a test says so).
#pragma once

#include <gmock/gmock.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "mst/fhir/clock.h"
#include "mst/fhir/http_transport.h"

namespace mst::fhir::testing {

class MockTransport : public HttpTransport {
 public:
  MOCK_METHOD(HttpResponse, send, (const HttpRequest& request), (override));
};

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

  // Read it once the code under test has returned.
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  mutable std::mutex mu_;
  std::chrono::milliseconds elapsed_{0};
};

inline HttpResponse response(int status, std::string body = "", Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// The value of the first header `name` (exact case as the client sends it).
inline std::string header_of(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return {};
}

}  // namespace mst::fhir::testing
