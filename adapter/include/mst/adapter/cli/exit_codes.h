// The exit code of an error that ends a command. The codes themselves
// (mst::ExitCode) and the kinds they stand for are the project's error
// vocabulary, mst/fhir/error_kind.h; docs/exit-codes.md documents them.
#pragma once

#include <exception>

#include "mst/fhir/error_kind.h"

namespace mst::adapter::cli {

// classify(e).exit_code: the one mapping, shared with failed patients' outcomes.
ExitCode exit_code_for(const std::exception& e);

}  // namespace mst::adapter::cli
