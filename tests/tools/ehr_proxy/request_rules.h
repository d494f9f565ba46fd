// Whether an EHR profile lets a request through, and in what form: a pure
// function of (profile, method, target, body), so every rule is testable
// without a server. Refusals carry the status and OperationOutcome a vendor
// answers with (README.md cites which).
#pragma once

#include <string>
#include <string_view>

#include "ehr_proxy/ehr_profile.h"

namespace mst::testing {

struct Verdict {
  bool forward = true;
  std::string target;  // to forward: the request target, possibly rewritten
  int status = 0;      // to refuse: HTTP status, OperationOutcome code and text
  std::string issue_code;
  std::string diagnostics;
};

// Targets outside the profile's base path, reads of /metadata, operations
// and paging requests pass unchanged; the rest is checked against the
// interaction, search-parameter and _count rules.
Verdict judge_request(const EhrProfile& profile, std::string_view method, std::string_view target,
                      std::string_view body);

// A one-issue OperationOutcome as JSON.
std::string outcome_json(std::string_view severity, std::string_view code,
                         std::string_view diagnostics);

}  // namespace mst::testing
