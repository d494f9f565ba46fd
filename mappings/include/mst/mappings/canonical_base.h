// The adapter's default canonical base: its CodeSystems, NamingSystems and
// extensions live under it unless a site configures its own
// (adapter.canonical_base). The one spelling of the literal (so data() is
// NUL-terminated).
#pragma once

#include <string_view>

namespace mst::mappings {

inline constexpr std::string_view kDefaultCanonicalBase = "http://mst-adapter.example.org/fhir";

}  // namespace mst::mappings
