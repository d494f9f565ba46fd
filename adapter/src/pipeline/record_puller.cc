#include "mst/adapter/record_puller.h"

#include <future>
#include <set>

#include "mst/fhir/client_errors.h"
#include "search_terms.h"

namespace mst::adapter {

PulledRecord pull_record(fhir::Client& client, const std::string& patient_id,
                         const mappings::CodeTables& tables, const PullOptions& options) {
  using Params = fhir::SearchParams;
  struct Query {
    std::string type;
    Params params;
  };
  std::vector<Query> queries;
  queries.push_back({"Condition", {{"patient", patient_id}}});
  queries.push_back({"CarePlan", {{"patient", patient_id}}});
  // Recent spinal surgery (decompression, stabilisation) changes the plan.
  queries.push_back({"Procedure", {{"patient", patient_id}}});
  for (auto& batch :
       detail::code_batches(tables.observation_search_codes(), options.codes_per_search)) {
    queries.push_back({"Observation", {{"patient", patient_id}, {"code", std::move(batch)}}});
  }
  for (const auto& category : options.observation_categories) {
    queries.push_back({"Observation", {{"patient", patient_id}, {"category", category}}});
  }

  // The Patient and every search at once: a patient's pull costs the
  // slowest request, not their sum.
  auto patient = std::async(std::launch::async, [&] { return client.read("Patient", patient_id); });
  std::vector<std::future<fhir::SearchResult>> searches;
  for (const auto& q : queries) {
    searches.push_back(std::async(std::launch::async, [&client, &q, &options] {
      return client.search(q.type, q.params, options.limits);
    }));
  }

  PulledRecord out{mappings::PatientRecord(), {}, static_cast<int>(queries.size()) + 1};
  mappings::PatientRecord::Builder builder(patient_id);
  // Wait for every request before rethrowing, so no thread outlives `client`.
  std::exception_ptr first_error;
  fhir::FhirResponse patient_response;
  try {
    patient_response = patient.get();
  } catch (...) {
    first_error = std::current_exception();
  }
  std::vector<fhir::SearchResult> results;
  for (auto& s : searches) {
    try {
      results.push_back(s.get());
    } catch (...) {
      if (!first_error) first_error = std::current_exception();
    }
  }
  if (first_error) std::rethrow_exception(first_error);

  builder.add_document(patient_response.body);
  // An Observation can match a code search and a category search: the same
  // resource twice is one resource, not a duplicate to report.
  std::set<std::string> seen;
  for (std::size_t i = 0; i < results.size(); ++i) {
    fhir::SearchResult& r = results[i];
    std::erase_if(r.resources, [&](fhir::Node n) {
      auto id = n.is_object() ? n["id"] : fhir::Node();
      if (!id.is_string()) return false;
      return !seen.insert(queries[i].type + "/" + std::string(id.as_string())).second;
    });
    if (!r.complete) {
      out.warnings.push_back(queries[i].type + " search stopped early: " + r.incomplete_reason);
    }
    for (const auto& w : r.warnings) {
      out.warnings.push_back(queries[i].type + " search: server warning: " + w.severity + " " +
                             (w.diagnostics.empty() ? w.details : w.diagnostics));
    }
    if (queries[i].type == "CarePlan" && !options.own_identifier_system.empty()) {
      std::erase_if(r.resources, [&](fhir::Node n) {
        return detail::has_identifier_system(n, options.own_identifier_system);
      });
    }
    builder.add_search(r);
  }
  out.record = builder.build();
  return out;
}

}  // namespace mst::adapter
