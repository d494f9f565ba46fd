// The review page's endpoints: GET /review/{patient}?t=<id> shows the
// derivation patient-view stored under <id>; POST /review/{patient}/write
// writes it once through the write-back `run` uses. A request in, a reply
// out; the write is injected.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "mst/adapter/logger.h"
#include "mst/adapter/pipeline/patient_outcome.h"
#include "mst/adapter/serve/cds_service.h"
#include "mst/adapter/serve/review_store.h"

namespace mst::adapter {

// Writes the entry's derivation to the configured FHIR server with the
// adapter's own credentials (Pipeline::write_derived). Throws as the
// pipeline does.
using ReviewWrite = std::function<PatientOutcome(const ReviewEntry& entry)>;

class ReviewService {
 public:
  // `public_url` is the service's origin as the browser sees it (links and
  // the Origin check). Without `write` the page has no button and says
  // `no_write_reason`. `store` and `log` must outlive the service.
  ReviewService(ReviewStore& store, std::string public_url, ReviewWrite write,
                std::string no_write_reason, Logger& log);

  // True for the paths this service answers (/review/...).
  static bool owns(std::string_view path);

  // GET the page (200; 404 unknown id, 410 expired), POST the write (200
  // written or unchanged, 403 cross-site or bad token, 409 used or refused
  // by the write-back, 502 when the server fails); text/html either way.
  ServeReply handle(std::string_view method, std::string_view path_and_query, std::string_view body,
                    const BrowserHeaders& headers);

  // <public_url>/review/<patient>?t=<id>: the card's link.
  std::string link(const std::string& patient_id, const std::string& id) const;

 private:
  ServeReply page(const std::string& patient, const std::string& id);
  ServeReply write(const std::string& patient, std::string_view body,
                   const BrowserHeaders& headers);

  ReviewStore& store_;
  std::string public_url_;
  ReviewWrite write_;
  std::string no_write_reason_;
  Logger& log_;
};

// The value of `name` in a query string or an application/x-www-form-
// urlencoded body, percent-decoded; empty when absent.
std::string form_value(std::string_view encoded, std::string_view name);

}  // namespace mst::adapter
