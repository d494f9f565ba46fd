// explain and the run summary show alerts first (with or without a plan)
// and mark facts read from text (docs/considerations.md, "Safety net").
#include <gtest/gtest.h>

#include "considerations_fixture.h"
#include "mst/adapter/goal_engine.h"
#include "mst/adapter/run_report.h"

namespace mst::adapter {
namespace {

using namespace testing;

Derivation with_alert_and_text_fact() {
  Derivation d;
  d.considerations = stable_patient();
  add_new_deficit(d.considerations, "Lower limb weakness");
  d.considerations.read_from_text = {"Condition/deficit"};
  d.considerations.alerts.push_back(
      {"Observation/mri", "cord compression", "Observation code is not in the code tables"});
  d.plan = propose(d.considerations);
  return d;
}

TEST(ExplainReport, AlertsOpenTheReportAndTextFactsAreMarked) {
  const std::string text = explain_text(with_alert_and_text_fact());
  const auto alerts = text.find(
      "ALERTS: SAFETY-RELEVANT FINDINGS NOT USED\n  ! Observation/mri "
      "mentions cord compression; not used: Observation code is not in "
      "the code tables.");
  ASSERT_NE(alerts, std::string::npos);
  EXPECT_LT(alerts, text.find("CONSIDERATIONS"));
  EXPECT_NE(text.find("Condition/deficit (read from text: confirm)"), std::string::npos);
  EXPECT_NE(text.find("Read from text, confirm against the record"), std::string::npos);
}

TEST(ExplainReport, AlertsShowEvenWithoutAPlan) {
  Derivation d = with_alert_and_text_fact();
  d.plan.applicable = false;
  d.plan.not_applicable_reason = "no spinal metastasis";
  EXPECT_NE(explain_text(d).find("! Observation/mri mentions cord compression"), std::string::npos);
  PatientRun run;
  run.outcome.patient_id = "p1";
  run.derivation = d;
  EXPECT_NE(summary_text(run).find("alert:    Observation/mri mentions cord compression"),
            std::string::npos);
  const std::string json = summary_json(run).dump();
  EXPECT_NE(json.find(R"("alerts":[{"ref":"Observation/mri","finding":"cord compression")"),
            std::string::npos);
  EXPECT_NE(json.find(R"("read_from_text":["Condition/deficit"])"), std::string::npos);
}

}  // namespace
}  // namespace mst::adapter
