#include "plan_provenance.h"

#include <algorithm>
#include <stdexcept>

#include "mst/fhir/datatypes.h"
#include "plan_members.h"

namespace mst::adapter {

namespace {

const fhir::JsonValue* resource_of(const fhir::JsonValue& entry, std::string_view type) {
  const auto* r = entry.find("resource");
  const auto* t = r ? r->find("resourceType") : nullptr;
  return t && t->is_string() && t->str() == type ? r : nullptr;
}

// "Type/id" of a reference, without its version; empty when it is not on
// the server `base_url`.
std::string unversioned(std::string_view reference, const std::string& base_url) {
  const std::string local = local_reference(reference, base_url);
  if (local.empty()) return "";
  const fhir::Reference r = fhir::Reference::parse(local);
  return r.type + "/" + r.id;
}

}  // namespace

void record_plan_fingerprint(fhir::JsonValue& bundle, const std::string& fingerprint) {
  auto* entries = bundle.find("entry");
  if (entries == nullptr || !entries->is_array() || fingerprint.empty()) return;
  const fhir::JsonValue* extension = nullptr;
  for (const auto& e : entries->items()) {
    const auto* plan = resource_of(e, "CarePlan");
    const auto* exts = plan ? plan->find("extension") : nullptr;
    if (exts == nullptr || !exts->is_array()) continue;
    for (const auto& x : exts->items()) {
      const auto* v = x.find("valueString");
      if (v && v->is_string() && v->str() == fingerprint) extension = &x;
    }
  }
  if (extension == nullptr) return;
  const fhir::JsonValue copy = *extension;
  for (auto& e : entries->items()) {
    if (resource_of(e, "Provenance") == nullptr) continue;
    e.find("resource")->set("extension", fhir::JsonValue::array({copy}));
  }
}

bool has_plan_provenance(const std::vector<fhir::Node>& provenances,
                         const std::string& care_plan_ref, const std::set<std::string>& device_refs,
                         const std::string& fingerprint,
                         const std::function<std::string(fhir::Node)>& read_fingerprint,
                         const std::string& base_url) {
  for (fhir::Node p : provenances) {
    if (p.string("resourceType") != std::optional<std::string_view>("Provenance")) continue;
    bool names_plan = false;
    for (fhir::Node t : p.array("target"))
      names_plan =
          names_plan || unversioned(t.string("reference").value_or(""), base_url) == care_plan_ref;
    bool by_adapter = false;
    for (fhir::Node a : p.array("agent"))
      by_adapter = by_adapter || device_refs.count(local_reference(
                                     a["who"].string("reference").value_or(""), base_url)) > 0;
    if (names_plan && by_adapter && read_fingerprint(p) == fingerprint) return true;
  }
  return false;
}

fhir::JsonValue missing_provenance_bundle(const fhir::JsonValue& built,
                                          const std::string& care_plan_ref,
                                          const std::string& version) {
  fhir::JsonValue entries = fhir::JsonValue::array();
  const auto* items = built.find("entry");
  bool has_provenance = false;
  if (items != nullptr && items->is_array()) {
    for (const auto& e : items->items()) {
      if (resource_of(e, "Device")) entries.push(e);
      if (resource_of(e, "Provenance") == nullptr) continue;
      fhir::JsonValue entry = e;
      fhir::JsonValue& prov = *entry.find("resource");
      // Only the plan is known to have been written by the interrupted
      // run; its members may be older, or a person's.
      prov.set(
          "target",
          fhir::JsonValue::array({fhir::JsonValue::object(
              {{"reference", care_plan_ref + (version.empty() ? "" : "/_history/" + version)}})}));
      // Whether that write created or revised the plan is not known here.
      prov.members().erase(
          std::remove_if(prov.members().begin(), prov.members().end(),
                         [](const fhir::JsonValue::Member& m) { return m.first == "activity"; }),
          prov.members().end());
      if (auto* text = prov.find("text");
          text && text->find("div") && text->find("div")->is_string()) {
        std::string xhtml = text->find("div")->str();
        const std::size_t close = xhtml.rfind("</div>");
        if (close != std::string::npos) {
          xhtml.insert(close,
                       "<p>Recorded by a later run: the write of this version of the care plan "
                       "stopped before its Provenance.</p>");
          text->set("div", xhtml);
        }
      }
      entries.push(std::move(entry));
      has_provenance = true;
    }
  }
  if (!has_provenance)
    throw std::invalid_argument("missing_provenance_bundle: the built plan has no Provenance");
  fhir::JsonValue bundle =
      fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}});
  bundle.set("entry", std::move(entries));
  return bundle;
}

}  // namespace mst::adapter
