// An EHR profile: the restrictions a vendor's FHIR R4 API puts on clients,
// read from a JSON file (format and sources: README.md). Data only; the
// rules that apply it are in request_rules.h and response_rewrite.h.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mst::testing {

enum class CountOver { kReduce, kReject };         // a _count above the cap
enum class UnsupportedParam { kReject, kIgnore };  // a search parameter the vendor lacks
enum class PagingLinks { kUpstream, kAbsolute, kRelative, kOpaque };

struct ResourceRules {
  // Interaction codes as in CapabilityStatement (read, vread, search-type,
  // create, update, patch, delete, history-instance); nullopt: all pass.
  std::optional<std::set<std::string>> interactions;
  // A search must carry every parameter of at least one group (empty: any).
  std::vector<std::vector<std::string>> search_requires;
  // Overrides the profile-wide list for this type when present.
  std::optional<std::set<std::string>> unsupported_params;
};

struct EhrProfile {
  std::string name;
  // Path of the FHIR base on the proxy ("/fhir"): targets are read below it.
  std::string base_path = "/fhir";
  std::map<std::string, ResourceRules, std::less<>> resources;
  // System interactions kept ("transaction", "batch"); nullopt: all.
  std::optional<std::set<std::string>> system_interactions;
  std::set<std::string> unsupported_params;
  UnsupportedParam unsupported_action = UnsupportedParam::kReject;
  std::optional<std::size_t> count_max;
  CountOver count_over = CountOver::kReduce;
  std::optional<std::size_t> count_default;  // put on searches that name none
  // A search.mode=outcome warning put into every searchset page; empty: none.
  std::string searchset_warning;
  PagingLinks paging = PagingLinks::kUpstream;

  // The rules for `type`, or nullptr when the profile says nothing of it.
  const ResourceRules* rules_for(std::string_view type) const;
  // The parameters `type` lacks: its own list or the profile-wide one.
  const std::set<std::string>& unsupported_for(std::string_view type) const;
};

// Throws std::invalid_argument naming the first bad or unknown member, so a
// typo in a profile is an error, not a restriction silently dropped.
EhrProfile parse_profile(std::string_view json);
EhrProfile load_profile(const std::string& path);

}  // namespace mst::testing
