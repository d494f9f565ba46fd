// The subcommand table. Each subcommand lives in one file under
// cli/commands/ and adds itself with register_command(); nothing else needs
// to change to add one.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "mst/adapter/cli/args.h"
#include "mst/fhir/clock.h"
#include "mst/fhir/http_transport.h"

namespace mst::adapter::cli {

using TransportFactory =
    std::function<std::shared_ptr<fhir::HttpTransport>(const fhir::TransportOptions&)>;

// What a command may touch besides its arguments; injected so commands run
// in tests without a network, a real clock or the process environment.
struct Context {
  std::ostream& out;
  std::ostream& err;
  std::map<std::string, std::string> env;
  TransportFactory make_transport;
  std::shared_ptr<fhir::Clock> clock = fhir::system_clock();
};

struct Command {
  std::string name;
  std::string summary;      // one line, for `mst-adapter --help`
  std::string synopsis;     // "check --server URL [auth options]"
  std::string positional;   // "FILE..." when it takes positionals; empty when none
  std::string description;  // a few lines for `mst-adapter NAME --help`
  std::vector<OptionSpec> options;
  // Returns the exit code; throws for errors (mapped by exit_code_for).
  std::function<int(const ParsedArgs&, Context&)> run;
};

// Adds a command to the table; returns true so a file can register at
// static-initialization time: `const bool registered = register_command(...)`.
bool register_command(Command command);
// Every registered command, sorted by name.
std::vector<const Command*> commands();
const Command* find_command(const std::string& name);

}  // namespace mst::adapter::cli
