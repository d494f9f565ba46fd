#include "mst/fhir/client_errors.h"

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
  s += reason;
  if (!outcome.empty()) s += " [" + outcome + "]";
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

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
