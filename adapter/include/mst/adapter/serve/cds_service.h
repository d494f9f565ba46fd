// The CDS Hooks endpoints of `serve`: discovery, the patient-view call and
// its feedback. A request in, a reply out; the only I/O is the injected
// fetch from the EHR's fhirServer, so every answer is testable offline.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/adapter/logger.h"
#include "mst/adapter/ops/metrics.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "mst/adapter/serve/cds_cards.h"
#include "mst/adapter/serve/cds_discovery.h"
#include "mst/fhir/json_value.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter {

struct ServeReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;             // set on 405
  std::string www_authenticate;  // set on 401
  // Further response headers (CORS), in order.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The request headers the review page's write form checks (Origin,
// Sec-Fetch-Site); empty when absent.
struct BrowserHeaders {
  std::string origin;
  std::string sec_fetch_site;
};

// Reads the prefetch keys `missing` of the patient from `fhir_server` with
// `access_token` as the bearer token, and from nowhere else (the EHR's
// server, the EHR's token): {key: value} as fetch_prefetch() answers.
using EhrFetch = std::function<fhir::JsonValue(
    const std::string& fhir_server, const std::string& access_token, const std::string& patient_id,
    const std::vector<std::string>& missing)>;

// Keeps a call's run for the review page and answers the page's URL, the
// card's link (empty: no link). `fhir_server` is the call's, may be empty.
using ReviewLinker =
    std::function<std::string(const std::string& patient_id, const PatientRun& run,
                              const fhir::DateTime& as_of, const std::string& fhir_server)>;

struct CdsServiceOptions {
  PipelineSettings settings;
  // The as-of day of each call (a service outlives its first day); when
  // empty, settings.as_of is kept (adapter.as_of, tests).
  std::function<fhir::DateTime()> today;
  CardSource source;
  std::size_t max_body_bytes = 16u << 20;
  ReviewLinker review_link;  // unset: cards carry no link
};

class CdsService {
 public:
  // `tables`, `thresholds`, `metrics` and `log` must outlive the service.
  CdsService(const mappings::CodeTables& tables, const RuleThresholds& thresholds,
             CdsServiceOptions options, EhrFetch fetch, Metrics& metrics, Logger& log);

  // Routes /cds-services, /cds-services/{id} and /cds-services/{id}/feedback;
  // 404 for other paths, 405 for other methods.
  ServeReply handle(std::string_view method, std::string_view path, std::string_view body);

  ServeReply discovery() const;
  ServeReply patient_view(std::string_view body);
  ServeReply feedback(std::string_view body);

  const std::vector<PrefetchTemplate>& templates() const { return templates_; }

 private:
  const mappings::CodeTables& tables_;
  const RuleThresholds& thresholds_;
  CdsServiceOptions options_;
  EhrFetch fetch_;
  Metrics& metrics_;
  Logger& log_;
  std::vector<PrefetchTemplate> templates_;
};

// {"resourceType": "OperationOutcome", ...} with one error issue: the body
// of every 4xx and 5xx `serve` answers.
ServeReply error_reply(int status, const std::string& code, const std::string& message);

}  // namespace mst::adapter
