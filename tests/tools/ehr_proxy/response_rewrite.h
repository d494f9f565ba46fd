// What an EHR profile changes in the upstream's answers: the
// CapabilityStatement tells the truth about the profile, and searchset
// pages get the vendor's link form and outcome entries. Pure functions;
// a body that is not the expected JSON is returned unchanged.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "ehr_proxy/ehr_profile.h"

namespace mst::testing {

// Drops the interactions, system interactions and search parameters the
// profile refuses, clears conditional create/update/delete where create or
// update is gone, and states required parameter combinations with the
// capabilitystatement-search-parameter-combination extension.
std::string rewrite_capabilities(const EhrProfile& profile, std::string_view body);

// Maps one paging link URL (next, previous, first, last) to the form the
// client sees; `self` links are left alone.
using LinkMapper = std::function<std::string(const std::string& url)>;

// Applies `map` to a searchset's paging links and appends the profile's
// search.mode=outcome warning entry.
std::string rewrite_searchset(const EhrProfile& profile, std::string_view body,
                              const LinkMapper& map);

// "http://h:1/fhir/x?y" -> "/fhir/x?y" (an absolute-path reference); other
// strings unchanged.
std::string origin_relative(const std::string& url);

}  // namespace mst::testing
