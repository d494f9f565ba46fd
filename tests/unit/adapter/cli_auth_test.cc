// `check` against the SMART scopes a token endpoint grants, and credentials
// refused over plain http (issue #12, findings 2 and 4).
#include <Poco/Crypto/RSAKey.h>
#include <Poco/URI.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mst/adapter/cli/app.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/cli/server_options.h"
#include "mst/adapter/pipeline/server_interactions.h"
#include "support/capability_fixture.h"
#include "support/mock_transport.h"

namespace mst::adapter::cli {
namespace {

using fhir::HttpRequest;
using fhir::testing::FakeClock;
using fhir::testing::MockTransport;
using fhir::testing::response;
using mst::adapter::testing::capability_statement;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Not;

std::string form_value(const std::string& body, const std::string& name) {
  std::istringstream in(body);
  std::string pair;
  while (std::getline(in, pair, '&')) {
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string value;
    Poco::URI::decode(pair.substr(eq + 1), value, true);
    return value;
  }
  return {};
}

class CliAuthTest : public ::testing::Test {
 protected:
  CliAuthTest() {
    key_path_ = (std::filesystem::temp_directory_path() /
                 ("mst-cli-auth-" + std::to_string(::getpid()) + ".pem"))
                    .string();
    Poco::Crypto::RSAKey key(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE);
    std::ostringstream pub, priv;
    key.save(&pub, &priv);
    std::ofstream(key_path_) << priv.str();
  }
  ~CliAuthTest() override { std::filesystem::remove(key_path_); }

  int run(std::vector<std::string> args) {
    out.str("");
    err.str("");
    Context context{out, err, env, [this](const fhir::TransportOptions&) { return transport; }};
    context.clock = clock;
    return run_cli(args, context);
  }

  // A SMART server whose token endpoint grants `granted` (no `scope` field
  // when nullopt); the requested scope lands in `requested`.
  void serve_smart(std::optional<std::string> granted) {
    ON_CALL(*transport, send(_)).WillByDefault(Invoke([this, granted](const HttpRequest& r) {
      if (r.url.ends_with("/.well-known/smart-configuration"))
        return response(200, R"({"token_endpoint":"https://auth.test/token"})");
      if (r.url == "https://auth.test/token") {
        requested = form_value(r.body, "scope");
        return response(200, R"({"access_token":"at","token_type":"bearer","expires_in":300)" +
                                 (granted ? R"(,"scope":")" + *granted + "\"" : "") + "}");
      }
      return response(200, capability_statement());
    }));
    EXPECT_CALL(*transport, send(_)).Times(::testing::AnyNumber());
  }

