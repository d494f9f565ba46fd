// Test helpers: FHIR resources as JSON text, a PatientRecord from them, and
// one extraction as of a fixed day.
#pragma once

#include <string>
#include <vector>

#include "mst/mappings/extract.h"
#include "mst/mappings/patient_record.h"
#include "table_fixture.h"

namespace mst::mappings::testing {

inline const std::string kMst = "http://mst-adapter.example.org/fhir/CodeSystem/mst-observation";
inline const std::string kSct = "http://snomed.info/sct";
inline const std::string kLnc = "http://loinc.org";
inline const std::string kIcd = "http://hl7.org/fhir/sid/icd-10-cm";
inline const std::string kAsOf = "2025-06-01";

inline std::string coding(const std::string& system, const std::string& code) {
  return R"({"coding":[{"system":")" + system + R"(","code":")" + code + R"("}]})";
}

inline std::string patient(const std::string& gender = "female") {
  return R"({"resourceType":"Patient","id":"p1","gender":")" + gender + R"("})";
}

// An active Condition of Patient/p1; `extra` is appended as more members.
inline std::string condition(const std::string& id, const std::string& system,
                             const std::string& code, const std::string& extra = "") {
  return R"({"resourceType":"Condition","id":")" + id +
         R"(","subject":{"reference":"Patient/p1"},"clinicalStatus":)" +
         coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active") +
         R"(,"code":)" + coding(system, code) + (extra.empty() ? "" : "," + extra) + "}";
}

// A final Observation of Patient/p1; `value` is a value[x] member.
inline std::string observation(const std::string& id, const std::string& system,
                               const std::string& code, const std::string& value,
                               const std::string& date, const std::string& extra = "") {
  return R"({"resourceType":"Observation","id":")" + id +
         R"(","status":"final","subject":{"reference":"Patient/p1"},"code":)" +
         coding(system, code) + (value.empty() ? "" : "," + value) + R"(,"effectiveDateTime":")" +
         date + "\"" + (extra.empty() ? "" : "," + extra) + "}";
}

inline std::string quantity(double v, const std::string& unit) {
  return R"("valueQuantity":{"value":)" + std::to_string(v) + R"(,"unit":")" + unit +
         R"(","system":"http://unitsofmeasure.org","code":")" + unit + R"("})";
}

inline std::string body_site_text(const std::string& text) {
  return R"("bodySite":[{"text":")" + text + R"("}])";
}

inline PatientRecord record_of(const std::vector<std::string>& resources,
                               std::string patient_id = {}) {
  PatientRecord::Builder b(std::move(patient_id));
  for (const auto& r : resources) b.add_document(fhir::JsonDocument::parse(r));
  return b.build();
}

inline Considerations run(const std::vector<std::string>& resources,
                          const std::string& as_of = kAsOf) {
  return extract(record_of(resources), shipped_tables(), *fhir::DateTime::parse(as_of));
}

inline bool has_gap(const Considerations& c, std::string_view consideration,
                    std::string_view fragment = "") {
  for (const auto& g : c.data_gaps) {
    if (g.consideration == consideration && g.detail.find(fragment) != std::string::npos)
      return true;
  }
  return false;
}

inline bool is_ignored(const Considerations& c, std::string_view ref,
                       std::string_view fragment = "") {
  for (const auto& i : c.ignored) {
    if (i.ref == ref && i.reason.find(fragment) != std::string::npos) return true;
  }
  return false;
}

}  // namespace mst::mappings::testing
