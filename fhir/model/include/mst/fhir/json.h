// Read-only access to FHIR JSON over RapidJSON. JsonDocument owns parsed
// bytes; Node is a cheap, copyable view into it that reports wrong element
// types as ElementError instead of asserting.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mst/fhir/errors.h"

namespace mst::fhir {

struct ParseLimits {
  std::size_t max_bytes = 64u << 20;  // 64 MiB: far above any one patient's record.
  int max_depth = 200;                // FHIR resources nest a few dozen levels at most.
  // A number outside the range of a double (1e400) fails the parse unless
  // this is set; then it is kept as its text, reads as a number out of range
  // (as_number() throws ElementError) and is counted, so that a reader can
  // drop the one resource holding it instead of the whole document.
  bool keep_out_of_range_numbers = false;
};

// Marks a number kept as text (ParseLimits::keep_out_of_range_numbers): the
// string is this byte, then the number's text. 0xFF never occurs in UTF-8,
// and every string of a parsed document is valid UTF-8, so no real string
// starts with it.
inline constexpr char kOutOfRangeNumberMark = '\xFF';

// True when `v` is a number kept as text because it is outside the range of
// a double (ParseLimits::keep_out_of_range_numbers).
inline bool is_out_of_range_number(const rapidjson::Value& v) {
  return v.IsString() && v.GetStringLength() > 0 && v.GetString()[0] == kOutOfRangeNumberMark;
}

class Node;

// A view of one JSON value, or of nothing (absent). Valid while the
// JsonDocument it came from lives.
class Node {
 public:
  Node() = default;
  Node(const rapidjson::Value* value, std::string_view name) : value_(value), name_(name) {}

  bool present() const { return value_ != nullptr && !value_->IsNull(); }
  explicit operator bool() const { return present(); }
  bool is_object() const { return present() && value_->IsObject(); }
  bool is_array() const { return present() && value_->IsArray(); }
  bool is_string() const {
    return present() && value_->IsString() && !is_out_of_range_number(*value_);
  }
  // The element's own name, for error messages.
  std::string_view name() const { return name_; }
  const rapidjson::Value* raw() const { return value_; }

  // Member `key`; absent when missing. Throws ElementError if this node is
  // present but not an object. A key given twice reads as its last value,
  // as HAPI FHIR reads it.
  Node operator[](std::string_view key) const;

  // Typed members: nullopt when missing, ElementError when of the wrong type.
  std::optional<std::string_view> string(std::string_view key) const;
  std::optional<double> number(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  // Member that must be an object when present.
  Node object(std::string_view key) const;

  // This node's own value; ElementError when absent or of another type.
  std::string_view as_string() const;
  double as_number() const;
  std::int64_t as_integer() const;
  bool as_bool() const;

  class ArrayRange;
  // Elements of array member `key`; empty when missing, ElementError when the
  // member is not an array.
  ArrayRange array(std::string_view key) const;
  // This node's own elements (it must be an array, or absent).
  ArrayRange elements() const;

  // Hints that this value will be read soon; results are unaffected. Reading
  // many resources of a large document waits on memory more than it works,
  // so loops hint a few resources ahead: prefetch() for the value itself,
  // then, once that has arrived, prefetch_children() for its members and
  // the bytes just before them, where the DOM builder put their children.
  void prefetch() const;
  void prefetch_children() const;

 private:
  [[noreturn]] void type_error(const char* expected) const;
  [[noreturn]] void out_of_range_error() const;

  const rapidjson::Value* value_ = nullptr;
  std::string_view name_;
};

class Node::ArrayRange {
 public:
  class iterator {
   public:
    iterator(const rapidjson::Value* p, std::string_view name) : p_(p), name_(name) {}
    Node operator*() const { return Node(p_, name_); }
    iterator& operator++() {
      ++p_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return p_ != o.p_; }
    bool operator==(const iterator& o) const { return p_ == o.p_; }

   private:
    const rapidjson::Value* p_;
    std::string_view name_;
  };
  ArrayRange() = default;
  ArrayRange(const rapidjson::Value* begin, const rapidjson::Value* end, std::string_view name)
      : begin_(begin), end_(end), name_(name) {}
  iterator begin() const { return {begin_, name_}; }
  iterator end() const { return {end_, name_}; }
  std::size_t size() const { return static_cast<std::size_t>(end_ - begin_); }
  bool empty() const { return begin_ == end_; }
  Node operator[](std::size_t i) const { return Node(begin_ + i, name_); }

 private:
  const rapidjson::Value* begin_ = nullptr;
  const rapidjson::Value* end_ = nullptr;
  std::string_view name_;
};

// Owns one parsed JSON text. Parsing is iterative (no recursion on hostile
// input), validates UTF-8 and enforces ParseLimits.
class JsonDocument {
 public:
  // Throws ParseError with a one-line reason and the byte offset.
  static JsonDocument parse(std::string_view text, const ParseLimits& limits = {});

  Node root() const { return Node(doc_.get(), "$"); }
  // How many numbers were kept out of range (keep_out_of_range_numbers).
  std::size_t out_of_range_numbers() const { return out_of_range_numbers_; }

 private:
  explicit JsonDocument(std::unique_ptr<rapidjson::Document> doc, std::size_t out_of_range = 0)
      : doc_(std::move(doc)), out_of_range_numbers_(out_of_range) {}
  std::unique_ptr<rapidjson::Document> doc_;  // heap: Nodes stay valid when moved
  std::size_t out_of_range_numbers_ = 0;
};

// Name of the JSON type of `v` ("string", "object", ...), for messages.
const char* json_type_name(const rapidjson::Value& v);

}  // namespace mst::fhir
