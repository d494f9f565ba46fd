// The trusted issuers' key sets as `serve` reads them: a JWKS file, or an
// https URL fetched with the project's transport, each kept for a bounded
// time and read again on a kid it lacks (at most once per refresh_floor).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mst/adapter/serve/cds_client_auth.h"
#include "mst/adapter/serve/jwk_set.h"
#include "mst/fhir/clock.h"
#include "mst/fhir/http_transport.h"

namespace mst::adapter {

class JwksCache {
 public:
  // `transport` may be null when every issuer's JWKS is a file.
  JwksCache(std::shared_ptr<fhir::HttpTransport> transport, std::shared_ptr<fhir::Clock> clock,
            std::chrono::seconds max_age,
            std::chrono::seconds refresh_floor = std::chrono::seconds(30));

  // The JwksLookup of CdsClientAuth. Throws JwksError when the set cannot be
  // read (the cached set, once older than max_age, is not used instead).
  std::shared_ptr<const JwkSet> get(const TrustedIssuer& issuer, bool refresh);

 private:
  std::string read(const std::string& location);

  struct Entry {
    std::shared_ptr<const JwkSet> keys;
    std::chrono::steady_clock::time_point read_at;
  };
  std::shared_ptr<fhir::HttpTransport> transport_;
  std::shared_ptr<fhir::Clock> clock_;
  std::chrono::seconds max_age_;
  std::chrono::seconds refresh_floor_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by JWKS location
};

// True when `jwks` names a URL rather than a file.
bool jwks_is_url(const std::string& jwks);

}  // namespace mst::adapter
