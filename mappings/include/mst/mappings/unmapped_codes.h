// What a site's data holds that neither the code tables nor the site
// ConceptMaps map: the codes and texts of the elements the extractor reads,
// with counts and an example resource, and a draft ConceptMap for the
// integration engineer to complete (`mst-adapter codes`).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"
#include "mst/mappings/code_tables.h"

namespace mst::mappings {

// One unmapped code (system and code set) or text-only concept (text set).
struct UnmappedCode {
  std::string element;  // "Condition.code", "Observation.valueCodeableConcept", ...
  std::string system;
  std::string code;
  std::string text;     // text-only concepts
  std::string display;  // the first display (or text) seen with the code
  std::size_t count = 0;
  std::string example;  // "Type/id" of the first resource seen
};

class UnmappedCodeCollector {
 public:
  explicit UnmappedCodeCollector(const CodeTables& tables) : tables_(tables) {}

  // One resource of any type (types the adapter does not read are counted
  // and skipped), or a Bundle whose entry resources are each added. A
  // malformed resource is counted in unreadable(), never thrown.
  void add(fhir::Node resource);

  std::size_t resources() const { return resources_; }
  std::size_t unreadable() const { return unreadable_; }
  // Most frequent first; ties by element, system, code, text.
  std::vector<UnmappedCode> result() const;

 private:
  void add_one(fhir::Node resource);
  void note(std::string_view element, const fhir::CodeableConcept& cc, const std::string& ref);

  const CodeTables& tables_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, UnmappedCode> seen_;
  std::size_t resources_ = 0;
  std::size_t unreadable_ = 0;
};

// A draft R4 ConceptMap (status draft) with one element per unmapped code,
// one group per source system, each target "unmatched" with a comment saying
// what to fill in. Text-only concepts have no code and are left out.
fhir::JsonValue draft_concept_map(const std::vector<UnmappedCode>& codes, std::string_view url);

}  // namespace mst::mappings
