// explain and the run summary show alerts first (with or without a plan)
// and mark facts read from text (docs/considerations.md, "Safety net").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "considerations_fixture.h"
#include "mst/adapter/cli/app.h"
#include "mst/adapter/cli/command.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/adapter/pipeline/run_report.h"

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
  EXPECT_LT(alerts, text.find("GOALS"));
  EXPECT_LT(alerts, text.find("DETAILS: CONSIDERATIONS"));
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

// `run --format json` says what the narrative says first: the pathway, and
// which referrals wait for the emergency to be over.
TEST(ExplainReport, JsonSummaryCarriesThePathwayAndDeferredReferrals) {
  PatientRun run;
  run.outcome.patient_id = "p1";
  run.derivation = with_alert_and_text_fact();
  GoalPlan& plan = run.derivation->plan;
  ASSERT_TRUE(plan.applicable);
  ASSERT_EQ(plan.pathway, Pathway::kEmergency);
  Referral later;
  later.to = Discipline::kMedicalOncology;
  later.priority = Urgency::kRoutine;
  later.after_emergency = true;
  plan.referrals.push_back(later);
  const std::string json = summary_json(run).dump();
  EXPECT_NE(json.find(R"("pathway":"emergency")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("priority":"routine","after_emergency":true)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("priority":"stat","after_emergency":false)"), std::string::npos) << json;
}

// Issue #11 item 7: `explain` opens like the narrative, with the pathway and
// the actions now, then one line per goal and the referrals; details last.
TEST(ExplainReport, SharesTheNarrativeStructure) {
  Derivation d = with_alert_and_text_fact();
  const std::string text = explain_text(d);
  const auto pathway =
      text.find("PATHWAY AND ACTIONS NOW\n  Emergency pathway, overall urgency Immediately (stat)");
  ASSERT_NE(pathway, std::string::npos) << text;
  EXPECT_EQ(text.find("\n\n") + 2, pathway);  // the first section after the header line
  EXPECT_NE(text.find("  - [stat] Contact the MSCC coordinator"), std::string::npos);
  const auto goals = text.find("GOALS (priority, urgency, target, why)");
  const auto referrals = text.find("\nREFERRALS\n");
  const auto details = text.find("DETAILS: CONSIDERATIONS");
  EXPECT_LT(pathway, goals);
  EXPECT_LT(goals, referrals);
  EXPECT_LT(referrals, details);
  EXPECT_NE(text.find("  - Preservation of neurological function: High, stat; target: "),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("Site thresholds in use"), std::string::npos);

  // Site thresholds: the report names them, and reads the spine with them.
  RuleThresholds site;
  site.sins_consult_min = 2;
  d.plan = propose(d.considerations, site);
  const std::string with_site = explain_text(d);
  EXPECT_NE(
      with_site.find("Site thresholds in use (default in parentheses): sins_consult_min 2 (7)"),
      std::string::npos)
      << with_site;
}

// Issue #11 item 6 end to end: `explain --rules` on a fixture patient read
// from its Bundle. SINS 8 under a site's unstable cut-off of 8 is unstable in
// the considerations, in the rule that fired and in the thresholds line; the
// narrative used to recompute "potentially unstable" with the defaults.
TEST(ExplainReport, SiteRulesFileReachesEveryPartOfTheReport) {
  const auto rules = std::filesystem::temp_directory_path() /
                     ("mst-explain-rules-" +
                      std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".json");
  std::ofstream(rules) << R"({"thresholds": {"sins_consult_min": {"value": 5},
    "sins_unstable_min": {"value": 8}, "sbrt_max_sins": {"value": 7}}})";
  std::ostringstream out;
  std::ostringstream err;
  cli::Context context{out, err, {}, nullptr};
  const int code = cli::run_cli(
      {"explain", "--input", std::string(MST_SOURCE_DIR) + "/tests/fixtures/patients/mst-p06.json",
       "--as-of", "2026-11-20", "--rules", rules.string()},
      context);
  std::filesystem::remove(rules);
  ASSERT_EQ(code, 0) << err.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("Mechanical status:        SINS 8 of 18 (unstable)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Urgent pathway, overall urgency Urgent: Unstable spine (SINS 8-18"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Site thresholds in use (default in parentheses): sins_consult_min 5 (7); "
                      "sins_unstable_min 8 (13)"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("potentially unstable"), std::string::npos) << text;
}

}  // namespace
}  // namespace mst::adapter
