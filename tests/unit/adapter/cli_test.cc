#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mst/adapter/cli/app.h"
#include "mst/adapter/cli/args.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/cli/requirements.h"
#include "mst/adapter/config.h"
#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/fhir/client_errors.h"
#include "support/capability_fixture.h"
#include "support/mock_transport.h"

namespace mst::adapter::cli {
namespace {

using fhir::HttpRequest;
using fhir::HttpResponse;
using fhir::TransportError;
using fhir::testing::FakeClock;
using fhir::testing::MockTransport;
using fhir::testing::response;
using mst::adapter::testing::capability_statement;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Not;
using ::testing::Return;

// ---- argument parsing ----

const std::vector<OptionSpec> kSpecs = {
    {"server", "URL", "base", "server.base_url"},
    {"verbose", "", "more", ""},
    {"insecure", "", "no tls", "server.tls_verify", "false"},
};

TEST(ParseArgs, ReadsValuesFlagsAndPositionals) {
  ParsedArgs p = parse_args({"--server", "http://a", "x.json", "--verbose", "--server=http://b",
                             "--insecure", "--", "--not-an-option"},
                            kSpecs);
  EXPECT_EQ(p.get("server"), "http://b");
  EXPECT_EQ(p.options.at("server").size(), 2u);
  EXPECT_TRUE(p.has("verbose"));
  EXPECT_EQ(p.get("insecure"), "false");
  EXPECT_FALSE(p.has("missing"));
  EXPECT_EQ(p.positionals, (std::vector<std::string>{"x.json", "--not-an-option"}));
}

TEST(ParseArgs, RejectsWhatItDoesNotKnow) {
  EXPECT_THROW(parse_args({"--token", "abc"}, kSpecs), UsageError);
  EXPECT_THROW(parse_args({"-s", "x"}, kSpecs), UsageError);
  EXPECT_THROW(parse_args({"--server"}, kSpecs), UsageError);
  EXPECT_THROW(parse_args({"--verbose=yes"}, kSpecs), UsageError);
  try {
    parse_args({"--sever", "x"}, kSpecs);
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "unknown option '--sever'");
  }
}

TEST(ParseArgs, FormatsHelpAligned) {
  EXPECT_EQ(format_options(kSpecs),
            "  --server URL  base\n"
            "  --verbose     more\n"
            "  --insecure    no tls\n");
}

// ---- exit codes ----

TEST(ExitCodes, MapEachErrorClass) {
  EXPECT_EQ(exit_code_for(UsageError("x")), kUsage);
  EXPECT_EQ(exit_code_for(ConfigError("x")), kUsage);
  EXPECT_EQ(exit_code_for(fhir::InvalidRequest("GET", "u", 0, "", "x")), kUsage);
  EXPECT_EQ(exit_code_for(fhir::ServerUnreachable("GET", "u", TransportError::Kind::kConnect, "x")),
            kUnreachable);
  EXPECT_EQ(exit_code_for(fhir::DeadlineExceeded("GET", "u", 503, "", "x")), kUnreachable);
  EXPECT_EQ(exit_code_for(fhir::AuthError("GET", "u", 401, "", "x")), kAuthFailed);
  EXPECT_EQ(exit_code_for(fhir::SearchIncomplete("GET", "u", 0, "", "x")), kPartial);
  EXPECT_EQ(exit_code_for(fhir::HttpStatusError("GET", "u", 500, "", "x")), kRejected);
  EXPECT_EQ(exit_code_for(fhir::VersionConflict("PUT", "u", 409, "", "x")), kRejected);
  EXPECT_EQ(exit_code_for(fhir::InvalidResponse("GET", "u", 200, "", "x")), kRejected);
  EXPECT_EQ(exit_code_for(ThresholdsError("x")), kUsage);
  EXPECT_EQ(exit_code_for(std::logic_error("bug")), kInternal);
}

// ---- requirements ----

fhir::Capabilities caps_of(const std::string& json) {
  auto doc = fhir::JsonDocument::parse(json);
  return fhir::read_capabilities(doc.root());
}

TEST(Requirements, AllMetOnAFullR4Server) {
  for (const auto& check : check_requirements(caps_of(capability_statement()),
                                              server_interactions(false), {"transaction"})) {
    EXPECT_TRUE(check.met) << check.what << ": " << check.detail;
  }
}

TEST(Requirements, NamesWhatIsMissing) {
  auto checks =
      check_requirements(caps_of(capability_statement("5.0.0", false, false, "Provenance")),
                         server_interactions(false), {"transaction"});
  std::vector<std::string> missing;
  for (const auto& c : checks) {
    if (!c.met) missing.push_back(c.what + ": " + c.detail);
  }
  EXPECT_THAT(missing,
              ::testing::Contains("FHIR version 4.0.x (R4): the server speaks FHIR 5.0.0"));
  EXPECT_THAT(missing,
              ::testing::Contains("create Provenance: Provenance is not a supported resource"));
  EXPECT_THAT(missing, ::testing::Contains(
                           "conditional create Goal: conditionalCreate is not true for Goal"));
  EXPECT_THAT(missing,
              ::testing::Contains(
                  "system transaction: 'transaction' is not a declared system interaction"));
  // R4; Provenance is created and searched (plan_provenance.h); CarePlan,
  // Goal, ServiceRequest, CareTeam and Device are conditionally created
  // (never conditionally updated: plan_members.h); transaction.
  EXPECT_EQ(missing.size(), 1u + 2u + 5u + 1u);
}

// ---- the program ----

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static int counter = 0;
    path_ =
        (std::filesystem::temp_directory_path() /
         ("mst-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".json"))
            .string();
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class CliTest : public ::testing::Test {
 protected:
  int run(std::vector<std::string> args) {
    out.str("");
    err.str("");
    Context context{out, err, env, [this](const fhir::TransportOptions& o) {
                      transport_options = o;
                      return transport;
                    }};
    context.clock = clock;
    return run_cli(args, context);
  }

  std::ostringstream out;
  std::ostringstream err;
  std::map<std::string, std::string> env;
  std::shared_ptr<MockTransport> transport =
      std::make_shared<::testing::StrictMock<MockTransport>>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  fhir::TransportOptions transport_options;
};

TEST_F(CliTest, PrintsVersionAndHelp) {
  EXPECT_EQ(run({"--version"}), 0);
  EXPECT_EQ(out.str(), std::string("mst-adapter ") + MST_VERSION + "\n");
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_THAT(out.str(), HasSubstr("  check "));
  EXPECT_THAT(out.str(), HasSubstr("  load "));
  EXPECT_EQ(run({}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("usage: mst-adapter COMMAND"));
}

TEST_F(CliTest, CommandHelpListsItsOptions) {
  EXPECT_EQ(run({"check", "--help"}), 0);
  EXPECT_THAT(out.str(), HasSubstr("usage: mst-adapter check --server URL"));
  for (const char* option : {"--server URL", "--auth KIND", "--token-env VAR", "--token-file FILE",
                             "--client-id ID", "--private-key FILE", "--key-id KID", "--alg ALG",
                             "--ca-file FILE", "--insecure-skip-tls-verify"}) {
    EXPECT_THAT(out.str(), HasSubstr(option));
  }
}

// docs/exit-codes.md promises 2 for every configuration error; these used to
// end as 70 ("internal error: please report").
TEST_F(CliTest, ConfigurationErrorsExitWith2NotInternal) {
  const std::string fixture = std::string(MST_SOURCE_DIR) + "/tests/fixtures/patients/mst-p01.json";
  EXPECT_EQ(run({"run", "--input", fixture, "--rules", "/nonexistent/rules.json"}), kUsage);
  EXPECT_THAT(err.str(), Not(HasSubstr("internal error")));
  // Two Patients in --input and no --patient to choose one.
  const std::string two = R"({"resourceType":"Bundle","type":"collection","entry":[)"
                          R"({"resource":{"resourceType":"Patient","id":"a"}},)"
                          R"({"resource":{"resourceType":"Patient","id":"b"}}]})";
  TempFile bundle(two);
  EXPECT_EQ(run({"run", "--input", bundle.path()}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("2 Patients"));
  EXPECT_EQ(run({"explain", "--input", bundle.path()}), kUsage);
  // A transport that cannot be built (an unreadable --ca-file) sends nothing.
  Context context{out, err, env,
                  [](const fhir::TransportOptions&) -> std::shared_ptr<fhir::HttpTransport> {
                    throw TransportError(TransportError::Kind::kTls, "CA bundle x is not readable");
                  }};
  context.clock = clock;
  err.str("");
  EXPECT_EQ(run_cli({"check", "--server", "https://h/fhir", "--ca-file", "x"}, context), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("CA bundle"));
  // An address the ops listener cannot use.
  const auto state = std::filesystem::temp_directory_path() /
                     ("mst-cli-listen-" + std::to_string(::getpid()) + ".db");
  env["MST_ADAPTER_CANONICAL_BASE"] = "https://interop.st-elsewhere.org/fhir";
  EXPECT_EQ(run({"sync", "--server", "http://h/fhir", "--once", "--state", state.string(),
                 "--listen", "bogus"}),
            kUsage);
  EXPECT_THAT(err.str(), HasSubstr("service.listen"));
  std::filesystem::remove(state);
}

// A sync population that cannot be used is a configuration error (exit 2),
// found before anything is read, or in the first cycle for a file.
TEST_F(CliTest, ABadSyncPopulationExitsWith2) {
  const auto state = std::filesystem::temp_directory_path() /
                     ("mst-cli-population-" + std::to_string(::getpid()) + ".db");
  const auto ids = std::filesystem::temp_directory_path() /
                   ("mst-cli-population-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream f(ids);
    f << "p1\nnot an id\n";
  }
  env["MST_ADAPTER_CANONICAL_BASE"] = "https://interop.st-elsewhere.org/fhir";
  const std::vector<std::string> sync = {"sync",   "--server", "http://127.0.0.1:9/fhir",
                                         "--once", "--state",  state.string()};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = sync;
    args.insert(args.end(), extra.begin(), extra.end());
    err.str("");
    return run(args);
  };
  EXPECT_EQ(with({"--population", "Group/x"}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("sync.population"));
  EXPECT_EQ(with({"--population", "group:g1", "--changes", "last-updated"}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("needs sync.population=search"));
  EXPECT_EQ(with({"--changes", "sometimes"}), kUsage);
  EXPECT_EQ(with({"--repull-budget", "-1"}), kUsage);
  EXPECT_EQ(with({"--population", "file:" + ids.string()}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("line 2: not a patient id"));
  EXPECT_THAT(err.str(), Not(HasSubstr("internal error")));
  std::filesystem::remove(state);
  std::filesystem::remove(ids);
}

TEST_F(CliTest, WritingUnderTheExampleCanonicalBaseIsRefusedOutsideThisMachine) {
  // Issue #12, finding 3: every install keeping the example base shares one
  // identifier space. Nothing is sent.
  EXPECT_CALL(*transport, send(_)).Times(0);
  const auto state = std::filesystem::temp_directory_path() /
                     ("mst-cli-base-" + std::to_string(::getpid()) + ".db");
  EXPECT_EQ(run({"run", "--server", "https://ehr.hospital.org/fhir", "--patient", "p1"}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("'adapter.canonical_base' is "
                                   "http://mst-adapter.example.org/fhir, an example domain"));
  EXPECT_THAT(err.str(), HasSubstr("MST_ADAPTER_CANONICAL_BASE"));
  EXPECT_EQ(run({"sync", "--server", "https://ehr.hospital.org/fhir", "--once", "--state",
                 state.string()}),
            kUsage);
  EXPECT_THAT(err.str(), HasSubstr("an example domain"));
  for (const char* reserved :
       {"https://fhir.test/x", "http://a.b.invalid", "https://EXAMPLE.com"}) {
    env["MST_ADAPTER_CANONICAL_BASE"] = reserved;
    EXPECT_EQ(run({"run", "--server", "https://ehr.hospital.org/fhir", "--patient", "p1"}), kUsage)
        << reserved;
  }
  std::filesystem::remove(state);
}

TEST_F(CliTest, TheExampleCanonicalBaseIsAllowedForADryRunAndOnThisMachine) {
  // Not refused: the dry run writes nothing, and a loopback server is a test
  // or a demo. (The mock answers nothing, so the runs fail later, not with 2.)
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([](const HttpRequest&) -> HttpResponse {
    throw TransportError(TransportError::Kind::kConnect, "connection refused");
  }));
  EXPECT_NE(
      run({"run", "--server", "https://ehr.hospital.org/fhir", "--patient", "p1", "--dry-run"}),
      kUsage)
      << err.str();
  EXPECT_THAT(err.str(), Not(HasSubstr("canonical_base")));
  EXPECT_NE(run({"run", "--server", "http://127.0.0.1:8080/fhir", "--patient", "p1"}), kUsage)
      << err.str();
  EXPECT_NE(run({"run", "--server", "http://localhost:8080/fhir", "--patient", "p1"}), kUsage);
  env["MST_ADAPTER_CANONICAL_BASE"] = "https://interop.st-elsewhere.org/fhir";
  EXPECT_NE(run({"run", "--server", "https://ehr.hospital.org/fhir", "--patient", "p1"}), kUsage);
  EXPECT_THAT(err.str(), Not(HasSubstr("canonical_base")));
}

// bench/run-population.sh divides this line by the patients processed: it
// must count every exchange the process made, by status class.
TEST_F(CliTest, SyncLogsTheRequestsItMadeAtTheEnd) {
  int sent = 0;
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([&](const HttpRequest& r) {
    ++sent;
    if (r.url.ends_with("/metadata")) return response(200, capability_statement());
    return response(200, R"({"resourceType":"Bundle","type":"searchset","entry":[]})");
  }));
  const auto state = std::filesystem::temp_directory_path() /
                     ("mst-cli-requests-" + std::to_string(::getpid()) + ".db");
  EXPECT_EQ(run({"sync", "--server", "http://127.0.0.1:8080/fhir", "--once", "--state",
                 state.string(), "--changes", "last-updated", "--log-format", "json"}),
            kSuccess)
      << err.str();
  std::filesystem::remove(state);
  const std::string log = err.str();
  const auto at = log.find(R"("event":"sync.requests")");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string line = log.substr(at, log.find('\n', at) - at);
  // The capability statement and the first-run search, at least.
  EXPECT_GE(sent, 2);
  EXPECT_THAT(line, HasSubstr(R"("2xx":")" + std::to_string(sent) + "\""));
  EXPECT_THAT(line, HasSubstr(R"("4xx":"0")"));
  EXPECT_THAT(line, HasSubstr(R"("5xx":"0")"));
  EXPECT_THAT(line, HasSubstr(R"("no_response":"0")"));
}

TEST_F(CliTest, UsageErrorsAreOneLineWithExitCode2) {
  EXPECT_EQ(run({"frobnicate"}), kUsage);
  EXPECT_EQ(err.str(), "mst-adapter: unknown command 'frobnicate' (see mst-adapter --help)\n");
  EXPECT_EQ(run({"check", "--token", "secret-on-the-command-line"}), kUsage);
  EXPECT_EQ(err.str(), "mst-adapter: unknown option '--token' (see mst-adapter check --help)\n");
  EXPECT_EQ(run({"check"}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("no FHIR server: give --server URL"));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "extra"}), kUsage);
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "--auth", "kerberos"}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("auth.type"));
  EXPECT_EQ(run({"check", "--server", "not a url"}), kUsage);
}

TEST_F(CliTest, CheckPassesOnAFullServer) {
  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest& r) {
    EXPECT_EQ(r.url, "http://127.0.0.1:8080/fhir/metadata");
    return response(200, capability_statement());
  }));
  EXPECT_EQ(run({"check", "--server", "http://127.0.0.1:8080/fhir"}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("software: HAPI FHIR Server 8.8.0"));
  EXPECT_THAT(out.str(), HasSubstr("  ok       conditional create CarePlan"));
  EXPECT_THAT(out.str(), HasSubstr("  ok       search Procedure"));
  EXPECT_THAT(out.str(), HasSubstr("  ok       create Device"));
  EXPECT_THAT(out.str(), HasSubstr("result: the server supports everything the adapter needs"));
  EXPECT_TRUE(transport_options.verify_tls);
  EXPECT_EQ(err.str(), "");
  // The fixture declares no search parameters: sync would re-pull.
  EXPECT_THAT(out.str(), HasSubstr("  note     sync: _lastUpdated is not declared"));
}

