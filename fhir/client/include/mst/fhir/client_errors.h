// Typed errors of the FHIR client. Each carries the method, the URL without
// query values, the HTTP status (0 when there was no response) and a one-line
// summary of the server's OperationOutcome. what() is one line that is safe
// to log and to show on /readyz: no token, secret, search value, resource
// body, patient-identifying text or control character (docs/reliability.md).
#pragma once

#include <string>

#include "mst/fhir/errors.h"
#include "mst/fhir/http_transport.h"
#include "mst/fhir/resource.h"

namespace mst::fhir {

class ClientError : public Error {
 public:
  // `url` is redacted here; `reason` is the human part of the message and
  // goes through safe_text(), as it may quote a server or the network.
  ClientError(std::string method, std::string_view url, int status, std::string outcome,
              const std::string& reason);

  const std::string& method() const { return method_; }
  const std::string& url() const { return url_; }  // redacted
  int status() const { return status_; }
  // outcome_summary() of the OperationOutcome the server sent, or empty.
  const std::string& outcome() const { return outcome_; }
  // A failure of the exchange that no subclass names more closely.
  ErrorKind error_kind() const override { return ErrorKind::kServer; }

 private:
  std::string method_;
  std::string url_;
  int status_;
  std::string outcome_;
};

// The server answered with a final error status (after any retries).
class HttpStatusError : public ClientError {
 public:
  using ClientError::ClientError;
  ErrorKind error_kind() const override { return ErrorKind::kRejected; }
  // 5xx, 408 and 429: the server did not act on the request ("not now").
  bool retryable() const override;
};

// 404 Not Found or 410 Gone.
class NotFound : public HttpStatusError {
 public:
  using HttpStatusError::HttpStatusError;
  ErrorKind error_kind() const override { return ErrorKind::kNotFound; }
};

// The resource changed since the version the caller had: 409 (HAPI) or 412
// (the R4 specification) to an update carrying If-Match.
class VersionConflict : public HttpStatusError {
 public:
  using HttpStatusError::HttpStatusError;
  ErrorKind error_kind() const override { return ErrorKind::kConflict; }
  bool retryable() const override { return true; }  // a re-read sees the new version
};

// Credentials were refused (401 after one re-authentication, 403) or could
// not be obtained (token endpoint, key, secret source).
class AuthError : public ClientError {
 public:
  using ClientError::ClientError;
  ErrorKind error_kind() const override { return ErrorKind::kAuth; }
};

// No HTTP response: connection refused, DNS, TLS or a per-attempt timeout,
// after the retries the policy allows.
class ServerUnreachable : public ClientError {
 public:
  ServerUnreachable(std::string method, std::string_view url, TransportError::Kind kind,
                    const std::string& reason)
      : ClientError(std::move(method), url, 0, "", reason), kind_(kind) {}
  TransportError::Kind kind() const { return kind_; }
  ErrorKind error_kind() const override { return ErrorKind::kUnreachable; }
  bool timed_out() const { return kind_ == TransportError::Kind::kTimeout; }

 private:
  TransportError::Kind kind_;
};

// The operation's overall deadline passed before it could succeed (a 5xx
// storm, long Retry-After or a hanging server).
class DeadlineExceeded : public ClientError {
 public:
  using ClientError::ClientError;
  ErrorKind error_kind() const override { return ErrorKind::kUnreachable; }
};

// A success status with a body the client cannot use (not JSON, wrong
// resource type), or a protocol violation such as a next link to another
// origin.
class InvalidResponse : public ClientError {
 public:
  using ClientError::ClientError;
  ErrorKind error_kind() const override { return ErrorKind::kServer; }
};

// The caller asked for something the client will not send (malformed id or
// type, a body of another resource type).
class InvalidRequest : public ClientError {
 public:
  using ClientError::ClientError;
  ErrorKind error_kind() const override { return ErrorKind::kInvalidRequest; }
};

// A search stopped before the server's last page (a bound, a repeated or
// foreign next link) and the caller asked for the complete result.
class SearchIncomplete : public ClientError {
 public:
  using ClientError::ClientError;
  ErrorKind error_kind() const override { return ErrorKind::kIncomplete; }
};

// `text` with every occurrence of `secret` replaced by "***" (for server
// text that may echo a credential back). Secrets under 4 bytes are left alone.
std::string redact_secret(std::string text, std::string_view secret);

// The server's issues in a fixed vocabulary: severity, IssueType code, any
// HAPI message id and any SMART scope named (so a 403 says which scope is
// missing), e.g. "error (forbidden) scope system/Procedure.s". The free text
// (diagnostics, details) is dropped: servers quote names, birth dates and
// identifiers there, and echo request headers.
std::string outcome_summary(const std::vector<OutcomeIssue>& issues);

// Reason phrase of common statuses ("Not Found"), or empty.
std::string_view status_reason(int status);

}  // namespace mst::fhir
