// `mst-adapter check`: can this server serve the adapter?
#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/requirements.h"
#include "cli/server_options.h"

namespace mst::adapter::cli {

namespace {

int run_check(const ParsedArgs& args, Context& context) {
  const auto options = server_options();
  Connection connection = connect(resolve_config(args, options, context), context);
  const fhir::Capabilities caps = connection.client->capabilities();

  std::ostream& out = context.out;
  out << "server:   " << fhir::redact_url(connection.client->base_url()) << "\n";
  out << "software: " << (caps.software.empty() ? "(not stated)" : caps.software) << "\n";
  out << "fhir:     " << (caps.fhir_version.empty() ? "(not stated)" : caps.fhir_version) << "\n";
  int missing = 0;
  for (const RequirementCheck& check : check_requirements(caps)) {
    out << (check.met ? "  ok       " : "  MISSING  ") << check.what;
    if (!check.met) {
      out << ": " << check.detail;
      ++missing;
    }
    out << "\n";
  }
  if (missing == 0) {
    out << "result: the server supports everything the adapter needs\n";
    return kSuccess;
  }
  out << "result: " << missing << " requirement(s) not met\n";
  return kNothingToDo;
}

const bool registered = register_command({
    "check",
    "check that a FHIR server supports what the adapter needs",
    "check --server URL [auth options]",
    "",
    "Reads the server's CapabilityStatement (GET [base]/metadata) and reports, one line each,\n"
    "whether it is FHIR 4.0.x and declares the reads, searches, writes, conditional updates and\n"
    "system transaction the adapter uses. Exits 0 when all are met, 1 when any is not.",
    server_options(),
    run_check,
});

}  // namespace

}  // namespace mst::adapter::cli