// A Group population is one more read the server must declare.
TEST_F(CliTest, CheckCoversTheSyncPopulationRead) {
  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(200, capability_statement())));
  env["MST_SYNC_POPULATION"] = "group:spine-mdt";
  EXPECT_EQ(run({"check", "--server", "http://h/fhir"}), kNothingToDo);
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  read Group"));
  EXPECT_THAT(out.str(), HasSubstr("result: 1 requirement(s) not met"));
}

// Issue #16: --requirements adds what a CapabilityStatement (kind
// requirements) declares, here a read and a system interaction the adapter
// itself does not need in transaction mode.
TEST_F(CliTest, CheckReportsANeedDeclaredOnlyInARequirementsStatement) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("mst-req-" + std::to_string(::getpid()) + ".json"))
          .string();
  std::ofstream(path) << R"({"resourceType": "CapabilityStatement", "status": "draft",
    "date": "2026-12-05", "kind": "requirements", "fhirVersion": "4.0.1", "format": ["json"],
    "rest": [{"mode": "server", "resource": [
      {"type": "Practitioner", "interaction": [{"code": "read"}]},
      {"type": "CarePlan", "interaction": [{"code": "create"}]}],
      "interaction": [{"code": "batch"}]}]})";
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Return(response(200, capability_statement())));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir"}), 0) << out.str();
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "--requirements", path}), kNothingToDo);
  std::filesystem::remove(path);
  EXPECT_THAT(out.str(),
              HasSubstr("  MISSING  read Practitioner: Practitioner is not a supported"));
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  system batch: 'batch' is not a declared system"));
  // A need the adapter has already is reported once.
  const std::string text = out.str();
  EXPECT_EQ(text.find("  ok       create CarePlan"), text.rfind("  ok       create CarePlan"));
  EXPECT_THAT(text, HasSubstr("result: 2 requirement(s) not met"));
}

