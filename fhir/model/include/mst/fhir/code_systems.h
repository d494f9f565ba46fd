// The URIs of the external code systems the adapter reads or writes, in one
// place (each as the FHIR R4 terminology registry names it,
// https://hl7.org/fhir/R4/terminologies-systems.html, or the IG that defines
// it). Our own systems hang off the configurable canonical base instead
// (mst/mappings/canonical_base.h).
#pragma once

#include <string_view>

namespace mst::fhir::code_system {

inline constexpr std::string_view kSnomed = "http://snomed.info/sct";
inline constexpr std::string_view kLoinc = "http://loinc.org";
inline constexpr std::string_view kIcd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr std::string_view kIcd10Who = "http://hl7.org/fhir/sid/icd-10";
inline constexpr std::string_view kIcdO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3";
inline constexpr std::string_view kRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
inline constexpr std::string_view kAtc = "http://www.whocc.no/atc";
inline constexpr std::string_view kUcum = "http://unitsofmeasure.org";
inline constexpr std::string_view kNucc = "http://nucc.org/provider-taxonomy";
inline constexpr std::string_view kGoalPriority =
    "http://terminology.hl7.org/CodeSystem/goal-priority";
inline constexpr std::string_view kDataOperation =
    "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
inline constexpr std::string_view kProvenanceParticipant =
    "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
// US Core 6.1 category systems.
inline constexpr std::string_view kUsCoreCarePlanCategory =
    "http://hl7.org/fhir/us/core/CodeSystem/careplan-category";
inline constexpr std::string_view kUsCoreDocumentCategory =
    "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category";

}  // namespace mst::fhir::code_system
