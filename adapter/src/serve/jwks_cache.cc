#include "mst/adapter/serve/jwks_cache.h"

#include <fstream>
#include <sstream>

#include "mst/fhir/url.h"

namespace mst::adapter {

namespace {

constexpr std::size_t kMaxJwksBytes = 1u << 20;

}  // namespace

bool jwks_is_url(const std::string& jwks) {
  return jwks.rfind("https://", 0) == 0 || jwks.rfind("http://", 0) == 0;
}

JwksCache::JwksCache(std::shared_ptr<fhir::HttpTransport> transport,
                     std::shared_ptr<fhir::Clock> clock, std::chrono::seconds max_age,
                     std::chrono::seconds refresh_floor)
    : transport_(std::move(transport)),
      clock_(std::move(clock)),
      max_age_(max_age),
      refresh_floor_(refresh_floor) {}

std::string JwksCache::read(const std::string& location) {
  if (!jwks_is_url(location)) {
    std::ifstream in(location, std::ios::binary);
    if (!in) throw JwksError("cannot read the JWKS file " + location);
    std::string text(kMaxJwksBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxJwksBytes)
      throw JwksError("the JWKS file " + location + " is over 1 MiB");
    return text;
  }
  if (!transport_) throw JwksError("no HTTP transport to fetch the JWKS");
  fhir::HttpRequest request;
  request.method = "GET";
  request.url = location;
  request.headers.emplace_back("Accept", "application/json");
  request.timeout = std::chrono::seconds(10);
  fhir::HttpResponse response;
  try {
    response = transport_->send(request);
  } catch (const std::exception& e) {
    throw JwksError("fetching " + fhir::redact_url(location) + ": " + e.what());
  }
  if (response.status != 200) {
    throw JwksError("fetching " + fhir::redact_url(location) + ": HTTP " +
                    std::to_string(response.status));
  }
  if (response.body.size() > kMaxJwksBytes) throw JwksError("the JWKS is over 1 MiB");
  return response.body;
}

std::shared_ptr<const JwkSet> JwksCache::get(const TrustedIssuer& issuer, bool refresh) {
  // One lock around the read too: a burst of calls after expiry makes one
  // fetch, not one each.
  std::lock_guard lock(mu_);
  const auto now = clock_->steady_now();
  auto it = entries_.find(issuer.jwks);
  if (it != entries_.end()) {
    const auto age = now - it->second.read_at;
    if (age < max_age_ && (!refresh || age < refresh_floor_)) return it->second.keys;
  }
  auto keys = std::make_shared<const JwkSet>(JwkSet::parse(read(issuer.jwks)));
  entries_[issuer.jwks] = Entry{keys, now};
  return keys;
}

}  // namespace mst::adapter
