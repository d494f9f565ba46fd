#include "mst/fhir/json.h"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace mst::fhir {

namespace {

// Finds the first place where arrays/objects nest deeper than `max_depth`.
// A byte scan, so hostile nesting is refused before any tree is built.
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
// gets wrong. Numbers: its own conversion is not correctly rounded (a value
// it writes can read back as a neighbouring double) and turns some
// overflowing numbers into infinity, or with kParseFullPrecisionFlag into
// tiny garbage, instead of failing; std::from_chars rounds correctly and
// reports the range. Strings: a lone low surrogate escape.
class DocumentBuilder {
 public:
  explicit DocumentBuilder(rapidjson::Document& doc) : doc_(doc) {}
  // Why the builder stopped the parse, or nullptr.
  const char* refusal() const { return refusal_; }

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
      return refuse(kOutOfRange);
    }
    return doc_.Double(d);
  }
  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    if (has_encoded_surrogate({s, n})) return refuse(kSurrogate);
    return doc_.String(s, n, copy);
  }
  bool StartObject() { return doc_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    if (has_encoded_surrogate({s, n})) return refuse(kSurrogate);
    return doc_.Key(s, n, copy);
  }
  bool EndObject(rapidjson::SizeType members) { return doc_.EndObject(members); }
  bool StartArray() { return doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return doc_.EndArray(elements); }
  // Not called with kParseNumbersAsStringsFlag; required by the interface.
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }

 private:
  static constexpr const char* kOutOfRange = "number outside the range of a double";
  static constexpr const char* kSurrogate = "lone UTF-16 surrogate in a \\u escape";

  bool refuse(const char* why) {
    refusal_ = why;
    return false;
  }

  rapidjson::Document& doc_;
  const char* refusal_ = nullptr;
};

}  // namespace

const char* json_type_name(const rapidjson::Value& v) {
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

JsonDocument JsonDocument::parse(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw ParseError("JSON input is " + std::to_string(text.size()) + " bytes, over the limit of " +
                         std::to_string(limits.max_bytes),
                     limits.max_bytes);
  }
  // RapidJSON takes a NUL byte for the end of input and would accept any
  // bytes after one; JSON text never contains a raw NUL.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    throw ParseError("malformed JSON at offset " + std::to_string(nul) + ": NUL byte", nul);
  }
  if (auto at = too_deep_at(text, limits.max_depth)) {
    throw ParseError("JSON nests deeper than " + std::to_string(limits.max_depth) +
                         " levels at offset " + std::to_string(*at),
                     *at);
  }
  auto doc = std::make_unique<rapidjson::Document>();
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                              rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult result;
  const char* refusal = nullptr;
  auto generate = [&](rapidjson::Document& d) {
    rapidjson::MemoryStream bytes(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
    rapidjson::Reader reader;
    DocumentBuilder builder(d);
    result = reader.Parse<kFlags>(in, builder);
    refusal = builder.refusal();
    return !result.IsError();
  };
  doc->Populate(generate);
  if (result.IsError()) {
    const std::size_t off = result.Offset();
    throw ParseError(std::string("malformed JSON at offset ") + std::to_string(off) + ": " +
                         (refusal ? refusal
                          : result.Code() == rapidjson::kParseErrorNumberTooBig
                              ? "number outside the range of a double"
                              : rapidjson::GetParseError_En(result.Code())),
                     off);
  }
  return JsonDocument(std::move(doc));
}

void Node::type_error(const char* expected) const {
  throw ElementError("element '" + std::string(name_) + "' must be " + expected + ", found " +
                     (value_ ? json_type_name(*value_) : "nothing"));
}

Node Node::operator[](std::string_view key) const {
  if (!present()) return Node();
  if (!value_->IsObject()) type_error("an object");
  auto it = value_->FindMember(rapidjson::Value(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
  if (it == value_->MemberEnd()) return Node();
  return Node(&it->value, std::string_view(it->name.GetString(), it->name.GetStringLength()));
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
  if (!present() || !value_->IsString()) type_error("a string");
  return {value_->GetString(), value_->GetStringLength()};
}

double Node::as_number() const {
  if (!present() || !value_->IsNumber()) type_error("a number");
  return value_->GetDouble();
}

std::int64_t Node::as_integer() const {
  if (!present() || !value_->IsInt64()) type_error("an integer");
  return value_->GetInt64();
}

bool Node::as_bool() const {
  if (!present() || !value_->IsBool()) type_error("a boolean");
  return value_->GetBool();
}

Node::ArrayRange Node::array(std::string_view key) const { return (*this)[key].elements(); }

Node::ArrayRange Node::elements() const {
  if (!present()) return {};
  if (!value_->IsArray()) type_error("an array");
  const rapidjson::Value* b = value_->Begin();
  return ArrayRange(b, b + value_->Size(), name_);
}

}  // namespace mst::fhir
