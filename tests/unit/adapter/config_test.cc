#include "mst/adapter/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "mst/fhir/json.h"

namespace mst::adapter {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}

TEST(Config, DefaultsWithoutAnySource) {
  AdapterConfig c = load_config({});
  EXPECT_EQ(c.sync.concurrency, 4);
  EXPECT_TRUE(c.server.tls_verify);
  EXPECT_EQ(c.auth.type, "none");
  EXPECT_EQ(c.canonical_base, "http://mst-adapter.example.org/fhir");
}

TEST(Config, FlagsOverrideEnvironmentOverrideFile) {
  auto file = write_temp("mst-config-a.json", R"({"_comment":"x",
    "server":{"base_url":"http://file/fhir/","retry":{"max_attempts":3}},
    "sync":{"concurrency":2,"shard":"1/4"},"adapter":{"site_tables":["a","b"]}})");
  ConfigSources src;
  src.file = file;
  src.env = {{"MST_SYNC_CONCURRENCY", "8"},
             {"MST_SERVER_BASE_URL", "http://env/fhir"},
             {"UNRELATED", "x"}};
  src.flags = {{"server.base_url", "https://flag/fhir"}};
  AdapterConfig c = load_config(src);
  EXPECT_EQ(c.server.base_url, "https://flag/fhir");
  EXPECT_EQ(c.sync.concurrency, 8);
  EXPECT_EQ(c.server.retry_max_attempts, 3);
  EXPECT_EQ(c.sync.shard_index, 1);
  EXPECT_EQ(c.sync.shard_count, 4);
  EXPECT_EQ(c.site_tables, (std::vector<std::string>{"a", "b"}));
}

TEST(Config, ConceptMapsFromFileEnvironmentOrFlag) {
  auto file = write_temp("mst-config-cm.json",
                         R"({"adapter":{"concept_maps":["site/a.json","site/b.json"],
                             "concept_map_urls":["http://h/ConceptMap/x"]}})");
  ConfigSources src;
  src.file = file;
  AdapterConfig c = load_config(src);
  EXPECT_EQ(c.concept_maps, (std::vector<std::string>{"site/a.json", "site/b.json"}));
  EXPECT_EQ(c.concept_map_urls, (std::vector<std::string>{"http://h/ConceptMap/x"}));
  src.env = {{"MST_ADAPTER_CONCEPT_MAPS", "env.json,,other.json"}};
  EXPECT_EQ(load_config(src).concept_maps, (std::vector<std::string>{"env.json", "other.json"}));
  src.flags = {{"adapter.concept_maps", "flag.json"}};
  EXPECT_EQ(load_config(src).concept_maps, (std::vector<std::string>{"flag.json"}));
  EXPECT_TRUE(load_config({}).concept_maps.empty());
}

TEST(Config, ErrorsNameTheKeyAndTheSource) {
  auto expect_error = [](const ConfigSources& src, const std::string& fragment) {
    try {
      load_config(src);
      ADD_FAILURE() << "expected ConfigError containing " << fragment;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  ConfigSources env;
  env.env = {{"MST_SYNC_CONCURRENCY", "lots"}};
  expect_error(env, "configuration key 'sync.concurrency' (environment MST_SYNC_CONCURRENCY)");
  ConfigSources range;
  range.flags = {{"sync.concurrency", "0"}};
  expect_error(range, "0 is outside 1..64");
  ConfigSources unknown;
  unknown.file = write_temp("mst-config-b.json", R"({"sync":{"concurency":2}})");
  expect_error(unknown, "unknown key 'sync.concurency'");
  ConfigSources bad_json;
  bad_json.file = write_temp("mst-config-c.json", "{");
  expect_error(bad_json, "malformed JSON");
  ConfigSources missing;
  missing.file = "/nonexistent/config.json";
  expect_error(missing, "cannot read configuration file /nonexistent/config.json");
  ConfigSources auth;
  auth.flags = {{"auth.type", "magic"}};
  expect_error(auth, "'magic' is not one of none | bearer | basic | smart");
  ConfigSources url;
  url.flags = {{"server.base_url", "ftp://x"}};
  expect_error(url, "must start with http:// or https://");
  ConfigSources date;
  date.flags = {{"adapter.as_of", "2026-11"}};
  expect_error(date, "is not a date YYYY-MM-DD");
  ConfigSources shard;
  shard.flags = {{"sync.shard", "4/4"}};
  expect_error(shard, "4 is outside 0..3");
}

TEST(Config, InlineSecretsAreNotAKey) {
  ConfigSources src;
  src.flags = {{"auth.token", "abc"}};
  EXPECT_THROW(load_config(src), ConfigError);
}

TEST(Config, EveryKeyHasAnEnvironmentName) {
  EXPECT_EQ(env_name("server.retry.max_attempts"), "MST_SERVER_RETRY_MAX_ATTEMPTS");
  EXPECT_GT(config_keys().size(), 30u);
}

}  // namespace
}  // namespace mst::adapter