// The package's own statement is generated from the list check uses: a
// server meeting the one meets the other.
TEST_F(CliTest, CheckWithThePackagesRequirementsStatementAddsNothing) {
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Return(response(200, capability_statement())));
  const std::string path =
      std::string(MST_SOURCE_DIR) + "/conformance/capability/mst-adapter-requirements.json";
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "--requirements", path}), 0) << out.str();
  EXPECT_THAT(out.str(), HasSubstr("result: the server supports everything the adapter needs"));
}

TEST_F(CliTest, CheckRefusesARequirementsFileThatIsNoCapabilityStatement) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("mst-req-" + std::to_string(::getpid()) + ".json"))
          .string();
  std::ofstream(path) << R"({"resourceType": "Patient"})";
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "--requirements", path}), kUsage);
  std::filesystem::remove(path);
  EXPECT_THAT(err.str(), HasSubstr("is not a FHIR CapabilityStatement"));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "--requirements", path}), kUsage);
}

TEST_F(CliTest, CheckChoosesIndividualRequestsWhenTheServerTakesNoTransaction) {
  // Issue #17: an EHR that rejects transaction Bundles still takes the plan.
  EXPECT_CALL(*transport, send(_))
      .WillOnce(Return(response(200, capability_statement("4.0.1", true, false))));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir"}), 0) << out.str();
  EXPECT_THAT(out.str(), HasSubstr("  impossible   transaction: lacks system transaction\n"));
  EXPECT_THAT(out.str(), HasSubstr("  impossible   batch: lacks system batch\n"));
  EXPECT_THAT(out.str(), HasSubstr("  possible     individual\n"));
  EXPECT_THAT(out.str(), HasSubstr("  impossible   document: lacks create DocumentReference"));
  EXPECT_THAT(out.str(), HasSubstr("write mode: individual (chosen by auto)"));
  EXPECT_THAT(out.str(), Not(HasSubstr("system transaction: ")));
  EXPECT_THAT(out.str(), HasSubstr("result: the server supports everything the adapter needs"));
}

