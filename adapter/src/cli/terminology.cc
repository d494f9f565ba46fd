#include "mst/adapter/cli/terminology.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "mst/adapter/cli/args.h"
#include "mst/adapter/goals/goal_plan.h"
#include "mst/adapter/goals/measure_codes.h"
#include "mst/adapter/serve/cds_cards.h"
#include "mst/fhir/errors.h"
#include "mst/fhir/json.h"
#include "mst/mappings/code_systems.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter::cli {

namespace {

using fhir::JsonValue;
using fhir::Node;

constexpr std::string_view kPlaceholder = "{canonical}";

struct Concept {
  std::string code;
  std::string display;
  std::string definition;
  std::string source;
};

// What a CodeSystem of ours says about itself; its codes come from elsewhere.
struct OwnSystem {
  std::string_view id;
  std::string_view title;
  std::string_view description;
};

constexpr OwnSystem kGoalSystem{
    "mst-goal", "MST adapter goals",
    "The goals a draft CarePlan of the MST Care-Plan Adapter proposes (Goal.description): the "
    "seven goals G1-G7 of the source document (clinical-decision.md §9)."};
constexpr OwnSystem kMeasureSystem{
    "mst-measure", "MST adapter goal target measures",
    "Goal.target.measure codes of the MST Care-Plan Adapter for targets no standard code was "
    "verified for: walking, and function from bed and chair."};
constexpr OwnSystem kOverrideReasonSystem{
    "mst-override-reason", "MST adapter card override reasons",
    "The reasons a clinician may give for overriding a CDS Hooks card of the MST Care-Plan "
    "Adapter (Card.overrideReasons, feedback overrideReason; docs/cds-hooks.md)."};
constexpr OwnSystem kObservationSystem{
    "mst-observation", "MST adapter observation codes",
    "Observation codes and coded answers the MST Care-Plan Adapter reads for which no LOINC or "
    "SNOMED CT code exists: SINS and its components, the Bilsky ESCC grade, Frankel and ASIA "
    "grades, the survival estimate, revised Tokuhashi inputs, ambulation and treatment "
    "preference (fhir-coding.md §15). Sites map their local codes to these with a ConceptMap."};

// The ValueSet of the standard codes one table kind reads, and the entry
// field that splits it into one ValueSet per consideration, if any.
struct TableValueSet {
  std::string_view kind;
  std::string_view id;
  std::string_view what;
  std::string_view group_field;
};

constexpr TableValueSet kTableValueSets[] = {
    {"cancer-medications", "mst-cancer-medication", "cancer medications", ""},
    {"care-plans", "mst-care-plan", "care plans and their activities", ""},
    {"clinical-findings", "mst-clinical-finding", "clinical findings", "finding"},
    {"comorbidities", "mst-comorbidity", "comorbidities", ""},
    {"metastases", "mst-metastasis", "metastases", "site"},
    {"observations", "mst-observation-code", "observations", ""},
    {"primary-cancers", "mst-primary-cancer", "primary cancers", ""},
    {"procedures", "mst-procedure", "procedures", ""},
    {"spine-sites", "mst-spine-site", "spine body sites", ""},
};

// "mst-clinical-finding" -> "MstClinicalFinding": FHIR wants a name usable
// as an identifier in code.
std::string pascal_name(std::string_view id) {
  std::string out;
  bool upper = true;
  for (char c : id) {
    if (c == '-') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

std::string resolve(std::string_view system, const std::string& base) {
  if (system.rfind(kPlaceholder, 0) == 0)
    return base + std::string(system.substr(kPlaceholder.size()));
  return std::string(system);
}

// Codes by system; filters hold is-a roots (ICD-10 categories, ATC groups).
struct CodeSet {
  std::map<std::string, std::set<std::string>> codes;
  std::map<std::string, std::set<std::string>> is_a;
  bool empty() const { return codes.empty() && is_a.empty(); }
};

// "C00-C14" -> C00, C01, ..., C14; "C78.0-C78.3" -> C78.0 ... C78.3; a single
// code or prefix stays itself. Ranges join prefixes of one letter and digits.
std::vector<std::string> icd_prefixes(std::string_view pattern, const std::string& table,
                                      const std::string& key) {
  const std::size_t dash = pattern.find('-');
  if (dash == std::string_view::npos) return {std::string(pattern)};
  auto digits = [](std::string_view s) {
    std::string d;
    for (char c : s.substr(1)) {
      if (c != '.') d.push_back(c);
    }
    return d;
  };
  const std::string_view lo = pattern.substr(0, dash);
  const std::string_view hi = pattern.substr(dash + 1);
  const std::string a = digits(lo);
  const std::string b = digits(hi);
  const bool ok = !lo.empty() && !hi.empty() && lo[0] == hi[0] && a.size() == b.size() &&
                  !a.empty() && std::all_of(a.begin(), a.end(), ::isdigit) &&
                  std::all_of(b.begin(), b.end(), ::isdigit);
  if (!ok) {
    throw mappings::CodeTableError(table, key,
                                   "ICD-10-CM range '" + std::string(pattern) +
                                       "' does not join two prefixes of one letter and digits");
  }
  std::vector<std::string> out;
  for (long n = std::stol(a); n <= std::stol(b); ++n) {
    std::string d = std::to_string(n);
    d.insert(0, a.size() - d.size(), '0');
    std::string code = std::string(1, lo[0]) + d;
    if (code.size() > 3) code.insert(3, ".");
    out.push_back(std::move(code));
  }
  return out;
}

// The standard codes one table entry reads: the fields of
// docs/considerations.md §7. ICD-10-CM patterns are read under WHO ICD-10
// too (code_systems.h), so both systems are listed.
void add_entry_codes(Node entry, const std::string& base, const std::string& table,
                     const std::string& key, CodeSet& out) {
  for (Node c : entry.array("snomed"))
    out.codes[std::string(mappings::kSnomed)].emplace(c.as_string());
  for (Node c : entry.array("loinc"))
    out.codes[std::string(mappings::kLoinc)].emplace(c.as_string());
  for (Node c : entry.array("rxnorm"))
    out.codes[std::string(mappings::kRxNorm)].emplace(c.as_string());
  for (Node c : entry.array("codings")) {
    out.codes[resolve(c.string("system").value_or(""), base)].emplace(
        c.string("code").value_or(""));
  }
  for (Node c : entry.array("atc")) out.is_a[std::string(mappings::kAtc)].emplace(c.as_string());
  for (Node c : entry.array("icd10cm")) {
    for (auto& p : icd_prefixes(c.as_string(), table, key)) {
      out.is_a[std::string(mappings::kIcd10Cm)].insert(p);
      out.is_a[std::string(mappings::kIcd10Who)].insert(std::move(p));
    }
  }
}

JsonValue header(std::string_view type, std::string_view id, const std::string& base,
                 std::string_view version, const std::string& title,
                 const std::string& description) {
  JsonValue r = JsonValue::object({{"resourceType", type}, {"id", id}});
  r.set("url", base + "/" + std::string(type) + "/" + std::string(id));
  r.set("version", version);
  r.set("name", pascal_name(id));
  r.set("title", title);
  r.set("status", "active");
  r.set("experimental", false);
  r.set("publisher", "MST Care-Plan Adapter");
  r.set("description", description);
  return r;
}

JsonValue value_set(std::string_view id, const std::string& base, std::string_view version,
                    const std::string& title, const std::string& description,
                    const CodeSet& codes) {
  JsonValue include = JsonValue::array();
  for (const auto& [system, list] : codes.codes) {
    JsonValue concepts = JsonValue::array();
    for (const auto& code : list) concepts.push(JsonValue::object({{"code", code}}));
    JsonValue inc = JsonValue::object({{"system", system}});
    inc.set("concept", std::move(concepts));
    include.push(std::move(inc));
  }
  for (const auto& [system, roots] : codes.is_a) {
    for (const auto& root : roots) {
      JsonValue inc = JsonValue::object({{"system", system}});
      inc.set("filter", JsonValue::array({JsonValue::object(
                            {{"property", "concept"}, {"op", "is-a"}, {"value", root}})}));
      include.push(std::move(inc));
    }
  }
  JsonValue vs = header("ValueSet", id, base, version, title, description);
  JsonValue compose = JsonValue::object();
  compose.set("include", std::move(include));
  vs.set("compose", std::move(compose));
  return vs;
}

std::vector<TerminologyResource> own_system(const OwnSystem& s, std::vector<Concept> concepts,
                                            const std::string& base, std::string_view version) {
  std::sort(concepts.begin(), concepts.end(),
            [](const Concept& a, const Concept& b) { return a.code < b.code; });
  JsonValue list = JsonValue::array();
  for (auto& c : concepts) {
    JsonValue one =
        JsonValue::object({{"code", c.code}, {"display", c.display}, {"definition", c.definition}});
    if (!c.source.empty()) {
      one.set(
          "property",
          JsonValue::array({JsonValue::object({{"code", "source"}, {"valueString", c.source}})}));
    }
    list.push(std::move(one));
  }
  const std::string url = base + "/CodeSystem/" + std::string(s.id);
  JsonValue cs =
      header("CodeSystem", s.id, base, version, std::string(s.title), std::string(s.description));
  cs.set("caseSensitive", true);
  cs.set("valueSet", base + "/ValueSet/" + std::string(s.id));
  cs.set("content", "complete");
  cs.set("count", static_cast<std::int64_t>(concepts.size()));
  cs.set("property",
         JsonValue::array({JsonValue::object(
             {{"code", "source"},
              {"description", "The published scale, guideline or document the code rests on"},
              {"type", "string"}})}));
  cs.set("concept", std::move(list));

  JsonValue vs = header("ValueSet", s.id, base, version, "All codes of " + std::string(s.title),
                        "Every code of the CodeSystem " + url + ".");
  vs.set("compose", JsonValue::object(
                        {{"include", JsonValue::array({JsonValue::object({{"system", url}})})}}));
  return {{"CodeSystem-" + std::string(s.id) + ".json", std::move(cs)},
          {"ValueSet-" + std::string(s.id) + ".json", std::move(vs)}};
}

std::vector<Concept> goal_concepts() {
  std::vector<Concept> out;
  for (GoalCode g : kAllGoalCodes) {
    out.push_back({std::string(code_of(g)), std::string(display_of(g)),
                   std::string(definition_of(g)), "clinical-decision.md §9 (G1-G7)"});
  }
  return out;
}

std::vector<Concept> measure_concepts() {
  std::vector<Concept> out;
  for (const MeasureCode& m : measure_codes()) {
    out.push_back({std::string(m.code), std::string(m.display), std::string(m.definition),
                   std::string(m.source)});
  }
  return out;
}

std::vector<Concept> override_reason_concepts() {
  std::vector<Concept> out;
  for (const OverrideReason& r : override_reasons()) {
    out.push_back({std::string(r.code), std::string(r.display), std::string(r.definition),
                   "CDS Hooks 2.0, Card.overrideReasons"});
  }
  return out;
}

std::string required(Node n, std::string_view field, const std::string& table,
                     const std::string& key, const std::string& code) {
  auto v = n.string(field);
  if (!v || v->empty()) {
    throw mappings::CodeTableError(table, key,
                                   "the adapter's own code " + code + " has no \"" +
                                       std::string(field) + "\" (the terminology needs one)");
  }
  return std::string(*v);
}

// The adapter's own codes an observations entry names, as the code and its
// coded answers; each must carry a definition.
void add_own_observation_codes(Node entry, const std::string& system, const std::string& base,
                               const std::string& table, std::map<std::string, Concept>& out) {
  const std::string key(entry.string("key").value_or(""));
  const std::string source(entry.string("source").value_or(""));
  auto put = [&](Concept c) {
    auto [it, fresh] = out.emplace(c.code, c);
    if (!fresh && (it->second.display != c.display || it->second.definition != c.definition)) {
      throw mappings::CodeTableError(table, key,
                                     "own code " + c.code + " is defined twice, differently");
    }
  };
  for (Node c : entry.array("codings")) {
    if (resolve(c.string("system").value_or(""), base) != system) continue;
    const std::string code(c.string("code").value_or(""));
    put({code, required(entry, "label", table, key, code),
         required(entry, "definition", table, key, code), source});
  }
  for (Node a : entry.array("answers")) {
    if (resolve(a.string("system").value_or(""), base) != system) continue;
    const std::string code(a.string("code").value_or(""));
    put({code, required(a, "display", table, key, code),
         required(a, "definition", table, key, code), source});
  }
}

std::string checked_base(std::string_view canonical_base) {
  std::string base(canonical_base);
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0) {
    throw UsageError("canonical base \"" + base + "\" is not an http(s) URL");
  }
  if (base.find_first_of(" |?#") != std::string::npos) {
    throw UsageError("canonical base \"" + base + "\" contains a space, '|', '?' or '#'");
  }
  return base;
}

}  // namespace

std::vector<TerminologyResource> terminology_resources(const std::vector<TableSource>& tables,
                                                       std::string_view canonical_base,
                                                       std::string_view version) {
  const std::string base = checked_base(canonical_base);
  const std::string observation_system = base + "/CodeSystem/" + std::string(kObservationSystem.id);

  std::map<std::string, Concept> observation_codes;
  // Per ValueSet id: its title, description and codes.
  struct Pending {
    std::string title;
    std::string description;
    CodeSet codes;
  };
  std::map<std::string, Pending> value_sets;

  for (const auto& t : tables) {
    fhir::JsonDocument doc = [&] {
      try {
        return fhir::JsonDocument::parse(t.text);
      } catch (const fhir::ParseError& e) {
        throw mappings::CodeTableError(t.name, "", e.what());
      }
    }();
    const std::string kind(doc.root().string("kind").value_or(""));
    if (kind == "thresholds") continue;
    const auto spec = std::find_if(std::begin(kTableValueSets), std::end(kTableValueSets),
                                   [&](const TableValueSet& s) { return s.kind == kind; });
    if (spec == std::end(kTableValueSets)) {
      throw mappings::CodeTableError(t.name, "",
                                     "no ValueSet is named for table kind \"" + kind +
                                         "\" (kTableValueSets in terminology.cc)");
    }
    for (Node entry : doc.root().array("entries")) {
      const std::string key(entry.string("key").value_or(""));
      if (kind == "observations") {
        add_own_observation_codes(entry, observation_system, base, t.name, observation_codes);
      }
      auto& whole = value_sets[std::string(spec->id)];
      whole.title = "Codes the adapter reads for " + std::string(spec->what);
      whole.description = "The standard codes of mappings/tables (kind \"" + kind +
                          "\") the MST Care-Plan Adapter reads. ICD-10 and ATC entries are "
                          "prefixes: every code under them is read.";
      add_entry_codes(entry, base, t.name, key, whole.codes);
      if (spec->group_field.empty()) continue;
      const std::string group(entry.string(spec->group_field).value_or(""));
      if (group.empty()) continue;
      auto& part = value_sets[std::string(spec->id) + "-" + group];
      part.title = "Codes the adapter reads for " + std::string(spec->what) + ": " + group;
      part.description = "The standard codes of mappings/tables (kind \"" + kind + "\", " +
                         std::string(spec->group_field) + " \"" + group +
                         "\") the MST Care-Plan Adapter reads. ICD-10 entries are prefixes: "
                         "every code under them is read.";
      add_entry_codes(entry, base, t.name, key, part.codes);
    }
  }

  std::vector<TerminologyResource> out = own_system(kGoalSystem, goal_concepts(), base, version);
  for (auto& r : own_system(kMeasureSystem, measure_concepts(), base, version)) {
    out.push_back(std::move(r));
  }
  for (auto& r : own_system(kOverrideReasonSystem, override_reason_concepts(), base, version)) {
    out.push_back(std::move(r));
  }
  std::vector<Concept> observations;
  for (auto& [code, c] : observation_codes) observations.push_back(std::move(c));
  for (auto& r : own_system(kObservationSystem, std::move(observations), base, version)) {
    out.push_back(std::move(r));
  }
  for (auto& [id, p] : value_sets) {
    if (p.codes.empty()) continue;  // text synonyms only: a ValueSet needs a code
    out.push_back({"ValueSet-" + id + ".json",
                   value_set(id, base, version, p.title, p.description, p.codes)});
  }
  std::sort(out.begin(), out.end(), [](const TerminologyResource& a, const TerminologyResource& b) {
    return a.file_name < b.file_name;
  });
  return out;
}

std::string terminology_file_text(const TerminologyResource& r) {
  return r.resource.dump(true) + "\n";
}

}  // namespace mst::adapter::cli
