#include "mst/adapter/sync/fhir_change_feed.h"

#include <algorithm>
#include <set>

#include "mst/adapter/pipeline/search_terms.h"
#include "mst/adapter/sync/state_store.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/datetime.h"
#include "mst/mappings/extract.h"

namespace mst::adapter {

namespace {

constexpr int kFeedPageSize = 200;

// The patient id a resource's subject (or patient) names, if a Patient.
std::string subject_patient(fhir::Node resource) {
  try {
    for (const char* key : {"subject", "patient"}) {
      if (auto ref = fhir::read_reference(resource.object(key))) {
        if (ref->type == "Patient" && !ref->id.empty()) return ref->id;
      }
    }
  } catch (const fhir::ElementError&) {
  }
  return {};
}

}  // namespace

bool supports_change_feed(const fhir::Capabilities& caps) {
  // The feed's searches name no patient: a server that requires one
  // (Epic, Oracle) refuses them, whatever it says about _lastUpdated.
  if (!caps.supports_search_param("Observation", "_lastUpdated") ||
      !caps.search_allowed("Observation", {"_lastUpdated", "code"}))
    return false;
  for (const auto& s : detail::patient_searches()) {
    std::set<std::string, std::less<>> params{"_lastUpdated"};
    if (s.category) params.insert("category");
    if (!caps.supports_search_param(s.type, "_lastUpdated") || !caps.search_allowed(s.type, params))
      return false;
  }
  return supports_population_search(caps);
}

bool supports_population_search(const fhir::Capabilities& caps) {
  return caps.search_allowed("Condition", {"code"});
}

FhirChangeFeed::FhirChangeFeed(fhir::Client& client, const mappings::CodeTables& tables,
                               ChangeFeedOptions options, std::shared_ptr<fhir::Clock> clock)
    : client_(client), tables_(tables), options_(std::move(options)), clock_(std::move(clock)) {}

ChangeScan FhirChangeFeed::changed_since(const std::optional<std::string>& since) {
  // The scan's own start, taken before any search: a change committed while
  // we search is then either seen now or after the next checkpoint.
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->now().time_since_epoch())
          .count();
  ChangeScan scan;
  scan.scan_time = fhir::DateTime::from_epoch_ms(now_ms, fhir::Precision::kSecond).to_string();

  std::vector<detail::SearchQuery> queries;
  if (!since) {
    for (auto& batch :
         detail::code_batches(tables_.population_search_codes(), options_.codes_per_search)) {
      queries.push_back({"Condition", {{"code", std::move(batch)}}});
    }
  } else {
    auto from = fhir::DateTime::parse(*since);
    if (!from) {
      throw StateStoreError("sync checkpoint '" + *since +
                            "' is not a FHIR instant: the state store is damaged");
    }
    const std::string gt =
        "gt" + fhir::DateTime::from_epoch_ms(from->start_ms() - options_.overlap_s * 1000LL,
                                             fhir::Precision::kSecond)
                   .to_string();
    queries = detail::relevant_queries(tables_, {"_lastUpdated", gt},
                                       {.codes_per_search = options_.codes_per_search,
                                        .observation_categories = options_.observation_categories,
                                        .code_search_category = "",
                                        .with_includes = false});
  }
  for (auto& q : queries) {
    // Subjects only: the feed needs to know who changed, not what. Such
    // entries are small, so ask for large pages: at a server's default (HAPI:
    // 20) the first scan of 500 patients took ~560 requests per worker. A
    // server caps _count at its own maximum, which is no error.
    q.params.emplace_back("_count", std::to_string(kFeedPageSize));
    q.params.emplace_back("_elements", q.type == "CarePlan" ? "subject,identifier,author"
                                       : q.type == "Goal"   ? "subject,expressedBy"
                                                            : "subject");
  }
  std::vector<fhir::SearchResult> results = detail::search_all(client_, queries, options_.limits);
  for (const auto& r : results) r.require_complete();

  bool server_time_seen = false;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const detail::SearchQuery& q = queries[i];
    fhir::SearchResult& r = results[i];
    // _lastUpdated values are on the server's clock: prefer its time for the
    // checkpoint when the searchset says it (HAPI does).
    if (!server_time_seen && !r.pages.empty()) {
      try {
        if (auto t = fhir::read_datetime(r.pages.front()->root().object("meta")["lastUpdated"])) {
          scan.scan_time =
              fhir::DateTime::from_epoch_ms(t->start_ms(), fhir::Precision::kSecond).to_string();
          server_time_seen = true;
        }
      } catch (const fhir::ElementError&) {
      }
    }
    for (fhir::Node n : r.resources) {
      if (q.type == "CarePlan" && detail::is_adapter_plan(n, options_.own_identifier_system))
        continue;
      // The adapter's own Goals and ServiceRequests change with every plan
      // it writes; they are not input.
      if (!mappings::is_plan_input(q.type, n)) continue;
      std::string id = subject_patient(n);
      if (!id.empty()) scan.patient_ids.push_back(std::move(id));
    }
  }
  // One Observation matches several category and code searches.
  std::sort(scan.patient_ids.begin(), scan.patient_ids.end());
  scan.patient_ids.erase(std::unique(scan.patient_ids.begin(), scan.patient_ids.end()),
                         scan.patient_ids.end());
  return scan;
}

}  // namespace mst::adapter
