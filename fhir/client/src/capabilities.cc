#include "mst/fhir/client.h"
#include "mst/fhir/client_errors.h"

namespace mst::fhir {

namespace {

void codes_of(Node list, std::string_view key, std::set<std::string, std::less<>>& out) {
  for (Node item : list.elements()) {
    if (!item.is_object()) continue;
    if (auto code = item.string(key)) out.emplace(*code);
  }
}

// The R4 extension a server uses to say which parameters a search of a
// type must carry
// (https://hl7.org/fhir/R4/extension-capabilitystatement-search-parameter-combination.html).
constexpr std::string_view kCombination =
    "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination";

void required_combinations(Node resource, std::vector<std::vector<std::string>>& out) {
  for (Node ext : resource.array("extension")) {
    if (!ext.is_object() || ext.string("url") != kCombination) continue;
    std::vector<std::string> group;
    for (Node part : ext.array("extension")) {
      if (!part.is_object() || part.string("url") != "required") continue;
      if (auto name = part.string("valueString")) group.emplace_back(*name);
    }
    if (!group.empty()) out.push_back(std::move(group));
  }
}

// Operation names, without the `$` some servers write before them.
void operations_of(Node list, std::set<std::string, std::less<>>& out) {
  for (Node item : list.elements()) {
    if (!item.is_object()) continue;
    if (auto name = item.string("name")) {
      std::string_view n = *name;
      if (n.starts_with('$')) n.remove_prefix(1);
      if (!n.empty()) out.emplace(n);
    }
  }
}

}  // namespace

Capabilities read_capabilities(Node n) {
  if (Resource(n).type() != "CapabilityStatement")
    throw ElementError("expected a CapabilityStatement");
  Capabilities caps;
  caps.fhir_version = std::string(n.string("fhirVersion").value_or(""));
  if (Node software = n.object("software")) {
    caps.software = std::string(software.string("name").value_or(""));
    if (auto version = software.string("version")) caps.software += " " + std::string(*version);
  }
  for (Node rest : n.array("rest")) {
    if (!rest.is_object() || rest.string("mode") != "server") continue;
    codes_of(rest["interaction"], "code", caps.system_interactions);
    operations_of(rest["operation"], caps.system_operations);
    for (Node r : rest.array("resource")) {
      if (!r.is_object()) continue;
      auto type = r.string("type");
      if (!type) continue;
      ResourceSupport& support = caps.resources[std::string(*type)];
      codes_of(r["interaction"], "code", support.interactions);
      codes_of(r["searchParam"], "name", support.search_params);
      operations_of(r["operation"], support.operations);
      // conditionalCreate/Update are booleans; a server that declares them
      // wrongly typed is read as not declaring them.
      Node cc = r["conditionalCreate"];
      support.conditional_create = cc.present() && cc.raw()->IsBool() && cc.as_bool();
      Node cu = r["conditionalUpdate"];
      support.conditional_update = cu.present() && cu.raw()->IsBool() && cu.as_bool();
      required_combinations(r, support.required_search_params);
    }
  }
  return caps;
}

bool Capabilities::is_r4() const {
  return fhir_version.starts_with("4.0.") || fhir_version == "4.0";
}

bool Capabilities::supports(std::string_view type, std::string_view interaction) const {
  auto it = resources.find(type);
  return it != resources.end() && it->second.interactions.contains(interaction);
}

bool Capabilities::supports_search_param(std::string_view type, std::string_view param) const {
  auto it = resources.find(type);
  return it != resources.end() && it->second.search_params.contains(param);
}

bool Capabilities::search_allowed(std::string_view type,
                                  const std::set<std::string, std::less<>>& params) const {
  auto it = resources.find(type);
  if (it == resources.end() || it->second.required_search_params.empty()) return true;
  for (const auto& group : it->second.required_search_params) {
    bool all = true;
    for (const auto& name : group) all = all && params.contains(name);
    if (all) return true;
  }
  return false;
}

bool Capabilities::supports_system(std::string_view interaction) const {
  return system_interactions.contains(interaction);
}

void SearchResult::require_complete() const {
  if (!complete)
    throw SearchIncomplete("GET", url, 0, "", "search incomplete: " + incomplete_reason);
}

}  // namespace mst::fhir
