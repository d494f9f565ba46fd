// Name-based (RFC 4122 version 5, SHA-1) UUIDs, so the same patient and
// resource role always get the same fullUrl and business identifier.
#pragma once

#include <string>

namespace mst::adapter::detail {

// The UUID of `name` in the adapter's namespace, itself the version-5 UUID
// of `canonical_base` in the RFC 4122 URL namespace. Lowercase, no "urn:uuid:".
std::string name_uuid(const std::string& canonical_base, const std::string& name);

}  // namespace mst::adapter::detail
