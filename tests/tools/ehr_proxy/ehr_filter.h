// The EHR profile as a FaultProxy ExchangeFilter: refuses what the profile
// refuses, rewrites searches, /metadata and searchset pages, and keeps the
// opaque paging tokens it hands out (a token the proxy did not issue, or
// one issued before a restart, is refused like an expired session).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "ehr_proxy/ehr_profile.h"
#include "fault_proxy/exchange_filter.h"

namespace mst::testing {

class EhrFilter final : public ExchangeFilter {
 public:
  explicit EhrFilter(EhrProfile profile) : profile_(std::move(profile)) {}

  std::optional<ProxyAnswer> on_request(ProxiedRequest& request) override;
  void on_response(const ProxiedRequest& request, int status, std::string& body) override;

  const EhrProfile& profile() const { return profile_; }

 private:
  // The link the client sees for the upstream's paging link `url`.
  std::string map_link(const std::string& url, const std::string& proxy_origin);

  EhrProfile profile_;
  std::mutex mu_;
  std::map<std::string, std::string> pages_;  // token -> upstream path and query
  std::uint64_t issued_ = 0;
};

}  // namespace mst::testing
