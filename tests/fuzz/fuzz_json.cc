// Fuzz target: JsonDocument::parse on arbitrary bytes, every Node accessor on
// every element of what parses, and the JsonValue copy -> dump -> parse round
// trip, which must reproduce the same value.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mst/fhir/errors.h"
#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"

namespace {

using mst::fhir::ElementError;
using mst::fhir::JsonDocument;
using mst::fhir::JsonValue;
using mst::fhir::Node;
using mst::fhir::ParseError;

// Calls `f`; true when it returned, false when it threw ElementError. Any
// other exception escapes and fails the run.
template <typename F>
bool returns(F&& f) {
  try {
    f();
    return true;
  } catch (const ElementError&) {
    return false;
  }
}

void visit_scalar_accessors(Node n) {
  MST_FUZZ_CHECK(returns([&] { (void)n.as_string(); }) == n.is_string());
  const bool is_number = n.present() && n.raw()->IsNumber();
  MST_FUZZ_CHECK(returns([&] { (void)n.as_number(); }) == is_number);
  MST_FUZZ_CHECK(returns([&] { (void)n.as_integer(); }) == (n.present() && n.raw()->IsInt64()));
  MST_FUZZ_CHECK(returns([&] { (void)n.as_bool(); }) == (n.present() && n.raw()->IsBool()));
  // Member access on a present non-object is an ElementError, never a crash.
  MST_FUZZ_CHECK(returns([&] { (void)n["resourceType"]; }) == (!n.present() || n.is_object()));
  MST_FUZZ_CHECK(returns([&] { (void)n.elements(); }) == (!n.present() || n.is_array()));
}

void walk(Node n, int depth) {
  MST_FUZZ_CHECK(depth <= mst::fhir::ParseLimits{}.max_depth + 1);
  visit_scalar_accessors(n);
  if (n.is_object()) {
    const rapidjson::Value& v = *n.raw();
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      const std::string_view key(it->name.GetString(), it->name.GetStringLength());
      Node member = n[key];
      MST_FUZZ_CHECK(member.raw() != nullptr);  // the last member of that name
      (void)returns([&] { (void)n.string(key); });
      (void)returns([&] { (void)n.number(key); });
      (void)returns([&] { (void)n.integer(key); });
      (void)returns([&] { (void)n.boolean(key); });
      (void)returns([&] { (void)n.object(key); });
      (void)returns([&] { (void)n.array(key); });
      walk(Node(&it->value, key), depth + 1);
    }
  } else if (n.is_array()) {
    auto items = n.elements();
    std::size_t count = 0;
    for (Node item : items) {
      MST_FUZZ_CHECK(items[count].raw() == item.raw());
      walk(item, depth + 1);
      ++count;
    }
    MST_FUZZ_CHECK(count == items.size());
  }
}

// Parses `text`, which the library itself wrote, so it must parse.
JsonValue reparse(const std::string& text, bool keep_out_of_range = false) {
  mst::fhir::ParseLimits generous;
  generous.max_bytes = text.size() + 1;
  generous.keep_out_of_range_numbers = keep_out_of_range;
  try {
    return JsonValue::from(JsonDocument::parse(text, generous).root());
  } catch (const ParseError& e) {
    std::fprintf(stderr, "own output does not parse: %s\n%s\n", e.what(), text.c_str());
    std::abort();
  }
}

// Parsing that keeps numbers out of range (as --input does): a text the
// default parse accepts reads the same; one it refuses either fails the
// same way or parses with numbers out of range that survive a round trip.
void check_kept(std::string_view text, const std::optional<JsonValue>& expected) {
  mst::fhir::ParseLimits keep;
  keep.keep_out_of_range_numbers = true;
  std::optional<JsonDocument> doc;
  try {
    doc.emplace(JsonDocument::parse(text, keep));
  } catch (const ParseError& e) {
    MST_FUZZ_CHECK(!expected);
    MST_FUZZ_CHECK(e.offset() <= text.size());
    return;
  }
  walk(doc->root(), 0);
  const JsonValue copy = JsonValue::from(doc->root());
  if (expected) {
    MST_FUZZ_CHECK(doc->out_of_range_numbers() == 0);
    MST_FUZZ_CHECK(copy == *expected);
    return;
  }
  MST_FUZZ_CHECK(doc->out_of_range_numbers() > 0);
  MST_FUZZ_CHECK(reparse(copy.dump(), true) == copy);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<JsonDocument> doc;
  try {
    doc.emplace(JsonDocument::parse(text));
  } catch (const ParseError& e) {
    MST_FUZZ_CHECK(e.what()[0] != '\0');
    MST_FUZZ_CHECK(e.offset() <= size);
    check_kept(text, std::nullopt);
    return 0;
  }
  walk(doc->root(), 0);

  const JsonValue copy = JsonValue::from(doc->root());
  const std::string compact = copy.dump();
  const std::string pretty = copy.dump(true);
  const JsonValue again = reparse(compact);
  MST_FUZZ_CHECK(again == copy);
  MST_FUZZ_CHECK(again.dump() == compact);  // dump is deterministic and stable
  MST_FUZZ_CHECK(reparse(pretty) == copy);
  check_kept(text, copy);
  return 0;
}
