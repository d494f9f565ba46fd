#include "mst/adapter/serve/prefetch_record.h"

#include "mst/fhir/errors.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

// resourceType of a JSON value, or what it is instead, for messages.
std::string type_of(fhir::Node n) {
  if (!n.is_object()) return "non-object";
  const fhir::Node type = n["resourceType"];
  return type.is_string() ? std::string(type.as_string()) : "resource without a resourceType";
}

// The resource type a template reads: "Condition" of "Condition?patient=...".
std::string_view searched_type(const PrefetchTemplate& t) {
  const std::string_view q = t.query;
  return q.substr(0, q.find_first_of("?/"));
}

// A search template's value is its searchset: a Bundle whose matches are of
// the searched type (entries the search _include'd may be of any). Anything
// else is the EHR's mistake, refused rather than read into the record under
// the wrong search.
void check_searchset(const PrefetchTemplate& t, fhir::Node value) {
  const std::string type(searched_type(t));
  if (type_of(value) != "Bundle") {
    throw CdsRequestError(400, "prefetch." + t.key + " must be the searchset Bundle of " + type +
                                   " searches, not a " + fhir::safe_text(type_of(value), 64));
  }
  const fhir::Node entries = value["entry"];
  if (!entries.present()) return;
  if (!entries.is_array())
    throw CdsRequestError(400, "prefetch." + t.key + ".entry is not an array");
  std::size_t index = 0;
  for (fhir::Node e : entries.elements()) {
    const std::string where = "prefetch." + t.key + ".entry[" + std::to_string(index++) + "]";
    if (!e.is_object()) throw CdsRequestError(400, where + " is not an object");
    const fhir::Node search = e["search"];
    const fhir::Node mode = search.is_object() ? search["mode"] : fhir::Node();
    if (mode.is_string() && mode.as_string() != "match") continue;  // include, outcome
    const fhir::Node res = e["resource"];
    if (!res.present()) continue;
    if (type_of(res) != type) {
      throw CdsRequestError(400, where + " is a " + fhir::safe_text(type_of(res), 64) +
                                     ", but the " + t.key + " template searches " + type);
    }
  }
}

}  // namespace

std::vector<std::string> missing_prefetch(const CdsRequest& request,
                                          const std::vector<PrefetchTemplate>& templates) {
  std::vector<std::string> missing;
  for (const auto& t : templates) {
    const fhir::Node value = request.prefetch.is_object() ? request.prefetch[t.key] : fhir::Node();
    // CDS Hooks 2.0 lets the EHR put an OperationOutcome where it failed to
    // prefetch: that key is missing, to be read from fhirServer.
    if (!value.present() || type_of(value) == "OperationOutcome") {
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
    if (t.key != "patient") check_searchset(t, value);
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
