#include "mst/mappings/concept_map.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "mst/mappings/code_systems.h"
#include "mst/mappings/text.h"

namespace mst::mappings {

namespace {

struct EquivalenceName {
  Equivalence value;
  std::string_view code;
};

constexpr EquivalenceName kEquivalences[] = {
    {Equivalence::kRelatedTo, "relatedto"},
    {Equivalence::kEquivalent, "equivalent"},
    {Equivalence::kEqual, "equal"},
    {Equivalence::kWider, "wider"},
    {Equivalence::kSubsumes, "subsumes"},
    {Equivalence::kNarrower, "narrower"},
    {Equivalence::kSpecializes, "specializes"},
    {Equivalence::kInexact, "inexact"},
    {Equivalence::kUnmatched, "unmatched"},
    {Equivalence::kDisjoint, "disjoint"},
};

// Keyed by the canonical system, so a map written for SNOMED CT also reads
// codes sent under its OID (code_systems.h).
std::string key_of(std::string_view raw_system, std::string_view code) {
  const std::string_view system = canonical_system(raw_system);
  std::string k;
  k.reserve(system.size() + code.size() + 1);
  k.append(system).push_back('|');
  k.append(code);
  return k;
}

}  // namespace

std::optional<Equivalence> parse_equivalence(std::string_view code) {
  for (const auto& e : kEquivalences) {
    if (e.code == code) return e.value;
  }
  return std::nullopt;
}

std::string_view to_string(Equivalence e) {
  for (const auto& n : kEquivalences) {
    if (n.value == e) return n.code;
  }
  return "unknown";
}

TranslationUse use_of(Equivalence e) {
  switch (e) {
    case Equivalence::kEquivalent:
    case Equivalence::kEqual:
    case Equivalence::kWider:
    case Equivalence::kSubsumes:
      return TranslationUse::kExact;
    case Equivalence::kNarrower:
    case Equivalence::kSpecializes:
    case Equivalence::kInexact:
    case Equivalence::kRelatedTo:
      return TranslationUse::kConfirm;
    case Equivalence::kUnmatched:
    case Equivalence::kDisjoint:
      break;
  }
  return TranslationUse::kExcluded;
}

ConceptMapError::ConceptMapError(std::string file, std::string element, const std::string& message)
    : ::mst::Error(one_line((file.empty() ? std::string("concept maps") : file) +
                            (element.empty() ? std::string() : ": " + element) + ": " + message)),
      file_(std::move(file)),
      element_(std::move(element)) {}

// A group's rule for source codes it does not list (R4 group.unmapped).
struct Fallback {
  std::string source_system;
  std::string target_system;
  bool provided = false;  // else fixed: `fixed` is the translation
  Translation fixed;
  std::string map;
};

struct ConceptMapSet::Impl {
  // Source system|code -> usable translations (empty when the maps list the
  // code only as unmatched/disjoint).
  std::unordered_map<std::string, std::vector<Translation>> by_source;
  std::vector<Fallback> fallbacks;
  std::vector<std::string> maps;

