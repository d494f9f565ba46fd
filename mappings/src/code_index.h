// Internal: the lookup index of one table kind. Codes map to entry indexes
// through three hash maps (exact system|code, ICD-10-CM prefixes with ranges
// expanded at load, normalised synonyms), so a lookup costs a few hashes and
// never scans the table.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "mst/fhir/datatypes.h"
#include "mst/mappings/text.h"

namespace mst::mappings::detail {

// Who claims a code, and how specifically. Higher rank wins; equal rank from
// the same file is a conflict, from a later file an override.
struct Claim {
  std::size_t entry = 0;
  int file = 0;
  std::string entry_key;
  int prefix_len = 0;  // ICD-10-CM: characters matched (dotless)
  bool single = true;  // an explicit code/prefix rather than a range member
  long width = 0;      // ICD-10-CM ranges: number of categories spanned
  auto rank() const { return std::make_tuple(prefix_len, single, -width); }
};

// Calls back (file, entry_key, message) on a same-file conflict.
class ConflictSink {
 public:
  virtual ~ConflictSink() = default;
  [[noreturn]] virtual void conflict(int file, const std::string& entry_key,
                                     const std::string& message) = 0;
};

class CodeIndex {
 public:
  void claim_code(std::string_view system, std::string_view code, Claim c, ConflictSink& sink);
  void claim_text(const std::string& normalized, Claim c, ConflictSink& sink);
  // `pattern` is "C34", "C90.0" or a range "C00-C76" / "C78.0-C78.3" whose
  // ends have the same dotless length. Returns an error text when invalid.
  std::optional<std::string> claim_icd(std::string_view pattern, Claim c, ConflictSink& sink);

  // Exact codes in coding order, then ICD-10 codings (ICD-10-CM or WHO, by
  // longest claimed prefix, else as a category whose claimed subcodes all
  // name one entry), then cc.text. Systems are compared after
  // canonical_system(), so OID aliases match.
  std::optional<std::size_t> match(const fhir::CodeableConcept& cc) const;
  // `system` is compared after canonical_system().
  std::optional<std::size_t> match_code(std::string_view system, std::string_view code) const;
  std::optional<std::size_t> match_icd(std::string_view code) const;
  // The whole normalised text as a synonym, else the synonyms found in it as
  // phrases (docs/considerations.md, "Text"): a phrase inside a longer one
  // gives way to it, negated or not-asserted phrases do not count, and a text
  // naming two different entries matches neither.
  // When one text names several entries, the highest text_rank wins; a tie
  // between different entries matches nothing ("back pain with leg
  // weakness" is a deficit when deficits outrank pain).
  void set_text_rank(std::size_t entry, int rank);
  std::optional<std::size_t> match_text(std::string_view raw_text) const;
  // True when an ICD-10 coding of `cc` is a category whose subcodes the
  // table tells apart (C79.5 when C79.51 and C79.52 mean different things):
  // the match is then less specific than the table could have been.
  bool nonspecific(const fhir::CodeableConcept& cc) const;

  static std::string code_key(std::string_view system, std::string_view code);
  // Every claimed code as a FHIR search token ("system|code", ICD-10
  // prefixes with their dot restored, under ICD-10-CM and, for four-character
  // codes, WHO ICD-10) and the entry claiming it; unsorted.
  std::vector<std::pair<std::string, std::size_t>> search_tokens() const;
  // Upper-case, dots and spaces removed: "c34.90" -> "C3490".
  static std::string icd_key(std::string_view code);

 private:
  using Map = std::unordered_map<std::string, Claim>;
  static void put(Map& m, const std::string& key, Claim c, ConflictSink& sink,
                  std::string_view what);

  std::optional<std::size_t> match_phrases(const WordText& text) const;
  // Entries claiming a longer ICD key under each proper prefix (3+ chars).
  void note_descendant(const std::string& key, std::size_t entry);
  const std::vector<std::size_t>* descendants(const std::string& key) const;

  Map exact_;
  Map icd_;
  Map text_;
  // First word of every synonym -> the most words a synonym starting with it
  // has: a phrase scan tries a handful of lookups per word, not every n-gram.
  std::unordered_map<std::string, std::size_t> first_words_;
  std::vector<int> text_rank_;  // by entry; absent entries rank 0
  std::unordered_map<std::string, std::vector<std::size_t>> icd_descendants_;
};

}  // namespace mst::mappings::detail
