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

namespace {

// Calls `each` with every coding's (system, code) of a CodeableConcept or an
// array of them, until it returns true.
template <typename F>
bool any_coding(fhir::Node element, F each) {
  auto in_codeable = [&](fhir::Node codeable) {
    if (!codeable.is_object() || !codeable["coding"].is_array()) return false;
    for (fhir::Node c : codeable["coding"].elements()) {
      if (!c.is_object() || !c["code"].is_string()) continue;
      const std::string_view system = c["system"].is_string() ? c["system"].as_string() : "";
      if (each(system, c["code"].as_string())) return true;
    }
    return false;
  };
  if (!element.is_array()) return in_codeable(element);
  for (fhir::Node codeable : element.elements()) {
    if (in_codeable(codeable)) return true;
  }
  return false;
}

// A comma-separated token list against a CodeableConcept (or an array).
bool has_token(fhir::Node element, std::string_view tokens) {
  return any_coding(element, [&](std::string_view system, std::string_view code) {
    std::string_view rest = tokens;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view want = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      const std::size_t bar = want.find('|');
      if (bar == std::string_view::npos
              ? want == code
              : want.substr(0, bar) == system && want.substr(bar + 1) == code) {
        return true;
      }
    }
    return false;
  });
}

}  // namespace

RelevantResourceFilter::RelevantResourceFilter(const mappings::CodeTables& tables,
                                               const RelevantQueryOptions& options)
    : categories_(options.observation_categories),
      code_search_category_(options.code_search_category) {
  for (auto& token : tables.observation_search_codes()) codes_.insert(std::move(token));
}

bool RelevantResourceFilter::operator()(std::string_view type, fhir::Node resource) const {
  if (!resource.is_object()) return false;
  try {
    if (type == "Observation") {
      for (const auto& category : categories_) {
        if (has_token(resource["category"], category)) return true;
      }
      if (!code_search_category_.empty() &&
          !has_token(resource["category"], code_search_category_)) {
        return false;
      }
      std::string key;
      return any_coding(resource["code"], [&](std::string_view system, std::string_view code) {
        key.assign(system).append("|").append(code);
        return codes_.contains(key) || codes_.contains(code);
      });
    }
    for (const auto& s : patient_searches()) {
      if (type != s.type) continue;
      return s.category == nullptr || has_token(resource["category"], s.category);
    }
  } catch (const fhir::ElementError&) {
    // A malformed element matches no token search.
  }
  return false;
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
