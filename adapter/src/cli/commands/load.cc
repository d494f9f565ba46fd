// `mst-adapter load`: POST transaction or batch Bundles (e.g. fixture
// patients) to a server and report each entry's outcome.
#include "input_file.h"
#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/cli/server_options.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/resource.h"

namespace mst::adapter::cli {

namespace {

std::string read_file(const std::string& path) {
  return read_input_file(path, fhir::ParseLimits{}.max_bytes, "Bundle file");
}

bool is_success(std::string_view status) { return !status.empty() && status.front() == '2'; }

struct EntryCounts {
  int ok = 0;
  int failed = 0;
};

// Prints one line per entry.
EntryCounts report_entries(const std::string& path, const fhir::FhirResponse& response,
                           std::ostream& out) {
  int ok = 0;
  int failed = 0;
  int index = 0;
  for (fhir::Node entry : response.resource().array("entry")) {
    ++index;
    if (!entry.is_object()) continue;
    fhir::Node result = entry.object("response");
    const std::string_view status = result.string("status").value_or("");
    const std::string_view location = result.string("location").value_or("");
    out << path << ": entry " << index << ": " << (status.empty() ? "(no status)" : status);
    if (!location.empty()) out << " " << location;
    if (is_success(status)) {
      ++ok;
    } else {
      ++failed;
      // The diagnostics are kept here: an engineer loading their own test
      // data needs "Condition.code is required" (summarize_issues keeps it
      // printable).
      const std::string outcome =
          fhir::summarize_issues(fhir::read_outcome_issues(result["outcome"]));
      if (!outcome.empty()) out << " [" << outcome << "]";
    }
    out << "\n";
  }
  return {ok, failed};
}

int run_load(const ParsedArgs& args, Context& context) {
  if (args.positionals.empty()) throw UsageError("load needs at least one Bundle FILE");
  Connection connection = connect(resolve_config(args, server_options(), context), context);

  int files_ok = 0;
  int files_failed = 0;
  int entries_ok = 0;
  int entries_failed = 0;
  ExitCode first_failure = kSuccess;
  for (const std::string& path : args.positionals) {
    try {
      const fhir::FhirResponse response = connection.client->transaction(read_file(path));
      fhir::Bundle bundle(response.resource());  // throws when the answer is not a Bundle
      const EntryCounts counts = report_entries(path, response, context.out);
      entries_ok += counts.ok;
      entries_failed += counts.failed;
      if (counts.failed == 0) {
        ++files_ok;
      } else {
        ++files_failed;
        if (first_failure == kSuccess) first_failure = kRejected;
      }
    } catch (const std::exception& e) {
      // The next file would meet the same silence or refusal, or the same bug.
      const Classification c = classify(e);
      if (c.kind == ErrorKind::kUnreachable || c.kind == ErrorKind::kAuth ||
          c.kind == ErrorKind::kInternal) {
        throw;
      }
      ++files_failed;
      const ExitCode code = c.exit_code;
      if (first_failure == kSuccess) first_failure = code;
      context.out << path << ": FAILED: " << e.what() << "\n";
    }
  }
  context.out << "loaded " << files_ok << " of " << (files_ok + files_failed) << " file(s)";
  if (entries_failed > 0)
    context.out << "; " << entries_failed << " entr" << (entries_failed == 1 ? "y" : "ies")
                << " failed";
  context.out << "\n";
  if (files_failed == 0) return kSuccess;
  if (files_ok > 0 || entries_ok > 0) return kPartial;
  return first_failure;
}

const bool registered = register_command({
    "load",
    "POST transaction or batch Bundle files to the server, reporting each entry",
    "load --server URL [auth options] FILE...",
    "FILE...",
    "Sends each FILE (a FHIR Bundle of type transaction or batch) to the server's base URL and\n"
    "prints one line per entry with the server's status and location. Used to load fixture\n"
    "patients into a test server. Exits 0 when every entry succeeded, 5 when some did, and\n"
    "otherwise the code of the first failure (docs/exit-codes.md).",
    server_options(),
    run_load,
});

}  // namespace

}  // namespace mst::adapter::cli
