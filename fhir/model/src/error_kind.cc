#include "mst/fhir/error_kind.h"

namespace mst {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfiguration:
      return "configuration";
    case ErrorKind::kInvalidRequest:
      return "invalid-request";
    case ErrorKind::kInput:
      return "input";
    case ErrorKind::kUnreachable:
      return "unreachable";
    case ErrorKind::kAuth:
      return "auth";
    case ErrorKind::kNotFound:
      return "not-found";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kRejected:
      return "rejected";
    case ErrorKind::kServer:
      return "server";
    case ErrorKind::kIncomplete:
      return "incomplete";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

ExitCode exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfiguration:
    case ErrorKind::kInvalidRequest:
      return kUsage;
    case ErrorKind::kUnreachable:
      return kUnreachable;
    case ErrorKind::kAuth:
      return kAuthFailed;
    case ErrorKind::kIncomplete:
      return kPartial;
    // A record the adapter cannot use is the server's answer, like a refusal.
    case ErrorKind::kInput:
    case ErrorKind::kNotFound:
    case ErrorKind::kConflict:
    case ErrorKind::kRejected:
    case ErrorKind::kServer:
      return kRejected;
    case ErrorKind::kInternal:
      return kInternal;
  }
  return kInternal;
}

bool retryable_by_default(ErrorKind kind) {
  switch (kind) {
    // The server was silent or refused the credentials: both pass (a network
    // heals, a secret is rotated) without the data changing.
    case ErrorKind::kUnreachable:
    case ErrorKind::kAuth:
    case ErrorKind::kConflict:  // a re-read sees the new version
    case ErrorKind::kServer:
    case ErrorKind::kIncomplete:
      return true;
    // These pass only when data, configuration or code change.
    case ErrorKind::kConfiguration:
    case ErrorKind::kInvalidRequest:
    case ErrorKind::kInput:
    case ErrorKind::kNotFound:
    case ErrorKind::kRejected:
    case ErrorKind::kInternal:
      return false;
  }
  return false;
}

Classification classify(const std::exception& e) {
  Classification c;
  if (const auto* own = dynamic_cast<const Error*>(&e)) {
    c.kind = own->error_kind();
    c.retryable = own->retryable();
  }
  c.exit_code = exit_code(c.kind);
  return c;
}

}  // namespace mst
