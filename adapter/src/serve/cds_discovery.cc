#include "mst/adapter/serve/cds_discovery.h"

#include <cctype>
#include <map>

#include "mst/adapter/pipeline/search_terms.h"
#include "mst/fhir/url.h"

namespace mst::adapter {

namespace {

// Encoded as a query value, then swapped for the template token: the token's
// braces must reach the EHR unencoded.
constexpr const char* kPatientMark = "MSTPATIENTIDMARK";
constexpr const char* kPatientToken = "{{context.patientId}}";

std::string lower_camel(std::string type) {
  if (!type.empty()) type[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(type[0])));
  return type;
}

}  // namespace

std::vector<PrefetchTemplate> prefetch_templates(const mappings::CodeTables& tables,
                                                 const PullOptions& options) {
  const auto queries = pull_queries(tables, kPatientMark, options);
  std::map<std::string, int> per_type;
  for (const auto& q : queries) ++per_type[q.type];
  std::map<std::string, int> seen;
  std::vector<PrefetchTemplate> out{{"patient", std::string("Patient/") + kPatientToken}};
  for (const auto& q : queries) {
    std::string key = lower_camel(q.type);
    if (per_type[q.type] > 1) key += std::to_string(++seen[q.type]);
    std::string query = q.type + "?" + fhir::encode_query(q.params);
    const std::string mark = kPatientMark;
    for (auto at = query.find(mark); at != std::string::npos; at = query.find(mark, at)) {
      query.replace(at, mark.size(), kPatientToken);
    }
    out.push_back({std::move(key), std::move(query)});
  }
  return out;
}

fhir::JsonValue discovery_document(const std::vector<PrefetchTemplate>& templates) {
  auto prefetch = fhir::JsonValue::object();
  for (const auto& t : templates) prefetch.set(t.key, t.query);
  auto service = fhir::JsonValue::object({
      {"hook", "patient-view"},
      {"id", kCdsServiceId},
      {"title", "Metastatic spinal tumour care-plan proposal"},
      {"description",
       "Proposes treatment goals, referrals and their urgency for a patient with spinal "
       "metastases (NOMS, SINS, Bilsky ESCC, NICE NG234) and offers the draft CarePlan. Every "
       "proposal is a draft for the clinical team's review."},
      {"prefetch", std::move(prefetch)},
      {"usageRequirements",
       "Prefetch every template, or give fhirServer and fhirAuthorization with read access to "
       "every resource type the templates search."},
  });
  return fhir::JsonValue::object({{"services", fhir::JsonValue::array({std::move(service)})}});
}

}  // namespace mst::adapter