TEST_F(CliTest, CheckNamesTheModeThatWorksWhenTheConfiguredOneDoesNot) {
  EXPECT_CALL(*transport, send(_))
      .WillOnce(Return(response(200, capability_statement("4.0.1", true, false))));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "--write-mode", "transaction"}),
            kNothingToDo);
  EXPECT_THAT(out.str(), HasSubstr("write mode: transaction (set by write.mode)"));
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  system transaction"));
  EXPECT_THAT(out.str(),
              HasSubstr("  hint     set write.mode=individual (--write-mode individual)"));
}

TEST_F(CliTest, CheckInDocumentModeNeedsDocumentReferenceWritesNotCarePlanOnes) {
  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(200, capability_statement())));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "--write-mode", "document"}), kNothingToDo);
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  create DocumentReference"));
  EXPECT_THAT(out.str(), Not(HasSubstr("create CarePlan")));
  EXPECT_THAT(out.str(), Not(HasSubstr("system transaction")));
}

TEST_F(CliTest, AnUnknownWriteModeIsAUsageError) {
  EXPECT_EQ(run({"check", "--server", "http://h/fhir", "--write-mode", "bulk"}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("write.mode"));
}

TEST_F(CliTest, CheckFailsWithExit1WhenTheServerLacksSomething) {
  EXPECT_CALL(*transport, send(_))
      .WillOnce(Return(response(200, capability_statement("4.0.1", false))));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir"}), kNothingToDo);
  EXPECT_THAT(out.str(),
              HasSubstr("  MISSING  conditional create Goal: conditionalCreate is not true"));
  EXPECT_THAT(out.str(), HasSubstr("result: 5 requirement(s) not met"));
}

TEST_F(CliTest, CheckWithATargetChecksEachServerForItsShare) {
  // The source reads only (no transaction, no writes, no Device): enough as
  // a source, not as a target.
  EXPECT_CALL(*transport, send(_)).Times(2).WillRepeatedly(Invoke([](const HttpRequest& r) {
    if (r.url == "http://127.0.0.1:1/fhir/metadata") {
      return response(200, capability_statement("4.0.1", false, false, "Device"));
    }
    EXPECT_EQ(r.url, "http://127.0.0.1:2/fhir/metadata");
    return response(200, capability_statement());
  }));
  EXPECT_EQ(
      run({"check", "--server", "http://127.0.0.1:1/fhir", "--target", "http://127.0.0.1:2/fhir"}),
      0)
      << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("source:   http://127.0.0.1:1/fhir"));
  EXPECT_THAT(out.str(), HasSubstr("target:   http://127.0.0.1:2/fhir"));
  EXPECT_THAT(out.str(), HasSubstr("  ok       source: search Condition"));
  EXPECT_THAT(out.str(), HasSubstr("  ok       target: conditional create CarePlan"));
  EXPECT_THAT(out.str(), HasSubstr("  ok       target: system transaction"));
  EXPECT_THAT(out.str(), ::testing::Not(HasSubstr("source: system transaction")));
  EXPECT_THAT(out.str(), ::testing::Not(HasSubstr("target: search Condition")));
  EXPECT_THAT(out.str(), HasSubstr("result: the servers support everything the adapter needs"));

  // The same read-only server as the target is reported, line by line.
  EXPECT_CALL(*transport, send(_)).Times(2).WillRepeatedly(Invoke([](const HttpRequest& r) {
    if (r.url == "http://127.0.0.1:2/fhir/metadata") {
      return response(200, capability_statement("4.0.1", false, false, "Device"));
    }
    return response(200, capability_statement());
  }));
  EXPECT_EQ(
      run({"check", "--server", "http://127.0.0.1:1/fhir", "--target", "http://127.0.0.1:2/fhir"}),
      kNothingToDo);
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  target: system transaction"));
  EXPECT_THAT(out.str(), HasSubstr("  MISSING  target: create Device"));
}

