#include "mst/fhir/json.h"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

namespace mst::fhir {

namespace {

// Finds the first place where arrays/objects nest deeper than `max_depth`.
// A byte scan; it only explains a parse that has already failed, so that the
// error named is the same whatever else is wrong with the text.
std::optional<std::size_t> too_deep_at(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return i;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::nullopt;
}

// True when the text holds a \u escape anywhere: only then can a decoded
// string hold an encoded surrogate (raw ones fail UTF-8 validation).
bool has_unicode_escape(std::string_view text) {
  for (auto i = text.find('\\'); i != std::string_view::npos; i = text.find('\\', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == 'u') return true;
  }
  return false;
}

// True when `s` holds a UTF-16 surrogate encoded as UTF-8 (ED A0..BF), which
// is not valid UTF-8. RapidJSON 1.1 refuses a lone high surrogate escape but
// decodes a lone low one ("\ude00") into exactly that.
bool has_encoded_surrogate(std::string_view s) {
  for (auto i = s.find('\xED'); i != std::string_view::npos; i = s.find('\xED', i + 1)) {
    if (i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return true;
  }
  return false;
}

// Builds the document from the reader's events, checking what RapidJSON 1.1
// gets wrong or leaves to us. Numbers: its own conversion is not correctly
// rounded (a value it writes can read back as a neighbouring double) and
// turns some overflowing numbers into infinity, or with
// kParseFullPrecisionFlag into tiny garbage, instead of failing;
// std::from_chars rounds correctly and reports the range. Strings: a lone
// low surrogate escape. Nesting: refused past max_depth as soon as it is
// reached, so hostile input never builds a deep tree.
class DocumentBuilder {
 public:
  // `quoted`: where the strings end (stream offsets, ascending) that stand
  // for numbers RapidJSON itself refuses (see JsonDocument::parse).
  DocumentBuilder(rapidjson::Document& doc, const ParseLimits& limits, bool check_surrogates,
                  const rapidjson::MemoryStream& stream, const std::vector<std::size_t>& quoted)
      : doc_(doc),
        max_depth_(limits.max_depth),
        keep_out_of_range_(limits.keep_out_of_range_numbers),
        check_surrogates_(check_surrogates),
        stream_(stream),
        quoted_(quoted) {}
  // Why the builder stopped the parse, or nullptr.
  const char* refusal() const { return refusal_; }
  std::size_t out_of_range() const { return out_of_range_; }

  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    const char* end = s + n;
    if (std::find_if(s, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end) {
      std::int64_t i = 0;
      if (auto r = std::from_chars(s, end, i); r.ec == std::errc() && r.ptr == end) {
        return doc_.Int64(i);
      }
      std::uint64_t u = 0;
      if (auto r = std::from_chars(s, end, u); r.ec == std::errc() && r.ptr == end) {
        return doc_.Uint64(u);
      }
    }
    double d = 0;
    const auto r = std::from_chars(s, end, d);
    if (r.ec != std::errc() || r.ptr != end || !std::isfinite(d)) {
      if (!keep_out_of_range_) return refuse(kOutOfRange);
      return keep_out_of_range(s, n);
    }
    return doc_.Double(d);
  }
  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    if (next_quoted_ < quoted_.size() && stream_.Tell() == quoted_[next_quoted_]) {
      ++next_quoted_;
      return keep_out_of_range(s, n);
    }
    if (check_surrogates_ && has_encoded_surrogate({s, n})) return refuse(kSurrogate);
    return doc_.String(s, n, copy);
  }
  bool StartObject() { return enter() && doc_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    if (check_surrogates_ && has_encoded_surrogate({s, n})) return refuse(kSurrogate);
    return doc_.Key(s, n, copy);
  }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return doc_.EndObject(members);
  }
  bool StartArray() { return enter() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return doc_.EndArray(elements);
  }
  // Not called with kParseNumbersAsStringsFlag; required by the interface.
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }

 private:
  static constexpr const char* kTooDeep = "nesting deeper than the limit";
  static constexpr const char* kOutOfRange = "number outside the range of a double";
  static constexpr const char* kSurrogate = "lone UTF-16 surrogate in a \\u escape";

