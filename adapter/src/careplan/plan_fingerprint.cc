#include "mst/adapter/plan_fingerprint.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

namespace mst::adapter {

namespace {

constexpr std::string_view kExtensionPath = "/StructureDefinition/mst-content-fingerprint";

bool is_fingerprint_url(const std::string& url) {
  return url.size() >= kExtensionPath.size() &&
         url.compare(url.size() - kExtensionPath.size(), kExtensionPath.size(), kExtensionPath) ==
             0;
}

// The narrative without its "Prepared on <day> by <device>." paragraph.
// Escaped text cannot contain a literal "<p>", so the marker is unambiguous.
std::string stable_div(std::string div) {
  constexpr std::string_view kMarker = "<p>Prepared on ";
  const auto start = div.rfind(kMarker);
  if (start == std::string::npos) return div;
  const auto end = div.find("</p>", start);
  if (end == std::string::npos) return div;
  div.erase(start, end + 4 - start);
  return div;
}

// A copy of `resource` without the members that change when the plan does not.
fhir::JsonValue stable_part(const fhir::JsonValue& resource) {
  fhir::JsonValue out = fhir::JsonValue::object();
  for (const auto& [key, value] : resource.members()) {
    if (key == "id" || key == "meta" || key == "created" || key == "authoredOn") continue;
    if (key == "text" && value.is_object()) {
      const auto* div = value.find("div");
      if (div != nullptr && div->is_string()) {
        fhir::JsonValue text = value;
        text.set("div", stable_div(div->str()));
        out.set(key, text);
        continue;
      }
    }
    if (key == "extension" && value.is_array()) {
      fhir::JsonValue kept = fhir::JsonValue::array();
      for (const auto& ext : value.items()) {
        const auto* url = ext.find("url");
        if (url != nullptr && url->is_string() && is_fingerprint_url(url->str())) continue;
        kept.push(ext);
      }
      if (!kept.items().empty()) out.set(key, kept);
      continue;
    }
    out.set(key, value);
  }
  return out;
}

}  // namespace

std::string fingerprint_extension_url(const std::string& canonical_base) {
  return canonical_base + std::string(kExtensionPath);
}

std::string content_fingerprint(const fhir::JsonValue& transaction) {
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  const auto* entries = transaction.find("entry");
  if (entries != nullptr && entries->is_array()) {
    for (const auto& entry : entries->items()) {
      const auto* resource = entry.find("resource");
      if (resource == nullptr || !resource->is_object()) continue;
      const auto* type = resource->find("resourceType");
      if (type == nullptr || !type->is_string()) continue;
      if (type->str() == "Device" || type->str() == "Provenance") continue;
      const auto* full_url = entry.find("fullUrl");
      const std::string line =
          (full_url != nullptr && full_url->is_string() ? full_url->str() : "") + "\n" +
          stable_part(*resource).dump() + "\n";
      sha.update(line);
    }
  }
  return "sha256:" + Poco::DigestEngine::digestToHex(sha.digest());
}

std::optional<std::string> read_fingerprint(fhir::Node careplan,
                                            const std::string& canonical_base) {
  const std::string url = fingerprint_extension_url(canonical_base);
  if (!careplan.is_object()) return std::nullopt;
  try {
    for (fhir::Node ext : careplan.array("extension")) {
      if (!ext.is_object()) continue;
      if (ext.string("url") != std::optional<std::string_view>(url)) continue;
      if (auto v = ext.string("valueString")) return std::string(*v);
    }
  } catch (const fhir::Error&) {
    // A malformed extension array on a server copy: treat as no fingerprint,
    // which makes the write-back rewrite the plan.
  }
  return std::nullopt;
}

}  // namespace mst::adapter