// Issue #17: `check` names the deployment shape the endpoints allow.
TEST_F(CliTest, CheckNamesTheDeploymentShape) {
  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(200, capability_statement())));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir"}), 0) << out.str();
  EXPECT_THAT(out.str(), HasSubstr("\nshape:    one server\n"));
  EXPECT_THAT(out.str(), HasSubstr("\nsync:     re-pull"));
  EXPECT_THAT(out.str(), HasSubstr("population by search possible"));

  // An EHR: no CarePlan at all (so no plan write), notes written,
  // Conditions only by patient.
  std::string ehr = capability_statement("4.0.1", true, false, "CarePlan");
  ehr.replace(ehr.find(R"("resource":[)"), 12,
              R"("resource":[{"type":"DocumentReference","interaction":[{"code":"create"},)"
              R"({"code":"update"},{"code":"search-type"}],"conditionalCreate":true},)");
  const std::string condition = R"({"type":"Condition",)";
  ehr.replace(ehr.find(condition), condition.size(),
              condition + R"("extension":[{"url":"http://hl7.org/fhir/StructureDefinition/)" +
                  R"(capabilitystatement-search-parameter-combination","extension":[)" +
                  R"({"url":"required","valueString":"patient"}]}],)");
  out.str("");
  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(200, ehr)));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir"}), kNothingToDo);
  EXPECT_THAT(out.str(),
              HasSubstr("\nshape:    EHR read + note write (set write.mode=document)\n"));
  EXPECT_THAT(out.str(), HasSubstr("population search refused without a patient"));

  // The same EHR as the source, a full FHIR server as the target.
  out.str("");
  EXPECT_CALL(*transport, send(_)).Times(2).WillRepeatedly(Invoke([&](const HttpRequest& r) {
    return response(200,
                    r.url == "http://127.0.0.1:1/fhir/metadata" ? ehr : capability_statement());
  }));
  run({"check", "--server", "http://127.0.0.1:1/fhir", "--target", "http://127.0.0.1:2/fhir"});
  EXPECT_THAT(out.str(),
              HasSubstr("\nshape:    EHR read + FHIR repository write (set target.base_url)\n"));
}

