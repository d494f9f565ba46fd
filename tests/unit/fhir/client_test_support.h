// Test doubles for the FHIR client: a scripted HttpTransport and a clock
// whose time moves only when the code under test sleeps (or a test says so).
#pragma once

#include <gmock/gmock.h>

#include <chrono>
#include <string>
#include <vector>

#include "mst/fhir/clock.h"
#include "mst/fhir/http_transport.h"

namespace mst::fhir::testing {

class MockTransport : public HttpTransport {
 public:
  MOCK_METHOD(HttpResponse, send, (const HttpRequest& request), (override));
};

class FakeClock : public Clock {
 public:
  // 2026-03-01T12:00:00Z: wall time for JWT and HTTP-date tests.
  static constexpr std::int64_t kStartEpochSeconds = 1'772'366'400;

  std::chrono::system_clock::time_point now() override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(kStartEpochSeconds)) +
           elapsed_;
  }
  std::chrono::steady_clock::time_point steady_now() override {
    return std::chrono::steady_clock::time_point(std::chrono::hours(1)) + elapsed_;
  }
  void sleep_for(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    if (d.count() > 0) elapsed_ += d;
  }
  void advance(std::chrono::milliseconds d) { elapsed_ += d; }
  std::chrono::milliseconds elapsed() const { return elapsed_; }

  std::vector<std::chrono::milliseconds> sleeps;

 private:
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