namespace mst::adapter {
namespace {

// The shipped example must stay loadable and list every key.
TEST(Config, ExampleFileLoadsAndCoversEveryKey) {
  const std::string path = std::string(MST_SOURCE_DIR) + "/config/adapter.example.json";
  ConfigSources src;
  src.file = path;
  AdapterConfig c = load_config(src);
  EXPECT_EQ(c.server.base_url, "http://127.0.0.1:8080/fhir");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& k : config_keys()) {
    std::string leaf = k.key;
    leaf = leaf.substr(leaf.rfind('.') + 1);
    EXPECT_NE(text.find("\"" + leaf + "\""), std::string::npos) << k.key;
  }
}

}  // namespace
}  // namespace mst::adapter

namespace mst::adapter {
namespace {

TEST(Config, WithoutATargetOneServerReadsAndWrites) {
  ConfigSources src;
  src.flags = {{"server.base_url", "https://ehr.test/fhir"}, {"auth.type", "bearer"}};
  const AdapterConfig c = load_config(src);
  EXPECT_FALSE(separate_target(c));
  EXPECT_EQ(target_endpoint(c).server.base_url, "https://ehr.test/fhir");
  EXPECT_EQ(target_endpoint(c).auth.type, "bearer");
}

TEST(Config, ATargetHasItsOwnUrlTlsAndAuth) {
  auto file = write_temp("mst-config-target.json", R"({
    "server":{"base_url":"https://ehr.test/fhir","ca_file":"ehr.pem","request_timeout_ms":900},
    "auth":{"type":"smart","client_id":"reader"},
    "target":{"base_url":"https://repo.test/fhir/","ca_file":"repo.pem",
              "auth":{"type":"basic","username":"writer","password_env":"REPO_PW"}}})");
  ConfigSources src;
  src.file = file;
  src.env = {{"MST_TARGET_AUTH_USERNAME", "writer2"}};
  const AdapterConfig c = load_config(src);
  EXPECT_TRUE(separate_target(c));
  const Endpoint source = source_endpoint(c);
  const Endpoint target = target_endpoint(c);
  EXPECT_EQ(source.server.base_url, "https://ehr.test/fhir");
  EXPECT_EQ(source.auth.client_id, "reader");
  EXPECT_EQ(target.server.base_url, "https://repo.test/fhir");
  EXPECT_EQ(target.server.ca_file, "repo.pem");
  EXPECT_EQ(target.server.request_timeout_ms, 900);  // shared with server.*
  EXPECT_EQ(target.auth.type, "basic");
  EXPECT_EQ(target.auth.username, "writer2");
  EXPECT_EQ(target.auth.password_env, "REPO_PW");
  EXPECT_EQ(target.auth.client_id, "");
}

TEST(Config, ABadTargetIsRefusedByName) {
  ConfigSources src;
  src.flags = {{"target.base_url", "ftp://repo.test"}};
  try {
    load_config(src);
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("target.base_url"), std::string::npos) << e.what();
  }
  src.flags = {{"target.auth.type", "kerberos"}};
  EXPECT_THROW(load_config(src), ConfigError);
}

}  // namespace
}  // namespace mst::adapter

