// `mst-adapter check`: can this server serve the adapter?
#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/requirements.h"
#include "cli/server_options.h"
#include "mst/adapter/fhir_change_feed.h"
#include "mst/adapter/server_interactions.h"

namespace mst::adapter::cli {

namespace {

// With SMART auth: a token is fetched (a refusal throws, exit 4) and its
// granted scopes compared with the derived ones. Returns the number missing.
int check_granted_scopes(const AdapterConfig& config, fhir::AuthProvider& auth, std::ostream& out) {
  if (auth.scheme() != "smart") return 0;
  fhir::HttpRequest probe;
  auth.authorize(probe);
  const std::optional<std::string> granted = auth.granted_scope();
  if (!granted) {
    out << "scopes:   the token response did not list the granted scopes; not checked\n";
    return 0;
  }
  auto access = server_access(!config.concept_map_urls.empty());
  for (auto& a : population_access(config.sync.population)) access.push_back(a);
  const auto missing =
      fhir::missing_scopes(access, *granted, fhir::parse_scope_syntax(config.auth.scope_syntax));
  for (const auto& scope : missing) {
    out << "  MISSING  scope " << scope << ": not granted to client " << config.auth.client_id
        << "\n";
  }
  if (missing.empty()) out << "  ok       granted scopes cover what the adapter does\n";
  return static_cast<int>(missing.size());
}

int run_check(const ParsedArgs& args, Context& context) {
  const auto options = server_options();
  const AdapterConfig config = resolve_config(args, options, context);
  Connection connection = connect(config, context);
  const fhir::Capabilities caps = connection.client->capabilities();

  std::ostream& out = context.out;
  out << "server:   " << fhir::redact_url(connection.client->base_url()) << "\n";
  out << "software: " << (caps.software.empty() ? "(not stated)" : caps.software) << "\n";
  out << "fhir:     " << (caps.fhir_version.empty() ? "(not stated)" : caps.fhir_version) << "\n";
  int missing = 0;
  auto needs = server_interactions(!config.concept_map_urls.empty());
  for (auto& row : population_interactions(config.sync.population)) needs.push_back(row);
  for (const RequirementCheck& check : check_requirements(caps, needs)) {
    out << (check.met ? "  ok       " : "  MISSING  ") << check.what;
    if (!check.met) {
      out << ": " << check.detail;
      ++missing;
    }
    out << "\n";
  }
  // Not a requirement: without _lastUpdated, sync re-pulls a population.
  if (supports_change_feed(caps)) {
    out << "  ok       sync: _lastUpdated on every type it watches (sync.changes=auto uses it)\n";
  } else {
    out << "  note     sync: _lastUpdated is not declared on every type it watches: sync "
           "re-pulls its population (sync.population group:ID | list:ID | file:PATH, "
           "docs/operations.md)\n";
  }
  const int missing_scopes = check_granted_scopes(config, *connection.auth, out);
  if (missing_scopes > 0) {
    // The server would answer 403 to every patient: a credentials problem,
    // reported as one (exit 4) whatever else is missing.
    out << "result: " << missing_scopes << " scope(s) not granted"
        << (missing > 0 ? " and " + std::to_string(missing) + " requirement(s) not met" : "")
        << "\n";
    context.err << "mst-adapter: the token endpoint did not grant " << missing_scopes
                << " scope(s) the adapter needs (listed above as MISSING scope)\n";
    return kAuthFailed;
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
    "whether it is FHIR 4.0.x and declares the reads, searches, writes, conditional creates and\n"
    "updates and system transaction the adapter uses. With --auth smart it also fetches a token\n"
    "and compares the scopes granted with those the adapter needs. Exits 0 when all are met,\n"
    "1 when the server lacks something, 4 when a needed scope was not granted.",
    server_options(),
    run_check,
});

}  // namespace

}  // namespace mst::adapter::cli
