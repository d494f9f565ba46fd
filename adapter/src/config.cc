#include "mst/adapter/config.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string_view>

#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/adapter/sync/bulk_type_filter.h"
#include "mst/adapter/sync/population.h"
#include "mst/fhir/auth.h"
#include "mst/fhir/datetime.h"
#include "mst/fhir/json.h"

namespace mst::adapter {

namespace {

// Where a value came from, for error messages.
struct Raw {
  std::string value;
  std::string origin;  // "config file x.json", "environment MST_X", "flag --x"
};

using Setter = std::function<void(AdapterConfig&, const Raw&, const std::string& key)>;

struct KeySpec {
  ConfigKey doc;
  Setter set;
};

[[noreturn]] void bad(const std::string& key, const Raw& raw, const std::string& why) {
  throw ConfigError("configuration key '" + key + "' (" + raw.origin + "): " + why);
}

Setter str(std::string AdapterConfig::*field) {
  return [field](AdapterConfig& c, const Raw& r, const std::string&) { c.*field = r.value; };
}

// A comma-separated list (a JSON array in the file arrives joined by commas).
Setter list(std::vector<std::string> AdapterConfig::*field) {
  return [field](AdapterConfig& c, const Raw& r, const std::string&) {
    (c.*field).clear();
    std::stringstream ss(r.value);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (!item.empty()) (c.*field).push_back(item);
    }
  };
}

template <typename Section>
Setter str(Section AdapterConfig::*section, std::string Section::*field) {
  return [section, field](AdapterConfig& c, const Raw& r, const std::string&) {
    (c.*section).*field = r.value;
  };
}

int parse_int(const std::string& key, const Raw& r, int lo, int hi) {
  int v = 0;
  const char* b = r.value.data();
  const char* e = b + r.value.size();
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e) bad(key, r, "'" + r.value + "' is not a whole number");
  if (v < lo || v > hi) {
    bad(key, r,
        std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return v;
}

template <typename Section>
Setter integer(Section AdapterConfig::*section, int Section::*field, int lo, int hi) {
  return [=](AdapterConfig& c, const Raw& r, const std::string& key) {
    (c.*section).*field = parse_int(key, r, lo, hi);
  };
}

template <typename Section>
Setter boolean(Section AdapterConfig::*section, bool Section::*field) {
  return [=](AdapterConfig& c, const Raw& r, const std::string& key) {
    if (r.value == "true" || r.value == "1") {
      (c.*section).*field = true;
    } else if (r.value == "false" || r.value == "0") {
      (c.*section).*field = false;
    } else {
      bad(key, r, "'" + r.value + "' is not true or false");
    }
  };
}

Setter one_of(Setter inner, std::vector<std::string> allowed) {
  return [inner = std::move(inner), allowed = std::move(allowed)](AdapterConfig& c, const Raw& r,
                                                                  const std::string& key) {
    if (std::find(allowed.begin(), allowed.end(), r.value) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : " | ") + a;
      bad(key, r, "'" + r.value + "' is not one of " + list);
    }
    inner(c, r, key);
  };
}

// serve.cors_origins: a list (comma-separated, or a JSON array) of "*" or
// origins as a browser sends them: scheme://host[:port], no path, no slash.
std::vector<std::string> parse_origins(const std::string& key, const Raw& r) {
  std::vector<std::string> out;
  std::stringstream ss(r.value);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) continue;
    const auto scheme = item.find("://");
    const bool web = item.starts_with("https://") || item.starts_with("http://");
    if (item != "*" &&
        (!web || item.size() == scheme + 3 || item.find('/', scheme + 3) != std::string::npos ||
         item.find_first_of("?#@ ") != std::string::npos)) {
      bad(key, r, "'" + item + "' is not an origin (https://host[:port], no path) or *");
    }
    out.push_back(item);
  }
  return out;
}