  void add_map(fhir::Node map, const std::string& origin, const std::string& where);
  void add_group(fhir::Node group, const std::string& map, const std::string& origin,
                 const std::string& where);
};

namespace {

// Reads a required non-empty string member.
std::string required(fhir::Node n, std::string_view key, const std::string& origin,
                     const std::string& where) {
  auto s = n.string(key);
  if (!s || s->empty()) {
    throw ConceptMapError(origin, where, "\"" + std::string(key) + "\" is required");
  }
  return std::string(*s);
}

}  // namespace

void ConceptMapSet::Impl::add_group(fhir::Node group, const std::string& map,
                                    const std::string& origin, const std::string& where) {
  if (!group.is_object()) throw ConceptMapError(origin, where, "a group must be an object");
  // R4 makes source and target optional; without them a code has no system,
  // and the adapter never matches a code without its system.
  const std::string source = required(group, "source", origin, where);
  const std::string target_system(group.string("target").value_or(""));
  std::size_t ei = 0;
  for (fhir::Node element : group.array("element")) {
    const std::string ew = where + ".element[" + std::to_string(ei++) + "]";
    if (!element.is_object()) throw ConceptMapError(origin, ew, "an element must be an object");
    const std::string code = required(element, "code", origin, ew);
    auto& translations = by_source[key_of(source, code)];
    std::size_t ti = 0;
    for (fhir::Node target : element.array("target")) {
      const std::string tw = ew + ".target[" + std::to_string(ti++) + "]";
      if (!target.is_object()) throw ConceptMapError(origin, tw, "a target must be an object");
      const std::string eq_code = required(target, "equivalence", origin, tw);
      auto eq = parse_equivalence(eq_code);
      if (!eq) {
        throw ConceptMapError(origin, tw,
                              "\"equivalence\" is \"" + eq_code +
                                  "\"; expected one of relatedto, equivalent, equal, wider, "
                                  "subsumes, narrower, specializes, inexact, unmatched, disjoint");
      }
      if (target["dependsOn"] || target["product"]) {
        throw ConceptMapError(origin, tw,
                              "\"dependsOn\"/\"product\" are not supported: the adapter "
                              "translates one code at a time");
      }
      Translation t;
      t.equivalence = *eq;
      t.map = map;
      t.comment = std::string(target.string("comment").value_or(""));
      t.display = std::string(target.string("display").value_or(""));
      t.code = std::string(target.string("code").value_or(""));
      // R4 invariant cmd-1: narrower and inexact maps explain themselves.
      if ((*eq == Equivalence::kNarrower || *eq == Equivalence::kInexact) && t.comment.empty()) {
        throw ConceptMapError(origin, tw,
                              "\"comment\" is required when the equivalence is \"" + eq_code +
                                  "\" (FHIR R4 ConceptMap invariant cmd-1)");
      }
      if (use_of(*eq) == TranslationUse::kExcluded) continue;
      if (t.code.empty()) throw ConceptMapError(origin, tw, "\"code\" is required");
      if (target_system.empty()) {
        throw ConceptMapError(origin, where, "\"target\" (the target code system) is required");
      }
      t.system = target_system;
      const bool dup = std::any_of(translations.begin(), translations.end(), [&](const auto& o) {
        return o.system == t.system && o.code == t.code && o.equivalence == t.equivalence;
      });
      if (!dup) translations.push_back(std::move(t));
    }
    // Exact translations first; stable, so load order breaks ties.
    std::stable_sort(translations.begin(), translations.end(), [](const auto& a, const auto& b) {
      return use_of(a.equivalence) == TranslationUse::kExact &&
             use_of(b.equivalence) != TranslationUse::kExact;
    });
  }
  fhir::Node unmapped = group.object("unmapped");
  if (!unmapped) return;
  const std::string uw = where + ".unmapped";
  const std::string mode = required(unmapped, "mode", origin, uw);
  Fallback f;
  f.source_system = source;
  f.target_system = target_system;
  f.map = map;
  if (mode == "provided") {
    f.provided = true;
  } else if (mode == "fixed") {
    f.fixed.code = required(unmapped, "code", origin, uw);
    f.fixed.display = std::string(unmapped.string("display").value_or(""));
    // Every unlisted code lands on one concept: a guess, to be confirmed.
    f.fixed.equivalence = Equivalence::kInexact;
    f.fixed.system = target_system;
    f.fixed.map = map;
    f.fixed.comment = "unmapped mode fixed";
  } else if (mode == "other-map") {
    throw ConceptMapError(origin, uw,
                          "mode \"other-map\" is not supported: name the other map in "
                          "adapter.concept_maps instead");
  } else {
    throw ConceptMapError(origin, uw,
                          "\"mode\" is \"" + mode + "\"; expected provided, fixed or other-map");
  }
  if (target_system.empty()) {
    throw ConceptMapError(origin, where, "\"target\" (the target code system) is required");
  }
  fallbacks.push_back(std::move(f));
}

void ConceptMapSet::Impl::add_map(fhir::Node map, const std::string& origin,
                                  const std::string& where) {
  auto type = map.string("resourceType");
  if (!type || *type != "ConceptMap") {
    throw ConceptMapError(origin, where,
                          "expected a ConceptMap, found " +
                              (type ? "a " + std::string(*type) : std::string("no resourceType")));
  }
  std::string name(map.string("url").value_or(""));
  if (name.empty()) name = origin;
  if (!map["group"].is_array() || map.array("group").empty()) {
    throw ConceptMapError(origin, where, "a ConceptMap needs at least one \"group\"");
  }
  std::size_t gi = 0;
  for (fhir::Node group : map.array("group")) {
    add_group(group, name, origin,
              (where.empty() ? "" : where + ".") + "group[" + std::to_string(gi++) + "]");
  }
  maps.push_back(std::move(name));
}

ConceptMapSet::ConceptMapSet() : impl_(std::make_unique<Impl>()) {}
ConceptMapSet::ConceptMapSet(ConceptMapSet&&) noexcept = default;
ConceptMapSet& ConceptMapSet::operator=(ConceptMapSet&&) noexcept = default;
ConceptMapSet::~ConceptMapSet() = default;

void ConceptMapSet::add(fhir::Node root, const std::string& origin) {
  try {
    if (!root.is_object()) throw ConceptMapError(origin, "", "must hold a JSON object");
    auto type = root.string("resourceType");
    if (type && *type == "Bundle") {
      std::size_t i = 0;
      for (fhir::Node entry : root.array("entry")) {
        const std::string where = "entry[" + std::to_string(i++) + "].resource";
        fhir::Node resource = entry.object("resource");
        auto rt = resource.string("resourceType");
        // A search answer may carry an OperationOutcome of warnings.
        if (rt && *rt == "OperationOutcome") continue;
        impl_->add_map(resource, origin, where);
      }
      return;
    }
    impl_->add_map(root, origin, "");
  } catch (const fhir::ElementError& e) {
    throw ConceptMapError(origin, "", e.what());
  }
}

void ConceptMapSet::add_json(std::string_view json, const std::string& origin) {
  try {
    fhir::JsonDocument doc = fhir::JsonDocument::parse(json);
    add(doc.root(), origin);
  } catch (const fhir::ParseError& e) {
    throw ConceptMapError(origin, "", e.what());
  }
}

ConceptMapSet ConceptMapSet::load(const std::vector<std::filesystem::path>& files) {
  ConceptMapSet set;
  for (const auto& path : files) {
    // The path as configured, so the message points at the configuration.
    const std::string shown = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConceptMapError(shown, "", "cannot open the file");
    std::ostringstream ss;
    ss << in.rdbuf();
    set.add_json(ss.str(), shown);
  }
  return set;
}

std::vector<Translation> ConceptMapSet::translate(std::string_view system,
                                                  std::string_view code) const {
  if (code.empty()) return {};
  auto it = impl_->by_source.find(key_of(system, code));
  if (it != impl_->by_source.end()) return it->second;
  std::vector<Translation> out;
  for (const Fallback& f : impl_->fallbacks) {
    if (canonical_system(f.source_system) != canonical_system(system)) continue;
    if (f.provided) {
      Translation t;
      t.system = f.target_system;
      t.code = std::string(code);
      t.equivalence = Equivalence::kEquivalent;
      t.map = f.map;
      t.comment = "unmapped mode provided";
      out.push_back(std::move(t));
    } else {
      out.push_back(f.fixed);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return use_of(a.equivalence) == TranslationUse::kExact &&
           use_of(b.equivalence) != TranslationUse::kExact;
  });
  return out;
}

bool ConceptMapSet::lists(std::string_view system, std::string_view code) const {
  return impl_->by_source.count(key_of(system, code)) > 0;
}

std::vector<std::pair<std::string, Translation>> ConceptMapSet::all() const {
  std::vector<std::pair<std::string, Translation>> out;
  for (const auto& [key, list] : impl_->by_source) {
    for (const auto& t : list) out.emplace_back(key, t);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

bool ConceptMapSet::empty() const { return impl_->maps.empty(); }
std::size_t ConceptMapSet::size() const { return impl_->by_source.size(); }
const std::vector<std::string>& ConceptMapSet::maps() const { return impl_->maps; }

}  // namespace mst::mappings
