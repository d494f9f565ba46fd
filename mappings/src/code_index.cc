#include "code_index.h"

#include <algorithm>

#include "mst/mappings/code_systems.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/text.h"

namespace mst::mappings::detail {

namespace {

constexpr long kMaxRangeExpansion = 5000;

int base36(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}

char from_base36(long d) {
  return d < 10 ? static_cast<char>('0' + d) : static_cast<char>('A' + d - 10);
}

long to_number(const std::string& s) {
  long n = 0;
  for (char c : s) n = n * 36 + base36(c);
  return n;
}

std::string from_number(long n, std::size_t len) {
  std::string s(len, '0');
  for (std::size_t i = len; i-- > 0;) {
    s[i] = from_base36(n % 36);
    n /= 36;
  }
  return s;
}

bool valid_icd_key(const std::string& k) {
  if (k.empty() || k.size() > 7) return false;
  if (k[0] < 'A' || k[0] > 'Z') return false;
  for (char c : k) {
    if (base36(c) < 0) return false;
  }
  return true;
}

}  // namespace

std::string CodeIndex::code_key(std::string_view system, std::string_view code) {
  std::string k;
  k.reserve(system.size() + code.size() + 1);
  k.append(system).push_back('|');
  k.append(code);
  return k;
}

std::string CodeIndex::icd_key(std::string_view code) {
  std::string k;
  k.reserve(code.size());
  for (char c : code) {
    if (c == '.' || c == ' ') continue;
    k.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return k;
}

void CodeIndex::put(Map& m, const std::string& key, Claim c, ConflictSink& sink,
                    std::string_view what) {
  auto [it, inserted] = m.try_emplace(key, c);
  if (inserted) return;
  Claim& old = it->second;
  if (old.entry == c.entry) {
    if (c.rank() > old.rank()) old = c;
    return;
  }
  if (c.rank() > old.rank()) {
    old = c;
  } else if (c.rank() == old.rank()) {
    if (c.file == old.file) {
      sink.conflict(c.file, c.entry_key,
                    std::string(what) + " '" + key + "' is also claimed by entry '" +
                        old.entry_key + "' of the same file");
    }
    if (c.file > old.file) old = c;
  }
}

void CodeIndex::claim_code(std::string_view system, std::string_view code, Claim c,
                           ConflictSink& sink) {
  put(exact_, code_key(system, code), std::move(c), sink, "code");
}

std::vector<std::pair<std::string, std::size_t>> CodeIndex::search_tokens() const {
  std::vector<std::pair<std::string, std::size_t>> out;
  out.reserve(exact_.size() + icd_.size());
  for (const auto& [key, claim] : exact_) out.emplace_back(key, claim.entry);
  for (const auto& [key, claim] : icd_) {
    // Only explicit codes: a range member or a bare category (C79) would ask
    // the server for a code nobody records.
    if (!claim.single || key.size() < 4) continue;
    const std::string code = key.substr(0, 3) + "." + key.substr(3);
    out.emplace_back(std::string(kIcd10Cm) + "|" + code, claim.entry);
    // WHO ICD-10 stops at four characters: only those codes exist there.
    if (key.size() == 4) out.emplace_back(std::string(kIcd10Who) + "|" + code, claim.entry);
  }
  return out;
}

void CodeIndex::claim_text(const std::string& normalized, Claim c, ConflictSink& sink) {
  const WordText words(normalized);
  if (words.size() > 0) {
    std::size_t& most = first_words_[std::string(words.words(0, 1))];
    most = std::max(most, words.size());
  }
  put(text_, normalized, std::move(c), sink, "synonym");
}

std::optional<std::string> CodeIndex::claim_icd(std::string_view pattern, Claim c,
                                                ConflictSink& sink) {
  const std::size_t dash = pattern.find('-');
  if (dash == std::string_view::npos) {
    std::string k = icd_key(pattern);
    if (!valid_icd_key(k))
      return "'" + std::string(pattern) + "' is not an ICD-10-CM code or prefix";
    c.prefix_len = static_cast<int>(k.size());
    c.single = true;
    c.width = 1;
    note_descendant(k, c.entry);
    put(icd_, k, std::move(c), sink, "ICD-10-CM prefix");
    return std::nullopt;
  }
  std::string lo = icd_key(pattern.substr(0, dash));
  std::string hi = icd_key(pattern.substr(dash + 1));
  if (!valid_icd_key(lo) || !valid_icd_key(hi) || lo.size() != hi.size()) {
    return "range '" + std::string(pattern) +
           "' must join two ICD-10-CM prefixes of the same length";
  }
  const long a = to_number(lo);
  const long b = to_number(hi);
  if (b < a) return "range '" + std::string(pattern) + "' ends before it starts";
  if (b - a + 1 > kMaxRangeExpansion) return "range '" + std::string(pattern) + "' is too wide";
  c.prefix_len = static_cast<int>(lo.size());
  c.single = false;
  c.width = b - a + 1;
  for (long n = a; n <= b; ++n) {
    const std::string k = from_number(n, lo.size());
    note_descendant(k, c.entry);
    put(icd_, k, c, sink, "ICD-10-CM prefix");
  }
  return std::nullopt;
}

std::optional<std::size_t> CodeIndex::match_code(std::string_view system,
                                                 std::string_view code) const {
  if (exact_.empty() || code.empty()) return std::nullopt;
  auto it = exact_.find(code_key(canonical_system(system), code));
  if (it == exact_.end()) return std::nullopt;
  return it->second.entry;
}

std::optional<std::size_t> CodeIndex::match_icd(std::string_view code) const {
  if (icd_.empty()) return std::nullopt;
  std::string k = icd_key(code);
  if (k.size() > 7) k.resize(7);
  for (std::size_t len = k.size(); len >= 1; --len) {
    auto it = icd_.find(k.substr(0, len));
    if (it != icd_.end()) return it->second.entry;
  }
  // A category above every claim ("C79" when the table names C79.x codes):
  // its meaning is known only when all the claimed subcodes agree.
  if (const auto* below = descendants(k); below && below->size() == 1) return below->front();
  return std::nullopt;
}

void CodeIndex::note_descendant(const std::string& key, std::size_t entry) {
  for (std::size_t len = 3; len < key.size(); ++len) {
    auto& entries = icd_descendants_[key.substr(0, len)];
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) entries.push_back(entry);
  }
}

const std::vector<std::size_t>* CodeIndex::descendants(const std::string& key) const {
  auto it = icd_descendants_.find(key);
  return it == icd_descendants_.end() ? nullptr : &it->second;
}

bool CodeIndex::nonspecific(const fhir::CodeableConcept& cc) const {
  for (const auto& c : cc.codings) {
    if (match_code(c.system, c.code)) return false;  // a specific code wins
  }
  for (const auto& c : cc.codings) {
    if (c.code.empty() || !is_icd10(c.system)) continue;
    std::string k = icd_key(c.code);
    const auto* below = descendants(k);
    if (!below) continue;
    const auto own = match_icd(c.code);
    for (std::size_t e : *below) {
      if (!own || e != *own) return true;
    }
  }
  return false;
}

std::optional<std::size_t> CodeIndex::match_text(std::string_view raw_text) const {
  if (text_.empty() || raw_text.empty()) return std::nullopt;
  // Every synonym, the whole-string ones too, starts with a word in
  // first_words_: a text with none of them is settled without tokenising.
  std::string key;
  const bool may_match = any_word(raw_text, [&](std::string_view w) {
    key.assign(w);
    return first_words_.count(key) > 0;
  });
  if (!may_match) return std::nullopt;
  const WordText words(raw_text);
  if (auto it = text_.find(words.normalized()); it != text_.end()) return it->second.entry;
  return match_phrases(words);
}

std::optional<std::size_t> CodeIndex::match_phrases(const WordText& text) const {
  struct Hit {
    std::size_t first = 0;
    std::size_t count = 0;
    std::size_t entry = 0;
  };
  std::vector<Hit> hits;
  std::string key;
  for (std::size_t i = 0; i < text.size(); ++i) {
    key.assign(text.words(i, 1));
    auto first = first_words_.find(key);
    if (first == first_words_.end()) continue;
    // The longest synonym starting here; a synonym never spans a clause break.
    for (std::size_t n = std::min(first->second, text.size() - i); n >= 1; --n) {
      if (text.clause(i + n - 1) != text.clause(i)) continue;
      key.assign(text.words(i, n));
      if (auto it = text_.find(key); it != text_.end()) {
        hits.push_back({i, n, it->second.entry});
        break;
      }
    }
  }
  std::optional<std::size_t> found;
  bool tied = false;
  auto rank = [&](std::size_t entry) { return entry < text_rank_.size() ? text_rank_[entry] : 0; };
  // Hits come one per start word, in order, each the longest there; so a
  // hit lies inside a longer one exactly when an earlier hit reaches its end.
  std::size_t reach = 0;
  for (const Hit& h : hits) {
    const std::size_t end = h.first + h.count;
    // "spinal cord compression" holds "cord compression": the longer phrase
    // speaks for both, and its negation too.
    const bool inside_longer = reach >= end;
    reach = std::max(reach, end);
    if (inside_longer) continue;
    if (assertion(text, h.first, h.count) != Assertion::kAffirmed) continue;
    if (!found || rank(h.entry) > rank(*found)) {
      found = h.entry;
      tied = false;
    } else if (*found != h.entry && rank(h.entry) == rank(*found)) {
      tied = true;  // two concepts of one rank: not ours to choose
    }
  }
  if (tied) return std::nullopt;
  return found;
}

void CodeIndex::set_text_rank(std::size_t entry, int rank) {
  if (text_rank_.size() <= entry) text_rank_.resize(entry + 1, 0);
  text_rank_[entry] = rank;
}

std::optional<std::size_t> CodeIndex::match(const fhir::CodeableConcept& cc) const {
  for (const auto& c : cc.codings) {
    if (auto m = match_code(c.system, c.code)) return m;
  }
  for (const auto& c : cc.codings) {
    if (!c.code.empty() && is_icd10(c.system)) {
      if (auto m = match_icd(c.code)) return m;
    }
  }
  if (cc.text) return match_text(*cc.text);
  return std::nullopt;
}

}  // namespace mst::mappings::detail
