// An owning JSON value for building resources to send. Objects keep their
// insertion order, so the same construction always prints the same bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "mst/fhir/json.h"

namespace mst::fhir {

class JsonValue {
 public:
  using Array = std::vector<JsonValue>;
  using Member = std::pair<std::string, JsonValue>;
  using Object = std::vector<Member>;

  JsonValue() = default;  // null
  JsonValue(std::nullptr_t) {}
  JsonValue(bool b) : v_(b) {}
  JsonValue(int i) : v_(static_cast<std::int64_t>(i)) {}
  JsonValue(std::int64_t i) : v_(i) {}
  JsonValue(double d) : v_(d) {}
  JsonValue(const char* s) : v_(std::string(s)) {}
  JsonValue(std::string s) : v_(std::move(s)) {}
  JsonValue(std::string_view s) : v_(std::string(s)) {}

  static JsonValue object(std::initializer_list<Member> members = {});
  static JsonValue array(std::initializer_list<JsonValue> items = {});
  // A number written exactly as `literal` (e.g. a FHIR decimal "7.10").
  static JsonValue decimal(std::string_view literal);
  // Deep copy of a parsed node (absent -> null).
  static JsonValue from(Node n);

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }

  // Object: sets `key` (replacing an existing member in place). Returns *this.
  JsonValue& set(std::string_view key, JsonValue value);
  // Object: the member `key` or nullptr.
  const JsonValue* find(std::string_view key) const;
  JsonValue* find(std::string_view key);
  // Object: removes `key` if present.
  void erase(std::string_view key);
  // Array: appends. Returns *this.
  JsonValue& push(JsonValue value);

  const Object& members() const { return std::get<Object>(v_); }
  Object& members() { return std::get<Object>(v_); }
  const Array& items() const { return std::get<Array>(v_); }
  Array& items() { return std::get<Array>(v_); }
  const std::string& str() const { return std::get<std::string>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }

  // Compact JSON (or indented with `pretty`). Deterministic. Throws Error
  // for a NaN or infinite number, which JSON cannot express.
  std::string dump(bool pretty = false) const;

  friend bool operator==(const JsonValue& a, const JsonValue& b) { return a.v_ == b.v_; }

 private:
  struct Decimal {
    std::string literal;
    friend bool operator==(const Decimal& a, const Decimal& b) { return a.literal == b.literal; }
  };
  template <typename W>
  void write(W& w) const;

  std::variant<std::monostate, bool, std::int64_t, double, Decimal, std::string, Array, Object> v_;
};

}  // namespace mst::fhir
