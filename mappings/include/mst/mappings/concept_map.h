// Site ConceptMaps: FHIR R4 ConceptMap resources that translate a site's
// local codes (flowsheet rows, local labs, problem-list codes) into codes the
// tables know, with the $translate semantics of
// https://hl7.org/fhir/R4/conceptmap-operation-translate.html. Loaded once,
// validated whole, then read-only and thread-safe. docs/considerations.md
// ("Mapping your site's codes") states which equivalences are used.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mst/fhir/error_kind.h"
#include "mst/fhir/json.h"

namespace mst::mappings {

// R4 ConceptMapEquivalence (http://hl7.org/fhir/concept-map-equivalence).
enum class Equivalence {
  kRelatedTo,
  kEquivalent,
  kEqual,
  kWider,
  kSubsumes,
  kNarrower,
  kSpecializes,
  kInexact,
  kUnmatched,
  kDisjoint,
};

std::optional<Equivalence> parse_equivalence(std::string_view code);
std::string_view to_string(Equivalence e);

// How the adapter treats a translation of this equivalence. kExact: the
// target's meaning holds for the source (same, or the target is wider);
// kConfirm: used, with a data gap asking a clinician to confirm, because the
// target may claim more than the source said; kExcluded: never used.
enum class TranslationUse { kExact, kConfirm, kExcluded };
TranslationUse use_of(Equivalence e);

// A map that cannot be read or is invalid. what() names the file and the
// element: "site.json: group[0].element[3].target[0]: ...".
class ConceptMapError : public ::mst::Error {
 public:
  ConceptMapError(std::string file, std::string element, const std::string& message);
  ErrorKind error_kind() const override { return ErrorKind::kConfiguration; }
  const std::string& file() const { return file_; }
  const std::string& element() const { return element_; }

 private:
  std::string file_;
  std::string element_;
};

// One usable translation of a source code.
struct Translation {
  std::string system;
  std::string code;
  std::string display;
  Equivalence equivalence = Equivalence::kEquivalent;
  std::string map;  // the ConceptMap's url, else its file name
  std::string comment;
};

// Every loaded ConceptMap, indexed by source system|code.
class ConceptMapSet {
 public:
  ConceptMapSet();
  ConceptMapSet(ConceptMapSet&&) noexcept;
  ConceptMapSet& operator=(ConceptMapSet&&) noexcept;
  ~ConceptMapSet();

  // Reads each file: a ConceptMap, or a Bundle of ConceptMaps (a search
  // answer). Throws ConceptMapError naming the file and element.
  static ConceptMapSet load(const std::vector<std::filesystem::path>& files);

  // Adds the ConceptMap or Bundle of ConceptMaps `root`; `origin` names it in
  // errors and stands for the map when it has no url. After a
  // ConceptMapError the set may hold part of the input: discard it.
  void add(fhir::Node root, const std::string& origin);
  // Parses `json` and adds it; a parse error is a ConceptMapError.
  void add_json(std::string_view json, const std::string& origin);

  // $translate of one coding: the usable translations, exact ones first,
  // then in load order. A listed code is translated by its elements only
  // (unmatched/disjoint ones give nothing); an unlisted code by the
  // group.unmapped rules of groups whose source is `system` ("provided": the
  // same code, equivalent; "fixed": the fixed code, inexact).
  std::vector<Translation> translate(std::string_view system, std::string_view code) const;
  // True when some map names system|code as a source element, even as
  // unmatched: the engineer has looked at it.
  bool lists(std::string_view system, std::string_view code) const;

  // Every listed source code ("system|code") with its usable translations,
  // sorted by source: what a server search must also ask for.
  std::vector<std::pair<std::string, Translation>> all() const;

  bool empty() const;
  std::size_t size() const;  // source elements, for logs
  // The maps read (url, else origin), in load order.
  const std::vector<std::string>& maps() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mst::mappings
