#include "mst/adapter/serve/review_service.h"

#include "mst/adapter/serve/review_page.h"
#include "mst/fhir/datatypes.h"
#include "mst/fhir/error_kind.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

constexpr std::string_view kPrefix = "/review/";

ServeReply html(int status, std::string body) {
  return {status, "text/html; charset=utf-8", std::move(body), "", "", {}};
}

ServeReply message(int status, std::string_view title, std::string_view text) {
  return html(status, review_message_html(title, text));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
               hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "https://host:port" of a URL: scheme and authority, nothing after.
std::string origin_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto end = url.find('/', scheme + 3);
  return std::string(url.substr(0, end));
}

}  // namespace

std::string form_value(std::string_view encoded, std::string_view name) {
  while (!encoded.empty()) {
    const auto amp = encoded.find('&');
    const std::string_view pair = encoded.substr(0, amp);
    const auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    encoded.remove_prefix(amp + 1);
  }
  return "";
}

ReviewService::ReviewService(ReviewStore& store, std::string public_url, ReviewWrite write,
                             std::string no_write_reason, Logger& log)
    : store_(store),
      public_url_(std::move(public_url)),
      write_(std::move(write)),
      no_write_reason_(std::move(no_write_reason)),
      log_(log) {}

bool ReviewService::owns(std::string_view path) { return path.starts_with(kPrefix); }

std::string ReviewService::link(const std::string& patient_id, const std::string& id) const {
  return public_url_ + std::string(kPrefix) + patient_id + "?t=" + id;
}

ServeReply ReviewService::handle(std::string_view method, std::string_view path_and_query,
                                 std::string_view body, const BrowserHeaders& headers) {
  const auto q = path_and_query.find('?');
  const std::string_view path = path_and_query.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view{} : path_and_query.substr(q + 1);
  std::string_view rest = path.substr(kPrefix.size());
  const bool is_write = rest.ends_with("/write");
  if (is_write) rest.remove_suffix(std::string_view("/write").size());
  const std::string patient(rest);
  if (!fhir::is_fhir_id(patient)) {
    return message(404, "Not found", "There is no review page at this address.");
  }
  const std::string_view want = is_write ? "POST" : "GET";
  if (method != want && !(method == "HEAD" && !is_write)) {
    ServeReply r =
        message(405, "Method not allowed", "This address answers " + std::string(want) + " only.");
    r.allow = std::string(want);
    return r;
  }
  if (is_write) return write(patient, body, headers);
  return page(patient, form_value(query, "t"));
}

ServeReply ReviewService::page(const std::string& patient, const std::string& id) {
  const ReviewLookup found = store_.get(id, patient);
  if (found.status == ReviewStatus::kExpired) {
    return message(410, "This review link has expired",
                   "Review links are kept for a short time only. Open the patient's chart in "
                   "the EHR again for a fresh card and link.");
  }
  if (found.status != ReviewStatus::kFound) {
    return message(404, "Review link not recognised",
                   "This link is unknown or no longer kept (links are not shared between "
                   "service instances and do not survive a restart). Open the patient's chart "
                   "in the EHR again for a fresh card and link.");
  }
  const ReviewEntry& entry = *found.entry;
  ReviewPageInput in;
  in.derivation = &entry.derivation;
  in.patient_id = patient;
  in.fhir_base = entry.fhir_base;
  if (!write_) {
    in.no_write_reason = no_write_reason_;
  } else if (store_.used(id)) {
    in.no_write_reason =
        "This page has already written its draft once. Open the chart again to review a "
        "newer one.";
  } else {
    in.write_action = std::string(kPrefix) + patient + "/write";
    in.review_id = id;
    in.write_token = entry.write_token;
  }
  return html(200, review_page_html(in));
}

ServeReply ReviewService::write(const std::string& patient, std::string_view body,
                                const BrowserHeaders& headers) {
  // A form posted from another site is refused before the token is looked
  // at: the browser names where the request came from.
  if (!headers.origin.empty() && headers.origin != origin_of(public_url_)) {
    log_.warn("review.refused", {{"patient", patient}, {"why", "cross-origin"}});
    return message(403, "Refused", "The write must come from this service's own review page.");
  }
  if (!headers.sec_fetch_site.empty() && headers.sec_fetch_site != "same-origin" &&
      headers.sec_fetch_site != "none") {
    log_.warn("review.refused", {{"patient", patient}, {"why", "cross-site"}});
    return message(403, "Refused", "The write must come from this service's own review page.");
  }
  if (!write_) return message(409, "Not written", no_write_reason_);
  const ReviewLookup claimed =
      store_.claim(form_value(body, "t"), patient, form_value(body, "write_token"));
  switch (claimed.status) {
    case ReviewStatus::kFound:
      break;
    case ReviewStatus::kUsed:
      return message(409, "Already written",
                     "This review page has written its draft already; a second write is "
                     "refused. Open the chart again to review a newer draft.");
    case ReviewStatus::kExpired:
      return message(410, "This review link has expired",
                     "Nothing was written. Open the patient's chart in the EHR again.");
    case ReviewStatus::kBadToken:
      log_.warn("review.refused", {{"patient", patient}, {"why", "bad write token"}});
      return message(403, "Refused", "The form's token does not match; nothing was written.");
    case ReviewStatus::kUnknown:
      return message(404, "Review link not recognised",
                     "Nothing was written. Open the patient's chart in the EHR again.");
  }
  PatientOutcome out;
  try {
    out = write_(*claimed.entry);
  } catch (const std::exception& e) {
    const Classification c = classify(e);
    out.kind = OutcomeKind::kFailed;
    out.error_kind = c.kind;
    out.detail = fhir::safe_text(e.what());
  }
  log_.info("review.write", {{"patient", patient},
                             {"outcome", outcome_name(out.kind)},
                             {"plan", out.plan_ref},
                             {"reason", skip_reason_name(out.skip_reason)}});
  const std::string plan = out.plan_ref.empty() ? "the draft" : out.plan_ref;
  switch (out.kind) {
    case OutcomeKind::kWritten:
      return message(
          200, "Written",
          "Written: " + plan +
              (out.plan_version.empty() ? std::string() : " (version " + out.plan_version + ")") +
              " is in the record as a draft for the team's review.");
    case OutcomeKind::kUnchanged:
      return message(200, "Unchanged",
                     "Unchanged: " + plan + " already says this; nothing was written.");
    case OutcomeKind::kBuilt:
      return message(200, "Not sent", "Built but not sent (dry run): " + out.detail);
    case OutcomeKind::kSkipped:
      return message(409, "Refused by the write-back",
                     "Nothing was written: " + fhir::safe_text(out.detail, 400));
    case OutcomeKind::kFailed:
      break;
  }
  return message(502, "Not written",
                 std::string("Nothing was written: the FHIR server failed (") +
                     error_kind_name(out.error_kind) + "): " + fhir::safe_text(out.detail, 300));
}

}  // namespace mst::adapter
