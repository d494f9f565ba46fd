// Issue #11 item 6, "one assessment": every fixture patient, read by the
// extractor as the adapter reads it, is planned under the default and under
// shifted site thresholds, and the narrative must say what the goals rest
// on. Before the engine returned its assessment, the narrative recomputed it
// with the defaults and said "potentially unstable" beside an "unstable
// spine" goal.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mst/adapter/careplan/narrative.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/fhir/json.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/extract.h"
#include "mst/mappings/patient_record.h"

namespace mst::adapter {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> fixture_bundles() {
  std::vector<fs::path> out;
  for (const char* dir : {"/tests/fixtures/patients", "/tests/fixtures/realworld"}) {
    for (const auto& entry : fs::directory_iterator(std::string(MST_SOURCE_DIR) + dir)) {
      const auto name = entry.path().filename().string();
      if (entry.path().extension() == ".json" && name != "expected.json") {
        out.push_back(entry.path());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

mappings::Considerations read_patient(const fs::path& path, const mappings::CodeTables& tables) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto record = mappings::PatientRecord::from_bundle(fhir::JsonDocument::parse(text.str()));
  // The as-of day of both fixture sets (their expected.json files).
  return mappings::extract(record, tables, *fhir::DateTime::parse("2026-11-20"));
}

// The text of the narrative's row `label` in the considerations table.
std::string row(const std::string& div, const std::string& label) {
  const std::string open = "<th>" + label + "</th><td>";
  const auto at = div.find(open);
  if (at == std::string::npos) return {};
  const auto from = at + open.size();
  return div.substr(from, div.find("</td>", from) - from);
}

RuleThresholds shifted_down() {
  RuleThresholds t;
  t.sins_consult_min = 5;
  t.sins_unstable_min = 8;
  t.sbrt_max_sins = 7;
  t.poor_prognosis_months = 13;
  t.favourable_survival_months = 24;
  t.tokuhashi_poor_max = 10;
  t.tokuhashi_single_vertebra_min = 11;
  t.tokuhashi_favourable_min = 13;
  t.patchell_min_survival_months = 6;
  return t;
}

RuleThresholds shifted_up() {
  RuleThresholds t;
  t.sins_consult_min = 9;
  t.sins_unstable_min = 15;
  t.poor_prognosis_months = 3;
  t.favourable_survival_months = 6;
  t.tokuhashi_poor_max = 5;
  t.tokuhashi_single_vertebra_min = 6;
  t.tokuhashi_favourable_min = 9;
  return t;
}

TEST(OneAssessment, NarrativeAgreesWithTheGoalsUnderAnyThresholds) {
  const auto tables =
      mappings::CodeTables::load({std::string(MST_SOURCE_DIR) + "/mappings/tables"});
  const auto bundles = fixture_bundles();
  ASSERT_GE(bundles.size(), 30u);
  int sins_checked = 0;
  int prognosis_checked = 0;
  for (const auto& [name, t] : std::vector<std::pair<std::string, RuleThresholds>>{
           {"default", RuleThresholds{}}, {"down", shifted_down()}, {"up", shifted_up()}}) {
    for (const auto& path : bundles) {
      SCOPED_TRACE(path.filename().string() + " with " + name + " thresholds");
      const auto c = read_patient(path, tables);
      const GoalPlan plan = propose(c, t);
      const std::string div = careplan_narrative(c, plan, {"2026-11-20", "test"});
      const std::string mech = row(div, "Mechanical status");
      const std::string life = row(div, "Life expectancy");
      if (plan.fired(10) && c.mechanics.sins_total) {
        EXPECT_NE(mech.find("(unstable)"), std::string::npos) << mech;
        ++sins_checked;
      }
      if (plan.fired(9)) {
        EXPECT_NE(mech.find("(potentially unstable)"), std::string::npos) << mech;
        ++sins_checked;
      }
      if (c.mechanics.sins_total && !plan.fired(9) && !plan.fired(10) && plan.applicable &&
          !c.mechanics.subluxation && c.mechanics.sins_total->value < t.sins_consult_min) {
        EXPECT_NE(mech.find("(stable)"), std::string::npos) << mech;
      }
      if (plan.fired(14)) {
        EXPECT_NE(life.find("read as a poor prognosis"), std::string::npos) << life;
        ++prognosis_checked;
      }
      if (plan.fired(13)) {
        EXPECT_NE(life.find("read as a favourable prognosis"), std::string::npos) << life;
        ++prognosis_checked;
      }
      // The site's thresholds are named whenever they differ from the defaults,
      // and no rule label quotes a default cut-off the site has moved.
      EXPECT_EQ(div.find("Site thresholds in use") != std::string::npos, name != "default");
      if (name != "default") {
        EXPECT_EQ(div.find("SINS 7-12"), std::string::npos);
        EXPECT_EQ(div.find("SINS 13-18"), std::string::npos);
      }
    }
  }
  // The checks above must have met both kinds of reading, or they prove nothing.
  EXPECT_GE(sins_checked, 10);
  EXPECT_GE(prognosis_checked, 3);
}

}  // namespace
}  // namespace mst::adapter
