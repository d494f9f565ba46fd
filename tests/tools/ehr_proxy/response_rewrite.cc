#include "ehr_proxy/response_rewrite.h"

#include <algorithm>
#include <set>

#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"

namespace mst::testing {

namespace {

using fhir::JsonValue;

constexpr std::string_view kCombination =
    "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination";

std::optional<JsonValue> parse(std::string_view body) {
  try {
    auto doc = fhir::JsonDocument::parse(body);
    JsonValue v = JsonValue::from(doc.root());
    if (!v.is_object()) return std::nullopt;
    return v;
  } catch (const fhir::Error&) {
    return std::nullopt;
  }
}

std::string string_member(const JsonValue& v, std::string_view key) {
  const JsonValue* m = v.is_object() ? v.find(key) : nullptr;
  return m && m->is_string() ? m->str() : std::string();
}

// Keeps the items of the array `key` for which `keep` holds.
template <typename Keep>
void filter_array(JsonValue& owner, std::string_view key, Keep keep) {
  JsonValue* array = owner.find(key);
  if (!array || !array->is_array()) return;
  auto& items = array->items();
  items.erase(
      std::remove_if(items.begin(), items.end(), [&](const JsonValue& i) { return !keep(i); }),
      items.end());
}

void rewrite_resource(const EhrProfile& profile, JsonValue& resource) {
  const std::string type = string_member(resource, "type");
  const ResourceRules* rules = profile.rules_for(type);
  const auto& unsupported = profile.unsupported_for(type);
  filter_array(resource, "searchParam",
               [&](const JsonValue& p) { return !unsupported.contains(string_member(p, "name")); });
  if (!rules) return;
  if (rules->interactions) {
    const auto& allowed = *rules->interactions;
    filter_array(resource, "interaction",
                 [&](const JsonValue& i) { return allowed.contains(string_member(i, "code")); });
    if (!allowed.contains("create")) resource.set("conditionalCreate", false);
    if (!allowed.contains("update")) resource.set("conditionalUpdate", false);
    if (!allowed.contains("delete")) resource.set("conditionalDelete", "not-supported");
  }
  for (const auto& group : rules->search_requires) {
    JsonValue ext = JsonValue::object({{"url", kCombination}, {"extension", JsonValue::array()}});
    for (const auto& name : group) {
      ext.find("extension")->push(JsonValue::object({{"url", "required"}, {"valueString", name}}));
    }
    if (!resource.find("extension")) resource.set("extension", JsonValue::array());
    resource.find("extension")->push(std::move(ext));
  }
}

}  // namespace

std::string rewrite_capabilities(const EhrProfile& profile, std::string_view body) {
  auto cs = parse(body);
  if (!cs || string_member(*cs, "resourceType") != "CapabilityStatement") return std::string(body);
  JsonValue* rest = cs->find("rest");
  if (rest && rest->is_array()) {
    for (JsonValue& r : rest->items()) {
      if (!r.is_object()) continue;
      if (profile.system_interactions) {
        filter_array(r, "interaction", [&](const JsonValue& i) {
          return profile.system_interactions->contains(string_member(i, "code"));
        });
      }
      filter_array(r, "searchParam", [&](const JsonValue& p) {
        return !profile.unsupported_params.contains(string_member(p, "name"));
      });
      if (JsonValue* resources = r.find("resource"); resources && resources->is_array()) {
        for (JsonValue& res : resources->items()) {
          if (res.is_object()) rewrite_resource(profile, res);
        }
      }
    }
  }
  if (!profile.name.empty()) cs->set("name", "EhrProfile" + profile.name);
  return cs->dump();
}

std::string rewrite_searchset(const EhrProfile& profile, std::string_view body,
                              const LinkMapper& map) {
  auto bundle = parse(body);
  if (!bundle || string_member(*bundle, "resourceType") != "Bundle" ||
      string_member(*bundle, "type") != "searchset") {
    return std::string(body);
  }
  if (JsonValue* links = bundle->find("link"); links && links->is_array()) {
    static const std::set<std::string, std::less<>> kPaging = {"next", "previous", "prev", "first",
                                                               "last"};
    for (JsonValue& link : links->items()) {
      if (!kPaging.contains(string_member(link, "relation"))) continue;
      const std::string url = string_member(link, "url");
      if (!url.empty()) link.set("url", map(url));
    }
  }
  if (!profile.searchset_warning.empty()) {
    JsonValue outcome = JsonValue::object(
        {{"resourceType", "OperationOutcome"},
         {"issue",
          JsonValue::array({JsonValue::object({{"severity", "warning"},
                                               {"code", "informational"},
                                               {"diagnostics", profile.searchset_warning}})})}});
    if (!bundle->find("entry")) bundle->set("entry", JsonValue::array());
    bundle->find("entry")->push(JsonValue::object(
        {{"resource", std::move(outcome)}, {"search", JsonValue::object({{"mode", "outcome"}})}}));
  }
  return bundle->dump();
}

std::string origin_relative(const std::string& url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const std::size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? "/" : url.substr(path);
}

}  // namespace mst::testing
