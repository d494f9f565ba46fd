#include "mst/mappings/code_systems.h"

#include <array>
#include <utility>

namespace mst::mappings {

namespace {

// OIDs from the HL7 Terminology NamingSystem records (fhir-coding.md §16.4)
// and FHIR R4's terminologies page (SNOMED CT, LOINC).
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kOids{{
    {"2.16.840.1.113883.6.96", kSnomed},
    {"2.16.840.1.113883.6.1", kLoinc},
    {"2.16.840.1.113883.6.90", kIcd10Cm},
    {"2.16.840.1.113883.6.3", kIcd10Who},
    {"2.16.840.1.113883.6.88", kRxNorm},
    {"2.16.840.1.113883.6.73", kAtc},
    {"2.16.840.1.113883.6.43.1", kIcdO3},
}};

constexpr std::array<std::string_view, 7> kKnown{kSnomed, kLoinc, kIcd10Cm, kIcd10Who,
                                                 kRxNorm, kAtc,   kIcdO3};

}  // namespace

std::string_view canonical_system(std::string_view system) {
  // Fast path: the URI as FHIR names it.
  for (std::string_view k : kKnown) {
    if (system == k) return k;
  }
  std::string_view s = system;
  if (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
  if (s.rfind("urn:oid:", 0) == 0) s.remove_prefix(8);
  for (const auto& [oid, uri] : kOids) {
    if (s == oid) return uri;
  }
  for (std::string_view k : kKnown) {
    if (s == k) return k;
  }
  return system;
}

bool is_icd10(std::string_view system) {
  const std::string_view s = canonical_system(system);
  return s == kIcd10Cm || s == kIcd10Who;
}

}  // namespace mst::mappings
