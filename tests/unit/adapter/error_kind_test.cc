// Every project error classifies to its intended kind, retryability and exit
// code, and the places that once classified errors on their own (a command's
// exit code, a failed patient's outcome, `run`'s exit code) agree with it.
#include "mst/fhir/error_kind.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/cli/args.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/config.h"
#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "mst/adapter/sync/bulk_manifest.h"
#include "mst/adapter/sync/population.h"
#include "mst/adapter/sync/state_store.h"
#include "mst/fhir/client_errors.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/concept_map.h"
#include "mst/mappings/patient_record.h"
#include "support/fixture_server.h"
#include "support/mock_client.h"

namespace mst::adapter {
namespace {

using fhir::TransportError;

struct Row {
  const char* name;
  std::function<void()> raise;
  ErrorKind kind;
  bool retryable;
  ExitCode exit;
};

template <typename E, typename... Args>
std::function<void()> raising(Args... args) {
  return [=] { throw E(args...); };
}

const std::vector<Row>& rows() {
  using K = ErrorKind;
  static const std::vector<Row> table = {
      // What the operator gave: arguments, configuration, tables, population.
      {"UsageError", raising<cli::UsageError>("x"), K::kConfiguration, false, kUsage},
      {"ConfigError", raising<ConfigError>("x"), K::kConfiguration, false, kUsage},
      {"ThresholdsError", raising<ThresholdsError>("x"), K::kConfiguration, false, kUsage},
      {"PopulationError", raising<PopulationError>("x"), K::kConfiguration, false, kUsage},
      {"CodeTableError", raising<mappings::CodeTableError>("t.json", "ecog", "x"),
       K::kConfiguration, false, kUsage},
      {"ConceptMapError", raising<mappings::ConceptMapError>("m.json", "group[0]", "x"),
       K::kConfiguration, false, kUsage},
      {"StateStoreLocked", raising<StateStoreLocked>("x"), K::kConfiguration, false, kUsage},
      {"StateStoreMismatch", raising<StateStoreMismatch>("x"), K::kConfiguration, false, kUsage},
      {"InvalidRequest", raising<fhir::InvalidRequest>("GET", "u", 0, "", "x"), K::kInvalidRequest,
       false, kUsage},
      // Data that cannot be read.
      {"ParseError", raising<fhir::ParseError>("x", std::size_t{3}), K::kInput, false, kRejected},
      {"ElementError", raising<fhir::ElementError>("x"), K::kInput, false, kRejected},
      {"fhir::Error", raising<fhir::Error>("x"), K::kInput, false, kRejected},
      {"RecordError", raising<mappings::RecordError>("x"), K::kInput, false, kRejected},
      // The server, silent or refusing.
      {"ServerUnreachable",
       raising<fhir::ServerUnreachable>("GET", "u", TransportError::Kind::kConnect, "x"),
       K::kUnreachable, true, kUnreachable},
      {"TransportError", raising<TransportError>(TransportError::Kind::kTimeout, "x"),
       K::kUnreachable, true, kUnreachable},
      {"DeadlineExceeded", raising<fhir::DeadlineExceeded>("GET", "u", 503, "", "x"),
       K::kUnreachable, true, kUnreachable},
      {"AuthError", raising<fhir::AuthError>("GET", "u", 401, "", "x"), K::kAuth, true,
       kAuthFailed},
      {"NotFound", raising<fhir::NotFound>("GET", "u", 404, "", "x"), K::kNotFound, false,
       kRejected},
      {"VersionConflict", raising<fhir::VersionConflict>("PUT", "u", 412, "", "x"), K::kConflict,
       true, kRejected},
      {"HttpStatusError 422", raising<fhir::HttpStatusError>("POST", "u", 422, "", "x"),
       K::kRejected, false, kRejected},
      {"HttpStatusError 429", raising<fhir::HttpStatusError>("POST", "u", 429, "", "x"),
       K::kRejected, true, kRejected},
      {"HttpStatusError 408", raising<fhir::HttpStatusError>("POST", "u", 408, "", "x"),
       K::kRejected, true, kRejected},
      {"HttpStatusError 501", raising<fhir::HttpStatusError>("POST", "u", 501, "", "x"),
       K::kRejected, true, kRejected},
      {"InvalidResponse", raising<fhir::InvalidResponse>("GET", "u", 200, "", "x"), K::kServer,
       true, kRejected},
      {"ClientError", raising<fhir::ClientError>("GET", "u", 200, "", "x"), K::kServer, true,
       kRejected},
      {"BulkExportError", raising<BulkExportError>("x"), K::kServer, true, kRejected},
      {"SearchIncomplete", raising<fhir::SearchIncomplete>("GET", "u", 0, "", "x"), K::kIncomplete,
       true, kPartial},
      // Bugs, and exceptions the project does not own.
      {"BuildError", raising<BuildError>("x"), K::kInternal, false, kInternal},
      {"StateStoreError", raising<StateStoreError>("x"), K::kInternal, false, kInternal},
      {"std::logic_error", raising<std::logic_error>("bug"), K::kInternal, true, kInternal},
      {"std::bad_alloc", [] { throw std::bad_alloc(); }, K::kInternal, true, kInternal},
  };
  return table;
}

Classification classified(const Row& row) {
  try {
    row.raise();
  } catch (const std::exception& e) {
    return classify(e);
  }
  ADD_FAILURE() << row.name << " did not throw";
  return {};
}

TEST(ErrorKinds, EveryProjectErrorClassifiesAsIntended) {
  for (const Row& row : rows()) {
    const Classification c = classified(row);
    EXPECT_EQ(error_kind_name(c.kind), std::string(error_kind_name(row.kind))) << row.name;
    EXPECT_EQ(c.retryable, row.retryable) << row.name;
    EXPECT_EQ(c.exit_code, row.exit) << row.name;
    EXPECT_EQ(exit_code(c.kind), row.exit) << row.name;
  }
}

TEST(ErrorKinds, CommandsExitWithTheClassifiedCode) {
  for (const Row& row : rows()) {
    try {
      row.raise();
    } catch (const std::exception& e) {
      EXPECT_EQ(cli::exit_code_for(e), row.exit) << row.name;
    }
  }
}

// Labels are in logs, metrics (mst_failures_total{kind}) and `run --format
// json`: stable, and one per kind.
TEST(ErrorKinds, LabelsAreStableAndDistinct) {
  using K = ErrorKind;
  const std::vector<std::pair<K, std::string>> labels = {
      {K::kConfiguration, "configuration"},
      {K::kInvalidRequest, "invalid-request"},
      {K::kInput, "input"},
      {K::kUnreachable, "unreachable"},
      {K::kAuth, "auth"},
      {K::kNotFound, "not-found"},
      {K::kConflict, "conflict"},
      {K::kRejected, "rejected"},
      {K::kServer, "server"},
      {K::kIncomplete, "incomplete"},
      {K::kInternal, "internal"},
  };
  std::set<std::string> seen;
  for (const auto& [kind, label] : labels) {
    EXPECT_EQ(error_kind_name(kind), label);
    EXPECT_TRUE(seen.insert(label).second) << label;
  }
}

// A patient whose run ends in each error fails with the kind, retryability
// and (through `run`) exit code that the same error gives a command.
TEST(ErrorKinds, AFailedPatientCarriesTheClassification) {
  const auto tables = mappings::CodeTables::load({testing::kTables}, testing::kCanonical);
  const RuleThresholds thresholds;
  for (const Row& row : rows()) {
    ::testing::StrictMock<testing::MockClient> client;
    // The Patient read fails; the searches beside it find nothing.
    EXPECT_CALL(client, read(std::string_view("Patient"), std::string_view(testing::kPatient)))
        .WillOnce([&](std::string_view, std::string_view) -> fhir::FhirResponse {
          row.raise();
          return {};
        });
    EXPECT_CALL(client, search(::testing::_, ::testing::_, ::testing::_))
        .Times(::testing::AnyNumber());
    EXPECT_CALL(client, base_url()).Times(::testing::AnyNumber());
    Pipeline pipeline(&client, tables, thresholds, testing::fixture_settings());
    const PatientOutcome o = pipeline.run_safely(testing::kPatient).outcome;
    EXPECT_EQ(o.kind, OutcomeKind::kFailed) << row.name;
    EXPECT_EQ(error_kind_name(o.error_kind), std::string(error_kind_name(row.kind))) << row.name;
    EXPECT_EQ(o.retryable, row.retryable) << row.name;
    EXPECT_EQ(exit_code(o.error_kind), row.exit) << row.name;
  }
}

}  // namespace
}  // namespace mst::adapter
