#include "mst/adapter/serve/cds_client_auth.h"

#include <cctype>
#include <cmath>
#include <optional>

#include "mst/fhir/json.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

CdsCaller refused(std::string reason) { return CdsCaller{false, std::move(reason), {}, {}}; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::optional<std::string> string_member(fhir::Node object, std::string_view key) {
  fhir::Node n = object[key];
  if (!n.is_string()) return std::nullopt;
  return std::string(n.as_string());
}

// A NumericDate (RFC 7519: seconds since the epoch, fractions allowed);
// nullopt when absent, not a number, or beyond any plausible date.
std::optional<system_clock::time_point> numeric_date(fhir::Node claims, std::string_view key) {
  fhir::Node n = claims[key];
  if (!n.present() || !n.raw()->IsNumber()) return std::nullopt;
  const double v = n.as_number();
  if (!std::isfinite(v) || v < 0 || v > 1e11) return std::nullopt;
  return system_clock::time_point(seconds(static_cast<std::int64_t>(v)));
}

bool audience_matches(fhir::Node aud, const std::vector<std::string>& audiences) {
  auto one = [&](fhir::Node a) {
    if (!a.is_string()) return false;
    for (const auto& want : audiences) {
      if (a.as_string() == want) return true;
    }
    return false;
  };
  if (!aud.is_array()) return one(aud);
  for (fhir::Node a : aud.elements()) {
    if (one(a)) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> service_audiences(std::string_view public_url, std::string_view path) {
  path = path.substr(0, path.find('?'));
  constexpr std::string_view kPrefix = "/cds-services/";
  constexpr std::string_view kFeedback = "/feedback";
  if (!path.starts_with(kPrefix)) return {};
  std::string_view id = path.substr(kPrefix.size());
  const bool feedback = id.ends_with(kFeedback);
  if (feedback) id.remove_suffix(kFeedback.size());
  if (id.empty() || id.find('/') != std::string_view::npos) return {};
  while (public_url.ends_with('/')) public_url.remove_suffix(1);
  std::vector<std::string> out{std::string(public_url) + std::string(kPrefix) + std::string(id)};
  if (feedback) out.push_back(out.front() + std::string(kFeedback));
  return out;
}

CdsClientAuth::CdsClientAuth(std::vector<TrustedIssuer> issuers, JwksLookup lookup,
                             std::shared_ptr<fhir::Clock> clock, std::size_t max_replay_entries)
    : issuers_(std::move(issuers)),
      lookup_(std::move(lookup)),
      clock_(std::move(clock)),
      max_replay_(max_replay_entries) {}

const TrustedIssuer* CdsClientAuth::issuer(std::string_view iss) const {
  for (const auto& i : issuers_) {
    if (i.iss == iss) return &i;
  }
  return nullptr;
}

bool CdsClientAuth::remember(const std::string& iss, const std::string& jti,
                             system_clock::time_point expires, std::string& why) {
  const auto now = clock_->now();
  std::lock_guard lock(mu_);
  const std::string key = iss + ' ' + jti;
  auto it = seen_.find(key);
  // A jti stays remembered until its token could no longer be accepted.
  if (it != seen_.end() && it->second + kClockSkew >= now) {
    why = "the token's jti was already used (replay)";
    return false;
  }
  if (seen_.size() >= max_replay_) {
    std::erase_if(seen_, [&](const auto& e) { return e.second + kClockSkew < now; });
    if (seen_.size() >= max_replay_) {
      why = "too many tokens in flight to remember another jti; retry shortly";
      return false;
    }
  }
  seen_[key] = expires;
  return true;
}

CdsCaller CdsClientAuth::verify(std::string_view authorization,
                                const std::vector<std::string>& audiences) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty())
    return refused("the call carries no JWT: the EHR must sign each service call");
  if (authorization.size() <= kBearer.size() ||
      !iequals(authorization.substr(0, kBearer.size()), kBearer)) {
    return refused("the call's credentials use a scheme other than Bearer");
  }
  const std::string_view token = authorization.substr(kBearer.size());
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return refused("the bearer token is not a JWS compact serialization (three parts)");
  }
  std::optional<fhir::JsonDocument> header_doc, claims_doc;
  std::string signature;
  try {
    header_doc.emplace(fhir::JsonDocument::parse(base64url_decode(token.substr(0, dot1))));
    claims_doc.emplace(
        fhir::JsonDocument::parse(base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1))));
    signature = base64url_decode(token.substr(dot2 + 1));
  } catch (const std::exception&) {
    return refused("the bearer token's parts are not base64url JSON");
  }
  const fhir::Node header = header_doc->root(), claims = claims_doc->root();
  if (!header.is_object() || !claims.is_object()) {
    return refused("the token's header and claims must be JSON objects");
  }

  const auto alg = string_member(header, "alg");
  if (!alg || (*alg != "ES384" && *alg != "RS384")) {
    return refused("the token's alg must be ES384 or RS384, got '" +
                   fhir::safe_text(alg.value_or(""), 20) + "'");
  }
  if (const auto typ = string_member(header, "typ"); typ && *typ != "JWT") {
    return refused("the token's typ must be JWT");
  }
  const auto kid = string_member(header, "kid");
  if (!kid || kid->empty()) return refused("the token's header has no kid");
  const auto iss = string_member(claims, "iss");
  if (!iss) return refused("the token has no iss");
  const TrustedIssuer* trusted = issuer(*iss);
  if (!trusted) {
    return refused("the issuer '" + fhir::safe_text(*iss, 100) + "' is not in serve.issuers");
  }
  if (const auto jku = string_member(header, "jku"); jku && *jku != trusted->jwks) {
    return refused("the token's jku is not the JWKS configured for its issuer");
  }

  const Jwk* key = nullptr;
  std::shared_ptr<const JwkSet> keys;
  try {
    keys = lookup_(*trusted, false);
    key = keys ? keys->find(*kid) : nullptr;
    if (!key) {
      keys = lookup_(*trusted, true);
      key = keys ? keys->find(*kid) : nullptr;
    }
  } catch (const std::exception& e) {
    return refused("the JWKS of issuer '" + fhir::safe_text(*iss, 100) +
                   "' cannot be read: " + fhir::safe_text(e.what(), 200));
  }
  if (!key) {
    return refused("no key '" + fhir::safe_text(*kid, 60) + "' in the JWKS of issuer '" +
                   fhir::safe_text(*iss, 100) + "'");
  }
  if (!verify_jws_signature(*key, *alg, token.substr(0, dot2), signature)) {
    return refused("the token's signature does not verify with key '" + fhir::safe_text(*kid, 60) +
                   "'");
  }

  // The signature holds: the claims are the issuer's.
  if (audiences.empty() || !audience_matches(claims["aud"], audiences)) {
    return refused("the token's aud is not this service's URL (" +
                   fhir::safe_text(audiences.empty() ? "" : audiences.front(), 200) + ")");
  }
  const auto exp = numeric_date(claims, "exp");
  const auto iat = numeric_date(claims, "iat");
  if (!exp || !iat) return refused("the token needs numeric exp and iat");
  const auto now = clock_->now();
  if (*exp + kClockSkew <= now) return refused("the token has expired");
  if (*iat > now + kClockSkew) return refused("the token's iat is in the future");
  if (*exp - *iat > kMaxTokenLifetime) {
    return refused("the token lives longer than 5 minutes (exp - iat)");
  }
  const auto jti = string_member(claims, "jti");
  if (!jti || jti->empty()) return refused("the token has no jti");
  std::string why;
  if (!remember(*iss, *jti, *exp, why)) return refused(why);
  return CdsCaller{true, {}, *iss, string_member(claims, "sub").value_or("")};
}

}  // namespace mst::adapter