TEST_F(CliTest, AnUnreachableServerIsExit3) {
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([](const HttpRequest&) -> HttpResponse {
    throw TransportError(TransportError::Kind::kConnect, "connection refused");
  }));
  EXPECT_EQ(run({"check", "--server", "http://127.0.0.1:9/fhir"}), kUnreachable);
  EXPECT_THAT(err.str(),
              HasSubstr("mst-adapter: GET http://127.0.0.1:9/fhir/metadata: cannot connect"));
  const std::string message = err.str();
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
}

TEST_F(CliTest, ARefusedTokenIsExit4AndNeverPrinted) {
  ::setenv("MST_CLI_TEST_TOKEN", "tok-CLI-SECRET-8d1", 1);
  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest& r) {
    std::string auth;
    for (const auto& [k, v] : r.headers) {
      if (k == "Authorization") auth = v;
    }
    EXPECT_EQ(auth, "Bearer tok-CLI-SECRET-8d1");
    return response(
        401, R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login",
      "diagnostics":"token )" +
                 auth + R"( expired"}]})");
  }));
  EXPECT_EQ(run({"check", "--server", "https://ehr/fhir", "--auth", "bearer", "--token-env",
                 "MST_CLI_TEST_TOKEN"}),
            kAuthFailed);
  EXPECT_THAT(err.str(), HasSubstr("HTTP 401"));
  EXPECT_THAT(err.str() + out.str(), Not(HasSubstr("tok-CLI-SECRET-8d1")));
  ::unsetenv("MST_CLI_TEST_TOKEN");
}

