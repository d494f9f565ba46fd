// The adapter's configuration: one JSON file, then MST_* environment
// variables, then command-line flags, each overriding the one before. Every
// key is declared with its type and default; unknown keys and bad values are
// ConfigErrors that name the key and where it came from.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mst/fhir/error_kind.h"
#include "mst/mappings/canonical_base.h"

namespace mst::adapter {

class ConfigError : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kConfiguration; }
};

struct ConfigSources {
  std::optional<std::string> file;           // path of the JSON file, if any
  std::map<std::string, std::string> env;    // the process environment (injected)
  std::map<std::string, std::string> flags;  // dotted key -> value, from the CLI
};

struct ServerConfig {
  std::string base_url;
  int connect_timeout_ms = 10'000;
  int request_timeout_ms = 60'000;
  int max_response_mb = 64;
  bool tls_verify = true;
  std::string ca_file;
  int retry_max_attempts = 5;
  int retry_base_delay_ms = 500;
  int retry_max_delay_ms = 30'000;
  int retry_deadline_ms = 120'000;
  int max_pages = 200;
  int max_resources = 50'000;
  std::string observation_code_categories;  // comma-separated; empty: none
  std::string read_mode = "auto";           // auto | batch | searches

  bool operator==(const ServerConfig&) const = default;
};

// Secrets are named by where to find them, never given inline.
struct AuthConfig {
  std::string type = "none";  // none | bearer | basic | smart
  std::string token_env;
  std::string token_file;
  std::string username;
  std::string password_env;
  std::string password_file;
  std::string client_id;
  std::string private_key_file;
  std::string key_id;
  std::string algorithm = "RS384";  // RS384 | ES384
  std::string scope;                // empty: derived (server_interactions.h)
  std::string scope_syntax = "v2";  // v2 | v1
  std::string token_endpoint;       // empty: discovered
  // Credentials over http:// are refused unless the host is loopback.
  bool allow_insecure_http = false;

  bool operator==(const AuthConfig&) const = default;
};

struct SyncConfig {
  std::string state_path = "mst-adapter-state.db";        // a file (SQLite) or postgresql:// URL
  std::string state_password_env = "MST_STATE_PASSWORD";  // PostgreSQL password's variable
  std::string worker_id;                                  // PostgreSQL lease owner; empty: host:pid
  int lease_s = 300;  // PostgreSQL: how long a worker's claim on a patient lasts
  int concurrency = 4;
  int interval_s = 300;
  int overlap_s = 120;  // re-read this much before the checkpoint: clocks drift
  int retry_base_s = 30;
  int retry_max_s = 3600;
  int quarantine_after = 5;
  int shard_index = 0;
  int shard_count = 1;
  // Sync without `_lastUpdated` (docs/operations.md "Population sources").
  std::string population = "search";  // search | group:<id> | list:<id> | file:<path>
  std::string changes = "auto";       // auto | last-updated | repull | bulk-export
  int repull_budget = 0;              // patients pulled per cycle; 0: no bound
  int repull_interval_s = 0;          // a member is pulled again after this; 0: every cycle
  int bulk_max_wait_s = 3600;         // bulk-export: kick-off to manifest, else the cycle fails
  int bulk_max_poll_s = 60;           // bulk-export: longest pause between status polls
  // bulk-export: `records` builds a full export's patients' records from
  // the export itself (docs/operations.md "Bulk export"); `ids` pulls them.
  std::string bulk_data = "ids";
  // bulk-export: `_typeFilter` queries, space-separated (sync/bulk_type_filter.h).
  std::string bulk_type_filter;

  bool operator==(const SyncConfig&) const = default;
};

// Where plans are written when it is not the server they are read from
// (target.*). Timeouts, retries and paging are shared with server.*.
struct TargetConfig {
  std::string base_url;  // empty: plans are written to server.base_url
  bool tls_verify = true;
  std::string ca_file;
  AuthConfig auth;

  bool operator==(const TargetConfig&) const = default;
};

// An EHR `serve` trusts (serve.issuers): its JWT `iss` and its JWKS, an
// https URL or a file path.
struct IssuerConfig {
  std::string iss;
  std::string jwks;

  bool operator==(const IssuerConfig&) const = default;
};

// `serve` (docs/cds-hooks.md "Authentication of the EHR").
struct ServeConfig {
  // The URL the EHR calls the service at; a JWT's aud must be
  // <public_url>/cds-services/<id>. Required with issuers.
  std::string public_url;
  std::vector<IssuerConfig> issuers;  // empty: unauthenticated, loopback only
  int jwks_cache_s = 300;             // a JWKS is read again after this
  int review_ttl_s = 900;             // a card's review link (and its one write) lives this long
  // Origins ("https://host[:port]", or "*") whose browser pages may call the
  // CDS Hooks endpoints; empty: no CORS headers.
  std::vector<std::string> cors_origins;

  bool operator==(const ServeConfig&) const = default;
};

struct AdapterConfig {
  ServerConfig server;  // the source: read (and written, without a target)
  AuthConfig auth;
  TargetConfig target;
  std::string canonical_base{mappings::kDefaultCanonicalBase};
  std::string tables_dir;                     // empty: the built-in tables
  std::vector<std::string> site_tables;       // later directories override earlier ones
  std::vector<std::string> concept_maps;      // site ConceptMap files (R4 JSON)
  std::vector<std::string> concept_map_urls;  // canonical URLs read from the server at start
  std::string rules_file;                     // empty: built-in rule thresholds
  std::string as_of;                          // YYYY-MM-DD; empty: today (UTC)
  SyncConfig sync;
  // How the plan is written: auto | transaction | batch | individual |
  // document (write_mode.h, docs/careplan-output.md "Write modes").
  std::string write_mode = "auto";
  std::string listen;  // host:port for /healthz, /readyz, /metrics; empty: off
  ServeConfig serve;
  std::string log_level = "info";
  std::string log_format = "text";

  bool operator==(const AdapterConfig&) const = default;
};

// One server as the clients see it: where, how to trust it, how to log in.
struct Endpoint {
  ServerConfig server;
  AuthConfig auth;
};
// The server records are read from (server.*, auth.*).
Endpoint source_endpoint(const AdapterConfig& config);
// The server plans are written to: target.* when target.base_url is set,
// else the source (one server for both, the default).
Endpoint target_endpoint(const AdapterConfig& config);
// True when target.base_url names a server other than server.base_url.
bool separate_target(const AdapterConfig& config);

// Resolves every key from the sources. Throws ConfigError on an unknown key,
// a value of the wrong type or out of range, or an unreadable file.
AdapterConfig load_config(const ConfigSources& sources);

// The environment variable that overrides `key` ("sync.concurrency" ->
// "MST_SYNC_CONCURRENCY").
std::string env_name(const std::string& key);

// Every known key with its default and meaning, for --help and the docs.
struct ConfigKey {
  const char* key;
  const char* default_value;
  const char* meaning;
};
const std::vector<ConfigKey>& config_keys();

}  // namespace mst::adapter
