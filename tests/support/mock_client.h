// A GoogleMock fhir::Client for the tests where the exact requests are the
// point (use StrictMock<MockClient>; for behaviour, memory_fhir_server.h),
// and helpers to make search results from JSON text.
#pragma once

#include <gmock/gmock.h>

#include <memory>
#include <string>

#include "mst/fhir/client.h"

namespace mst::adapter::testing {

class MockClient : public fhir::Client {
 public:
  MockClient() { ON_CALL(*this, base_url()).WillByDefault(::testing::ReturnRef(base_)); }
  MOCK_METHOD(const std::string&, base_url, (), (const, override));
  MOCK_METHOD(fhir::Capabilities, capabilities, (), (override));
  MOCK_METHOD(fhir::FhirResponse, read, (std::string_view, std::string_view), (override));
  MOCK_METHOD(fhir::FhirResponse, vread, (std::string_view, std::string_view, std::string_view),
              (override));
  MOCK_METHOD(fhir::SearchResult, search,
              (std::string_view, const fhir::SearchParams&, const fhir::SearchLimits&), (override));
  MOCK_METHOD(fhir::FhirResponse, transaction, (std::string), (override));
  MOCK_METHOD(fhir::FhirResponse, create,
              (std::string_view, std::string, const fhir::SearchParams&), (override));
  MOCK_METHOD(fhir::FhirResponse, update,
              (std::string_view, std::string_view, std::string, std::string_view), (override));
  MOCK_METHOD(fhir::FhirResponse, update_conditional,
              (std::string_view, const fhir::SearchParams&, std::string), (override));
  MOCK_METHOD(fhir::HttpResponse, exchange, (fhir::HttpRequest, bool), (override));

 private:
  std::string base_ = "http://fhir.test/fhir";
};

// A one-page search result whose matches are the entries of `bundle_json`.
inline fhir::SearchResult search_result(const std::string& bundle_json) {
  fhir::SearchResult r;
  auto doc = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(bundle_json));
  r.pages.push_back(doc);
  for (const auto& e : fhir::Bundle(doc->root()).entries()) {
    if (e.resource.present() && e.search_mode != "outcome") r.resources.push_back(e.resource);
  }
  return r;
}

// The value of parameter `name` in `params`, or "" when absent.
inline std::string param(const fhir::SearchParams& params, const std::string& name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

}  // namespace mst::adapter::testing