  std::vector<std::string> smart_check(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "check",    "--server", "https://ehr.test/fhir", "--auth", "smart", "--client-id", "mst",
        "--key-id", "k1",       "--private-key",         key_path_};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::ostringstream out;
  std::ostringstream err;
  std::map<std::string, std::string> env;
  std::shared_ptr<MockTransport> transport =
      std::make_shared<::testing::StrictMock<MockTransport>>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::string requested;
  std::string key_path_;
};

TEST_F(CliAuthTest, CheckPassesWhenEveryDerivedScopeIsGranted) {
  serve_smart(needed_smart_scope(AdapterConfig{}));
  EXPECT_EQ(run(smart_check()), kSuccess) << out.str() << err.str();
  EXPECT_EQ(requested, needed_smart_scope(AdapterConfig{}));
  EXPECT_THAT(requested, HasSubstr("system/Procedure.rs"));
  EXPECT_THAT(requested, HasSubstr("system/Device.crs"));
  EXPECT_THAT(out.str(), HasSubstr("  ok       granted scopes cover what the adapter does"));
}

TEST_F(CliAuthTest, CheckNamesAScopeTheServerDidNotGrantAndExits4) {
  // A client registered with the old v1 defaults: no Procedure, no Device,
  // and write on Goal without search.
  serve_smart(
      "system/Patient.read system/Condition.read system/Observation.read system/CarePlan.read "
      "system/MedicationRequest.read system/MedicationAdministration.read "
      "system/MedicationStatement.read system/Consent.read system/Medication.read "
      "system/CarePlan.write "
      "system/Goal.write system/CareTeam.write system/ServiceRequest.write "
      "system/Provenance.write");
  EXPECT_EQ(run(smart_check()), kAuthFailed) << out.str() << err.str();
  EXPECT_THAT(out.str(),
              HasSubstr("  MISSING  scope system/Procedure.rs: not granted to client mst"));
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  scope system/Device.crs"));
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  scope system/Goal.rs"));
  EXPECT_THAT(out.str(), Not(HasSubstr("MISSING  scope system/Condition")));
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  scope system/Provenance.rs"));
  EXPECT_THAT(err.str(), HasSubstr("did not grant 6 scope(s)"));
}

TEST_F(CliAuthTest, V1SyntaxByConfiguration) {
  serve_smart("system/*.read system/*.write");
  EXPECT_EQ(run(smart_check({"--scope-syntax", "v1"})), kSuccess) << out.str() << err.str();
  EXPECT_THAT(requested, HasSubstr("system/Procedure.read system/Goal.read"));
  EXPECT_THAT(requested, HasSubstr("system/Device.read system/Device.write"));
  EXPECT_THAT(requested, Not(HasSubstr(".rs")));

  serve_smart("system/*.read");
  env["MST_AUTH_SCOPE_SYNTAX"] = "v1";
  EXPECT_EQ(run(smart_check()), kAuthFailed);
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  scope system/Goal.write"));
  env["MST_AUTH_SCOPE_SYNTAX"] = "v3";
  EXPECT_EQ(run(smart_check()), kUsage);
}

TEST_F(CliAuthTest, AGrantThatIsNotListedIsReportedNotFailed) {
  serve_smart(std::nullopt);
  EXPECT_EQ(run(smart_check()), kSuccess) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("did not list the granted scopes"));
}

TEST_F(CliAuthTest, CredentialsAreRefusedOverPlainHttpToARemoteHost) {
  ::setenv("MST_CLI_AUTH_TOKEN", "tok-never-sent", 1);
  EXPECT_CALL(*transport, send(_)).Times(0);
  EXPECT_EQ(run({"check", "--server", "http://ehr.example:8080/fhir", "--auth", "bearer",
                 "--token-env", "MST_CLI_AUTH_TOKEN"}),
            kUsage);
  EXPECT_THAT(err.str(), HasSubstr("refusing to send bearer credentials over plain http to "
                                   "http://ehr.example:8080/fhir"));
  EXPECT_THAT(err.str(), HasSubstr("--allow-insecure-http"));
  EXPECT_EQ(run({"check", "--server", "http://10.0.0.5/fhir", "--auth", "basic", "--user", "u",
                 "--password-env", "MST_CLI_AUTH_TOKEN"}),
            kUsage);
  EXPECT_EQ(run(smart_check({"--server", "http://ehr.example/fhir"})), kUsage);
  // A token endpoint given in plain http to another host is refused too.
  EXPECT_EQ(run(smart_check({"--token-endpoint", "http://auth.example/token"})), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("token endpoint http://auth.example/token"));
  ::unsetenv("MST_CLI_AUTH_TOKEN");
}

TEST_F(CliAuthTest, LoopbackAndAnExplicitFlagAreAllowed) {
  ::setenv("MST_CLI_AUTH_TOKEN", "tok", 1);
  ON_CALL(*transport, send(_)).WillByDefault(Invoke([](const HttpRequest&) {
    return response(200, capability_statement());
  }));
  EXPECT_CALL(*transport, send(_)).Times(::testing::AnyNumber());
  for (const char* server : {"http://127.0.0.1:8080/fhir", "http://localhost/fhir",
                             "http://[::1]:8080/fhir", "https://ehr.example/fhir"}) {
    EXPECT_EQ(
        run({"check", "--server", server, "--auth", "bearer", "--token-env", "MST_CLI_AUTH_TOKEN"}),
        kSuccess)
        << server << ": " << err.str();
    EXPECT_EQ(err.str(), "") << server;
  }
  EXPECT_EQ(run({"check", "--server", "http://ehr.example/fhir", "--auth", "bearer", "--token-env",
                 "MST_CLI_AUTH_TOKEN", "--allow-insecure-http"}),
            kSuccess);
  EXPECT_THAT(err.str(), HasSubstr("WARNING: credentials go over plain http"));
  // Without credentials there is nothing to leak.
  EXPECT_EQ(run({"check", "--server", "http://ehr.example/fhir"}), kSuccess);
  ::unsetenv("MST_CLI_AUTH_TOKEN");
}

}  // namespace
}  // namespace mst::adapter::cli

namespace mst::adapter::cli {
namespace {

TEST(SmartScopesByServer, WithATargetTheSourceIsAskedToReadAndTheTargetToWrite) {
  AdapterConfig one;
  const std::string both = needed_smart_scope(one);
  EXPECT_EQ(needed_smart_scope(one, ServerRole::kSource), both);  // one server: every scope
  EXPECT_NE(both.find("system/CarePlan.crus"), std::string::npos) << both;

  AdapterConfig split;
  split.server.base_url = "https://ehr.test/fhir";
  split.target.base_url = "https://repo.test/fhir";
  split.target.auth.scope_syntax = "v1";
  const std::string source = needed_smart_scope(split, ServerRole::kSource);
  const std::string target = needed_smart_scope(split, ServerRole::kTarget);
  EXPECT_EQ(needed_smart_scope(split), source);
  EXPECT_NE(source.find("system/Condition.rs"), std::string::npos) << source;
  EXPECT_NE(source.find("system/CarePlan.rs"), std::string::npos) << source;
  EXPECT_EQ(source.find("Provenance"), std::string::npos) << source;
  EXPECT_EQ(source.find("Device"), std::string::npos) << source;
  // The target's own syntax.
  EXPECT_NE(target.find("system/Provenance.write"), std::string::npos) << target;
  EXPECT_EQ(target.find("Condition"), std::string::npos) << target;
}

}  // namespace
}  // namespace mst::adapter::cli
