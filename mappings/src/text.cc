#include "mst/mappings/text.h"

#include <array>

namespace mst::mappings {

namespace {

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

bool is_clause_break(unsigned char c) {
  return c == '.' || c == ';' || c == ',' || c == '!' || c == '?' || c == '\n' || c == '\r';
}

bool is_sentence_break(unsigned char c) { return c != ',' && is_clause_break(c); }

// Triggers and pseudo-triggers, normalised, as NegEx-style word lists
// (Chapman et al., J Biomed Inform 2001;34:301-310), cut to what charts on
// spinal metastases write. docs/considerations.md lists them.
constexpr std::array<std::string_view, 11> kNegationBefore = {
    "no",    "not",       "denies",       "denied",  "deny",      "without",
    "never", "ruled out", "negative for", "free of", "absence of"};
constexpr std::array<std::string_view, 5> kNotAssertedBefore = {
    "family history of", "fh of", "risk of", "screening for", "screen for"};
constexpr std::array<std::string_view, 10> kNegationAfter = {
    "ruled out",   "excluded",       "absent",       "negative",  "not seen",
    "not present", "not identified", "not detected", "not found", "resolved"};
// Spans in which a trigger negates nothing: "cord compression cannot be
// ruled out" is a finding to act on.
constexpr std::array<std::string_view, 12> kPseudo = {
    "not ruled out", "cannot be ruled out", "can not be ruled out", "cannot rule out",
    "not excluded",  "cannot be excluded",  "can not be excluded",  "cannot exclude",
    "no change",     "no increase",         "no improvement",       "no worsening"};

std::size_t word_count(std::string_view phrase) {
  std::size_t n = 1;
  for (char c : phrase) n += c == ' ';
  return n;
}

// Whether `phrase` is at words [at, at + n) and inside `clause`.
bool phrase_at(const WordText& t, std::string_view phrase, std::size_t at, std::size_t clause) {
  const std::size_t n = word_count(phrase);
  if (at + n > t.size() || t.clause(at) != clause || t.clause(at + n - 1) != clause) return false;
  return t.words(at, n) == phrase;
}

// Whether a pseudo-trigger covers words [from, to].
bool inside_pseudo(const WordText& t, std::size_t from, std::size_t to) {
  const std::size_t clause = t.clause(from);
  for (std::string_view p : kPseudo) {
    const std::size_t n = word_count(p);
    const std::size_t lowest = to + 1 >= n ? to + 1 - n : 0;
    for (std::size_t s = lowest; s <= from; ++s) {
      if (phrase_at(t, p, s, clause)) return true;
    }
  }
  return false;
}

template <std::size_t N>
bool trigger_before(const WordText& t, std::size_t first,
                    const std::array<std::string_view, N>& triggers) {
  const std::size_t clause = t.clause(first);
  for (std::string_view trig : triggers) {
    const std::size_t n = word_count(trig);
    // The trigger's last word lies in [first - window, first - 1].
    for (std::size_t gap = 1; gap <= kNegationWindow && gap <= first; ++gap) {
      const std::size_t last = first - gap;
      if (last + 1 < n) continue;
      const std::size_t start = last + 1 - n;
      if (phrase_at(t, trig, start, clause) && !inside_pseudo(t, start, last)) return true;
    }
  }
  return false;
}

// NegEx-style list scope: a negation carries over commas into a list. The
// phrase's clause must hold a list word ("or", "nor": "denies weakness,
// numbness or incontinence"), and the trigger sits in an earlier short
// clause of the same sentence. "No back pain, new leg weakness" has no list
// word after the comma, so the weakness stays affirmed: a missed emergency
// costs more than a false alarm.
bool negated_as_list_item(const WordText& t, std::size_t first) {
  constexpr std::size_t kMaxItemWords = 6;
  constexpr int kMaxItems = 8;  // bounds the walk on hostile text
  if (!t.clause_is_list(first)) return false;
  std::size_t start = t.clause_begin(first);
  // Walk back clause by clause within the sentence.
  for (int items = 0; items < kMaxItems && start > 0 && t.sentence(start - 1) == t.sentence(first);
       ++items) {
    const std::size_t end = start;  // one past the previous clause
    const std::size_t prev = t.clause(end - 1);
    const std::size_t begin = t.clause_begin(end - 1);
    // The trigger sits near the end of its clause ("the patient denies
    // weakness, ..."): its last few words are enough, and keep this bounded.
    constexpr std::size_t kTail = 8;
    for (std::size_t w = end - begin > kTail ? end - kTail : begin; w < end; ++w) {
      for (std::string_view trig : kNegationBefore) {
        if (phrase_at(t, trig, w, prev) && !inside_pseudo(t, w, w + word_count(trig) - 1))
          return true;
      }
    }
    if (end - begin > kMaxItemWords) return false;  // a clause of its own, not a list item
    start = begin;
  }
  return false;
}

bool trigger_after(const WordText& t, std::size_t first, std::size_t count) {
  const std::size_t clause = t.clause(first);
  for (std::string_view trig : kNegationAfter) {
    const std::size_t n = word_count(trig);
    for (std::size_t s = first + count; s < first + count + kNegationWindow && s < t.size(); ++s) {
      if (phrase_at(t, trig, s, clause) && !inside_pseudo(t, s, s + n - 1)) return true;
    }
  }
  return false;
}

}  // namespace

std::string normalize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (unsigned char c : text) {
    if (is_word_byte(c)) {
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
    } else {
      pending_space = true;
    }
  }
  return out;
}

