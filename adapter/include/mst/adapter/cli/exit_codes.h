// The process exit codes of mst-adapter (documented in docs/exit-codes.md)
// and the mapping from the errors that reach the top of a command.
#pragma once

#include <exception>

namespace mst::adapter::cli {

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

// The exit code for an error that ended a command.
ExitCode exit_code_for(const std::exception& e);

}  // namespace mst::adapter::cli
