// A scripted fhir::HttpTransport and helpers to make its answers; the
// simulated clock the client tests use with it (fake_clock.h).
#pragma once

#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "mst/fhir/http_transport.h"
#include "support/fake_clock.h"

namespace mst::fhir::testing {

class MockTransport : public HttpTransport {
 public:
  MOCK_METHOD(HttpResponse, send, (const HttpRequest& request), (override));
  MOCK_METHOD(HttpResponse, send_streamed, (const HttpRequest& request, const BodySink& sink),
              (override));
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
