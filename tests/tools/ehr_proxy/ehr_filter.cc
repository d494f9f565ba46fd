#include "ehr_proxy/ehr_filter.h"

#include <cstdio>

#include "ehr_proxy/request_rules.h"
#include "ehr_proxy/response_rewrite.h"

namespace mst::testing {

namespace {

constexpr std::string_view kTokenParam = "_page_token=";

// The value of `_page_token` in `target`'s query, or "".
std::string page_token(const std::string& target) {
  const std::size_t q = target.find('?');
  if (q == std::string::npos) return "";
  std::size_t at = q + 1;
  while (at < target.size()) {
    const std::size_t end = std::min(target.find('&', at), target.size());
    if (target.compare(at, kTokenParam.size(), kTokenParam) == 0) {
      return target.substr(at + kTokenParam.size(), end - at - kTokenParam.size());
    }
    at = end + 1;
  }
  return "";
}

bool is_metadata(const EhrProfile& profile, const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  return path == profile.base_path + "/metadata";
}

}  // namespace

std::optional<ProxyAnswer> EhrFilter::on_request(ProxiedRequest& request) {
  if (profile_.paging == PagingLinks::kOpaque) {
    if (const std::string token = page_token(request.target); !token.empty()) {
      std::lock_guard lock(mu_);
      const auto it = pages_.find(token);
      if (it == pages_.end()) {
        return ProxyAnswer{400, "application/fhir+json",
                           outcome_json("error", "invalid", "unknown or expired paging token")};
      }
      request.target = it->second;
      return std::nullopt;
    }
  }
  Verdict verdict = judge_request(profile_, request.method, request.target, request.body);
  if (!verdict.forward) {
    return ProxyAnswer{verdict.status, "application/fhir+json",
                       outcome_json("error", verdict.issue_code, verdict.diagnostics)};
  }
  request.target = std::move(verdict.target);
  return std::nullopt;
}

void EhrFilter::on_response(const ProxiedRequest& request, int status, std::string& body) {
  if (status != 200 || (request.method != "GET" && request.method != "POST")) return;
  if (is_metadata(profile_, request.target)) {
    body = rewrite_capabilities(profile_, body);
    return;
  }
  body = rewrite_searchset(
      profile_, body, [&](const std::string& url) { return map_link(url, request.proxy_origin); });
}

std::string EhrFilter::map_link(const std::string& url, const std::string& proxy_origin) {
  switch (profile_.paging) {
    case PagingLinks::kUpstream:
      return url;
    case PagingLinks::kAbsolute:
      return proxy_origin + origin_relative(url);
    case PagingLinks::kRelative:
      return origin_relative(url);
    case PagingLinks::kOpaque: {
      std::lock_guard lock(mu_);
      // Unguessable enough for a test double; what matters is that the
      // client cannot derive the upstream query from it.
      char token[32];
      std::snprintf(token, sizeof token, "s%08llx%04llx",
                    static_cast<unsigned long long>((issued_ + 1) * 0x9E3779B1ULL & 0xffffffffULL),
                    static_cast<unsigned long long>(issued_ & 0xffffULL));
      ++issued_;
      pages_[token] = origin_relative(url);
      return proxy_origin + profile_.base_path + "?" + std::string(kTokenParam) + token;
    }
  }
  return url;
}

}  // namespace mst::testing
