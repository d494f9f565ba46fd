// The options every server-facing command shares (server, TLS, auth, config
// file), their resolution through the adapter configuration (config.h), and
// the FHIR client built from the result.
#pragma once

#include <memory>
#include <vector>

#include "mst/adapter/cli/args.h"
#include "mst/adapter/cli/command.h"
#include "mst/adapter/config.h"
#include "mst/adapter/pipeline/server_interactions.h"
#include "mst/fhir/auth.h"
#include "mst/fhir/client.h"

namespace mst::adapter::cli {

// --config, --server, --target, --auth and its secrets' sources, --ca-file,
// --insecure-skip-tls-verify. The target's auth and TLS options come from
// the configuration file or environment only (target.*). Append a command's own options to these.
std::vector<OptionSpec> server_options();

// Configuration from --config FILE, the MST_* environment and the options
// that carry a config_key, in that order of precedence (last wins).
AdapterConfig resolve_config(const ParsedArgs& args, const std::vector<OptionSpec>& specs,
                             const Context& context);

// The SMART scopes the adapter needs, derived from server_interactions() in
// the syntax of the role's auth: what SMART backend auth requests when its
// scope is empty, and what `check` expects the server to grant. With a
// target configured the source is asked for reads only and the target for
// the writes (server_interactions.h); kBoth then means the source.
std::string needed_smart_scope(const AdapterConfig& config, ServerRole role = ServerRole::kBoth);

// The role a server plays under this configuration: kBoth without a target.
ServerRole effective_role(const AdapterConfig& config, ServerRole role);

struct Connection {
  std::shared_ptr<fhir::Client> client;
  std::shared_ptr<fhir::AuthProvider> auth;
  fhir::SearchLimits limits;
};

// A client for config.server with config.auth. Throws UsageError when no
// server is configured and ConfigError when credentials cannot be loaded
// (unset variable, unreadable key file) or would go over plain http to a
// host that is not loopback without auth.allow_insecure_http. Warns on
// `context.err` when TLS verification is off or credentials go in clear.
// `role` kTarget connects to target_endpoint(config); the others to the source.
Connection connect(const AdapterConfig& config, Context& context,
                   ServerRole role = ServerRole::kBoth);

// The clients of a run: `source` reads; `target` writes, and shares the
// source's client when no target is configured.
struct Connections {
  Connection source;
  Connection target;
};
Connections connect_source_and_target(const AdapterConfig& config, Context& context);

}  // namespace mst::adapter::cli