TEST_F(CliTest, MissingCredentialsAreAConfigurationError) {
  ::unsetenv("MST_CLI_TEST_UNSET");
  EXPECT_EQ(run({"check", "--server", "https://ehr/fhir", "--auth", "bearer"}), kUsage);
  EXPECT_THAT(err.str(),
              HasSubstr("--auth bearer needs exactly one of --token-env VAR or --token-file FILE"));
  EXPECT_EQ(run({"check", "--server", "https://ehr/fhir", "--auth", "bearer", "--token-env",
                 "MST_CLI_TEST_UNSET"}),
            kUsage);
  EXPECT_THAT(err.str(), HasSubstr("environment variable MST_CLI_TEST_UNSET is not set"));
  EXPECT_EQ(run({"check", "--server", "https://ehr/fhir", "--auth", "smart", "--client-id", "c",
                 "--key-id", "k", "--private-key", "/nonexistent/key.pem"}),
            kUsage);
  EXPECT_THAT(err.str(), HasSubstr("cannot read the private key file /nonexistent/key.pem"));
}

TEST_F(CliTest, SkippingTlsVerificationWarnsLoudly) {
  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(200, capability_statement())));
  EXPECT_EQ(run({"check", "--server", "https://h/fhir", "--insecure-skip-tls-verify", "--ca-file",
                 "/etc/ca.pem"}),
            0);
  EXPECT_FALSE(transport_options.verify_tls);
  EXPECT_EQ(transport_options.ca_file, "/etc/ca.pem");
  EXPECT_THAT(err.str(), HasSubstr("WARNING: TLS certificate verification is OFF"));
}

TEST_F(CliTest, TheConnectionPoolKeepsEveryConcurrentPatientsConnections) {
  // A pool smaller than what is in flight would reconnect on most requests.
  env["MST_SYNC_CONCURRENCY"] = "16";
  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(200, capability_statement())));
  EXPECT_EQ(run({"check", "--server", "http://h/fhir"}), 0) << err.str();
  EXPECT_GE(transport_options.max_idle_per_origin, 16u * 8);
}

TEST_F(CliTest, ServerComesFromTheEnvironmentToo) {
  env["MST_SERVER_BASE_URL"] = "http://env-host/fhir";
  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest& r) {
    EXPECT_EQ(r.url, "http://env-host/fhir/metadata");
    return response(200, capability_statement());
  }));
  EXPECT_EQ(run({"check"}), 0) << err.str();
}

constexpr const char* kTransaction = R"({"resourceType":"Bundle","type":"transaction","entry":[
  {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
  {"resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:1"}},"request":{"method":"POST","url":"Condition"}}]})";

HttpResponse tx_response(const std::string& second_status, const std::string& second_outcome = "") {
  std::string outcome =
      second_outcome.empty()
          ? ""
          : R"(,"outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error",
                                "code":"processing","diagnostics":")" +
                second_outcome + R"("}]})";
  return response(200, R"({"resourceType":"Bundle","type":"transaction-response","entry":[
    {"response":{"status":"201 Created","location":"Patient/1/_history/1"}},
    {"response":{"status":")" +
                           second_status + R"(")" + outcome + "}}]}");
}

