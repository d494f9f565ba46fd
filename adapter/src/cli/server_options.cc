#include "mst/adapter/cli/server_options.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mst/adapter/pipeline/server_interactions.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/rest_client.h"

namespace mst::adapter::cli {

ServerRole effective_role(const AdapterConfig& config, ServerRole role) {
  if (config.target.base_url.empty()) return role == ServerRole::kTarget ? role : ServerRole::kBoth;
  return role == ServerRole::kTarget ? ServerRole::kTarget : ServerRole::kSource;
}

std::string needed_smart_scope(const AdapterConfig& config, ServerRole role) {
  const ServerRole r = effective_role(config, role);
  const AuthConfig& auth = r == ServerRole::kTarget ? target_endpoint(config).auth : config.auth;
  auto access = server_access(!config.concept_map_urls.empty(),
                              parse_write_mode(config.write_mode).value_or(WriteMode::kAuto), r);
  // The sync population (a Group or List) is read where the records are.
  if (r != ServerRole::kTarget) {
    for (auto& a : population_access(config.sync.population, config.sync.changes))
      access.push_back(a);
  }
  return fhir::system_scopes(access, fhir::parse_scope_syntax(auth.scope_syntax));
}

std::vector<OptionSpec> server_options() {
  return {
      {"config", "FILE", "JSON configuration file (keys: docs/configuration.md)", ""},
      {"server", "URL", "FHIR R4 base URL, e.g. https://ehr.example/fhir", "server.base_url"},
      {"target", "URL",
       "FHIR R4 base URL plans are written to (default: --server); its auth: target.auth.*",
       "target.base_url"},
      {"auth", "KIND", "none | bearer | basic | smart (default none)", "auth.type"},
      {"token-env", "VAR", "bearer: environment variable holding the token", "auth.token_env"},
      {"token-file", "FILE", "bearer: file holding the token", "auth.token_file"},
      {"user", "NAME", "basic: user name", "auth.username"},
      {"password-env", "VAR", "basic: environment variable holding the password",
       "auth.password_env"},
      {"password-file", "FILE", "basic: file holding the password", "auth.password_file"},
      {"client-id", "ID", "smart: registered client id", "auth.client_id"},
      {"private-key", "FILE", "smart: PEM private key that signs the client assertion",
       "auth.private_key_file"},
      {"key-id", "KID", "smart: kid of that key in the client's JWKS", "auth.key_id"},
      {"alg", "ALG", "smart: RS384 | ES384 (default RS384)", "auth.algorithm"},
      {"scope", "SCOPES", "smart: scopes to request (default: what the adapter reads and writes)",
       "auth.scope"},
      {"scope-syntax", "v2|v1", "smart: SMART scope syntax of the default scopes (default v2)",
       "auth.scope_syntax"},
      {"token-endpoint", "URL",
       "smart: token endpoint (default: from .well-known/smart-configuration)",
       "auth.token_endpoint"},
      {"allow-insecure-http", "",
       "send credentials over plain http to a host that is not loopback (testing only; warns)",
       "auth.allow_insecure_http", "true"},
      {"ca-file", "FILE", "PEM bundle of CAs to trust instead of the system's", "server.ca_file"},
      {"write-mode", "MODE",
       "auto | transaction | batch | individual | document (default auto: from the server)",
       "write.mode"},
      {"insecure-skip-tls-verify", "",
       "do not verify the server's certificate (testing only; warns)", "server.tls_verify",
       "false"},
  };
}

AdapterConfig resolve_config(const ParsedArgs& args, const std::vector<OptionSpec>& specs,
                             const Context& context) {
  ConfigSources sources;
  sources.file = args.get("config");
  sources.env = context.env;
  for (const auto& spec : specs) {
    if (spec.config_key.empty()) continue;
    if (auto value = args.get(spec.name)) sources.flags[spec.config_key] = *value;
  }
  return load_config(sources);
}

namespace {

std::string read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read the private key file " + path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

fhir::SecretSource secret_source(const std::string& env, const std::string& file,
                                 const std::string& what, const std::string& env_option,
                                 const std::string& file_option) {
  if (env.empty() == file.empty()) {
    throw ConfigError(what + " needs exactly one of " + env_option + " VAR or " + file_option +
                      " FILE (secrets are never taken on the command line)");
  }
  return {env, file};
}

std::shared_ptr<fhir::AuthProvider> make_auth(const AdapterConfig& config, const Endpoint& endpoint,
                                              ServerRole role,
                                              const std::shared_ptr<fhir::RetryingSender>& sender) {
  const AuthConfig& auth = endpoint.auth;
  try {
    if (auth.type == "none") return fhir::make_no_auth();
    if (auth.type == "bearer") {
      return fhir::make_bearer_auth(secret_source(auth.token_env, auth.token_file, "--auth bearer",
                                                  "--token-env", "--token-file"));
    }
    if (auth.type == "basic") {
      if (auth.username.empty()) throw ConfigError("--auth basic needs --user NAME");
      return fhir::make_basic_auth(
          auth.username, secret_source(auth.password_env, auth.password_file, "--auth basic",
                                       "--password-env", "--password-file"));
    }
    if (auth.type == "smart") {
      if (auth.client_id.empty()) throw ConfigError("--auth smart needs --client-id ID");
      if (auth.private_key_file.empty()) throw ConfigError("--auth smart needs --private-key FILE");
      if (auth.key_id.empty()) throw ConfigError("--auth smart needs --key-id KID");
      fhir::SmartBackendOptions options;
      options.fhir_base = endpoint.server.base_url;
      options.token_endpoint = auth.token_endpoint;
      options.allow_insecure_http = auth.allow_insecure_http;
      options.client_id = auth.client_id;
      options.private_key_pem = read_key_file(auth.private_key_file);
      options.key_id = auth.key_id;
      options.algorithm = auth.algorithm;
      options.scope = auth.scope.empty() ? needed_smart_scope(config, role) : auth.scope;
      return fhir::make_smart_backend_auth(std::move(options), sender);
    }
  } catch (const fhir::AuthError& e) {
    // Nothing was sent yet: a credential that cannot be loaded is a
    // configuration problem, not a refusal by the server.
    throw ConfigError(e.what());
  }
  throw ConfigError("unknown auth kind '" + auth.type + "'");
}

}  // namespace

Connection connect(const AdapterConfig& config, Context& context, ServerRole role) {
  const Endpoint endpoint =
      role == ServerRole::kTarget ? target_endpoint(config) : source_endpoint(config);
  const ServerConfig& server = endpoint.server;
  const AuthConfig& auth_config = endpoint.auth;
  if (server.base_url.empty()) {
    throw UsageError("no FHIR server: give --server URL (or server.base_url in --config, or " +
                     env_name("server.base_url") + ")");
  }
  if (auth_config.type != "none" && fhir::is_cleartext_remote(server.base_url)) {
    if (!auth_config.allow_insecure_http) {
      throw ConfigError("refusing to send " + auth_config.type +
                        " credentials over plain http to " + fhir::redact_url(server.base_url) +
                        ": use https, or allow it on a test network with --allow-insecure-http "
                        "(auth.allow_insecure_http)");
    }
    context.err << "mst-adapter: WARNING: credentials go over plain http to "
                << fhir::redact_url(server.base_url)
                << ": anyone on the network path can read and reuse them. Use only against a "
                   "test server.\n";
  }
  if (!server.tls_verify) {
    context.err
        << "mst-adapter: WARNING: TLS certificate verification is OFF: anyone on the network path "
           "can read and alter the data and the credentials sent. Use only against a test "
           "server.\n";
  }
  fhir::TransportOptions transport_options;
  transport_options.connect_timeout = std::chrono::milliseconds(server.connect_timeout_ms);
  transport_options.request_timeout = std::chrono::milliseconds(server.request_timeout_ms);
  transport_options.max_response_bytes = static_cast<std::size_t>(server.max_response_mb) << 20;
  transport_options.verify_tls = server.tls_verify;
  transport_options.ca_file = server.ca_file;
  // A patient's pull has about eight requests in flight at once; keep that
  // many connections per patient processed at once, or each round of a
  // concurrent sync opens and closes most of its connections again.
  transport_options.max_idle_per_origin = std::max<std::size_t>(
      transport_options.max_idle_per_origin, static_cast<std::size_t>(config.sync.concurrency) * 8);

  fhir::RetryPolicy policy;
  policy.max_attempts = server.retry_max_attempts;
  policy.initial_backoff = std::chrono::milliseconds(server.retry_base_delay_ms);
  policy.max_backoff = std::chrono::milliseconds(server.retry_max_delay_ms);
  policy.deadline = std::chrono::milliseconds(server.retry_deadline_ms);

  if (!context.make_transport) throw std::logic_error("no HTTP transport factory");
  std::shared_ptr<fhir::HttpTransport> transport;
  try {
    transport = context.make_transport(transport_options);
  } catch (const fhir::TransportError& e) {
    // Nothing is sent yet: a transport that cannot be built (an unreadable
    // --ca-file) is a configuration error, not an unreachable server.
    throw ConfigError(e.what());
  }
  auto sender = std::make_shared<fhir::RetryingSender>(transport, policy, context.clock);
  std::shared_ptr<fhir::AuthProvider> auth;
  try {
    auth = make_auth(config, endpoint, role, sender);
  } catch (const ConfigError& e) {
    if (role != ServerRole::kTarget) throw;
    // The messages name the source's flags; the target has keys only.
    throw ConfigError(std::string("target server (keys target.auth.*): ") + e.what());
  }
  Connection connection;
  connection.auth = auth;
  try {
    connection.client =
        std::make_shared<fhir::RestClient>(fhir::RestClientOptions{server.base_url}, sender, auth);
  } catch (const fhir::InvalidRequest& e) {
    throw ConfigError(e.what());
  }
  connection.limits.max_pages = static_cast<std::size_t>(server.max_pages);
  connection.limits.max_resources = static_cast<std::size_t>(server.max_resources);
  return connection;
}

Connections connect_source_and_target(const AdapterConfig& config, Context& context) {
  Connections c;
  c.source = connect(config, context, ServerRole::kSource);
  c.target =
      config.target.base_url.empty() ? c.source : connect(config, context, ServerRole::kTarget);
  return c;
}

}  // namespace mst::adapter::cli
