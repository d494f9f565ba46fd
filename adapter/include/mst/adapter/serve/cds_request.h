// A CDS Hooks 2.0 service call, validated: what `serve` reads of the body
// of POST /cds-services/{id}. Anything else in the body is ignored.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "mst/fhir/json.h"

namespace mst::adapter {

// A request the service refuses, with the HTTP status to answer (400, 413,
// 422) and a one-line reason safe to show the caller.
class CdsRequestError : public std::runtime_error {
 public:
  CdsRequestError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct CdsRequest {
  std::string hook;
  std::string hook_instance;
  std::string patient_id;    // context.patientId
  std::string user_id;       // context.userId, may be empty
  std::string fhir_server;   // may be empty
  std::string access_token;  // fhirAuthorization.access_token; empty without it
  std::shared_ptr<const fhir::JsonDocument> body;
  // The prefetch object (absent when not sent), pointing into `body`. A key
  // whose value is null is one the EHR could not fetch.
  fhir::Node prefetch;
};

// Parses and checks `text` as a call of hook `expected_hook`. Throws
// CdsRequestError: 413 over `max_bytes`, 400 for JSON that does not parse or
// a missing or mistyped field the service needs.
CdsRequest parse_cds_request(std::string_view text, std::string_view expected_hook,
                             std::size_t max_bytes);

}  // namespace mst::adapter
