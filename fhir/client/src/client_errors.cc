#include "mst/fhir/client_errors.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "mst/fhir/retry_policy.h"
#include "mst/fhir/safe_text.h"
#include "mst/fhir/url.h"

namespace mst::fhir {

namespace {

std::string describe(const std::string& method, const std::string& url, int status,
                     const std::string& outcome, const std::string& reason) {
  std::string s = method.empty() ? std::string() : method + " " + url + ": ";
  if (status != 0) {
    s += "HTTP " + std::to_string(status);
    if (auto phrase = status_reason(status); !phrase.empty()) {
      s += ' ';
      s.append(phrase);
    }
    if (!reason.empty()) s += ": ";
  }
  s += safe_text(reason);
  if (!outcome.empty()) s += " [" + outcome + "]";
  return printable(s);
}

// FHIR R4 IssueType (http://hl7.org/fhir/R4/valueset-issue-type.html).
constexpr std::array<std::string_view, 31> kIssueTypes{
    "invalid",       "structure", "required",         "value",         "invariant",  "security",
    "login",         "unknown",   "expired",          "forbidden",     "suppressed", "processing",
    "not-supported", "duplicate", "multiple-matches", "not-found",     "deleted",    "too-long",
    "code-invalid",  "extension", "too-costly",       "business-rule", "conflict",   "transient",
    "lock-error",    "no-store",  "exception",        "timeout",       "incomplete", "throttled",
    "informational"};
constexpr std::array<std::string_view, 4> kSeverities{"fatal", "error", "warning", "information"};

template <std::size_t N>
bool known(const std::array<std::string_view, N>& set, const std::string& value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

// The "HAPI-1234" message ids in `text`, space-separated (at most three):
// HAPI nests them, "HAPI-0550: HAPI-0989: ...", and the inner one says what
// went wrong.
std::string hapi_message_ids(const std::string& text) {
  std::string out;
  int n = 0;
  for (auto pos = text.find("HAPI-"); pos != std::string::npos && n < 3;
       pos = text.find("HAPI-", pos + 1)) {
    std::size_t end = pos + 5;
    while (end < text.size() && end - pos < 9 &&
           std::isdigit(static_cast<unsigned char>(text[end])))
      ++end;
    const bool four_digits = end - pos == 9;
    const bool alone = end == text.size() || !std::isalnum(static_cast<unsigned char>(text[end]));
    const bool preceded = pos > 0 && std::isalnum(static_cast<unsigned char>(text[pos - 1]));
    if (four_digits && alone && !preceded) {
      out += (out.empty() ? "" : " ") + text.substr(pos, 9);
      ++n;
    }
  }
  return out;
}

bool scope_char(char c, bool type_part) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '*' ||
         (type_part && std::isdigit(static_cast<unsigned char>(c)));
}

// The SMART scopes `text` names ("system/Procedure.rs", "patient/*.read"):
// a 403 is only actionable with them, and they name no patient.
std::vector<std::string> smart_scopes_in(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view context : {"system/", "user/", "patient/"}) {
    for (auto pos = text.find(context); pos != std::string::npos;
         pos = text.find(context, pos + 1)) {
      if (pos > 0 && std::isalnum(static_cast<unsigned char>(text[pos - 1]))) continue;
      std::size_t end = pos + context.size();
      const std::size_t type_start = end;
      while (end < text.size() && scope_char(text[end], true)) ++end;
      if (end == type_start || end >= text.size() || text[end] != '.') continue;
      const std::size_t perm_start = ++end;
      while (end < text.size() && scope_char(text[end], false)) ++end;
      if (end == perm_start || end - pos > 60) continue;
      std::string scope = text.substr(pos, end - pos);
      if (std::find(out.begin(), out.end(), scope) == out.end() && out.size() < 4)
        out.push_back(std::move(scope));
    }
  }
  return out;
}

}  // namespace

bool HttpStatusError::retryable() const {
  // Other 4xx rejections will not pass until data or code change.
  return status() >= 500 || is_retryable_status(status());
}

ClientError::ClientError(std::string method, std::string_view url, int status, std::string outcome,
                         const std::string& reason)
    : Error(describe(method, redact_url(url), status, outcome, reason)),
      method_(std::move(method)),
      url_(redact_url(url)),
      status_(status),
      outcome_(std::move(outcome)) {}

std::string redact_secret(std::string text, std::string_view secret) {
  if (secret.size() < 4) return text;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
    text.replace(pos, secret.size(), "***");
  }
  return text;
}

std::string outcome_summary(const std::vector<OutcomeIssue>& issues) {
  constexpr std::size_t kMaxIssues = 3;
  std::string s;
  for (std::size_t n = 0; n < issues.size() && n < kMaxIssues; ++n) {
    const OutcomeIssue& i = issues[n];
    if (!s.empty()) s += "; ";
    s += known(kSeverities, i.severity) ? i.severity : "issue";
    if (known(kIssueTypes, i.code)) s += " (" + i.code + ")";
    if (auto ids = hapi_message_ids(i.diagnostics); !ids.empty()) s += " " + ids;
    for (const auto& scope : smart_scopes_in(i.diagnostics)) s += " scope " + scope;
  }
  if (issues.size() > kMaxIssues) s += "; " + std::to_string(issues.size() - kMaxIssues) + " more";
  return s;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return {};
  }
}

}  // namespace mst::fhir
