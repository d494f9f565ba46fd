#include "mst/mappings/vertebral_level.h"

#include <array>
#include <bitset>

namespace mst::mappings {

namespace {

struct RegionSpan {
  char letter;
  SpineRegion region;
  int first_ordinal;  // ordinal of level 1 in this region
  int count;
};

constexpr std::array<RegionSpan, 4> kRegions{{
    {'C', SpineRegion::kCervical, 1, 7},
    {'T', SpineRegion::kThoracic, 8, 12},
    {'L', SpineRegion::kLumbar, 20, 5},
    {'S', SpineRegion::kSacral, 25, 5},
}};

const RegionSpan* span_for_letter(char upper) {
  for (const auto& s : kRegions) {
    if (s.letter == upper) return &s;
  }
  return nullptr;
}

std::optional<LevelId> make_level(const RegionSpan& s, int number) {
  if (number < 1 || number > s.count) return std::nullopt;
  return LevelId{std::string(1, s.letter) + std::to_string(number), s.first_ordinal + number - 1,
                 s.region};
}

std::optional<int> small_number(std::string_view digits) {
  if (digits.empty() || digits.size() > 2) return std::nullopt;
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// Region letter of a lower-case prefix: c, t, th, d (dorsal), l, s.
const RegionSpan* span_for_prefix(std::string_view p) {
  if (p == "c") return span_for_letter('C');
  if (p == "t" || p == "th" || p == "d") return span_for_letter('T');
  if (p == "l") return span_for_letter('L');
  if (p == "s") return span_for_letter('S');
  return nullptr;
}

const RegionSpan* span_for_region_word(std::string_view w) {
  if (w == "cervical") return span_for_letter('C');
  if (w == "thoracic" || w == "dorsal") return span_for_letter('T');
  if (w == "lumbar") return span_for_letter('L');
  if (w == "sacral") return span_for_letter('S');
  return nullptr;
}

int ordinal_word(std::string_view w) {
  static constexpr std::array<std::string_view, 12> kWords{
      "first",   "second", "third", "fourth", "fifth",    "sixth",
      "seventh", "eighth", "ninth", "tenth",  "eleventh", "twelfth"};
  for (std::size_t i = 0; i < kWords.size(); ++i) {
    if (kWords[i] == w) return static_cast<int>(i) + 1;
  }
  return 0;
}

struct Token {
  bool dash = false;   // a separator between two levels: '-', en/em dash or '/'
  bool range = false;  // '-' and dashes span a range; '/' only lists ("L4/5")
  std::string word;    // lower-case letters and digits
};

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(Token{false, false, std::move(cur)});
    cur.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      cur.push_back(static_cast<char>(c));
    } else if (c >= 'A' && c <= 'Z') {
      cur.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c == '-' || c == '/') {
      flush();
      out.push_back(Token{true, c == '-', {}});
    } else if (c == 0xE2 && i + 2 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(text[i + 2]) == 0x93 ||
                static_cast<unsigned char>(text[i + 2]) == 0x94)) {
      flush();  // en dash or em dash
      out.push_back(Token{true, true, {}});
      i += 2;
    } else {
      flush();
    }
  }
  flush();
  return out;
}

// A level starting at token i; `used` is set to the number of tokens read.
std::optional<LevelId> level_at(const std::vector<Token>& t, std::size_t i, std::size_t& used) {
  if (i >= t.size() || t[i].dash) return std::nullopt;
  const std::string& w = t[i].word;
  // "t12", "th12", "d12"
  std::size_t digits_at = w.find_first_of("0123456789");
  if (digits_at != std::string::npos && digits_at > 0) {
    const RegionSpan* s = span_for_prefix(std::string_view(w).substr(0, digits_at));
    auto n = small_number(std::string_view(w).substr(digits_at));
    if (s && n) {
      used = 1;
      return make_level(*s, *n);
    }
    return std::nullopt;
  }
  // "t 12"
  if (const RegionSpan* s = span_for_prefix(w); s && i + 1 < t.size() && !t[i + 1].dash) {
    if (auto n = small_number(t[i + 1].word)) {
      used = 2;
      return make_level(*s, *n);
    }
  }
  // "twelfth thoracic"
  if (int n = ordinal_word(w); n > 0 && i + 1 < t.size() && !t[i + 1].dash) {
    if (const RegionSpan* s = span_for_region_word(t[i + 1].word)) {
      used = 2;
      return make_level(*s, n);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<LevelId> level_from_name(std::string_view name) {
  if (name.size() < 2) return std::nullopt;
  const RegionSpan* s = span_for_letter(name[0]);
  if (!s || name[1] == '0') return std::nullopt;
  auto n = small_number(name.substr(1));
  if (!n) return std::nullopt;
  return make_level(*s, *n);
}

std::optional<LevelId> level_from_ordinal(int ordinal) {
  for (const auto& s : kRegions) {
    if (ordinal >= s.first_ordinal && ordinal < s.first_ordinal + s.count) {
      return make_level(s, ordinal - s.first_ordinal + 1);
    }
  }
  return std::nullopt;
}

std::vector<LevelId> parse_levels(std::string_view text) {
  const std::vector<Token> t = tokenize(text);
  std::bitset<kLevelCount + 1> seen;
  for (std::size_t i = 0; i < t.size();) {
    std::size_t used = 0;
    auto first = level_at(t, i, used);
    if (!first) {
      ++i;
      continue;
    }
    seen.set(static_cast<std::size_t>(first->ordinal));
    i += used;
    const bool joined = i < t.size() && (t[i].dash || t[i].word == "to");
    if (!joined) continue;
    const bool range = t[i].range || t[i].word == "to";
    std::size_t used2 = 0;
    std::optional<LevelId> last = level_at(t, i + 1, used2);
    if (!last && i + 1 < t.size() && !t[i + 1].dash) {
      // "C5-6": a bare number continues the first level's region.
      if (auto n = small_number(t[i + 1].word)) {
        last = make_level(*span_for_letter(first->name[0]), *n);
        used2 = 1;
      }
    }
    if (!last) continue;
    if (range && last->ordinal >= first->ordinal) {
      for (int o = first->ordinal; o <= last->ordinal; ++o) seen.set(static_cast<std::size_t>(o));
    } else {
      seen.set(static_cast<std::size_t>(last->ordinal));
    }
    i += 1 + used2;
  }
  std::vector<LevelId> out;
  for (int o = 1; o <= kLevelCount; ++o) {
    if (seen.test(static_cast<std::size_t>(o))) out.push_back(*level_from_ordinal(o));
  }
  return out;
}

const char* region_name(SpineRegion r) {
  switch (r) {
    case SpineRegion::kCervical:
      return "cervical";
    case SpineRegion::kThoracic:
      return "thoracic";
    case SpineRegion::kLumbar:
      return "lumbar";
    case SpineRegion::kSacral:
      return "sacral";
  }
  return "unknown";
}

}  // namespace mst::mappings