  bool enter() { return ++depth_ <= max_depth_ || refuse(kTooDeep); }
  bool keep_out_of_range(const char* s, rapidjson::SizeType n) {
    ++out_of_range_;
    std::string marked(1, kOutOfRangeNumberMark);
    marked.append(s, n);
    return doc_.String(marked.data(), static_cast<rapidjson::SizeType>(marked.size()), true);
  }
  bool refuse(const char* why) {
    refusal_ = why;
    return false;
  }

  rapidjson::Document& doc_;
  const int max_depth_;
  const bool keep_out_of_range_;
  const bool check_surrogates_;
  const rapidjson::MemoryStream& stream_;
  const std::vector<std::size_t>& quoted_;
  std::size_t next_quoted_ = 0;
  int depth_ = 0;
  std::size_t out_of_range_ = 0;
  const char* refusal_ = nullptr;
};

// True when every non-ASCII sequence in `text` is valid UTF-8, judged by
// RapidJSON's own validator, the one kParseValidateEncodingFlag applies to
// string bytes. Valid JSON has non-ASCII bytes only inside strings, so a
// text that passes holds no string that flag would refuse.
bool is_valid_utf8(std::string_view text) {
  struct Bytes {
    const char* p;
    const char* end;
    char Take() { return p == end ? '\0' : *p++; }
  };
  struct Discard {
    void Put(char) {}
  };
  Bytes in{text.data(), text.data() + text.size()};
  Discard out;
  constexpr std::uint64_t kHighBits = 0x8080808080808080u;
  while (in.p != in.end) {
    std::uint64_t word;
    if (in.end - in.p >= 8 && (std::memcpy(&word, in.p, 8), (word & kHighBits) == 0)) {
      in.p += 8;
    } else if ((static_cast<unsigned char>(*in.p) & 0x80) == 0) {
      ++in.p;
    } else if (!rapidjson::UTF8<>::Validate(in, out)) {
      return false;
    }
  }
  return true;
}

struct Outcome {
  rapidjson::ParseResult result;
  const char* refusal = nullptr;
  std::size_t consumed = 0;
  std::size_t out_of_range = 0;
  // The whole text was read into the document.
  bool complete(std::string_view text) const {
    return !result.IsError() && consumed == text.size();
  }
};

// Reads `text` into `doc` with the reader flags kFlags.
template <unsigned kFlags>
Outcome read_json(std::string_view text, const ParseLimits& limits, bool check_surrogates,
                  const std::vector<std::size_t>& quoted, rapidjson::Document& doc) {
  Outcome out;
  auto generate = [&](rapidjson::Document& d) {
    rapidjson::MemoryStream bytes(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
    rapidjson::Reader reader;
    DocumentBuilder builder(d, limits, check_surrogates, bytes, quoted);
    out.result = reader.Parse<kFlags>(in, builder);
    out.refusal = builder.refusal();
    out.out_of_range = builder.out_of_range();
    out.consumed = in.Tell();
    return !out.result.IsError();
  };
  doc.Populate(generate);
  return out;
}

}  // namespace

const char* json_type_name(const rapidjson::Value& v) {
  if (is_out_of_range_number(v)) return "a number outside the range of a double";
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return "number";
  }
  return "unknown";
}

