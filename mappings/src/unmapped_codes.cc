#include "mst/mappings/unmapped_codes.h"

#include <algorithm>

#include "mst/fhir/datatypes.h"
#include "mst/mappings/text.h"

namespace mst::mappings {

namespace {

bool spinal_or_absent(const CodeTables& t, const fhir::CodeableConcept& site) {
  return (site.codings.empty() && !site.text) || t.spine_site(site).spinal();
}

// Observation values the extractor reads as coded answers.
bool reads_coded_answers(const ObservationEntry& e) {
  return e.value == ValueKind::kScore || e.value == ValueKind::kGrade;
}

}  // namespace

void UnmappedCodeCollector::add(fhir::Node resource) {
  try {
    if (resource.is_object() && resource.string("resourceType") == "Bundle") {
      for (fhir::Node entry : resource.array("entry")) {
        if (entry.is_object()) add(entry["resource"]);
      }
      return;
    }
  } catch (const fhir::ElementError&) {
    ++unreadable_;
    return;
  }
  add_one(resource);
}

void UnmappedCodeCollector::add_one(fhir::Node r) {
  ++resources_;
  try {
    if (!r.is_object()) {
      ++unreadable_;
      return;
    }
    const std::string type(r.string("resourceType").value_or(""));
    const std::string ref = type + "/" + std::string(r.string("id").value_or("(no id)"));
    const CodeTables& t = tables_;
    if (type == "Condition") {
      auto code = fhir::read_codeable_concept(r.object("code"));
      if (!code) return;
      if (!t.cancer(*code) && !t.metastasis(*code) && !t.comorbidity(*code) && !t.finding(*code)) {
        note("Condition.code", *code, ref);
        return;
      }
      // A body site matters only on a Condition the adapter reads.
      for (const auto& site : fhir::read_codeable_concepts(r.array("bodySite"))) {
        if (!spinal_or_absent(t, site)) note("Condition.bodySite", site, ref);
      }
    } else if (type == "Observation") {
      auto code = fhir::read_codeable_concept(r.object("code"));
      if (!code) return;
      const ObservationEntry* entry = t.observation(*code);
      if (!entry && !t.metastasis(*code) && !t.finding(*code)) {
        note("Observation.code", *code, ref);
        return;
      }
      if (entry && reads_coded_answers(*entry)) {
        const fhir::ObservationValue v = fhir::read_value(r);
        if (const auto* cc = std::get_if<fhir::CodeableConcept>(&v);
            cc && !cc->codings.empty() && !t.answer(*entry, *cc)) {
          note("Observation.valueCodeableConcept", *cc, ref);
        }
      }
      if (auto site = fhir::read_codeable_concept(r.object("bodySite"));
          site && !spinal_or_absent(t, *site)) {
        note("Observation.bodySite", *site, ref);
      }
    } else if (type == "Procedure") {
      auto code = fhir::read_codeable_concept(r.object("code"));
      if (code && !t.procedure(*code) && !t.care_plan(*code)) note("Procedure.code", *code, ref);
    } else if (type == "Medication") {
      auto med = fhir::read_codeable_concept(r.object("code"));
      if (med && !t.cancer_medication(*med).entry) note("Medication.code", *med, ref);
    } else if (type == "MedicationRequest" || type == "MedicationAdministration" ||
               type == "MedicationStatement") {
      // Only cancer medications are read; any other medicine is listed too,
      // since the engineer decides which local codes are cancer treatment.
      auto med = fhir::read_codeable_concept(r.object("medicationCodeableConcept"));
      if (med && !t.cancer_medication(*med).entry) {
        note(type + ".medicationCodeableConcept", *med, ref);
      }
    }
  } catch (const fhir::ElementError&) {
    ++unreadable_;
  }
}

void UnmappedCodeCollector::note(std::string_view element, const fhir::CodeableConcept& cc,
                                 const std::string& ref) {
  const ConceptMapSet& maps = tables_.concept_maps();
  bool any_code = false;
  for (const auto& c : cc.codings) {
    if (c.code.empty()) continue;
    // A code the site map lists, even as unmatched, has been looked at.
    if (maps.lists(c.system, c.code)) return;
    any_code = true;
  }
  auto count = [&](std::string system, std::string code, std::string text,
                   std::string_view display) {
    auto key = std::make_tuple(std::string(element), system, code, text);
    auto [it, inserted] = seen_.try_emplace(std::move(key));
    UnmappedCode& u = it->second;
    if (inserted) {
      u.element = std::string(element);
      u.system = std::move(system);
      u.code = std::move(code);
      u.text = std::move(text);
      u.example = ref;
    }
    if (u.display.empty()) u.display = std::string(display);
    ++u.count;
  };
  if (any_code) {
    for (const auto& c : cc.codings) {
      if (c.code.empty()) continue;
      count(std::string(c.system), std::string(c.code), "",
            c.display.empty() ? cc.text.value_or("") : c.display);
    }
  } else if (cc.text && !normalize_text(*cc.text).empty()) {
    count("", "", normalize_text(*cc.text), *cc.text);
  }
}

std::vector<UnmappedCode> UnmappedCodeCollector::result() const {
  std::vector<UnmappedCode> out;
  out.reserve(seen_.size());
  for (const auto& [key, u] : seen_) out.push_back(u);
  // seen_ is ordered by key, so a stable sort by count keeps that order on ties.
  std::stable_sort(out.begin(), out.end(),
                   [](const UnmappedCode& a, const UnmappedCode& b) { return a.count > b.count; });
  return out;
}

fhir::JsonValue draft_concept_map(const std::vector<UnmappedCode>& codes, std::string_view url) {
  struct Row {
    std::string display;
    std::size_t count = 0;
    std::vector<std::string> elements;
    std::string example;
  };
  // system -> code -> row, so the draft is the same whatever the input order.
  std::map<std::string, std::map<std::string, Row>> by_system;
  for (const auto& u : codes) {
    if (u.code.empty()) continue;
    Row& row = by_system[u.system][u.code];
    if (row.display.empty()) row.display = u.display;
    if (row.example.empty()) row.example = u.example;
    row.count += u.count;
    if (std::find(row.elements.begin(), row.elements.end(), u.element) == row.elements.end())
      row.elements.push_back(u.element);
  }
  fhir::JsonValue groups = fhir::JsonValue::array();
  for (const auto& [system, rows] : by_system) {
    fhir::JsonValue elements = fhir::JsonValue::array();
    for (const auto& [code, row] : rows) {
      std::string where;
      for (const auto& e : row.elements) where += (where.empty() ? "" : ", ") + e;
      fhir::JsonValue element = fhir::JsonValue::object({{"code", code}});
      if (!row.display.empty()) element.set("display", row.display);
      element.set(
          "target",
          fhir::JsonValue::array({fhir::JsonValue::object(
              {{"equivalence", "unmatched"},
               {"comment", "TO FILL IN: seen " + std::to_string(row.count) + " time(s) in " +
                               where + " (e.g. " + row.example +
                               "). To map it, add \"code\" (a code of the group's target "
                               "system) and set \"equivalence\" (equivalent, equal, wider or "
                               "subsumes; narrower or inexact need a comment), or leave it "
                               "unmatched."}})}));
      elements.push(std::move(element));
    }
    groups.push(fhir::JsonValue::object({{"source", system}, {"element", std::move(elements)}}));
  }
  fhir::JsonValue map = fhir::JsonValue::object({{"resourceType", "ConceptMap"}});
  if (!url.empty()) map.set("url", url);
  map.set("name", "SiteCodesDraft");
  map.set("title", "Draft map of the site's unmapped codes (mst-adapter codes)");
  map.set("status", "draft");
  map.set("description",
          "Written by mst-adapter codes. Each group needs \"target\": the code system its "
          "targets belong to (split a group when targets come from several systems). Complete "
          "the targets, then name this file in adapter.concept_maps. See docs/considerations.md, "
          "'Mapping your site's codes'.");
  map.set("group", std::move(groups));
  return map;
}

}  // namespace mst::mappings
