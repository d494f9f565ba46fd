// `mst-adapter check`: can this server serve the adapter?
#include <algorithm>

#include "input_file.h"
#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/deployment_shape.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/cli/requirements.h"
#include "mst/adapter/cli/server_options.h"
#include "mst/adapter/pipeline/requirements_statement.h"
#include "mst/adapter/pipeline/server_interactions.h"
#include "mst/adapter/pipeline/write_mode.h"
#include "mst/adapter/sync/fhir_change_feed.h"
#include "mst/fhir/error_kind.h"

namespace mst::adapter::cli {

namespace {

// With SMART auth: a token is fetched (a refusal throws, exit 4) and its
// granted scopes compared with those the role needs in `mode`. Returns the
// number missing. `who` prefixes each line ("" with one server, "target: ").
int check_granted_scopes(const AdapterConfig& config, WriteMode mode, ServerRole role,
                         fhir::AuthProvider& auth, const std::string& who, std::ostream& out) {
  if (auth.scheme() != "smart") return 0;
  fhir::HttpRequest probe;
  auth.authorize(probe);
  const std::optional<std::string> granted = auth.granted_scope();
  if (!granted) {
    out << "scopes:   " << who
        << "the token response did not list the granted scopes; not checked\n";
    return 0;
  }
  const AuthConfig& auth_config =
      role == ServerRole::kTarget ? target_endpoint(config).auth : config.auth;
  auto access = server_access(!config.concept_map_urls.empty(), mode, role);
  if (role != ServerRole::kTarget) {
    for (auto& a : population_access(config.sync.population, config.sync.changes))
      access.push_back(a);
  }
  const auto missing =
      fhir::missing_scopes(access, *granted, fhir::parse_scope_syntax(auth_config.scope_syntax));
  for (const auto& scope : missing) {
    out << "  MISSING  " << who << "scope " << scope << ": not granted to client "
        << auth_config.client_id << "\n";
  }
  if (missing.empty())
    out << "  ok       " << who << "granted scopes cover what the adapter does\n";
  return static_cast<int>(missing.size());
}

// Which write modes the server's CapabilityStatement allows, which one the
// adapter will use, and, when the configured one cannot work, which would.
void report_write_modes(const fhir::Capabilities& caps, WriteMode configured, WriteMode mode,
                        std::ostream& out) {
  out << "write modes (write.mode):\n";
  std::optional<WriteMode> first_possible;
  bool chosen_possible = false;
  for (const ModeSupport& s : write_mode_support(caps)) {
    out << (s.possible() ? "  possible     " : "  impossible   ") << write_mode_name(s.mode);
    if (!s.possible()) {
      out << ": lacks ";
      for (std::size_t i = 0; i < s.missing.size(); ++i) out << (i ? ", " : "") << s.missing[i];
    }
    out << "\n";
    if (s.possible() && !first_possible) first_possible = s.mode;
    if (s.mode == mode) chosen_possible = s.possible();
  }
  out << "write mode: " << write_mode_name(mode)
      << (configured == WriteMode::kAuto ? " (chosen by auto)" : " (set by write.mode)") << "\n";
  if (!chosen_possible && first_possible) {
    out << "  hint     set write.mode=" << write_mode_name(*first_possible) << " (--write-mode "
        << write_mode_name(*first_possible) << "): the server allows it\n";
  }
}

// A requirements CapabilityStatement (--requirements FILE) read as needs.
// UsageError (exit 2) when the file is unreadable or not a statement.
DeclaredNeeds read_requirements(const std::string& path) {
  const std::string text = read_input_file(path, 8u << 20, "--requirements");
  try {
    const fhir::JsonDocument doc = fhir::JsonDocument::parse(text);
    return needs_of(fhir::read_capabilities(doc.root()));
  } catch (const mst::Error& e) {
    throw UsageError("--requirements " + path + " is not a FHIR CapabilityStatement: " + e.what());
  }
}

// Adds what `declared` needs to `needs`, one row per resource type, so a
// statement repeating the adapter's own needs adds no line to the report.
void add_needs(const DeclaredNeeds& declared, std::vector<ServerInteraction>& needs,
               std::vector<std::string>& system_needs) {
  for (const ServerInteraction& row : declared.resources) {
    auto it = std::find_if(needs.begin(), needs.end(),
                           [&](const ServerInteraction& n) { return n.type == row.type; });
    if (it == needs.end()) {
      needs.push_back(row);
      continue;
    }
    it->access |= row.access;
    it->conditional_create = it->conditional_create || row.conditional_create;
    it->conditional_update = it->conditional_update || row.conditional_update;
  }
  for (const std::string& s : declared.system) {
    if (std::find(system_needs.begin(), system_needs.end(), s) == system_needs.end())
      system_needs.push_back(s);
  }
}

struct Checked {
  int missing = 0;
  int missing_scopes = 0;
  fhir::Capabilities caps;
};

// Checks one server for what `role` needs of it.
Checked check_server(const AdapterConfig& config, ServerRole role, const std::string& label,
                     const DeclaredNeeds& declared, Context& context) {
  Connection connection = connect(config, context, role);
  const fhir::Capabilities caps = connection.client->capabilities();
  const std::string who = label == "server" ? "" : label + ": ";
  std::ostream& out = context.out;
  out << label << ":" << std::string(label.size() < 9 ? 9 - label.size() : 1, ' ')
      << fhir::redact_url(connection.client->base_url()) << "\n";
  out << "software: " << (caps.software.empty() ? "(not stated)" : caps.software) << "\n";
  out << "fhir:     " << (caps.fhir_version.empty() ? "(not stated)" : caps.fhir_version) << "\n";
  // The write mode matters where plans are written; a source is only read.
  const bool writes = role != ServerRole::kSource;
  const WriteMode configured = parse_write_mode(config.write_mode).value_or(WriteMode::kAuto);
  WriteMode mode = configured == WriteMode::kAuto ? WriteMode::kTransaction : configured;
  if (writes) {
    mode = configured == WriteMode::kAuto ? auto_write_mode(caps) : configured;
    report_write_modes(caps, configured, mode, out);
  }
  Checked c;
  c.caps = caps;
  // The server is checked against the adapter's requirements statement for
  // this configuration: conformance/capability/ holds the default one.
  const RequirementsScope scope{.mode = mode,
                                .role = role,
                                .server_concept_maps = !config.concept_map_urls.empty(),
                                .population = config.sync.population,
                                .changes = config.sync.changes};
  const fhir::JsonDocument statement =
      fhir::JsonDocument::parse(requirements_statement(config.canonical_base, "", scope).dump());
  DeclaredNeeds own = needs_of(fhir::read_capabilities(statement.root()));
  std::vector<ServerInteraction> needs = std::move(own.resources);
  std::vector<std::string> system_needs = std::move(own.system);
  add_needs(declared, needs, system_needs);
  for (const RequirementCheck& check : check_requirements(caps, needs, system_needs)) {
    out << (check.met ? "  ok       " : "  MISSING  ") << who << check.what;
    if (!check.met) {
      out << ": " << check.detail;
      ++c.missing;
    }
    out << "\n";
  }
  if (role != ServerRole::kTarget) {
    // Not a requirement: without _lastUpdated, sync re-pulls a population.
    if (supports_change_feed(caps)) {
      out << "  ok       " << who
          << "sync: _lastUpdated on every type it watches (sync.changes=auto uses it)\n";
    } else {
      out << "  note     " << who
          << "sync: _lastUpdated is not declared on every type it watches: sync "
             "re-pulls its population (sync.population group:ID | list:ID | file:PATH, "
             "docs/operations.md)\n";
    }
  }
  // Not a requirement either: without batch, each search is its own request.
  if (config.server.read_mode != "searches") {
    if (caps.supports_system("batch")) {
      out << "  ok       " << who
          << "reads: batch declared (server.read_mode=" << config.server.read_mode
          << " sends a patient's reads as one batch Bundle)\n";
    } else {
      out << "  note     " << who << "reads: batch is not declared: "
          << (config.server.read_mode == "batch"
                  ? "server.read_mode=batch will be refused; set auto or searches\n"
                  : "one request per search (server.read_mode=auto)\n");
    }
  }
  c.missing_scopes = check_granted_scopes(config, mode, role, *connection.auth, who, out);
  return c;
}

std::vector<OptionSpec> check_options() {
  auto options = server_options();
  options.push_back({"requirements", "FILE",
                     "a CapabilityStatement (kind requirements) whose needs are checked too, e.g. "
                     "a site's own additions",
                     ""});
  return options;
}

int run_check(const ParsedArgs& args, Context& context) {
  const auto options = check_options();
  const AdapterConfig config = resolve_config(args, options, context);
  const auto requirements_file = args.get("requirements");
  const DeclaredNeeds declared =
      requirements_file ? read_requirements(*requirements_file) : DeclaredNeeds{};
  Checked total;
  std::vector<fhir::Capabilities> caps;
  // With a target the source is checked for the reads and the target for
  // the writes; each line names the server it is about.
  const std::vector<std::pair<ServerRole, std::string>> servers =
      config.target.base_url.empty()
          ? std::vector<std::pair<ServerRole, std::string>>{{ServerRole::kBoth, "server"}}
          : std::vector<std::pair<ServerRole, std::string>>{{ServerRole::kSource, "source"},
                                                            {ServerRole::kTarget, "target"}};
  for (const auto& [role, label] : servers) {
    const Checked c = check_server(config, role, label, declared, context);
    total.missing += c.missing;
    total.missing_scopes += c.missing_scopes;
    caps.push_back(c.caps);
  }
  std::ostream& out = context.out;
  // What the endpoints allow, whatever is configured: the engineer's next step.
  const ShapeAdvice advice = deployment_shape(caps.front(), caps.back(), caps.size() > 1);
  out << "shape:    " << shape_text(advice.shape) << "\n";
  if (advice.shape == Shape::kReadOnly && caps.size() == 1) {
    out << "  hint     or write the plans to a FHIR repository of your own: set target.base_url "
           "(--target)\n";
  }
  out << "sync:     " << sync_text(advice) << "\n";
  const int missing = total.missing;
  const int missing_scopes = total.missing_scopes;
  const std::string servers_word =
      servers.size() > 1 ? "the servers support" : "the server supports";
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
    out << "result: " << servers_word << " everything the adapter needs\n";
    return kSuccess;
  }
  out << "result: " << missing << " requirement(s) not met\n";
  return kNothingToDo;
}

const bool registered = register_command({
    "check",
    "check that a FHIR server supports what the adapter needs",
    "check --server URL [--target URL] [auth options]",
    "",
    "Reads the server's CapabilityStatement (GET [base]/metadata) and reports, one line each,\n"
    "whether it is FHIR 4.0.x and declares the reads, searches, writes, conditional creates and\n"
    "updates and system interactions the adapter uses in its write mode. It lists the write\n"
    "modes the server allows (transaction, batch, individual, document) and the one used:\n"
    "write.mode, or for auto the first the server allows. With --auth smart it also fetches a\n"
    "token and compares the scopes granted with those the adapter needs. With a target\n"
    "(--target, target.*) the source is checked for the reads and the target for the writes,\n"
    "each line naming its server. The shape: line names the deployment shape the servers allow\n"
    "(docs/operations.md), the sync: line how sync finds changes and its population.\n"
    "The needs are the adapter's requirements CapabilityStatement for this configuration\n"
    "(conformance/capability/mst-adapter-requirements.json is the one for one server in\n"
    "transaction mode). With --requirements FILE, the needs a further statement of kind\n"
    "requirements declares are checked on each server too. Exits 0 when all are met, 1 when\n"
    "the server lacks something, 4 when a needed scope was not granted.",
    check_options(),
    run_check,
});

}  // namespace

}  // namespace mst::adapter::cli