bool contains_phrase(std::string_view text, std::string_view phrase) {
  if (phrase.empty()) return false;
  for (std::size_t at = text.find(phrase); at != std::string_view::npos;
       at = text.find(phrase, at + 1)) {
    const bool starts = at == 0 || text[at - 1] == ' ';
    const std::size_t end = at + phrase.size();
    const bool ends = end == text.size() || text[end] == ' ';
    if (starts && ends) return true;
  }
  return false;
}

WordText::WordText(std::string_view raw) {
  normalized_.reserve(raw.size());
  std::uint32_t clause = 0;
  std::uint32_t sentence = 0;
  bool in_word = false;
  bool pending_break = false;
  bool pending_sentence = false;
  auto finish_word = [&] {
    Word& w = words_.back();
    w.end = static_cast<std::uint32_t>(normalized_.size());
    const std::string_view text(normalized_.data() + w.begin, w.end - w.begin);
    // The word opens a new clause: "no weakness but cord compression".
    if (text == "but" || text == "however") {
      w.clause = ++clause;
      w.sentence = ++sentence;
    }
  };
  for (unsigned char c : raw) {
    if (is_word_byte(c)) {
      if (!in_word) {
        if (!normalized_.empty()) normalized_.push_back(' ');
        if (pending_break && !words_.empty()) ++clause;
        if (pending_sentence && !words_.empty()) ++sentence;
        pending_break = false;
        pending_sentence = false;
        words_.push_back({static_cast<std::uint32_t>(normalized_.size()), 0, clause, sentence});
        in_word = true;
      }
      normalized_.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                                                 : static_cast<char>(c));
      continue;
    }
    if (in_word) finish_word();
    in_word = false;
    if (is_clause_break(c)) pending_break = true;
    if (is_sentence_break(c)) pending_sentence = true;
  }
  if (in_word) finish_word();
  for (std::size_t i = 0; i < words_.size(); ++i) {
    const std::uint32_t k = words_[i].clause;
    if (clauses_.size() <= k) clauses_.resize(k + 1, Clause{i, false});
    const std::string_view word = words(i, 1);
    if (word == "or" || word == "nor") clauses_[k].list = true;
  }
}

std::string_view WordText::words(std::size_t first, std::size_t count) const {
  if (count == 0 || first + count > words_.size()) return {};
  const std::uint32_t begin = words_[first].begin;
  return std::string_view(normalized_).substr(begin, words_[first + count - 1].end - begin);
}

Assertion assertion(const WordText& text, std::size_t first, std::size_t count) {
  if (count == 0 || first + count > text.size()) return Assertion::kAffirmed;
  if (trigger_before(text, first, kNegationBefore) || trigger_after(text, first, count) ||
      negated_as_list_item(text, first))
    return Assertion::kNegated;
  if (trigger_before(text, first, kNotAssertedBefore)) return Assertion::kNotAsserted;
  return Assertion::kAffirmed;
}

std::string one_line(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

}  // namespace mst::mappings
