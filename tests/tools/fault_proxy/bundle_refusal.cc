#include "fault_proxy/bundle_refusal.h"

#include "mst/fhir/errors.h"
#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"

namespace mst::testing {

std::optional<std::string> refused_bundle_type(std::string_view method, std::string_view body,
                                               const std::set<std::string>& refused) {
  if (method != "POST" || refused.empty() || body.find("\"Bundle\"") == std::string_view::npos)
    return std::nullopt;
  try {
    auto doc = fhir::JsonDocument::parse(std::string(body));
    if (doc.root().string("resourceType") != std::optional<std::string_view>("Bundle"))
      return std::nullopt;
    const std::string type(doc.root().string("type").value_or(""));
    if (refused.count(type)) return type;
  } catch (const fhir::Error&) {
    // Not JSON: the upstream answers it.
  }
  return std::nullopt;
}

std::string without_system_interactions(const std::string& capability_json,
                                        const std::set<std::string>& refused) {
  try {
    auto doc = fhir::JsonDocument::parse(capability_json);
    if (doc.root().string("resourceType") != std::optional<std::string_view>("CapabilityStatement"))
      return capability_json;
    fhir::JsonValue cs = fhir::JsonValue::from(doc.root());
    auto* rest = cs.find("rest");
    if (rest == nullptr || !rest->is_array()) return capability_json;
    for (auto& r : rest->items()) {
      auto* interactions = r.find("interaction");
      if (interactions == nullptr || !interactions->is_array()) continue;
      fhir::JsonValue kept = fhir::JsonValue::array();
      for (const auto& i : interactions->items()) {
        const auto* code = i.find("code");
        if (code && code->is_string() && refused.count(code->str())) continue;
        kept.push(i);
      }
      r.set("interaction", std::move(kept));
    }
    return cs.dump();
  } catch (const fhir::Error&) {
    return capability_json;
  }
}

}  // namespace mst::testing
