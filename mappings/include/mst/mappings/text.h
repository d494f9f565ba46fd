// Text normalisation and phrase matching for the documented synonyms:
// text-only CodeableConcepts and free-text preferences are compared after
// normalize_text(), never raw; phrases are found on word boundaries and
// checked for negation in their clause (docs/considerations.md, "Text").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mst::mappings {

// Lower-cases ASCII letters, turns every other non-alphanumeric byte into a
// single space and trims: "Spinal Instability-Neoplastic  Score " ->
// "spinal instability neoplastic score". Non-ASCII bytes are kept as-is.
std::string normalize_text(std::string_view text);

// True when normalised `phrase` occurs in normalised `text` on word
// boundaries ("declines surgery" is in "pt declines surgery today" but
// "no surgery" is not in "piano surgery").
bool contains_phrase(std::string_view normalized_text, std::string_view normalized_phrase);

// A text split once into the words normalize_text() makes and into clauses
// (broken by . ; , ! ? newline and the words "but", "however"), so many
// phrase lookups and negation checks share one pass over the bytes.
class WordText {
 public:
  explicit WordText(std::string_view raw);

  const std::string& normalized() const { return normalized_; }  // == normalize_text(raw)
  std::size_t size() const { return words_.size(); }
  // Words [first, first + count) as one normalised phrase.
  std::string_view words(std::size_t first, std::size_t count) const;
  std::size_t clause(std::size_t word) const { return words_[word].clause; }
  // Clauses split by commas only share a sentence: "denies weakness,
  // numbness or incontinence" is one list under one negation.
  std::size_t sentence(std::size_t word) const { return words_[word].sentence; }
  // The first word of `word`'s clause, and whether that clause holds a list
  // word ("or", "nor"); both precomputed, so a scan per phrase stays O(1).
  std::size_t clause_begin(std::size_t word) const { return clauses_[words_[word].clause].begin; }
  bool clause_is_list(std::size_t word) const { return clauses_[words_[word].clause].list; }

 private:
  struct Word {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::uint32_t clause = 0;
    std::uint32_t sentence = 0;
  };
  struct Clause {
    std::size_t begin = 0;
    bool list = false;
  };
  std::string normalized_;
  std::vector<Word> words_;
  std::vector<Clause> clauses_;  // by clause index
};

// Calls `f` with each word of `raw` as normalize_text() would make it, until
// `f` returns true, without allocating: a cheap test of whether a text can
// hold any phrase of a list before it is tokenised. Words longer than 32
// bytes are skipped (no synonym has one).
template <typename F>
bool any_word(std::string_view raw, F&& f) {
  char word[32];
  std::size_t len = 0;
  bool too_long = false;
  auto end_word = [&] {
    const bool hit = !too_long && len > 0 && f(std::string_view(word, len));
    len = 0;
    too_long = false;
    return hit;
  };
  for (unsigned char c : raw) {
    const bool word_byte =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (!word_byte) {
      if (end_word()) return true;
    } else if (len == sizeof word) {
      too_long = true;
    } else {
      word[len++] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
    }
  }
  return end_word();
}

// How a phrase found in a text is meant.
enum class Assertion {
  kAffirmed,     // "MRI: cord compression at T10"
  kNegated,      // "no cord compression", "MSCC ruled out"
  kNotAsserted,  // not about this patient now: "family history of", "risk of", "screening for"
};

// Words looked at on each side of a phrase, inside its clause.
inline constexpr std::size_t kNegationWindow = 4;

// How the phrase at words [first, first + count) of `text` is meant: negated
// when a trigger ("no", "not", "denies", "denied", "without", "ruled out",
// "negative for", "free of", "absence of") ends within kNegationWindow words
// before it, or one ("ruled out", "excluded", "absent", "negative", "not
// seen", ...) starts within that many words after it, in the same clause.
// Pseudo-negations ("not ruled out", "cannot be excluded", "no change in")
// negate nothing. A doubtful reading stays affirmed: a false alarm is safer
// than a silent miss.
Assertion assertion(const WordText& text, std::size_t first, std::size_t count);
// `text` with every control character (newlines included) turned into a
// space: site codes, displays and comments quoted in one-line messages.
std::string one_line(std::string text);

}  // namespace mst::mappings
