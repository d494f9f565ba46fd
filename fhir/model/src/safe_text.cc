#include "mst/fhir/safe_text.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace mst::fhir {

namespace {

// Code points that must not reach a terminal or split a log line: C0, DEL,
// C1, the Arabic letter mark, zero-width and directional marks, line and
// paragraph separators, bidi embeddings/overrides/isolates, invisible
// operators and the byte order mark.
bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
         (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

// Length of the valid UTF-8 sequence at s[i] and its code point, or 0.
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t len = b < 0x80           ? 1
                    : (b >> 5) == 0x6  ? 2
                    : (b >> 4) == 0xE  ? 3
                    : (b >> 3) == 0x1E ? 4
                                       : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not text.
  static constexpr std::array<char32_t, 5> kMin{0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return len;
}

// A character of a "run": a word, number, URL path or token. Bytes of
// multi-byte characters count, so a non-ASCII name is one run. '=' is not
// one: "access_token=x" is a keyword, a separator and a value.
bool run_char(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b >= 0x80 || std::isalnum(b) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
         c == '-';
}

bool b64url(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool one_of(std::string_view word, std::initializer_list<std::string_view> set) {
  const std::string w = lower(word);
  return std::find(set.begin(), set.end(), w) != set.end();
}

// Parameters and schemes whose value is a credential (RFC 6749, RFC 7523, RFC 7235).
bool is_secret_key(std::string_view key) {
  return one_of(key,
                {"access_token", "refresh_token", "id_token", "client_assertion", "client_secret",
                 "assertion", "password", "token", "code", "apikey", "api_key"});
}
bool is_auth_scheme(std::string_view w) { return one_of(w, {"bearer", "basic", "digest", "dpop"}); }
// Words after which a capitalised word is a person's name.
bool is_name_key(std::string_view w) {
  return one_of(
      w, {"patient", "patients", "name", "named", "family", "given", "mr", "mrs", "ms", "dr"});
}
// Words after which the next number is an identifier or a birth date.
bool is_identifier_key(std::string_view w) {
  return one_of(w, {"mrn", "nhs", "ssn", "dob", "born", "birthdate", "identifier", "id-number"});
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool digits_only(std::string_view s, std::size_t& count) {
  count = 0;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++count;
    } else if (c != '-') {
      return false;
    }
  }
  return count > 0;
}

// 1961-04-02, 1961/4/2, 02.04.1961, 4/2/61 at the start of `s`.
bool starts_with_date(std::string_view s) {
  std::size_t i = 0;
  std::array<std::size_t, 3> len{};
  for (int part = 0; part < 3; ++part) {
    const std::size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    len[part] = i - start;
    if (len[part] == 0) return false;
    if (part < 2) {
      if (i >= s.size() || (s[i] != '-' && s[i] != '/' && s[i] != '.')) return false;
      ++i;
    }
  }
  if (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  const bool ymd = len[0] == 4 && len[1] <= 2 && len[2] <= 2;
  const bool dmy = len[0] <= 2 && len[1] <= 2 && (len[2] == 2 || len[2] == 4);
  return ymd || dmy;
}

// A JWT (three base64url parts; its header is JSON, so it starts "eyJ").
bool is_jwt(std::string_view run) {
  if (run.starts_with("eyJ")) return true;
  const auto a = run.find('.');
  const auto b = a == std::string_view::npos ? a : run.find('.', a + 1);
  if (b == std::string_view::npos) return false;
  auto all_b64 = [](std::string_view p) { return std::all_of(p.begin(), p.end(), b64url); };
  return a >= 10 && b - a - 1 >= 10 && all_b64(run.substr(0, a)) &&
         all_b64(run.substr(a + 1, b - a - 1));
}

// `run` with every piece of 32 or more base64 characters holding both
// letters and digits (an opaque token or key) replaced; UUIDs are ids, kept.
std::string mask_long_pieces(std::string_view run) {
  std::string out;
  std::size_t i = 0;
  while (i < run.size()) {
    std::size_t j = i;
    bool letter = false, digit = false;
    while (j < run.size() && (b64url(run[j]) || run[j] == '+' || run[j] == '=')) {
      letter |= std::isalpha(static_cast<unsigned char>(run[j])) != 0;
      digit |= std::isdigit(static_cast<unsigned char>(run[j])) != 0;
      ++j;
    }
    const std::string_view piece = run.substr(i, j - i);
    if (piece.size() >= 32 && letter && digit && !is_uuid(piece)) {
      out += "[token]";
    } else {
      out.append(piece);
    }
    if (j < run.size()) out += run[j++];
    i = j;
  }
  return out;
}

// One run on its own (not a keyword's value).
std::string redact_run(std::string_view run) {
  if (is_jwt(run)) return "[token]";
  if (starts_with_date(run)) return "[date]";
  std::size_t digits = 0;
  if (digits_only(run, digits) && digits >= 6) return "[number]";
  return mask_long_pieces(run);
}

bool has_digit(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

bool starts_upper(std::string_view s) {
  const auto b = static_cast<unsigned char>(s.front());
  return std::isupper(b) || b >= 0x80;
}

bool is_keyword(std::string_view w) {
  return is_auth_scheme(w) || is_secret_key(w) || is_name_key(w) || is_identifier_key(w) ||
         lower(w) == "authorization";
}

// One left-to-right pass: each run is kept, or replaced by a marker when it
// is a credential, a name, a date or an identifier, or follows a keyword
// that says it is one.
class Redactor {
 public:
  explicit Redactor(std::string_view s) : s_(s) {}

  std::string run() {
    while (i_ < s_.size()) {
      if (!run_char(s_[i_])) {
        out_ += s_[i_++];
        continue;
      }
      const std::string_view word = next_run();
      if (is_keyword(word)) {
        out_.append(word);
        after_keyword(word);
      } else {
        number_or_run(word, false);
      }
    }
    return std::move(out_);
  }

 private:
  std::string_view next_run() {
    const std::size_t start = i_;
    while (i_ < s_.size() && run_char(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }

  // The run starting at i_, without consuming it.
  std::string_view peek_run() const {
    std::size_t end = i_;
    while (end < s_.size() && run_char(s_[end])) ++end;
    return s_.substr(i_, end - i_);
  }

  // Copies the separators after a keyword; true when one was ':' or '='.
  bool separators() {
    bool assigned = false;
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == ':' || s_[i_] == '=' || s_[i_] == '"' || s_[i_] == '\'')) {
      assigned |= s_[i_] == ':' || s_[i_] == '=';
      out_ += s_[i_++];
    }
    return assigned;
  }

  void after_keyword(std::string_view key) {
    const bool assigned = separators();
    if (i_ >= s_.size() || !run_char(s_[i_])) return;
    const std::string_view value = peek_run();
    if (is_auth_scheme(key)) {
      credential();
    } else if (lower(key) == "authorization") {
      if (is_auth_scheme(value)) return;  // the scheme is the next keyword
      credential();
    } else if (is_secret_key(key)) {
      // A parameter name ("token") is a key only when ':' or '=' follows.
      if (assigned) credential();
    } else if (is_name_key(key)) {
      if (starts_upper(value) || assigned) name();
    } else if (has_digit(value)) {  // identifier or birth-date keyword
      next_run();
      number_or_run(value, true);
    }
  }

  void credential() {
    next_run();
    out_ += "***";
  }

  // "Jane Smith": up to four capitalised words joined by single spaces; a
  // keyword ends the name ("Patient Jane DOB 1961-04-02").
  void name() {
    next_run();
    out_ += "[name]";
    for (int words = 1; words < 4; ++words) {
      if (i_ + 1 >= s_.size() || s_[i_] != ' ' || !run_char(s_[i_ + 1])) return;
      ++i_;
      const std::string_view word = peek_run();
      if (!starts_upper(word) || is_keyword(word)) {
        --i_;
        return;
      }
      next_run();
    }
  }

  // "943 476 5919", "123-45-6789", "1961-04-02". `force`: the word follows an
  // identifier keyword and is redacted whatever its length.
  void number_or_run(std::string_view word, bool force) {
    if (starts_with_date(word)) {
      out_ += "[date]";
      return;
    }
    std::size_t digits = 0;
    if (!digits_only(word, digits)) {
      out_ += force ? "[number]" : redact_run(word);
      return;
    }
    // Digit groups joined by single spaces count as one number.
    std::size_t end = i_;
    std::size_t total = digits;
    while (end + 1 < s_.size() && s_[end] == ' ' &&
           std::isdigit(static_cast<unsigned char>(s_[end + 1]))) {
      std::size_t k = end + 1;
      while (k < s_.size() && run_char(s_[k])) ++k;
      std::size_t more = 0;
      if (!digits_only(s_.substr(end + 1, k - end - 1), more)) break;
      total += more;
      end = k;
    }
    if (total >= 6 || force) {
      out_ += "[number]";
      i_ = end;
    } else {
      out_.append(word);
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string out_;
};

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t len = decode(text, i, cp);
    if (len == 0) {
      out += '?';
      ++i;
    } else if (is_control(cp)) {
      out += ' ';
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string cut_utf8(std::string s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  const bool ellipsis = max_bytes >= 3;
  std::size_t cut = ellipsis ? max_bytes - 3 : max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  if (ellipsis) s += "...";
  return s;
}

std::string safe_text(std::string_view text, std::size_t max_bytes) {
  return cut_utf8(Redactor(printable(text)).run(), max_bytes);
}

}  // namespace mst::fhir
