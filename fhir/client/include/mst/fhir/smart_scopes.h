// SMART on FHIR system scopes (SMART App Launch 2.x, "Scopes and Launch
// Context"): the scopes a set of FHIR interactions needs, written in v2
// (`system/Condition.rs`) or v1 (`system/Condition.read`) syntax, and which
// of them a granted scope string lacks. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mst::fhir {

// FHIR REST interactions on one resource type; the SMART 2.x letters c r u d s.
enum Access : unsigned {
  kCreate = 1u << 0,
  kRead = 1u << 1,
  kUpdate = 1u << 2,
  kDelete = 1u << 3,
  kSearch = 1u << 4,
};

struct ResourceAccess {
  std::string type;     // "Condition", or "*" in granted scopes
  unsigned access = 0;  // Access bits
};

enum class ScopeSyntax { kV2, kV1 };

// "v2" or "v1"; throws std::invalid_argument otherwise.
ScopeSyntax parse_scope_syntax(std::string_view text);

// The permissions a resource type's interactions need. A search also needs
// read: its results are whole resources, and servers that check read on
// every returned resource (HAPI's AuthorizationInterceptor does) would
// otherwise answer with an empty or refused page.
unsigned needed_access(unsigned interactions);

// One system scope per type, in the order given: v2 letters in the order
// c r u d s ("system/CarePlan.crus"); v1 one `.read` and/or one `.write`
// scope per type (read = r s, write = c u d).
std::string system_scopes(const std::vector<ResourceAccess>& interactions, ScopeSyntax syntax);

// The scopes of `interactions` that `granted` (space-separated, as a token
// response's `scope`) does not cover, written in `syntax` with only what is
// lacking ("system/Goal.cu"). Understands v2 letters, v1 read/write/*, and
// the `*` resource type. Only `system/` scopes count, and a scope narrowed
// by a query (`system/Observation.rs?category=...`) covers nothing: the
// adapter's searches are not narrowed that way.
std::vector<std::string> missing_scopes(const std::vector<ResourceAccess>& interactions,
                                        std::string_view granted, ScopeSyntax syntax);

}  // namespace mst::fhir
