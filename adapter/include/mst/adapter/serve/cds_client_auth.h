// Who is calling: the CDS Hooks 2.0 "Trusting CDS Clients" rules applied to
// the bearer JWT of a service call. Only the JWKS lookup is I/O, and it is
// injected, as is the clock; the replay cache is the one state.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mst/adapter/serve/jwk_set.h"
#include "mst/fhir/clock.h"

namespace mst::adapter {

// An EHR the service trusts: its `iss` and where its JWKS is (an https URL,
// or a file path). A token's `jku` is honoured only when it equals `jwks`.
struct TrustedIssuer {
  std::string iss;
  std::string jwks;
};

// The issuer's key set; `refresh` asks for a fresh read (a kid not in the
// cached set: the EHR may have rotated its keys). Throws on a set that
// cannot be read.
using JwksLookup =
    std::function<std::shared_ptr<const JwkSet>(const TrustedIssuer& issuer, bool refresh)>;

struct CdsCaller {
  bool trusted = false;
  std::string reason;  // why not, one line safe to log and to answer with; never the token
  std::string iss;
  std::string sub;
};

// The auds a call of `path` may carry: <public_url>/cds-services/<id> for a
// service call; for its feedback that URL or the feedback endpoint's own
// (the spec names "the endpoint being called"). Empty for any other path:
// discovery and the ops endpoints are open.
std::vector<std::string> service_audiences(std::string_view public_url, std::string_view path);

inline constexpr std::chrono::seconds kClockSkew{60};
inline constexpr std::chrono::seconds kMaxTokenLifetime{300};

class CdsClientAuth {
 public:
  // At most `max_replay_entries` jti are remembered at once; a token past
  // that while none has expired is refused rather than forgetting one.
  CdsClientAuth(std::vector<TrustedIssuer> issuers, JwksLookup lookup,
                std::shared_ptr<fhir::Clock> clock, std::size_t max_replay_entries = 100'000);

  // Checks `authorization` ("Bearer <JWT>") for a call whose aud must be
  // one of `audiences`: alg ES384 or RS384, a signature of the configured
  // issuer's key with that kid, exp and iat within kClockSkew, exp - iat at
  // most kMaxTokenLifetime, a jti not seen before. Records the jti when
  // trusted.
  CdsCaller verify(std::string_view authorization, const std::vector<std::string>& audiences);
  CdsCaller verify(std::string_view authorization, const std::string& audience) {
    return verify(authorization, std::vector<std::string>{audience});
  }

 private:
  const TrustedIssuer* issuer(std::string_view iss) const;
  // False when `jti` of `iss` was seen and has not expired, or the cache is full.
  bool remember(const std::string& iss, const std::string& jti,
                std::chrono::system_clock::time_point expires, std::string& why);

  std::vector<TrustedIssuer> issuers_;
  JwksLookup lookup_;
  std::shared_ptr<fhir::Clock> clock_;
  std::size_t max_replay_;
  std::mutex mu_;
  std::map<std::string, std::chrono::system_clock::time_point> seen_;  // iss + ' ' + jti -> expiry
};

}  // namespace mst::adapter
