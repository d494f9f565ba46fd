// Name-based (RFC 4122 version 5, SHA-1) UUIDs, so the same patient and
// resource role always get the same fullUrl and business identifier.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace mst::adapter::detail {

// UUIDs of names in the adapter's namespace, itself the version-5 UUID of
// `canonical_base` in the RFC 4122 URL namespace. The namespace is computed
// once, since a build names a dozen resources.
class NameUuids {
 public:
  explicit NameUuids(std::string_view canonical_base);
  // Lowercase, no "urn:uuid:".
  std::string operator()(std::string_view name) const;

 private:
  std::array<unsigned char, 16> namespace_;
};

}  // namespace mst::adapter::detail
