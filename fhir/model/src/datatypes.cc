#include "mst/fhir/datatypes.h"

namespace mst::fhir {

namespace {

std::string_view str_or_empty(Node n, std::string_view key) { return n.string(key).value_or(""); }

// Reads "Type/id[/_history/v]" at the end of `path`; sets `prefix_len` to
// the length of what precedes it.
bool parse_tail(std::string_view path, Reference& r, std::size_t& prefix_len) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  std::size_t n = parts.size();
  std::size_t type_at;
  if (n >= 4 && parts[n - 2] == "_history") {
    type_at = n - 4;
    r.version = std::string(parts[n - 1]);
  } else if (n >= 2) {
    type_at = n - 2;
  } else {
    return false;
  }
  if (!is_resource_type_name(parts[type_at]) || !is_fhir_id(parts[type_at + 1])) return false;
  r.type = std::string(parts[type_at]);
  r.id = std::string(parts[type_at + 1]);
  prefix_len = static_cast<std::size_t>(parts[type_at].data() - path.data());
  return true;
}

}  // namespace

bool is_resource_type_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'A' || s[0] > 'Z') return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

bool is_fhir_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

CodeSet::CodeSet(std::initializer_list<std::pair<std::string_view, std::string_view>> codes) {
  for (const auto& [s, c] : codes) add(s, c);
}

std::string CodeSet::key(std::string_view system, std::string_view code) {
  std::string k;
  k.reserve(system.size() + code.size() + 1);
  k.append(system).push_back('|');
  k.append(code);
  return k;
}

void CodeSet::add(std::string_view system, std::string_view code) {
  keys_.insert(key(system, code));
}

bool CodeSet::contains(std::string_view system, std::string_view code) const {
  return keys_.count(key(system, code)) != 0;
}

bool CodeableConcept::has(std::string_view system, std::string_view code) const {
  for (const auto& c : codings) {
    if (c.system == system && c.code == code) return true;
  }
  return false;
}

std::optional<Coding> CodeableConcept::first_in(const CodeSet& set) const {
  for (const auto& c : codings) {
    if (set.contains(c.system, c.code)) return c;
  }
  return std::nullopt;
}

std::string_view CodeableConcept::label() const {
  if (text && !text->empty()) return *text;
  for (const auto& c : codings) {
    if (!c.display.empty()) return c.display;
  }
  return codings.empty() ? std::string_view() : codings.front().code;
}

Reference Reference::parse(std::string_view text) {
  Reference r;
  if (text.empty()) return r;
  if (text.rfind("urn:uuid:", 0) == 0) {
    r.kind = Kind::kUrnUuid;
    r.id = std::string(text.substr(9));
    return r;
  }
  if (text[0] == '#') {
    r.kind = Kind::kContained;
    r.id = std::string(text.substr(1));
    return r;
  }
  std::size_t prefix = 0;
  const bool absolute = text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0;
  if (parse_tail(text, r, prefix)) {
    if (absolute) {
      r.kind = Kind::kAbsolute;
      std::string_view base = text.substr(0, prefix);
      if (!base.empty() && base.back() == '/') base.remove_suffix(1);
      r.base = std::string(base);
      return r;
    }
    if (prefix == 0) {
      r.kind = Kind::kRelative;
      return r;
    }
  }
  r = Reference();
  r.kind = Kind::kOther;
  r.id = std::string(text);
  return r;
}

std::string Reference::relative() const {
  if (kind != Kind::kRelative && kind != Kind::kAbsolute) return {};
  return type + "/" + id;
}

std::optional<Coding> read_coding(Node n) {
  if (!n.present()) return std::nullopt;
  if (!n.is_object())
    throw ElementError("element '" + std::string(n.name()) + "' must be an object");
  return Coding{str_or_empty(n, "system"), str_or_empty(n, "code"), str_or_empty(n, "display")};
}

std::optional<CodeableConcept> read_codeable_concept(Node n) {
  if (!n.present()) return std::nullopt;
  if (!n.is_object())
    throw ElementError("element '" + std::string(n.name()) + "' must be an object");
  CodeableConcept cc;
  for (Node c : n.array("coding")) {
    if (auto coding = read_coding(c)) cc.codings.push_back(*coding);
  }
  cc.text = n.string("text");
  return cc;
}

std::vector<CodeableConcept> read_codeable_concepts(Node::ArrayRange items) {
  std::vector<CodeableConcept> out;
  out.reserve(items.size());
  for (Node n : items) {
    if (auto cc = read_codeable_concept(n)) out.push_back(std::move(*cc));
  }
  return out;
}

std::optional<Quantity> read_quantity(Node n) {
  if (!n.present()) return std::nullopt;
  if (!n.is_object())
    throw ElementError("element '" + std::string(n.name()) + "' must be an object");
  Quantity q;
  q.value = n.number("value");
  q.comparator = str_or_empty(n, "comparator");
  q.unit = str_or_empty(n, "unit");
  q.system = str_or_empty(n, "system");
  q.code = str_or_empty(n, "code");
  return q;
}

std::optional<Range> read_range(Node n) {
  if (!n.present()) return std::nullopt;
  return Range{read_quantity(n.object("low")), read_quantity(n.object("high"))};
}

std::optional<Ratio> read_ratio(Node n) {
  if (!n.present()) return std::nullopt;
  return Ratio{read_quantity(n.object("numerator")), read_quantity(n.object("denominator"))};
}

std::optional<DateTime> read_datetime(Node n) {
  if (!n.present()) return std::nullopt;
  std::string_view text = n.as_string();
  auto dt = DateTime::parse(text);
  if (!dt) {
    throw ElementError("element '" + std::string(n.name()) + "' is not a valid FHIR date/dateTime");
  }
  return dt;
}

std::optional<Period> read_period(Node n) {
  if (!n.present()) return std::nullopt;
  if (!n.is_object())
    throw ElementError("element '" + std::string(n.name()) + "' must be an object");
  return Period{read_datetime(n["start"]), read_datetime(n["end"])};
}

std::optional<Reference> read_reference(Node n) {
  if (!n.present()) return std::nullopt;
  if (!n.is_object())
    throw ElementError("element '" + std::string(n.name()) + "' must be an object");
  Reference r = Reference::parse(n.string("reference").value_or(""));
  if (r.type.empty()) {
    if (auto t = n.string("type")) r.type = std::string(*t);
  }
  r.display = std::string(n.string("display").value_or(""));
  return r;
}

ObservationValue read_value(Node p) {
  if (!p.present()) return std::monostate{};
  if (Node v = p["valueQuantity"]) return *read_quantity(v);
  if (Node v = p["valueCodeableConcept"]) return *read_codeable_concept(v);
  if (Node v = p["valueString"]) return v.as_string();
  if (Node v = p["valueBoolean"]) return v.as_bool();
  if (Node v = p["valueInteger"]) return v.as_integer();
  if (Node v = p["valueRange"]) return *read_range(v);
  if (Node v = p["valueRatio"]) return *read_ratio(v);
  if (Node v = p["valueSampledData"]) {
    if (!v.is_object()) throw ElementError("element 'valueSampledData' must be an object");
    return SampledDataValue{};
  }
  if (Node v = p["valueTime"]) return TimeValue{v.as_string()};
  if (Node v = p["valueDateTime"]) return *read_datetime(v);
  if (Node v = p["valuePeriod"]) return *read_period(v);
  return std::monostate{};
}

}  // namespace mst::fhir
