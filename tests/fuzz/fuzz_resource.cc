// Fuzz target: the fhir readers on whatever JSON parses: Resource and Bundle
// views, OperationOutcome issues and their one-line summary, every datatype
// reader on every object, and DateTime / Reference parsing on every string.
// Readers may refuse bad elements with ElementError; nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mst/fhir/datatypes.h"
#include "mst/fhir/datetime.h"
#include "mst/fhir/errors.h"
#include "mst/fhir/json.h"
#include "mst/fhir/resource.h"

namespace {

using namespace mst::fhir;

template <typename F>
void tolerate_element_errors(F&& f) {
  try {
    f();
  } catch (const ElementError& e) {
    MST_FUZZ_CHECK(e.what()[0] != '\0');
  }
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80           ? 1
                            : (c >> 5) == 0x6  ? 2
                            : (c >> 4) == 0xE  ? 3
                            : (c >> 3) == 0x1E ? 4
                                               : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

void check_datetime(std::string_view text) {
  const auto dt = DateTime::parse(text);
  if (!dt) return;
  MST_FUZZ_CHECK(dt->end_ms() > dt->start_ms());
  MST_FUZZ_CHECK(dt->date_string().size() >= 10);
  const std::string canonical = dt->to_string();
  // The canonical UTC text reads back as the same interval, as long as the
  // UTC year stays within what FHIR can write (a +14:00 offset on 0000-01-01
  // moves it into year -1).
  const std::int64_t year1 = days_from_civil(1, 1, 1) * 86'400'000LL;
  const std::int64_t year10000 = days_from_civil(10000, 1, 1) * 86'400'000LL;
  if (dt->start_ms() >= year1 && dt->start_ms() < year10000) {
    const auto again = DateTime::parse(canonical);
    MST_FUZZ_CHECK(again.has_value());
    MST_FUZZ_CHECK(*again == *dt);
  }
}

void check_reference_text(std::string_view text) {
  const Reference r = Reference::parse(text);
  const std::string rel = r.relative();
  if (r.kind == Reference::Kind::kRelative || r.kind == Reference::Kind::kAbsolute) {
    MST_FUZZ_CHECK(!r.type.empty() && !r.id.empty());
    const Reference back = Reference::parse(rel);
    MST_FUZZ_CHECK(back.kind == Reference::Kind::kRelative);
    MST_FUZZ_CHECK(back.type == r.type && back.id == r.id);
  } else {
    MST_FUZZ_CHECK(rel.empty());
  }
}

void read_as_every_datatype(Node n) {
  tolerate_element_errors([&] { (void)read_value(n); });
  tolerate_element_errors([&] { (void)read_reference(n); });
  tolerate_element_errors([&] {
    if (auto cc = read_codeable_concept(n)) {
      (void)cc->label();
      CodeSet set;
      for (const auto& c : cc->codings) set.add(c.system, c.code);
      for (const auto& c : cc->codings)
        MST_FUZZ_CHECK(cc->first_in(set).has_value() && cc->has(c.system, c.code));
    }
  });
  tolerate_element_errors([&] { (void)read_coding(n); });
  tolerate_element_errors([&] { (void)read_quantity(n); });
  tolerate_element_errors([&] { (void)read_range(n); });
  tolerate_element_errors([&] { (void)read_ratio(n); });
  tolerate_element_errors([&] { (void)read_period(n); });
  tolerate_element_errors([&] { (void)read_datetime(n); });
  tolerate_element_errors([&] { (void)read_codeable_concepts(n.elements()); });
}

void check_outcome(Node n) {
  // Documented never to throw: an escaping exception fails the run.
  const auto issues = read_outcome_issues(n);
  for (std::size_t max :
       {std::size_t{0}, std::size_t{2}, std::size_t{3}, std::size_t{40}, std::size_t{300}}) {
    const std::string line = summarize_issues(issues, max);
    MST_FUZZ_CHECK(line.size() <= max);
    MST_FUZZ_CHECK(line.find('\n') == std::string::npos && line.find('\r') == std::string::npos);
    // Parsed text is valid UTF-8; cutting the summary must not break that.
    MST_FUZZ_CHECK(valid_utf8(line));
  }
  (void)has_errors(issues);
}

void check_resource(Node n) {
  tolerate_element_errors([&] {
    const Resource r(n);
    MST_FUZZ_CHECK(!r.type().empty());
    MST_FUZZ_CHECK(r.ref().empty() == r.id().empty());
    tolerate_element_errors([&] { (void)r.version_id(); });
    tolerate_element_errors([&] { (void)r.last_updated(); });
    tolerate_element_errors([&] { (void)r.tags(); });
    tolerate_element_errors([&] { (void)r.profiles(); });
  });
  check_outcome(n);
}

void check_bundle(Node n) {
  tolerate_element_errors([&] {
    const Bundle b(n);
    tolerate_element_errors([&] { (void)b.type(); });
    tolerate_element_errors([&] { (void)b.total(); });
    tolerate_element_errors([&] { (void)b.link("next"); });
    tolerate_element_errors([&] {
      for (const BundleEntry& e : b.entries()) {
        if (e.resource) check_resource(e.resource);
        check_reference_text(e.full_url);
        check_reference_text(e.response_location);
      }
    });
  });
}

void walk(Node n) {
  if (n.is_string()) {
    check_datetime(n.as_string());
    check_reference_text(n.as_string());
    return;
  }
  if (n.is_object()) {
    read_as_every_datatype(n);
    const rapidjson::Value& v = *n.raw();
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      walk(Node(&it->value, std::string_view(it->name.GetString(), it->name.GetStringLength())));
    }
  } else if (n.is_array()) {
    read_as_every_datatype(n);
    for (Node item : n.elements()) walk(item);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<JsonDocument> doc;
  try {
    doc.emplace(JsonDocument::parse(std::string_view(reinterpret_cast<const char*>(data), size)));
  } catch (const ParseError&) {
    return 0;
  }
  const Node root = doc->root();
  check_bundle(root);
  check_resource(root);
  walk(root);
  return 0;
}