namespace {

// Why a text is not JSON: where, and what.
struct Failure {
  std::size_t offset = 0;
  std::string why;
  bool too_deep = false;
  bool number_too_big = false;  // RapidJSON's own refusal, before any handler call
};

// Parses `text` (see read_json for `quoted`) into a document, or says why not.
std::variant<std::unique_ptr<rapidjson::Document>, Failure> parse_text(
    std::string_view text, const ParseLimits& limits, const std::vector<std::size_t>& quoted,
    std::size_t& out_of_range) {
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
  // Fast path: UTF-8 is checked in one pass over the text instead of by the
  // reader per string byte, where GCC does not inline the validator and the
  // parse took twice as long. Nesting is limited as the reader goes, and
  // decoded strings are checked for surrogates only when there are escapes.
  auto doc = std::make_unique<rapidjson::Document>();
  const Outcome fast = read_json<kFlags>(text, limits, has_unicode_escape(text), quoted, *doc);
  if (fast.complete(text) && is_valid_utf8(text)) {
    out_of_range = fast.out_of_range;
    return doc;
  }
  // Something is wrong. Name it by the checks in a fixed order, so that the
  // error does not depend on where a parse happened to stop.
  // RapidJSON takes a NUL byte for the end of input and would accept any
  // bytes after one; JSON text never contains a raw NUL.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Failure{nul, "NUL byte"};
  }
  if (auto at = too_deep_at(text, limits.max_depth)) return Failure{*at, "", true};
  doc = std::make_unique<rapidjson::Document>();
  const Outcome checked =
      read_json<kFlags | rapidjson::kParseValidateEncodingFlag>(text, limits, true, quoted, *doc);
  // Only reached with an error; a text this parse accepts is returned as is.
  if (checked.complete(text)) {
    out_of_range = checked.out_of_range;
    return doc;
  }
  const std::size_t off = checked.result.IsError() ? checked.result.Offset() : checked.consumed;
  const bool too_big =
      checked.result.IsError() && checked.result.Code() == rapidjson::kParseErrorNumberTooBig;
  const char* why = checked.refusal             ? checked.refusal
                    : !checked.result.IsError() ? "data after the JSON value"
                    : too_big                   ? "number outside the range of a double"
                              : rapidjson::GetParseError_En(checked.result.Code());
  return Failure{off, why, false, too_big && !checked.refusal};
}

// Past this many numbers RapidJSON refuses, a document fails as a whole:
// each costs one more parse.
constexpr std::size_t kMaxQuotedNumbers = 64;

}  // namespace

JsonDocument JsonDocument::parse(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw ParseError("JSON input is " + std::to_string(text.size()) + " bytes, over the limit of " +
                         std::to_string(limits.max_bytes),
                     limits.max_bytes);
  }
  // RapidJSON refuses an exponent past 308 itself, before the builder sees
  // the number. To keep such a number, its token is put in quotes and the
  // text parsed again; the builder turns the string ending there back into
  // a number out of range. Tokens are quoted in text order, so each new one
  // lies after those already quoted, two bytes later per earlier one.
  std::string rewritten;
  std::vector<std::size_t> quoted;
  std::string_view current = text;
  for (;;) {
    std::size_t out_of_range = 0;
    auto result = parse_text(current, limits, quoted, out_of_range);
    if (auto* doc = std::get_if<std::unique_ptr<rapidjson::Document>>(&result)) {
      return JsonDocument(std::move(*doc), out_of_range);
    }
    const Failure& f = std::get<Failure>(result);
    const std::size_t shift = 2 * quoted.size();  // offsets in the text as given
    const std::size_t off = f.offset - std::min(f.offset, shift);
    if (f.number_too_big && limits.keep_out_of_range_numbers && quoted.size() < kMaxQuotedNumbers) {
      if (rewritten.empty()) rewritten.assign(text);
      std::size_t end = f.offset;
      while (end < rewritten.size() && std::strchr("0123456789+-.eE", rewritten[end]) &&
             rewritten[end] != '\0') {
        ++end;
      }
      rewritten.insert(end, 1, '"');
      rewritten.insert(f.offset, 1, '"');
      quoted.push_back(end + 2);
      current = rewritten;
      continue;
    }
    if (f.too_deep) {
      throw ParseError("JSON nests deeper than " + std::to_string(limits.max_depth) +
                           " levels at offset " + std::to_string(off),
                       off);
    }
    throw ParseError("malformed JSON at offset " + std::to_string(off) + ": " + f.why, off);
  }
}

void Node::type_error(const char* expected) const {
  throw ElementError("element '" + std::string(name_) + "' must be " + expected + ", found " +
                     (value_ ? json_type_name(*value_) : "nothing"));
}

