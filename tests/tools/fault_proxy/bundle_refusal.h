// The proxy as a server without transactions (issue #17): a POSTed Bundle
// of a refused type (transaction, batch) is answered 405, and the
// CapabilityStatement no longer declares those system interactions. Pure
// functions over the request and response bodies.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace mst::testing {

// The Bundle.type of `body` when it is a POSTed Bundle whose type is in
// `refused`; nullopt otherwise (other methods, other bodies, unparsable JSON).
std::optional<std::string> refused_bundle_type(std::string_view method, std::string_view body,
                                               const std::set<std::string>& refused);

// `capability_json` with every rest[].interaction whose code is in
// `refused` removed; the body unchanged when it is not a
// CapabilityStatement.
std::string without_system_interactions(const std::string& capability_json,
                                        const std::set<std::string>& refused);

}  // namespace mst::testing
