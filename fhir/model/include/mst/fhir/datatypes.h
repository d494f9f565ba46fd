// Views of the FHIR R4 general-purpose datatypes the adapter reads. Each
// read_* function accepts an absent node (returns nullopt/empty) and throws
// ElementError when the element exists but is malformed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>
#include <vector>

#include "mst/fhir/datetime.h"
#include "mst/fhir/json.h"

namespace mst::fhir {

struct Coding {
  std::string_view system;
  std::string_view code;
  std::string_view display;
};

// A set of system|code pairs to match codings against.
class CodeSet {
 public:
  CodeSet() = default;
  CodeSet(std::initializer_list<std::pair<std::string_view, std::string_view>> codes);
  void add(std::string_view system, std::string_view code);
  bool contains(std::string_view system, std::string_view code) const;
  std::size_t size() const { return keys_.size(); }

 private:
  static std::string key(std::string_view system, std::string_view code);
  std::unordered_set<std::string> keys_;
};

struct CodeableConcept {
  std::vector<Coding> codings;
  std::optional<std::string_view> text;

  bool has(std::string_view system, std::string_view code) const;
  // First coding whose system|code is in `set`.
  std::optional<Coding> first_in(const CodeSet& set) const;
  // Text for people: `text`, else the first coding display, else the first code.
  std::string_view label() const;
};

struct Quantity {
  std::optional<double> value;
  std::string_view comparator;  // "<", "<=", ">=", ">" or empty
  std::string_view unit;
  std::string_view system;
  std::string_view code;
};

struct Range {
  std::optional<Quantity> low;
  std::optional<Quantity> high;
};

struct Ratio {
  std::optional<Quantity> numerator;
  std::optional<Quantity> denominator;
};

struct Period {
  std::optional<DateTime> start;
  std::optional<DateTime> end;
};

// A parsed Reference.reference string.
struct Reference {
  enum class Kind {
    kNone,       // no reference string (maybe an identifier or display only)
    kRelative,   // Type/id[/_history/v]
    kAbsolute,   // http(s)://base/Type/id[/_history/v]
    kUrnUuid,    // urn:uuid:... (inside a Bundle)
    kContained,  // #id
    kOther,      // a string we cannot interpret (urn:oid:, a bare id, ...)
  };
  Kind kind = Kind::kNone;
  std::string base;  // absolute only: the server base URL
  std::string type;
  std::string id;       // resource id, uuid, or contained id
  std::string version;  // from /_history/v, may be empty
  std::string display;

  // Parses a reference string; never throws (unknown forms are kOther).
  static Reference parse(std::string_view text);
  // "Type/id" for relative and absolute forms, empty otherwise.
  std::string relative() const;
};

struct SampledDataValue {};  // carried only to say "a value is present"
struct TimeValue {
  std::string_view text;
};

// Every Observation.value[x] / component.value[x] choice of FHIR R4.
using ObservationValue =
    std::variant<std::monostate, Quantity, CodeableConcept, std::string_view, bool, std::int64_t,
                 Range, Ratio, SampledDataValue, TimeValue, DateTime, Period>;

// FHIR R4 lexical rules: a resource type name ([A-Z][A-Za-z]*, at most 64
// characters) and a logical id or version id ([A-Za-z0-9\-\.]{1,64}).
bool is_resource_type_name(std::string_view s);
bool is_fhir_id(std::string_view s);

std::optional<Coding> read_coding(Node n);
std::optional<CodeableConcept> read_codeable_concept(Node n);
// The CodeableConcepts of an array member (e.g. Condition.bodySite).
std::vector<CodeableConcept> read_codeable_concepts(Node::ArrayRange items);
std::optional<Quantity> read_quantity(Node n);
std::optional<Range> read_range(Node n);
std::optional<Ratio> read_ratio(Node n);
std::optional<Period> read_period(Node n);
std::optional<Reference> read_reference(Node n);
// A dateTime/date/instant element; ElementError when present but invalid.
std::optional<DateTime> read_datetime(Node n);
// The value[x] of `parent` (an Observation or one of its components);
// monostate when no value[x] member is present.
ObservationValue read_value(Node parent);

}  // namespace mst::fhir
