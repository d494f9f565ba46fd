#include "mst/adapter/serve/cds_request.h"

#include "mst/fhir/datatypes.h"
#include "mst/fhir/errors.h"
#include "mst/fhir/safe_text.h"
#include "mst/fhir/url.h"

namespace mst::adapter {

namespace {

[[noreturn]] void bad(const std::string& why) { throw CdsRequestError(400, why); }

std::string required_string(fhir::Node object, std::string_view key, const std::string& where) {
  const auto v = object[key];
  if (!v.is_string() || v.as_string().empty()) {
    bad(where + std::string(key) + " must be a non-empty string");
  }
  return std::string(v.as_string());
}

}  // namespace

CdsRequest parse_cds_request(std::string_view text, std::string_view expected_hook,
                             std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    throw CdsRequestError(413, "request body over " + std::to_string(max_bytes) + " bytes");
  }
  fhir::ParseLimits limits;
  limits.max_bytes = max_bytes;
  limits.keep_out_of_range_numbers = true;  // one bad number ends its resource, not the call
  CdsRequest r;
  try {
    r.body = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(text, limits));
  } catch (const fhir::ParseError& e) {
    bad(std::string("request body is not JSON: ") + fhir::safe_text(e.what(), 200));
  }
  const fhir::Node root = r.body->root();
  if (!root.is_object()) bad("request body must be a JSON object");
  try {
    r.hook = required_string(root, "hook", "");
    if (r.hook != expected_hook) {
      bad("this service answers the " + std::string(expected_hook) + " hook, not " +
          fhir::safe_text(r.hook, 64));
    }
    r.hook_instance = required_string(root, "hookInstance", "");
    const fhir::Node context = root["context"];
    if (!context.is_object()) bad("context must be an object");
    r.patient_id = required_string(context, "patientId", "context.");
    if (!fhir::is_fhir_id(r.patient_id)) bad("context.patientId is not a FHIR id");
    if (auto user = context.string("userId")) r.user_id = std::string(*user);

    if (auto server = root.string("fhirServer")) {
      r.fhir_server = std::string(*server);
      if (!fhir::is_http_url(r.fhir_server)) bad("fhirServer must be an absolute http(s) URL");
    }
    if (const fhir::Node auth = root["fhirAuthorization"]; auth.present()) {
      if (!auth.is_object()) bad("fhirAuthorization must be an object");
      if (r.fhir_server.empty()) bad("fhirAuthorization is given without fhirServer");
      r.access_token = required_string(auth, "access_token", "fhirAuthorization.");
      const std::string type = required_string(auth, "token_type", "fhirAuthorization.");
      if (type != "Bearer") bad("fhirAuthorization.token_type must be Bearer");
    }
    if (const fhir::Node prefetch = root["prefetch"]; prefetch.present()) {
      if (!prefetch.is_object()) bad("prefetch must be an object");
      r.prefetch = prefetch;
    }
  } catch (const fhir::ElementError& e) {
    bad(fhir::safe_text(e.what(), 200));
  }
  return r;
}

}  // namespace mst::adapter
