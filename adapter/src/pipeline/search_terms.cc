#include "mst/adapter/pipeline/search_terms.h"

#include <algorithm>
#include <exception>
#include <future>

#include "mst/fhir/datatypes.h"

namespace mst::adapter::detail {

std::vector<std::string> code_batches(const std::vector<std::string>& codes,
                                      std::size_t per_search) {
  const std::size_t n = std::max<std::size_t>(per_search, 1);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < codes.size(); i += n) {
    std::string batch;
    for (std::size_t j = i; j < std::min(codes.size(), i + n); ++j) {
      if (!batch.empty()) batch += ',';
      batch += codes[j];
    }
    out.push_back(std::move(batch));
  }
  return out;
}

const std::vector<PatientSearch>& patient_searches() {
  // Procedures: recent spinal surgery, chemotherapy and radiotherapy (and
  // refused operations); the medication records: current cancer treatment;
  // Goals expressed by the patient and Consents: preferences; portable
  // medical orders (POLST, fhir-coding.md §16.2): a clinician's order that
  // constrains treatment (docs/considerations.md).
  static const std::vector<PatientSearch> list{
      {"Condition", nullptr},
      {"CarePlan", nullptr},
      {"Procedure", nullptr},
      {"Goal", nullptr},
      {"Consent", nullptr},
      {"ServiceRequest", nullptr, "http://loinc.org|100823-4"},
      {"MedicationRequest", "MedicationRequest:medication"},
      {"MedicationAdministration", "MedicationAdministration:medication"},
      {"MedicationStatement", "MedicationStatement:medication"},
  };
  return list;
}

std::vector<SearchQuery> relevant_queries(const mappings::CodeTables& tables,
                                          const std::pair<std::string, std::string>& scope,
                                          const RelevantQueryOptions& options) {
  std::vector<SearchQuery> queries;
  for (const auto& s : patient_searches()) {
    fhir::SearchParams params{scope};
    if (s.include && options.with_includes) params.emplace_back("_include", s.include);
    if (s.category) params.emplace_back("category", s.category);
    queries.push_back({s.type, std::move(params)});
  }
  for (auto& batch : code_batches(tables.observation_search_codes(), options.codes_per_search)) {
    fhir::SearchParams params{scope, {"code", std::move(batch)}};
    if (!options.code_search_category.empty()) {
      params.emplace_back("category", options.code_search_category);
    }
    queries.push_back({"Observation", std::move(params)});
  }
  for (const auto& category : options.observation_categories) {
    queries.push_back({"Observation", {scope, {"category", category}}});
  }
  return queries;
}

std::vector<std::string> relevant_types() {
  std::vector<std::string> types{"Observation"};
  for (const auto& s : patient_searches()) types.emplace_back(s.type);
  return types;
}

std::vector<fhir::SearchResult> search_all(fhir::Client& client,
                                           const std::vector<SearchQuery>& queries,
                                           const fhir::SearchLimits& limits) {
  std::vector<std::future<fhir::SearchResult>> searches;
  searches.reserve(queries.size());
  for (const auto& q : queries) {
    searches.push_back(std::async(std::launch::async, [&client, &q, &limits] {
      return client.search(q.type, q.params, limits);
    }));
  }
  std::vector<fhir::SearchResult> results;
  results.reserve(queries.size());
  std::exception_ptr first_error;
  for (auto& s : searches) {
    try {
      results.push_back(s.get());
    } catch (...) {
      if (!first_error) first_error = std::current_exception();
    }
  }
  if (first_error) std::rethrow_exception(first_error);
  return results;
}

bool has_identifier_system(fhir::Node resource, const std::string& system) {
  if (system.empty()) return false;
  try {
    for (fhir::Node id : resource.array("identifier")) {
      if (id.string("system") == system) return true;
    }
  } catch (const fhir::ElementError&) {
  }
  return false;
}

bool is_adapter_plan(fhir::Node care_plan, const std::string& system) {
  if (!has_identifier_system(care_plan, system)) return false;
  try {
    const auto author =
        fhir::Reference::parse(care_plan["author"].string("reference").value_or(""));
    return author.type == "Device";
  } catch (const fhir::ElementError&) {
    return false;
  }
}

}  // namespace mst::adapter::detail
