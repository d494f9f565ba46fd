// Internal: what the pull and the change feed both ask a FHIR server for.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/client.h"
#include "mst/fhir/json.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter::detail {

// `codes` as comma-joined token lists of at most `per_search` codes each:
// one search parameter value per request, so request lines stay short.
std::vector<std::string> code_batches(const std::vector<std::string>& codes,
                                      std::size_t per_search);

// The resource types read whole for a patient. The pull searches them by
// patient (with `include`), the change feed by _lastUpdated: one list, so a
// type the extractor reads is never pulled without being watched for
// changes, or watched without being pulled. Observations are searched by
// code and category instead, by both.
struct PatientSearch {
  const char* type;
  const char* include;  // the pull's _include (the Medication an order names), or nullptr
  // A category the search is narrowed to (system|code), or nullptr: the
  // orders a chart holds are many, the portable medical orders few.
  const char* category = nullptr;
};
const std::vector<PatientSearch>& patient_searches();

struct SearchQuery {
  std::string type;
  fhir::SearchParams params;
};

struct RelevantQueryOptions {
  std::size_t codes_per_search = 40;
  std::vector<std::string> observation_categories;  // read whole, whatever their code
  // Put as `category` on every Observation search by code when not empty.
  std::string code_search_category;
  // The pull's _include of the Medication an order names; the change feed
  // needs subjects only.
  bool with_includes = false;
};

// Every search a patient's plan depends on, each narrowed by `scope` (the
// pull's {"patient", id}, the change feed's {"_lastUpdated", "gt..."}):
// patient_searches() whole, then Observations by the tables' codes and by
// category. The one list the pull and the change feed both ask for.
std::vector<SearchQuery> relevant_queries(const mappings::CodeTables& tables,
                                          const std::pair<std::string, std::string>& scope,
                                          const RelevantQueryOptions& options);

// The types relevant_queries() searches: Observation, then patient_searches().
std::vector<std::string> relevant_types();

// True when a search of relevant_queries(tables, scope, options) for the
// resource's patient would return it: its type is searched, and an
// Observation carries one of the searched codes or categories (a
// ServiceRequest the searched category). Tokens match as a server matches
// them: `system|code`, or a bare code in any system. For data that arrives
// unsearched (a Bulk Data export), so that it equals what the pull reads.
class RelevantResourceFilter {
 public:
  RelevantResourceFilter(const mappings::CodeTables& tables, const RelevantQueryOptions& options);
  bool operator()(std::string_view type, fhir::Node resource) const;

 private:
  std::set<std::string, std::less<>> codes_;  // "system|code" or a bare code
  std::vector<std::string> categories_;       // read whole
  std::string code_search_category_;
};

// Runs every search at once (each still pages in order) and returns the
// results in query order: a batch costs its slowest search, not their sum.
// Waits for all before rethrowing the first failure in query order, so no
// thread outlives `client`.
std::vector<fhir::SearchResult> search_all(fhir::Client& client,
                                           const std::vector<SearchQuery>& queries,
                                           const fhir::SearchLimits& limits);

// True when `resource` has an identifier in `system` (empty system: false).
// A malformed identifier is not one.
bool has_identifier_system(fhir::Node resource, const std::string& system);

// True for a CarePlan the adapter wrote: its identifier in `system` and a
// Device as author. One carrying the identifier under a person's or an
// organisation's authorship is a clinical plan (a copy, a look-alike) and is
// read as one.
bool is_adapter_plan(fhir::Node care_plan, const std::string& system);

}  // namespace mst::adapter::detail
