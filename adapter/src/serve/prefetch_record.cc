#include "mst/adapter/serve/prefetch_record.h"

#include "mst/fhir/errors.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

std::vector<std::string> missing_prefetch(const CdsRequest& request,
                                          const std::vector<PrefetchTemplate>& templates) {
  std::vector<std::string> missing;
  for (const auto& t : templates) {
    if (!request.prefetch.is_object() || !request.prefetch[t.key].present()) {
      missing.push_back(t.key);
    }
  }
  return missing;
}

mappings::PatientRecord record_from_prefetch(const CdsRequest& request,
                                             const std::vector<PrefetchTemplate>& templates) {
  // strict_subjects as for run --input: a resource of another patient in a
  // prefetch is the EHR's error, never silently this patient's data.
  mappings::PatientRecord::Builder builder(request.patient_id);
  builder.strict_subjects().keep(request.body);
  for (const auto& t : templates) {
    const fhir::Node value = request.prefetch[t.key];
    if (!value.is_object() || !value["resourceType"].is_string()) {
      throw CdsRequestError(400, "prefetch." + t.key + " is not a FHIR resource");
    }
    // The Patient template names the patient itself: any other answer means
    // the EHR filled in another chart.
    if (t.key == "patient" &&
        (value.string("resourceType") != "Patient" || value["id"].is_string() == false ||
         value["id"].as_string() != request.patient_id)) {
      throw CdsRequestError(400, "prefetch.patient is not Patient/" + request.patient_id);
    }
    builder.add_resource(value);
  }
  try {
    return builder.build();
  } catch (const mappings::RecordError& e) {
    throw CdsRequestError(400, "prefetch: " + fhir::safe_text(e.what(), 200));
  } catch (const fhir::ElementError& e) {
    throw CdsRequestError(400, "prefetch: " + fhir::safe_text(e.what(), 200));
  }
}

}  // namespace mst::adapter
