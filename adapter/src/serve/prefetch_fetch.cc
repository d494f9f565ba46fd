#include "mst/adapter/serve/prefetch_fetch.h"

#include <algorithm>
#include <stdexcept>

namespace mst::adapter {

namespace {

fhir::JsonValue searchset(const fhir::SearchResult& r) {
  auto entries = fhir::JsonValue::array();
  auto add = [&](fhir::Node n, const char* mode) {
    entries.push(fhir::JsonValue::object({{"resource", fhir::JsonValue::from(n)},
                                          {"search", fhir::JsonValue::object({{"mode", mode}})}}));
  };
  for (fhir::Node n : r.resources) add(n, "match");
  for (fhir::Node n : r.included) add(n, "include");
  auto bundle = fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "searchset"}});
  bundle.set("entry", std::move(entries));
  return bundle;
}

}  // namespace

fhir::JsonValue fetch_prefetch(fhir::Client& client, const std::string& patient_id,
                               const std::vector<std::string>& missing,
                               const mappings::CodeTables& tables, const PullOptions& options,
                               ReadMode mode) {
  // Template i + 1 is the pull's search i (prefetch_templates): the keys
  // name the searches to run.
  const std::vector<PrefetchTemplate> templates = prefetch_templates(tables, options);
  const std::vector<detail::SearchQuery> all = pull_queries(tables, patient_id, options);
  bool with_patient = false;
  std::vector<detail::SearchQuery> queries;
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < templates.size(); ++i) {
    if (std::find(missing.begin(), missing.end(), templates[i].key) == missing.end()) continue;
    if (i == 0) {
      with_patient = true;
    } else {
      queries.push_back(all.at(i - 1));
      keys.push_back(templates[i].key);
    }
  }
  for (const auto& key : missing) {
    if (key != "patient" && std::find(keys.begin(), keys.end(), key) == keys.end())
      throw std::invalid_argument("no prefetch template has the key " + key);
  }
  PatientReads reads =
      read_patient(client, patient_id, with_patient, queries,
                   mode == ReadMode::kBatch ? mode : ReadMode::kSearches, options.limits);
  auto out = fhir::JsonValue::object();
  if (with_patient) out.set("patient", fhir::JsonValue::from(reads.patient->root()));
  std::vector<std::string> warnings;  // the card's record has no place for them yet
  for (std::size_t i = 0; i < queries.size(); ++i) {
    keep_plan_inputs(queries[i].type, options, reads.results[i], warnings);
    out.set(keys[i], searchset(reads.results[i]));
  }
  return out;
}

}  // namespace mst::adapter
