// Command-line parsing for mst-adapter: long options only ("--name value",
// "--name=value", value-less flags), positionals, and "--" to end options.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/error_kind.h"

namespace mst::adapter::cli {

// The command line is wrong: exit code 2 with the message and a usage hint.
class UsageError : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kConfiguration; }
};

struct OptionSpec {
  std::string name;        // without dashes: "server"
  std::string value_name;  // "URL"; empty for a flag that takes no value
  std::string help;        // one line
  // The configuration key (config.h) this option sets, or empty when the
  // command reads it itself. A flag sets its key to "true".
  std::string config_key;
  // The value a flag gives its key, when not "true" (e.g. tls_verify=false).
  std::string flag_value = "true";
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>, std::less<>> options;  // in given order
  std::vector<std::string> positionals;

  bool has(std::string_view name) const { return options.find(name) != options.end(); }
  // The last value given for `name`.
  std::optional<std::string> get(std::string_view name) const;
};

// Throws UsageError naming the offending argument: unknown option, missing
// value, a value given to a flag.
ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs);

// Aligned "  --name VALUE   help" lines for --help.
std::string format_options(const std::vector<OptionSpec>& specs);

}  // namespace mst::adapter::cli