TEST_F(CliTest, LoadReportsEachEntry) {
  TempFile file(kTransaction);
  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest& r) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "http://h/fhir");
    return tx_response("201 Created");
  }));
  EXPECT_EQ(run({"load", "--server", "http://h/fhir", file.path()}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr(file.path() + ": entry 1: 201 Created Patient/1/_history/1\n"));
  EXPECT_THAT(out.str(), HasSubstr(file.path() + ": entry 2: 201 Created\n"));
  EXPECT_THAT(out.str(), HasSubstr("loaded 1 of 1 file(s)\n"));
}

TEST_F(CliTest, LoadOfABatchWithAFailedEntryIsPartial) {
  TempFile file(R"({"resourceType":"Bundle","type":"batch","entry":[]})");
  EXPECT_CALL(*transport, send(_))
      .WillOnce(Return(tx_response("400 Bad Request", "Condition.code is required")));
  EXPECT_EQ(run({"load", "--server", "http://h/fhir", file.path()}), kPartial);
  EXPECT_THAT(
      out.str(),
      HasSubstr("entry 2: 400 Bad Request [error (processing): Condition.code is required]"));
  EXPECT_THAT(out.str(), HasSubstr("1 entry failed"));
}

TEST_F(CliTest, LoadOfARejectedTransactionIsExit6AndPartialWithOthers) {
  TempFile good(kTransaction);
  TempFile bad(kTransaction);
  EXPECT_CALL(*transport, send(_))
      .WillOnce(
          Return(response(400, R"({"resourceType":"OperationOutcome","issue":[{"severity":"error",
        "code":"invalid","diagnostics":"Invalid reference"}]})")))
      .WillOnce(Return(tx_response("201 Created")));
  EXPECT_EQ(run({"load", "--server", "http://h/fhir", bad.path(), good.path()}), kPartial);
  EXPECT_THAT(out.str(),
              HasSubstr(bad.path() + ": FAILED: POST http://h/fhir: HTTP 400 Bad Request"));
  EXPECT_THAT(out.str(), HasSubstr("loaded 1 of 2 file(s)"));

  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(422)));
  EXPECT_EQ(run({"load", "--server", "http://h/fhir", bad.path()}), kRejected);
}

TEST_F(CliTest, LoadRefusesFilesThatAreNotTransactions) {
  TempFile collection(R"({"resourceType":"Bundle","type":"collection"})");
  EXPECT_CALL(*transport, send(_)).Times(0);
  EXPECT_EQ(run({"load", "--server", "http://h/fhir", collection.path(), "/nonexistent/x.json"}),
            kUsage);
  EXPECT_THAT(out.str(), HasSubstr("not a transaction Bundle"));
  EXPECT_THAT(out.str(), HasSubstr("cannot read Bundle file /nonexistent/x.json"));
  EXPECT_EQ(run({"load", "--server", "http://h/fhir"}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("load needs at least one Bundle FILE"));
}

TEST_F(CliTest, LoadStopsWhenTheServerIsUnreachable) {
  TempFile a(kTransaction);
  TempFile b(kTransaction);
  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest&) -> HttpResponse {
    throw TransportError(TransportError::Kind::kConnect, "refused");
  }));
  EXPECT_EQ(run({"load", "--server", "http://h/fhir", a.path(), b.path()}), kUnreachable);
}

// Issue #12: one out-of-range number rejected the whole --input, and a
// Condition dropped for an impossible date left the run saying "No spinal
// metastasis was found" as if the record were complete.
TEST_F(CliTest, UnreadableConditionsEndThemselvesAndAreNotCalledAbsentDisease) {
  TempFile bundle(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Patient","id":"p1"}},
    {"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},
      "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"C79.51"}]},
      "bodySite":[{"text":"T10 vertebra"}],"onsetAge":{"value":1e400}}},
    {"resource":{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},
      "code":{"text":"renal cell carcinoma"},"recordedDate":"2023-02-30"}}]})");
  EXPECT_EQ(run({"run", "--input", bundle.path(), "--as-of", "2025-06-01", "--format", "json"}),
            kNothingToDo);
  EXPECT_THAT(out.str(), HasSubstr("2 Conditions could not be read"));
  EXPECT_THAT(out.str(), HasSubstr("\"reason\":\"unreadable-conditions\""));
  EXPECT_THAT(out.str(), Not(HasSubstr("No spinal metastasis was found")));
  out.str("");
  EXPECT_EQ(run({"explain", "--input", bundle.path(), "--as-of", "2025-06-01"}), kNothingToDo);
  EXPECT_THAT(out.str(), HasSubstr("Condition/c1: unreadable Condition: number 1e400"));
  EXPECT_THAT(out.str(), HasSubstr("Condition/c2: unreadable Condition"));
}

}  // namespace
}  // namespace mst::adapter::cli