namespace mst::adapter {
namespace {

// The key table (config_keys()) is the one list of defaults; the struct's
// initialisers, docs/configuration.md and the shipped example must say the
// same, or a user reads one default and runs another.
TEST(ConfigDefaults, TheStructInitialisersAreTheTableDefaults) {
  EXPECT_TRUE(load_config({}) == AdapterConfig{});
  // Each key set to its table default, so a failure names it. An empty
  // default is "not set", which some keys (server.base_url) refuse to be
  // given explicitly.
  int checked = 0;
  for (const auto& k : config_keys()) {
    ConfigSources one;
    one.flags = {{k.key, k.default_value}};
    try {
      EXPECT_TRUE(load_config(one) == AdapterConfig{}) << k.key << " = '" << k.default_value << "'";
      ++checked;
    } catch (const ConfigError& e) {
      EXPECT_STREQ(k.default_value, "") << k.key << ": " << e.what();
    }
  }
  EXPECT_GT(checked, 60);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ConfigDefaults, TheDocsDefaultColumnIsTheTable) {
  const std::string docs = read_text(std::string(MST_SOURCE_DIR) + "/docs/configuration.md");
  std::map<std::string, std::string> documented;
  const std::regex row(R"(\| `([a-z_.0-9]+)` \| `[A-Z_0-9]+` \| `([^`]*)` \|)");
  for (std::sregex_iterator it(docs.begin(), docs.end(), row), end; it != end; ++it) {
    documented[(*it)[1]] = (*it)[2];
  }
  EXPECT_EQ(documented.size(), config_keys().size());
  for (const auto& k : config_keys()) {
    auto it = documented.find(k.key);
    ASSERT_NE(it, documented.end()) << k.key << " is not in docs/configuration.md";
    EXPECT_EQ(it->second, k.default_value) << k.key;
  }
}

// A value of the example file as the table spells defaults.
std::string as_default_text(fhir::Node n) {
  if (n.is_string()) return std::string(n.as_string());
  const rapidjson::Value& v = *n.raw();
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsArray()) {
    std::string joined;
    for (const auto& item : v.GetArray()) {
      if (!joined.empty()) joined += ',';
      joined += item.IsString() ? item.GetString() : "?";
    }
    return joined;
  }
  return "?";
}

TEST(ConfigDefaults, TheShippedExampleShowsTheTableDefaults) {
  const auto doc = fhir::JsonDocument::parse(
      read_text(std::string(MST_SOURCE_DIR) + "/config/adapter.example.json"));
  for (const auto& k : config_keys()) {
    // The example points at the local test server, as its first use is.
    if (std::string_view(k.key) == "server.base_url") continue;
    fhir::Node n = doc.root();
    std::stringstream path(k.key);
    for (std::string part; std::getline(path, part, '.');) n = n[part];
    ASSERT_TRUE(n.present()) << k.key;
    EXPECT_EQ(as_default_text(n), k.default_value) << k.key;
  }
}

}  // namespace
}  // namespace mst::adapter

namespace mst::adapter {
namespace {

TEST(ServeConfig, IssuersAreIssAndJwksPairs) {
  ConfigSources s;
  s.flags = {
      {"serve.issuers",
       "https://ehr.example.org https://ehr.example.org/jwks.json,sandbox /etc/mst/jwks.json"},
      {"serve.public_url", "https://cds.example.org/"}};
  const AdapterConfig c = load_config(s);
  ASSERT_EQ(c.serve.issuers.size(), 2u);
  EXPECT_EQ(c.serve.issuers[0].iss, "https://ehr.example.org");
  EXPECT_EQ(c.serve.issuers[0].jwks, "https://ehr.example.org/jwks.json");
  EXPECT_EQ(c.serve.issuers[1].jwks, "/etc/mst/jwks.json");
  EXPECT_EQ(c.serve.public_url, "https://cds.example.org");
}

TEST(ServeConfig, RefusesMalformedIssuers) {
  for (const char* bad : {"https://ehr.example.org",             // no JWKS
                          "a b c",                               // a third word
                          "x http://ehr.example.org/jwks.json",  // keys in clear over the network
                          "x /a.json,x /b.json"}) {              // one iss twice
    ConfigSources s;
    s.flags = {{"serve.issuers", bad}};
    EXPECT_THROW(load_config(s), ConfigError) << bad;
  }
  ConfigSources loopback;
  loopback.flags = {{"serve.issuers", "x http://127.0.0.1:8080/jwks.json"}};
  EXPECT_EQ(load_config(loopback).serve.issuers.size(), 1u);
}

}  // namespace
}  // namespace mst::adapter
