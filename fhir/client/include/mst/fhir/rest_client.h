// The Client over HTTP: FHIR headers, retries under a RetryPolicy, one
// re-authentication on 401, typed errors. Thread-safe when its transport and
// auth provider are (the library's own are).
#pragma once

#include <memory>
#include <string>

#include "mst/fhir/auth.h"
#include "mst/fhir/client.h"
#include "mst/fhir/retry_policy.h"

namespace mst::fhir {

struct RestClientOptions {
  std::string base_url;  // absolute http(s) URL of the FHIR base
  std::string user_agent = std::string("mst-adapter/") + MST_VERSION;
};

class RestClient final : public Client {
 public:
  // Throws InvalidRequest when the base URL is not an absolute http(s) URL.
  // `sender` is typically shared with the auth provider.
  RestClient(RestClientOptions options, std::shared_ptr<RetryingSender> sender,
             std::shared_ptr<AuthProvider> auth);

  const std::string& base_url() const override { return options_.base_url; }
  Capabilities capabilities() override;
  FhirResponse read(std::string_view type, std::string_view id) override;
  FhirResponse vread(std::string_view type, std::string_view id, std::string_view version) override;
  SearchResult search(std::string_view type, const SearchParams& params,
                      const SearchLimits& limits) override;
  FhirResponse transaction(std::string bundle_json) override;
  FhirResponse create(std::string_view type, std::string body_json,
                      const SearchParams& if_none_exist) override;
  FhirResponse update(std::string_view type, std::string_view id, std::string body_json,
                      std::string_view if_match_version) override;
  FhirResponse update_conditional(std::string_view type, const SearchParams& criteria,
                                  std::string body_json) override;
  HttpResponse exchange(HttpRequest request, bool authorize) override;
  HttpResponse exchange_streamed(HttpRequest request, bool authorize,
                                 const BodySink& sink) override;

 protected:
  void follow_next(const BatchGet& get, std::string_view next, const SearchLimits& limits,
                   SearchResult& result) override;

 private:
  struct Call;
  FhirResponse execute(const Call& call);
  // exchange() and exchange_streamed() (when `sink` is set).
  HttpResponse send_outside_model(HttpRequest request, bool authorize, const BodySink* sink);
  // Pages from `url` (fetched first when `fetch_first`, else the page
  // already in `result` whose link is `next`) within `limits`.
  void page_on(std::string url, bool fetch_first, const SearchLimits& limits, SearchResult& result,
               std::optional<std::string_view> next = std::nullopt);

  RestClientOptions options_;
  std::shared_ptr<RetryingSender> sender_;
  std::shared_ptr<AuthProvider> auth_;
};

}  // namespace mst::fhir