void Node::out_of_range_error() const {
  throw ElementError("element '" + std::string(name_) + "' holds " +
                     std::string(value_->GetString() + 1, value_->GetStringLength() - 1) +
                     ", outside the range of a double");
}

Node Node::operator[](std::string_view key) const {
  if (!present()) return Node();
  if (!value_->IsObject()) type_error("an object");
  // From the end: of a key given twice, the last value counts (as in HAPI
  // FHIR's parser), so the adapter reads what the server would store.
  for (auto it = value_->MemberEnd(); it != value_->MemberBegin();) {
    --it;
    const std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (name == key) return Node(&it->value, name);
  }
  return Node();
}

std::optional<std::string_view> Node::string(std::string_view key) const {
  Node n = (*this)[key];
  if (!n.present()) return std::nullopt;
  return n.as_string();
}

std::optional<double> Node::number(std::string_view key) const {
  Node n = (*this)[key];
  if (!n.present()) return std::nullopt;
  return n.as_number();
}

std::optional<std::int64_t> Node::integer(std::string_view key) const {
  Node n = (*this)[key];
  if (!n.present()) return std::nullopt;
  return n.as_integer();
}

std::optional<bool> Node::boolean(std::string_view key) const {
  Node n = (*this)[key];
  if (!n.present()) return std::nullopt;
  return n.as_bool();
}

Node Node::object(std::string_view key) const {
  Node n = (*this)[key];
  if (n.present() && !n.value_->IsObject()) n.type_error("an object");
  return n;
}

std::string_view Node::as_string() const {
  if (!is_string()) type_error("a string");
  return {value_->GetString(), value_->GetStringLength()};
}

double Node::as_number() const {
  if (present() && is_out_of_range_number(*value_)) out_of_range_error();
  if (!present() || !value_->IsNumber()) type_error("a number");
  return value_->GetDouble();
}

std::int64_t Node::as_integer() const {
  if (present() && is_out_of_range_number(*value_)) out_of_range_error();
  if (!present() || !value_->IsInt64()) type_error("an integer");
  return value_->GetInt64();
}

bool Node::as_bool() const {
  if (!present() || !value_->IsBool()) type_error("a boolean");
  return value_->GetBool();
}

void Node::prefetch() const {
  if (value_) __builtin_prefetch(value_);
}

void Node::prefetch_children() const {
  // A parsed document's members and elements are laid down when their
  // object or array closes, after everything inside them, so a resource's
  // subtree ends where its member array starts. Addresses are only hints
  // (a prefetch never faults), hence integers rather than pointers.
  constexpr std::uintptr_t kLine = 64;
  constexpr std::uintptr_t kLinesAfter = 6;    // the member array of a typical resource
  constexpr std::uintptr_t kLinesBefore = 24;  // its nested objects and long strings
  if (!value_) return;
  std::uintptr_t at = 0;
  if (value_->IsObject() && value_->MemberCount() > 0) {
    at = reinterpret_cast<std::uintptr_t>(&*value_->MemberBegin());
  } else if (value_->IsArray() && !value_->Empty()) {
    at = reinterpret_cast<std::uintptr_t>(value_->Begin());
  } else {
    return;
  }
  // Integers, not pointers: the lines fetched may lie outside any object,
  // where pointer arithmetic would be undefined.
  // NOLINTBEGIN(performance-no-int-to-ptr)
  for (std::uintptr_t i = 0; i < kLinesAfter; ++i) {
    __builtin_prefetch(reinterpret_cast<const void*>(at + i * kLine));
  }
  for (std::uintptr_t i = 1; i <= kLinesBefore; ++i) {
    __builtin_prefetch(reinterpret_cast<const void*>(at - i * kLine));
  }
  // NOLINTEND(performance-no-int-to-ptr)
}

Node::ArrayRange Node::array(std::string_view key) const { return (*this)[key].elements(); }

Node::ArrayRange Node::elements() const {
  if (!present()) return {};
  if (!value_->IsArray()) type_error("an array");
  const rapidjson::Value* b = value_->Begin();
  return ArrayRange(b, b + value_->Size(), name_);
}

}  // namespace mst::fhir
