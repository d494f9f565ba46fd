#include "mst/adapter/cli/app.h"

#include "mst/adapter/cli/exit_codes.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter::cli {

namespace {

void print_help(std::ostream& out) {
  out << "usage: mst-adapter COMMAND [options]\n"
         "       mst-adapter COMMAND --help\n"
         "       mst-adapter --version\n\n"
         "Proposes draft care plans for patients with metastatic spinal tumours from FHIR R4 "
         "data.\n\n"
         "commands:\n";
  std::size_t width = 0;
  for (const Command* c : commands()) width = std::max(width, c->name.size());
  for (const Command* c : commands()) {
    out << "  " << c->name << std::string(width - c->name.size() + 2, ' ') << c->summary << "\n";
  }
  out << "\nexit codes: docs/exit-codes.md\n";
}

void print_command_help(const Command& c, std::ostream& out) {
  out << "usage: mst-adapter " << c.synopsis << "\n\n" << c.summary << "\n";
  if (!c.description.empty()) out << "\n" << c.description << "\n";
  if (!c.options.empty()) out << "\noptions:\n" << format_options(c.options);
}

// One line: the message without line breaks.
// Error text may quote a server: no escape sequence reaches the terminal.
std::string one_line(const std::string& s) { return fhir::printable(s); }

}  // namespace

int run_cli(const std::vector<std::string>& args, Context& context) {
  if (args.empty()) {
    print_help(context.err);
    return kUsage;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    print_help(context.out);
    return kSuccess;
  }
  if (first == "--version") {
    context.out << "mst-adapter " << MST_VERSION << "\n";
    return kSuccess;
  }
  const Command* command = find_command(first);
  try {
    if (!command) throw UsageError("unknown command '" + first + "'");
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (std::find(rest.begin(), rest.end(), "--help") != rest.end()) {
      print_command_help(*command, context.out);
      return kSuccess;
    }
    ParsedArgs parsed = parse_args(rest, command->options);
    if (command->positional.empty() && !parsed.positionals.empty()) {
      throw UsageError("unexpected argument '" + parsed.positionals.front() + "'");
    }
    return command->run(parsed, context);
  } catch (const UsageError& e) {
    context.err << "mst-adapter: " << one_line(e.what()) << " (see mst-adapter "
                << (command ? command->name + " --help" : std::string("--help")) << ")\n";
    return kUsage;
  } catch (const std::exception& e) {
    const ExitCode code = exit_code_for(e);
    context.err << "mst-adapter: " << (code == kInternal ? "internal error: " : "")
                << one_line(e.what()) << "\n";
    return code;
  } catch (...) {
    context.err << "mst-adapter: internal error: unknown exception\n";
    return kInternal;
  }
}

}  // namespace mst::adapter::cli
