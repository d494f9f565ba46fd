// The project's one error vocabulary: a closed set of kinds, the exit code and
// label of each, and classify(), which every place that turns an exception into
// an outcome, a metric or an exit code uses (docs/exit-codes.md). It lives in
// the lowest layer that throws, so fhir, mappings and adapter errors share it.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mst {

enum class ErrorKind {
  kConfiguration,   // arguments, configuration, tables, thresholds, population, state file
  kInvalidRequest,  // the client would not send what was asked (malformed id or type)
  kInput,           // data that cannot be read: malformed JSON, wrong types, unusable record
  kUnreachable,     // no answer: connect, DNS, TLS, timeout, overall deadline
  kAuth,            // credentials refused or unobtainable
  kNotFound,        // 404 or 410
  kConflict,        // the resource changed under us, or a person must resolve a clash
  kRejected,        // any other final HTTP error status
  kServer,          // an answer that cannot be used, a failed bulk export
  kIncomplete,      // a search stopped before its last page when all was required
  kInternal,        // a bug, or an exception the project does not own
};

// The process exit codes of mst-adapter: stable across releases.
enum ExitCode : int {
  kSuccess = 0,
  kNothingToDo = 1,  // also: `check` found the server lacking
  kUsage = 2,        // bad arguments or configuration
  kUnreachable = 3,  // no answer from the server (connect, TLS, timeout, deadline)
  kAuthFailed = 4,   // credentials refused or unobtainable at the server
  kPartial = 5,      // some items succeeded, some failed
  kRejected = 6,     // the server refused the request (4xx/5xx, unusable answer)
  kInternal = 70,    // a bug (EX_SOFTWARE)
};

// The stable label of a kind in logs, metrics (mst_failures_total{kind}) and
// JSON output, e.g. "not-found".
const char* error_kind_name(ErrorKind kind);

// The exit code a command ends with when an error of `kind` ends it.
ExitCode exit_code(ErrorKind kind);

// Whether trying the same thing later may succeed, for errors of `kind` that
// say nothing more specific (an HTTP status refines kRejected).
bool retryable_by_default(ErrorKind kind);

// Base of every error the project throws: each class says what kind it is.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual ErrorKind error_kind() const = 0;
  virtual bool retryable() const { return retryable_by_default(error_kind()); }
};

struct Classification {
  ErrorKind kind = ErrorKind::kInternal;
  bool retryable = true;  // an unknown failure may be passing
  ExitCode exit_code = kInternal;
};

// What an exception means: a project Error's own kind and retryability; any
// other exception is internal (and retryable, as it may have been passing).
Classification classify(const std::exception& e);

}  // namespace mst
