// The code systems the terminology layer knows by name, and their aliases.
// Senders write one system several ways: converted CDA and HL7 v2 data carry
// `urn:oid:` identifiers, and European systems send WHO ICD-10 where US
// systems send ICD-10-CM (fhir-coding.md §16.4). Every lookup compares
// canonical_system() of a coding, never the raw string.
#pragma once

#include <string_view>

#include "mst/fhir/code_systems.h"

namespace mst::mappings {

using fhir::code_system::kAtc;
using fhir::code_system::kIcd10Cm;
using fhir::code_system::kIcd10Who;
using fhir::code_system::kIcdO3;
using fhir::code_system::kLoinc;
using fhir::code_system::kRxNorm;
using fhir::code_system::kSnomed;

// The preferred URI of `system` when it is a known alias (an OID, with or
// without "urn:oid:", or a trailing slash), else `system` unchanged.
std::string_view canonical_system(std::string_view system);

// True for ICD-10-CM and WHO ICD-10 (after canonical_system): both share
// the category structure, so a table pattern "C79.5" covers "C79.51" in
// either. Which codes are leaves differs (C79.5 is a header in CM, a leaf in
// WHO), so the system stays with the code wherever it is shown.
bool is_icd10(std::string_view system);

}  // namespace mst::mappings