// serve.issuers: a list (comma-separated, or a JSON array) of "<iss> <jwks>".
// The JWKS is an https URL, an http URL on loopback, or a file path.
std::vector<IssuerConfig> parse_issuers(const std::string& key, const Raw& r) {
  std::vector<IssuerConfig> out;
  std::stringstream ss(r.value);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::stringstream words(item);
    IssuerConfig issuer;
    std::string extra;
    if (!(words >> issuer.iss)) continue;
    if (!(words >> issuer.jwks) || (words >> extra)) {
      bad(key, r, "'" + item + "' is not \"<iss> <jwks>\" (the issuer, a space, its JWKS)");
    }
    if (issuer.jwks.rfind("http://", 0) == 0 && fhir::is_cleartext_remote(issuer.jwks)) {
      bad(key, r, "the JWKS " + issuer.jwks + " must be fetched over https");
    }
    for (const auto& o : out) {
      if (o.iss == issuer.iss) bad(key, r, "issuer " + issuer.iss + " is listed twice");
    }
    out.push_back(std::move(issuer));
  }
  return out;
}

const std::vector<KeySpec>& base_specs() {
  using A = AdapterConfig;
  static const std::vector<KeySpec> kSpecs = {
      {{"server.base_url", "", "FHIR R4 base URL of the EHR or HAPI server"},
       [](A& c, const Raw& r, const std::string& key) {
         if (r.value.rfind("http://", 0) != 0 && r.value.rfind("https://", 0) != 0) {
           bad(key, r, "must start with http:// or https://");
         }
         c.server.base_url = r.value;
         while (!c.server.base_url.empty() && c.server.base_url.back() == '/') {
           c.server.base_url.pop_back();
         }
       }},
      {{"server.connect_timeout_ms", "10000", "TCP/TLS connect timeout"},
       integer(&A::server, &ServerConfig::connect_timeout_ms, 100, 600'000)},
      {{"server.request_timeout_ms", "60000", "time limit of one HTTP exchange"},
       integer(&A::server, &ServerConfig::request_timeout_ms, 100, 3'600'000)},
      {{"server.max_response_mb", "64", "largest response body accepted"},
       integer(&A::server, &ServerConfig::max_response_mb, 1, 4096)},
      {{"server.tls_verify", "true", "verify the server's TLS certificate (keep true)"},
       boolean(&A::server, &ServerConfig::tls_verify)},
      {{"server.ca_file", "", "PEM CA bundle; empty: the system's"},
       str(&A::server, &ServerConfig::ca_file)},
      {{"server.retry.max_attempts", "5", "attempts per request, first included"},
       integer(&A::server, &ServerConfig::retry_max_attempts, 1, 20)},
      {{"server.retry.base_delay_ms", "500", "first backoff delay (exponential, jittered)"},
       integer(&A::server, &ServerConfig::retry_base_delay_ms, 1, 600'000)},
      {{"server.retry.max_delay_ms", "30000", "longest backoff delay"},
       integer(&A::server, &ServerConfig::retry_max_delay_ms, 1, 3'600'000)},
      {{"server.retry.deadline_ms", "120000", "overall time limit of a request with its retries"},
       integer(&A::server, &ServerConfig::retry_deadline_ms, 100, 86'400'000)},
      {{"server.paging.max_pages", "200", "most search pages read per query"},
       integer(&A::server, &ServerConfig::max_pages, 1, 100'000)},
      {{"server.paging.max_resources", "50000", "most resources read per query"},
       integer(&A::server, &ServerConfig::max_resources, 1, 10'000'000)},
      {{"server.search.observation_code_categories", "",
        "categories put on Observation searches by code, for servers that require one "
        "(e.g. laboratory,vital-signs,social-history)"},
       str(&A::server, &ServerConfig::observation_code_categories)},
      {{"server.read_mode", "auto",
        "auto | batch | searches: a patient's reads as one batch Bundle or one request per "
        "search (auto: batch when the server declares it)"},
       one_of(str(&A::server, &ServerConfig::read_mode), {"auto", "batch", "searches"})},
      {{"auth.type", "none", "none | bearer | basic | smart"},
       one_of(str(&A::auth, &AuthConfig::type), {"none", "bearer", "basic", "smart"})},
      {{"auth.token_env", "", "bearer: environment variable holding the token"},
       str(&A::auth, &AuthConfig::token_env)},
      {{"auth.token_file", "", "bearer: file holding the token"},
       str(&A::auth, &AuthConfig::token_file)},
      {{"auth.username", "", "basic: user name"}, str(&A::auth, &AuthConfig::username)},
      {{"auth.password_env", "", "basic: environment variable holding the password"},
       str(&A::auth, &AuthConfig::password_env)},
      {{"auth.password_file", "", "basic: file holding the password"},
       str(&A::auth, &AuthConfig::password_file)},
      {{"auth.client_id", "", "smart: registered client id"},
       str(&A::auth, &AuthConfig::client_id)},
      {{"auth.private_key_file", "", "smart: PEM private key signing the client assertion"},
       str(&A::auth, &AuthConfig::private_key_file)},
      {{"auth.key_id", "", "smart: kid of the key in the registered JWKS"},
       str(&A::auth, &AuthConfig::key_id)},
      {{"auth.algorithm", "RS384", "smart: RS384 | ES384"},
       one_of(str(&A::auth, &AuthConfig::algorithm), {"RS384", "ES384"})},
      {{"auth.scope", "", "smart: requested scopes; empty: derived from what the adapter does"},
       str(&A::auth, &AuthConfig::scope)},
      {{"auth.scope_syntax", "v2", "smart: v2 (system/Condition.rs) | v1 (system/Condition.read)"},
       one_of(str(&A::auth, &AuthConfig::scope_syntax), {"v2", "v1"})},
      {{"auth.token_endpoint", "", "smart: token endpoint; empty: discovered from the server"},
       [](A& c, const Raw& r, const std::string& key) {
         if (!r.value.empty() && r.value.rfind("http://", 0) != 0 &&
             r.value.rfind("https://", 0) != 0) {
           bad(key, r, "must start with http:// or https://");
         }
         c.auth.token_endpoint = r.value;
       }},
      {{"auth.allow_insecure_http", "false",
        "send credentials over plain http to a host that is not loopback (testing only)"},
       boolean(&A::auth, &AuthConfig::allow_insecure_http)},
      {{"adapter.canonical_base", mappings::kDefaultCanonicalBase.data(),
        "base URL of the adapter's CodeSystems and NamingSystems"},
       [](A& c, const Raw& r, const std::string& key) {
         if (r.value.rfind("http://", 0) != 0 && r.value.rfind("https://", 0) != 0) {
           bad(key, r, "must be an http(s) URL");
         }
         c.canonical_base = r.value;
       }},
      {{"adapter.tables_dir", "", "code tables directory; empty: the built-in tables"},
       str(&A::tables_dir)},
      {{"adapter.site_tables", "", "comma-separated directories of site tables that override"},
       [](A& c, const Raw& r, const std::string&) {
         c.site_tables.clear();
         std::stringstream ss(r.value);
         std::string item;
         while (std::getline(ss, item, ',')) {
           if (!item.empty()) c.site_tables.push_back(item);
         }
       }},
      {{"adapter.concept_maps", "",
        "comma-separated site ConceptMap files translating local codes"},
       list(&A::concept_maps)},
      {{"adapter.concept_map_urls", "",
        "comma-separated ConceptMap canonical URLs read from the server at start"},
       list(&A::concept_map_urls)},
      {{"adapter.rules_file", "", "JSON file overriding goal-rule thresholds"},
       str(&A::rules_file)},
      {{"adapter.as_of", "", "YYYY-MM-DD the plan is computed for; empty: today (UTC)"},
       [](A& c, const Raw& r, const std::string& key) {
         auto d = fhir::DateTime::parse(r.value);
         if (!r.value.empty() && (!d || d->precision() != fhir::Precision::kDay)) {
           bad(key, r, "'" + r.value + "' is not a date YYYY-MM-DD");
         }
         c.as_of = r.value;
       }},
      {{"sync.state_path", "mst-adapter-state.db",
        "sync state: a SQLite file, or a postgresql:// URL shared by many workers"},
       str(&A::sync, &SyncConfig::state_path)},
      {{"sync.state_password_env", "MST_STATE_PASSWORD",
        "environment variable holding the PostgreSQL state's password"},
       str(&A::sync, &SyncConfig::state_password_env)},
      {{"sync.worker_id", "", "PostgreSQL state: this worker's lease owner name (empty: host:pid)"},
       str(&A::sync, &SyncConfig::worker_id)},
      {{"sync.lease_s", "300", "PostgreSQL state: seconds a worker's claim on a patient lasts"},
       integer(&A::sync, &SyncConfig::lease_s, 10, 86'400)},
      {{"sync.concurrency", "4", "patients processed at once"},
       integer(&A::sync, &SyncConfig::concurrency, 1, 64)},
      {{"sync.interval_s", "300", "seconds between sync cycles"},
       integer(&A::sync, &SyncConfig::interval_s, 1, 86'400)},
      {{"sync.overlap_s", "120", "seconds re-read before the checkpoint (clock drift)"},
       integer(&A::sync, &SyncConfig::overlap_s, 0, 86'400)},
      {{"sync.retry_base_s", "30", "first retry delay of a failed patient"},
       integer(&A::sync, &SyncConfig::retry_base_s, 1, 86'400)},
      {{"sync.retry_max_s", "3600", "longest retry delay of a failed patient"},
       integer(&A::sync, &SyncConfig::retry_max_s, 1, 604'800)},
      {{"sync.quarantine_after", "5", "consecutive failures before a patient is quarantined"},
       integer(&A::sync, &SyncConfig::quarantine_after, 1, 1000)},
      {{"sync.shard", "0/1", "I/N: process only patients whose id hashes to shard I of N"},
       [](A& c, const Raw& r, const std::string& key) {
         auto slash = r.value.find('/');
         if (slash == std::string::npos) bad(key, r, "'" + r.value + "' is not I/N");
         Raw n{r.value.substr(slash + 1), r.origin}, i{r.value.substr(0, slash), r.origin};
         c.sync.shard_count = parse_int(key, n, 1, 1024);
         c.sync.shard_index = parse_int(key, i, 0, c.sync.shard_count - 1);
       }},
      {{"write.mode", "auto",
        "auto | transaction | batch | individual | document: how the plan is written; auto "
        "picks from the server's CapabilityStatement"},
       one_of(str(&A::write_mode), {"auto", "transaction", "batch", "individual", "document"})},
      {{"sync.population", "search",
        "search | group:<id> | list:<id> | file:<path>: who the sync looks after"},
       [](A& c, const Raw& r, const std::string& key) {
         try {
           PopulationSource::parse(r.value);
         } catch (const PopulationError& e) {
           bad(key, r, e.what());
         }
         c.sync.population = r.value;
       }},
      {{"sync.changes", "auto",
        "auto | last-updated | repull | bulk-export: how the sync finds patients whose data "
        "changed"},
       one_of(str(&A::sync, &SyncConfig::changes),
              {"auto", "last-updated", "repull", "bulk-export"})},
      {{"sync.bulk_max_wait_s", "3600",
        "bulk-export: seconds from kick-off to the manifest before the export is cancelled and "
        "the cycle fails"},
       integer(&A::sync, &SyncConfig::bulk_max_wait_s, 10, 7 * 86'400)},
      {{"sync.bulk_max_poll_s", "60",
        "bulk-export: longest pause between status polls; a longer Retry-After is shortened"},
       integer(&A::sync, &SyncConfig::bulk_max_poll_s, 2, 3600)},
      {{"sync.bulk_data", "ids",
        "bulk-export: ids | records: a full export names the patients to pull (ids), or is "
        "their records (records: no pull; `_since` exports are pulled either way)"},
       one_of(str(&A::sync, &SyncConfig::bulk_data), {"ids", "records"})},
      {{"sync.bulk_type_filter", "",
        "bulk-export: Bulk Data _typeFilter queries, space-separated (e.g. "
        "Observation?category=laboratory), narrowing an exported type; empty: none"},
       [](A& c, const Raw& r, const std::string& key) {
         try {
           parse_type_filters(r.value, BulkExportOptions::default_types());
         } catch (const BulkExportError& e) {
           bad(key, r, e.what());
         }
         c.sync.bulk_type_filter = r.value;
       }},
      {{"sync.repull_budget", "0",
        "patients pulled per cycle, least recently checked first; 0: all"},
       integer(&A::sync, &SyncConfig::repull_budget, 0, 10'000'000)},
      {{"sync.repull_interval_s", "0",
        "seconds before a re-pulled member is pulled again; 0: every cycle"},
       integer(&A::sync, &SyncConfig::repull_interval_s, 0, 30 * 86'400)},
      {{"service.listen", "", "host:port serving /healthz, /readyz, /metrics; empty: off"},
       str(&A::listen)},
      {{"serve.public_url", "",
        "serve: the URL EHRs call the service at; a JWT's aud must be "
        "<public_url>/cds-services/<id>"},
       [](A& c, const Raw& r, const std::string& key) {
         if (!r.value.empty() && r.value.rfind("http://", 0) != 0 &&
             r.value.rfind("https://", 0) != 0) {
           bad(key, r, "must start with http:// or https://");
         }
         c.serve.public_url = r.value;
         while (!c.serve.public_url.empty() && c.serve.public_url.back() == '/') {
           c.serve.public_url.pop_back();
         }
       }},
      {{"serve.issuers", "",
        "serve: trusted EHRs, each \"<iss> <jwks>\" (jwks: an https URL or a file path); "
        "empty: no EHR authentication, loopback only"},
       [](A& c, const Raw& r, const std::string& key) { c.serve.issuers = parse_issuers(key, r); }},
      {{"serve.jwks_cache_s", "300",
        "serve: seconds an issuer's JWKS is used before it is read again"},
       integer(&A::serve, &ServeConfig::jwks_cache_s, 10, 86'400)},
      {{"serve.review_ttl_s", "900",
        "serve: seconds a card's review link (and its one write) stays valid"},
       integer(&A::serve, &ServeConfig::review_ttl_s, 30, 86'400)},
      {{"serve.cors_origins", "",
        "serve: origins (https://host[:port]) whose browser pages may call the CDS Hooks "
        "endpoints, or * for any (sandboxes); empty: no CORS"},
       [](A& c, const Raw& r, const std::string& key) {
         c.serve.cors_origins = parse_origins(key, r);
       }},
      {{"log.level", "info", "debug | info | warn | error"},
       one_of(str(&A::log_level), {"debug", "info", "warn", "error"})},
      {{"log.format", "text", "text | json"}, one_of(str(&A::log_format), {"text", "json"})},
  };
  return kSpecs;
}

// Keys live as long as the program; generated ones ("target.auth.type") are
// kept here so ConfigKey can point at them.
const char* keep(std::string key) {
  static std::deque<std::string> kept;
  return kept.emplace_back(std::move(key)).c_str();
}

void require_url(const std::string& key, const Raw& r) {
  if (!r.value.empty() && r.value.rfind("http://", 0) != 0 && r.value.rfind("https://", 0) != 0) {
    bad(key, r, "must start with http:// or https://");
  }
}

// The target's auth keys ("target.auth.type", ...): the same keys, meanings
// and checks as the source's auth.*.
std::vector<KeySpec> target_auth_specs() {
  using S = std::string AuthConfig::*;
  auto text = [](S field) -> Setter {
    return [field](AdapterConfig& c, const Raw& r, const std::string&) {
      c.target.auth.*field = r.value;
    };
  };
  auto k = [](const char* name) { return keep(std::string("target.auth.") + name); };
  return {
      {{k("type"), "none", "none | bearer | basic | smart"},
       one_of(text(&AuthConfig::type), {"none", "bearer", "basic", "smart"})},
      {{k("token_env"), "", "bearer: environment variable holding the token"},
       text(&AuthConfig::token_env)},
      {{k("token_file"), "", "bearer: file holding the token"}, text(&AuthConfig::token_file)},
      {{k("username"), "", "basic: user name"}, text(&AuthConfig::username)},
      {{k("password_env"), "", "basic: environment variable holding the password"},
       text(&AuthConfig::password_env)},
      {{k("password_file"), "", "basic: file holding the password"},
       text(&AuthConfig::password_file)},
      {{k("client_id"), "", "smart: registered client id"}, text(&AuthConfig::client_id)},
      {{k("private_key_file"), "", "smart: PEM private key signing the client assertion"},
       text(&AuthConfig::private_key_file)},
      {{k("key_id"), "", "smart: kid of the key in the registered JWKS"},
       text(&AuthConfig::key_id)},
      {{k("algorithm"), "RS384", "smart: RS384 | ES384"},
       one_of(text(&AuthConfig::algorithm), {"RS384", "ES384"})},
      {{k("scope"), "", "smart: requested scopes; empty: the target's share of the derived ones"},
       text(&AuthConfig::scope)},
      {{k("scope_syntax"), "v2", "smart: v2 (system/Condition.rs) | v1 (system/Condition.read)"},
       one_of(text(&AuthConfig::scope_syntax), {"v2", "v1"})},
      {{k("token_endpoint"), "", "smart: token endpoint; empty: discovered from the target"},
       [](AdapterConfig& c, const Raw& r, const std::string& key) {
         require_url(key, r);
         c.target.auth.token_endpoint = r.value;
       }},
      {{k("allow_insecure_http"), "false",
        "send credentials over plain http to a host that is not loopback (testing only)"},
       [](AdapterConfig& c, const Raw& r, const std::string& key) {
         if (r.value != "true" && r.value != "1" && r.value != "false" && r.value != "0") {
           bad(key, r, "'" + r.value + "' is not true or false");
         }
         c.target.auth.allow_insecure_http = r.value == "true" || r.value == "1";
       }},
  };
}

// base_specs() with the target's keys after the source's auth.*.
const std::vector<KeySpec>& specs() {
  using A = AdapterConfig;
  static const std::vector<KeySpec> kSpecs = [] {
    std::vector<KeySpec> v = base_specs();
    std::vector<KeySpec> target = {
        {{"target.base_url", "",
          "FHIR R4 base URL plans are written to; empty: server.base_url (one server for both)"},
         [](A& c, const Raw& r, const std::string& key) {
           require_url(key, r);
           c.target.base_url = r.value;
           while (!c.target.base_url.empty() && c.target.base_url.back() == '/') {
             c.target.base_url.pop_back();
           }
         }},
        {{"target.tls_verify", "true", "verify the target's TLS certificate (keep true)"},
         boolean(&A::target, &TargetConfig::tls_verify)},
        {{"target.ca_file", "", "target: PEM CA bundle; empty: the system's"},
         str(&A::target, &TargetConfig::ca_file)},
    };
    for (auto& k : target_auth_specs()) target.push_back(std::move(k));
    auto after_auth = std::find_if(v.begin(), v.end(), [](const KeySpec& k) {
      return std::string_view(k.doc.key) == "adapter.canonical_base";
    });
    v.insert(after_auth, std::make_move_iterator(target.begin()),
             std::make_move_iterator(target.end()));
    return v;
  }();
  return kSpecs;
}

const KeySpec* find_spec(const std::string& key) {
  for (const auto& s : specs()) {
    if (key == s.doc.key) return &s;
  }
  return nullptr;
}

// Flattens nested objects to dotted keys; scalars become their text.
void flatten(fhir::Node n, const std::string& prefix, const std::string& file,
             std::map<std::string, Raw>& out) {
  const auto& v = *n.raw();
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string name(it->name.GetString(), it->name.GetStringLength());
      if (name.rfind('_', 0) == 0) continue;  // "_comment" keys document the file
      flatten(fhir::Node(&it->value, name), prefix.empty() ? name : prefix + "." + name, file, out);
    }
    return;
  }
  Raw raw{"", "config file " + file};
  if (v.IsString()) {
    raw.value.assign(v.GetString(), v.GetStringLength());
  } else if (v.IsBool()) {
    raw.value = v.GetBool() ? "true" : "false";
  } else if (v.IsInt64()) {
    raw.value = std::to_string(v.GetInt64());
  } else if (v.IsArray()) {
    for (fhir::Node item : n.elements()) {
      if (!item.is_string()) bad(prefix, raw, "arrays may hold strings only");
      raw.value += (raw.value.empty() ? "" : ",") + std::string(item.as_string());
    }
  } else if (v.IsNull()) {
    return;
  } else {
    bad(prefix, raw, "must be a string, a whole number, a boolean or an array of strings");
  }
  out[prefix] = raw;
}

}  // namespace

std::string env_name(const std::string& key) {
  std::string e = "MST_";
  for (char ch : key)
    e += ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return e;
}

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> k;
    for (const auto& s : specs()) k.push_back(s.doc);
    return k;
  }();
  return keys;
}

AdapterConfig load_config(const ConfigSources& sources) {
  std::map<std::string, Raw> values;
  if (sources.file) {
    std::ifstream in(*sources.file, std::ios::binary);
    if (!in) throw ConfigError("cannot read configuration file " + *sources.file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    try {
      auto doc = fhir::JsonDocument::parse(text);
      if (!doc.root().is_object()) {
        throw ConfigError("configuration file " + *sources.file + " must hold a JSON object");
      }
      flatten(doc.root(), "", *sources.file, values);
    } catch (const fhir::ParseError& e) {
      throw ConfigError("configuration file " + *sources.file + ": " + e.what());
    }
    for (const auto& [key, raw] : values) {
      if (!find_spec(key)) {
        throw ConfigError("configuration file " + *sources.file + ": unknown key '" + key + "'");
      }
    }
  }
  for (const auto& s : specs()) {
    auto it = sources.env.find(env_name(s.doc.key));
    if (it != sources.env.end()) values[s.doc.key] = Raw{it->second, "environment " + it->first};
  }
  for (const auto& [key, value] : sources.flags) {
    if (!find_spec(key)) throw ConfigError("unknown configuration key '" + key + "'");
    values[key] = Raw{value, "command line"};
  }
  AdapterConfig c;
  for (const auto& s : specs()) {
    auto it = values.find(s.doc.key);
    if (it != values.end()) s.set(c, it->second, s.doc.key);
  }
  return c;
}

Endpoint source_endpoint(const AdapterConfig& config) { return {config.server, config.auth}; }

bool separate_target(const AdapterConfig& config) {
  return !config.target.base_url.empty() && config.target.base_url != config.server.base_url;
}

Endpoint target_endpoint(const AdapterConfig& config) {
  if (config.target.base_url.empty()) return source_endpoint(config);
  Endpoint e{config.server, config.target.auth};
  e.server.base_url = config.target.base_url;
  e.server.tls_verify = config.target.tls_verify;
  e.server.ca_file = config.target.ca_file;
  return e;
}

}  // namespace mst::adapter
