// The mst-adapter entry point without the process around it: parses the
// command line, dispatches to a subcommand and turns every error into one
// line on `err` and an exit code.
#pragma once

#include <string>
#include <vector>

#include "mst/adapter/cli/command.h"

namespace mst::adapter::cli {

// `args` excludes the program name. Never throws.
int run_cli(const std::vector<std::string>& args, Context& context);

}  // namespace mst::adapter::cli
