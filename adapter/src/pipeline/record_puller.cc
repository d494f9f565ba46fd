#include "mst/adapter/pipeline/record_puller.h"

#include <algorithm>
#include <future>
#include <set>

#include "mst/adapter/pipeline/search_terms.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/json_value.h"
#include "mst/fhir/resource.h"
#include "mst/mappings/extract.h"

namespace mst::adapter {

ReadMode ReadModeChoice::resolve(fhir::Client& client) {
  if (configured_ != ReadMode::kAuto) return configured_;
  std::lock_guard lock(mu_);
  if (!resolved_) {
    if (ask_again_ && now_() < *ask_again_) return ReadMode::kSearches;
    try {
      resolved_ = auto_read_mode(client.capabilities());
    } catch (const fhir::ClientError& e) {
      // A server down or busy has not answered: reads go as searches, and
      // one a minute later asks again. Kept, that answer would hold for the
      // life of `serve` after one failure at its start; asked every read, a
      // statement that keeps failing would cost each patient its retries.
      if (e.retryable()) {
        ask_again_ = now_() + std::chrono::minutes(1);
        return ReadMode::kSearches;
      }
      // No statement: nothing declares batch, and the searches themselves
      // report a server that refuses them.
      resolved_ = ReadMode::kSearches;
    }
  }
  return *resolved_;
}

void ReadModeChoice::refused() {
  std::lock_guard lock(mu_);
  resolved_ = ReadMode::kSearches;
}

std::vector<detail::SearchQuery> pull_queries(const mappings::CodeTables& tables,
                                              const std::string& patient_id,
                                              const PullOptions& options) {
  return detail::relevant_queries(tables, {"patient", patient_id},
                                  {.codes_per_search = options.codes_per_search,
                                   .observation_categories = options.observation_categories,
                                   .code_search_category = options.code_search_category,
                                   .with_includes = true});
}

namespace {

// Full pages: at a server's default (HAPI: 20) the medication search of a
// chart with months of chemotherapy took eight requests. A server caps
// _count at its own maximum, which is no error.
constexpr const char* kPullPageSize = "100";

std::vector<detail::SearchQuery> in_full_pages(std::vector<detail::SearchQuery> queries) {
  for (auto& q : queries) {
    const bool counted = std::any_of(q.params.begin(), q.params.end(),
                                     [](const auto& p) { return p.first == "_count"; });
    if (!counted) q.params.emplace_back("_count", kPullPageSize);
  }
  return queries;
}

}  // namespace

PatientReads read_patient(fhir::Client& client, const std::string& patient_id, bool with_patient,
                          const std::vector<detail::SearchQuery>& asked, ReadMode mode,
                          const fhir::SearchLimits& limits) {
  const std::vector<detail::SearchQuery> queries = in_full_pages(asked);
  PatientReads out;
  if (mode == ReadMode::kBatch) {
    // One request: the Patient first, then every search in order.
    std::vector<fhir::BatchGet> gets;
    if (with_patient) gets.push_back({"Patient", patient_id, {}});
    for (const auto& q : queries) gets.push_back({q.type, "", q.params});
    out.results = client.batch_read(gets, limits);
    if (with_patient) {
      // The Patient as its own document, as a read gives it: the record
      // cannot tell the two ways apart.
      out.patient = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(
          fhir::JsonValue::from(out.results.front().resources.front()).dump()));
      out.results.erase(out.results.begin());
    }
    return out;
  }
  // The Patient and every search at once: a patient's pull costs the
  // slowest request, not their sum.
  std::future<fhir::FhirResponse> patient;
  if (with_patient) {
    patient = std::async(std::launch::async, [&] { return client.read("Patient", patient_id); });
  }
  std::exception_ptr search_error;
  try {
    out.results = detail::search_all(client, queries, limits);
  } catch (...) {
    search_error = std::current_exception();
  }
  // The Patient's failure first; either way `patient` is done before we leave.
  if (with_patient) out.patient = patient.get().body;
  if (search_error) std::rethrow_exception(search_error);
  return out;
}

void keep_plan_inputs(const std::string& type, const PullOptions& options,
                      fhir::SearchResult& result, std::vector<std::string>& warnings) {
  if (type == "CarePlan" && !options.own_identifier_system.empty()) {
    std::erase_if(result.resources, [&](fhir::Node n) {
      if (detail::is_adapter_plan(n, options.own_identifier_system)) return true;
      if (detail::has_identifier_system(n, options.own_identifier_system)) {
        warnings.push_back(fhir::Resource(n).ref() +
                           " carries the adapter's plan identifier but no Device wrote "
                           "it: read as a clinical care plan");
      }
      return false;
    });
  }
  // Only what the patient (or a relative) expressed, and the orders that
  // constrain treatment, are input: a clinician's Goal, or the adapter's
  // own proposals, would otherwise change the next plan the adapter writes
  // from its own last one (a server may ignore the category we asked for).
  std::erase_if(result.resources, [&](fhir::Node n) { return !mappings::is_plan_input(type, n); });
}

PulledRecord pull_record(fhir::Client& client, const std::string& patient_id,
                         const mappings::CodeTables& tables, const PullOptions& options) {
  const std::vector<detail::SearchQuery> queries = pull_queries(tables, patient_id, options);
  PatientReads reads =
      read_patient(client, patient_id, true, queries, options.read_mode, options.limits);
  std::vector<fhir::SearchResult>& results = reads.results;

  PulledRecord out{mappings::PatientRecord(), {}, static_cast<int>(queries.size()) + 1};
  mappings::PatientRecord::Builder builder(patient_id);
  builder.add_document(reads.patient);
  // An Observation can match a code search and a category search, and one
  // Medication can be included by an order and an administration: the same
  // resource twice is one resource, not a duplicate to report.
  std::set<std::string> seen;
  auto seen_before = [&](fhir::Node n) {
    if (!n.is_object()) return false;
    auto type = n["resourceType"];
    auto id = n["id"];
    if (!type.is_string() || !id.is_string()) return false;
    return !seen.insert(std::string(type.as_string()) + "/" + std::string(id.as_string())).second;
  };
  for (std::size_t i = 0; i < results.size(); ++i) {
    fhir::SearchResult& r = results[i];
    std::erase_if(r.resources, seen_before);
    std::erase_if(r.included, seen_before);
    if (!r.complete) {
      out.warnings.push_back(queries[i].type + " search stopped early: " + r.incomplete_reason);
    }
    for (const auto& w : r.warnings) {
      out.warnings.push_back(queries[i].type + " search: server warning: " + w.severity + " " +
                             (w.diagnostics.empty() ? w.details : w.diagnostics));
    }
    keep_plan_inputs(queries[i].type, options, r, out.warnings);
    // The record holds the pages its matches and includes point into.
    for (const auto& page : r.pages) builder.keep(page);
    for (fhir::Node n : r.resources) builder.add_resource(n);
    for (fhir::Node n : r.included) builder.add_resource(n);
  }
  out.record = builder.build();
  return out;
}

}  // namespace mst::adapter
