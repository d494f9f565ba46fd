// Issue #17: EHR-shaped targets refuse a search without the patient (Epic's
// CarePlan, Goal and DocumentReference searches). The writer's searches by
// the adapter's identifiers carry the patient where the target's
// CapabilityStatement requires it, and stay unscoped elsewhere, so the
// look-alike check of any subject keeps working there.
#include <gtest/gtest.h>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "patient_scope.h"
#include "support/fixture_store.h"

namespace mst::adapter {
namespace {

using detail::identifier_search_scoped;
using detail::patient_scoped;

fhir::Capabilities requiring(const std::string& type,
                             std::vector<std::vector<std::string>> groups) {
  fhir::Capabilities caps;
  caps.resources[type].required_search_params = std::move(groups);
  return caps;
}

TEST(PatientScoped, UnchangedWhereNothingIsRequired) {
  const fhir::SearchParams params{{"identifier", "s|v"}};
  EXPECT_EQ(patient_scoped({}, "CarePlan", params, "Patient/p"), params);
  EXPECT_EQ(patient_scoped(requiring("Goal", {{"patient"}}), "CarePlan", params, "Patient/p"),
            params);
  EXPECT_FALSE(identifier_search_scoped({}, "CarePlan"));
}

TEST(PatientScoped, AddsThePatientTheServerRequires) {
  const fhir::SearchParams params{{"identifier", "s|v"}};
  const fhir::SearchParams want{{"identifier", "s|v"}, {"patient", "https://ehr/Patient/p"}};
  EXPECT_EQ(patient_scoped(requiring("CarePlan", {{"patient"}, {"subject"}}), "CarePlan", params,
                           "https://ehr/Patient/p"),
            want);
  const fhir::SearchParams by_subject{{"identifier", "s|v"}, {"subject", "Patient/p"}};
  EXPECT_EQ(patient_scoped(requiring("CarePlan", {{"subject", "identifier"}}), "CarePlan", params,
                           "Patient/p"),
            by_subject);
  EXPECT_TRUE(identifier_search_scoped(requiring("CarePlan", {{"patient"}}), "CarePlan"));
}

TEST(PatientScoped, LeavesWhatThePatientCannotSatisfyToTheServer) {
  const fhir::SearchParams params{{"identifier", "s|v"}};
  // Requires a category the adapter cannot know: the server's 400 says so.
  EXPECT_EQ(patient_scoped(requiring("CarePlan", {{"patient", "category"}}), "CarePlan", params,
                           "Patient/p"),
            params);
  // Already scoped, or an empty value that does not count as carried.
  const fhir::SearchParams scoped{{"identifier", "s|v"}, {"subject", "Patient/p"}};
  EXPECT_EQ(patient_scoped(requiring("CarePlan", {{"subject"}}), "CarePlan", scoped, "Patient/p"),
            scoped);
  EXPECT_EQ(patient_scoped(requiring("CarePlan", {{"subject"}}), "CarePlan", params, ""), params);
}

class PatientRequired : public ::testing::Test, protected testing::FixtureStore {
 protected:
  PatientOutcome run(WriteMode mode = WriteMode::kAuto) {
    PipelineSettings s = testing::fixture_settings();
    s.write.mode = mode;
    return run_on_store(s).outcome;
  }
};

TEST_F(PatientRequired, PlansAreWrittenFoundAgainAndRevised) {
  for (const char* type : {"CarePlan", "Goal", "ServiceRequest", "CareTeam"})
    store_.require_patient_on(type);
  const std::size_t plans = store_.all("CarePlan").size();  // the record's own
  const PatientOutcome first = run();
  ASSERT_EQ(first.kind, OutcomeKind::kWritten) << first.detail;
  EXPECT_EQ(store_.all("CarePlan").size(), plans + 1);
  const PatientOutcome again = run();
  EXPECT_EQ(again.kind, OutcomeKind::kUnchanged) << again.detail;
  worsen_pain();
  const PatientOutcome revised = run();
  EXPECT_EQ(revised.kind, OutcomeKind::kWritten) << revised.detail;
  EXPECT_EQ(store_.all("CarePlan").size(), plans + 1);
  EXPECT_EQ(store_.transactions(), 2);
}

TEST_F(PatientRequired, NotesAreWrittenAndFoundAgain) {
  store_.refuse_transactions = true;
  store_.require_patient_on("DocumentReference");
  const PatientOutcome first = run(WriteMode::kDocument);
  ASSERT_EQ(first.kind, OutcomeKind::kWritten) << first.detail;
  const PatientOutcome again = run(WriteMode::kDocument);
  EXPECT_EQ(again.kind, OutcomeKind::kUnchanged) << again.detail;
  EXPECT_EQ(store_.all("DocumentReference").size(), 1u);
}

TEST_F(PatientRequired, AnUndeclaredRequirementFailsThePatientWithTheServersError) {
  store_.require_patient_on("CarePlan", /*declared=*/false);
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kFailed);
  EXPECT_NE(o.detail.find("400"), std::string::npos) << o.detail;
  EXPECT_EQ(store_.write_requests(), 0);
}

}  // namespace
}  // namespace mst::adapter
