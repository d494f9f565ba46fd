#include "value_text.h"

#include <cmath>
#include <cstdlib>
#include <vector>

#include "extract_internal.h"
#include "mst/mappings/text.h"

namespace mst::mappings::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

struct Number {
  double value = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Decimal numbers standing on their own: not part of "T10", "C79.5" or "1b".
std::vector<Number> standalone_numbers(std::string_view s) {
  std::vector<Number> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (!is_digit(s[i])) {
      ++i;
      continue;
    }
    const std::size_t begin = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && is_digit(s[i + 1])) {
      ++i;
      while (i < s.size() && is_digit(s[i])) ++i;
    }
    const bool glued_before = begin > 0 && is_alpha(s[begin - 1]);
    const bool glued_after =
        i < s.size() && (is_alpha(s[i]) || (s[i] == '.' && i + 1 < s.size() &&
                                            (is_alpha(s[i + 1]) || is_digit(s[i + 1]))));
    if (glued_before || glued_after) continue;
    std::string text(s.substr(begin, i - begin));
    for (char& c : text) {
      if (c == ',') c = '.';  // a decimal comma, as European labs write it
    }
    const double v = std::strtod(text.c_str(), nullptr);
    if (std::isfinite(v)) out.push_back({v, begin, i});
  }
  return out;
}

// What lies between two numbers says "out of": "/" or the words "out of".
bool joins_as_scale(std::string_view between) {
  const std::string words = normalize_text(between);
  if (words == "out of" || words == "of") return true;
  std::string rest;
  for (char c : between) {
    if (c != ' ') rest.push_back(c);
  }
  return rest == "/";
}

}  // namespace

TextValue<double> number_in_text(std::string_view raw, std::optional<double> scale_max) {
  const std::vector<Number> numbers = standalone_numbers(raw);
  std::vector<double> values;
  for (std::size_t k = 0; k < numbers.size(); ++k) {
    const Number& n = numbers[k];
    if (k > 0 && scale_max && n.value == *scale_max &&
        joins_as_scale(raw.substr(numbers[k - 1].end, n.begin - numbers[k - 1].end))) {
      continue;  // "9/18": 18 is the scale
    }
    values.push_back(n.value);
  }
  if (values.empty()) return {std::nullopt, "text states no number"};
  for (double v : values) {
    if (v != values.front()) return {std::nullopt, "text states more than one number"};
  }
  return {values.front(), {}};
}

TextQuantity quantity_in_text(std::string_view raw) {
  const std::vector<Number> numbers = standalone_numbers(raw);
  if (numbers.empty()) return {std::nullopt, {}, "text states no number"};
  if (numbers.size() > 1) return {std::nullopt, {}, "text states more than one number"};
  // The unit is the next run of non-blank bytes, trimmed of closing punctuation.
  std::size_t at = numbers.front().end;
  while (at < raw.size() && raw[at] == ' ') ++at;
  std::size_t end = at;
  while (end < raw.size() && raw[end] != ' ' && raw[end] != ',' && raw[end] != ';' &&
         raw[end] != '(')
    ++end;
  return {numbers.front().value, std::string(raw.substr(at, end - at)), {}};
}

TextValue<std::string> grade_in_text(const ObservationEntry& e, std::string_view raw) {
  const WordText words(raw);
  std::vector<std::string> grades;
  for (const auto& g : e.grades) grades.push_back(normalize_text(g));
  auto grade_of = [&](std::string_view w) -> const std::string* {
    for (std::size_t k = 0; k < grades.size(); ++k) {
      if (grades[k] == w) return &e.grades[k];
    }
    return nullptr;
  };
  // A multi-word grade ("with aid") stands for the whole text or not at all.
  if (const std::string* g = grade_of(words.normalized())) return {*g, {}};
  const std::string* found = nullptr;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string* g = grade_of(words.words(i, 1));
    // "1 c" written apart is the grade 1c.
    if (i + 1 < words.size() && words.words(i + 1, 1).size() == 1) {
      std::string joined(words.words(i, 1));
      joined += words.words(i + 1, 1);
      if (const std::string* j = grade_of(joined)) {
        g = j;
        ++i;
      }
    }
    if (!g) continue;
    if (found && *found != *g) return {std::nullopt, "text names more than one grade"};
    found = g;
  }
  if (found) return {*found, {}};
  // Then the entry's phrases ("unable to walk"), affirmed in their clause: a
  // grade a chart writes in words rather than by name.
  for (const auto& [grade, list] : e.phrases) {
    for (const auto& phrase : list) {
      const std::size_t n = WordText(phrase).size();
      for (std::size_t i = 0; i + n <= words.size(); ++i) {
        if (words.words(i, n) != phrase || assertion(words, i, n) != Assertion::kAffirmed) continue;
        if (found && *found != grade) return {std::nullopt, "text names more than one grade"};
        found = &grade;
      }
    }
  }
  if (!found) return {std::nullopt, "text names no grade of " + e.label};
  return {*found, {}};
}

}  // namespace mst::mappings::detail
