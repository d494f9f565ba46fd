#include "mst/adapter/serve/cds_service.h"

#include "mst/adapter/serve/cds_request.h"
#include "mst/adapter/serve/prefetch_record.h"
#include "mst/fhir/auth.h"
#include "mst/fhir/errors.h"
#include "mst/fhir/json.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

constexpr std::string_view kPrefix = "/cds-services";

ServeReply json_reply(const fhir::JsonValue& v) {
  return {200, "application/json", v.dump(), "", "", {}};
}

std::string join(const std::vector<std::string>& items, std::size_t most) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < most; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > most) out += ", ...";
  return out;
}

// `request` with `fetched`'s values for the keys of `missing`, in a new body
// the request's prefetch then points into.
void complete_prefetch(CdsRequest& request, const std::vector<std::string>& missing,
                       const fhir::JsonValue& fetched) {
  auto prefetch = request.prefetch.is_object() ? fhir::JsonValue::from(request.prefetch)
                                               : fhir::JsonValue::object();
  for (const auto& key : missing) {
    const fhir::JsonValue* value = fetched.find(key);
    if (value == nullptr) throw std::logic_error("the fetch did not answer prefetch." + key);
    prefetch.set(key, *value);
  }
  auto body = fhir::JsonValue::from(request.body->root());
  body.set("prefetch", std::move(prefetch));
  request.body = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(body.dump()));
  request.prefetch = request.body->root()["prefetch"];
}

}  // namespace

ServeReply error_reply(int status, const std::string& code, const std::string& message) {
  const auto body = fhir::JsonValue::object(
      {{"resourceType", "OperationOutcome"},
       {"issue", fhir::JsonValue::array({fhir::JsonValue::object(
                     {{"severity", "error"}, {"code", code}, {"diagnostics", message}})})}});
  return {status, "application/json", body.dump(), "", "", {}};
}

CdsService::CdsService(const mappings::CodeTables& tables, const RuleThresholds& thresholds,
                       CdsServiceOptions options, EhrFetch fetch, Metrics& metrics, Logger& log)
    : tables_(tables),
      thresholds_(thresholds),
      options_(std::move(options)),
      fetch_(std::move(fetch)),
      metrics_(metrics),
      log_(log),
      templates_(prefetch_templates(tables, options_.settings.pull)) {}

ServeReply CdsService::handle(std::string_view method, std::string_view path,
                              std::string_view body) {
  path = path.substr(0, path.find('?'));
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::string service = std::string(kPrefix) + "/" + kCdsServiceId;
  auto only = [&](std::string_view allowed) {
    ServeReply r = error_reply(405, "not-supported", "method not allowed");
    r.allow = std::string(allowed);
    return r;
  };
  if (path == kPrefix) return method == "GET" ? discovery() : only("GET");
  if (path == service) return method == "POST" ? patient_view(body) : only("POST");
  if (path == service + "/feedback") return method == "POST" ? feedback(body) : only("POST");
  return error_reply(404, "not-found", "no such CDS service; GET /cds-services lists them");
}

ServeReply CdsService::discovery() const { return json_reply(discovery_document(templates_)); }

ServeReply CdsService::patient_view(std::string_view body) {
  CdsRequest request;
  try {
    request = parse_cds_request(body, "patient-view", options_.max_body_bytes);
  } catch (const CdsRequestError& e) {
    return error_reply(e.status(), e.status() == 413 ? "too-costly" : "invalid", e.what());
  }
  std::optional<mappings::PatientRecord> record;
  const std::vector<std::string> missing = missing_prefetch(request, templates_);
  try {
    if (missing.empty()) {
      record = record_from_prefetch(request, templates_);
    } else if (!request.fhir_server.empty() && !request.access_token.empty() && fetch_) {
      if (fhir::is_cleartext_remote(request.fhir_server)) {
        return error_reply(400, "security",
                           "fhirServer is plain http to another host: its token is not sent "
                           "there; use https");
      }
      // What the EHR sent, completed from its server: only the missing keys
      // are read, and the record is built from the whole as from a full
      // prefetch, checked the same way.
      const fhir::JsonValue fetched =
          fetch_(request.fhir_server, request.access_token, request.patient_id, missing);
      complete_prefetch(request, missing, fetched);
      record = record_from_prefetch(request, templates_);
    } else {
      return error_reply(412, "required",
                         "prefetch incomplete (missing: " + join(missing, 5) +
                             ") and no fhirServer with fhirAuthorization to fetch the rest from");
    }
  } catch (const CdsRequestError& e) {
    return error_reply(e.status(), "invalid", e.what());
  } catch (const std::exception& e) {
    const Classification c = classify(e);
    log_.warn("cds.fetch_failed", {{"patient", request.patient_id},
                                   {"kind", error_kind_name(c.kind)},
                                   {"error", fhir::safe_text(e.what())}});
    const int status = c.kind == ErrorKind::kNotFound ? 404 : 502;
    return error_reply(status, "exception",
                       std::string("fhirServer: ") + error_kind_name(c.kind) +
                           " while reading the patient's record");
  }
  PipelineSettings settings = options_.settings;
  if (options_.today) settings.as_of = options_.today();
  const fhir::DateTime as_of = settings.as_of;
  Pipeline pipeline(nullptr, tables_, thresholds_, std::move(settings));
  const PatientRun run = pipeline.build_offline(*record);
  if (run.outcome.kind == OutcomeKind::kFailed) {
    return error_reply(422, "processing",
                       "no plan could be built: " + fhir::safe_text(run.outcome.detail, 200));
  }
  log_.info("cds.patient_view", {{"patient", request.patient_id},
                                 {"outcome", outcome_name(run.outcome.kind)},
                                 {"prefetch", missing.empty() ? "complete" : "fetched"}});
  std::string link;
  if (options_.review_link && run.derivation && run.derivation->plan.applicable) {
    link = options_.review_link(request.patient_id, run, as_of, request.fhir_server);
  }
  return json_reply(cards_response(run, request.hook_instance, options_.source, link));
}

ServeReply CdsService::feedback(std::string_view body) {
  fhir::ParseLimits limits;
  limits.max_bytes = options_.max_body_bytes;
  if (body.size() > limits.max_bytes) return error_reply(413, "too-costly", "body too large");
  try {
    const auto doc = fhir::JsonDocument::parse(body, limits);
    const fhir::Node items = doc.root()["feedback"];
    if (!items.is_array() || items.elements().empty()) {
      return error_reply(400, "invalid", "feedback must be a non-empty array");
    }
    for (fhir::Node f : items.elements()) {
      const auto card = f.string("card");
      const auto outcome = f.string("outcome");
      if (!card || !outcome || (*outcome != "accepted" && *outcome != "overridden")) {
        return error_reply(400, "invalid",
                           "each feedback needs card and outcome (accepted or overridden)");
      }
    }
    // Counted and logged only once the whole body is valid: a bad item
    // records nothing.
    for (fhir::Node f : items.elements()) {
      const std::string outcome(*f.string("outcome"));
      std::string reason;
      if (auto r = f.object("overrideReason").object("reason").string("code")) reason = *r;
      metrics_.count("mst_cds_feedback_total", outcome);
      log_.info("cds.feedback", {{"card", fhir::safe_text(*f.string("card"), 64)},
                                 {"outcome", outcome},
                                 {"reason", fhir::safe_text(reason, 64)}});
    }
  } catch (const fhir::Error& e) {
    return error_reply(400, "invalid", "feedback: " + fhir::safe_text(e.what(), 200));
  }
  return {200, "application/json", "{}", "", "", {}};
}

}  // namespace mst::adapter
