#include "mst/adapter/goals/rule_thresholds.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "considerations_fixture.h"
#include "mst/adapter/goals/goal_engine.h"

namespace mst::adapter {
namespace {

const std::string kShippedFile = std::string(MST_SOURCE_DIR) + "/adapter/rules/thresholds.json";

TEST(RuleThresholds, ShippedFileEqualsTheCompiledDefaults) {
  const RuleThresholds loaded = load_thresholds_file(kShippedFile);
  const RuleThresholds defaults;
  for (const auto& info : threshold_table()) {
    EXPECT_EQ(loaded.*(info.member), defaults.*(info.member)) << info.name;
  }
}

TEST(RuleThresholds, EveryThresholdHasASourceAndItsDefaultIsInRange) {
  const RuleThresholds defaults;
  EXPECT_EQ(threshold_table().size(), 23u);
  for (const auto& info : threshold_table()) {
    EXPECT_FALSE(info.source.empty()) << info.name;
    EXPECT_GE(defaults.*(info.member), info.min) << info.name;
    EXPECT_LE(defaults.*(info.member), info.max) << info.name;
  }
}

TEST(RuleThresholds, OverrideChangesWhatARuleDoes) {
  auto c = testing::stable_patient();
  testing::set_sins(c, 7);
  EXPECT_TRUE(propose(c).fired(9));
  const auto t = thresholds_from_json(R"({"thresholds": {"sins_consult_min": {"value": 8}}})");
  EXPECT_EQ(t.sins_consult_min, 8);
  EXPECT_FALSE(propose(c, t).fired(9));
}

const std::filesystem::path kTablesDir = std::filesystem::path(MST_SOURCE_DIR) / "mappings/tables";

TEST(RuleThresholds, CompiledCutoffsEqualTheShippedCodeTable) {
  // The engine used without tables must read the spine and the prognosis as
  // a pipeline reading the shipped table does.
  const auto tables = mappings::CodeTables::load({kTablesDir});
  const RuleThresholds from_table = with_table_cutoffs(tables);
  const RuleThresholds defaults;
  EXPECT_EQ(from_table.sins_consult_min, defaults.sins_consult_min);
  EXPECT_EQ(from_table.sins_unstable_min, defaults.sins_unstable_min);
  EXPECT_EQ(from_table.tokuhashi_poor_max, defaults.tokuhashi_poor_max);
  EXPECT_EQ(from_table.tokuhashi_single_vertebra_min, defaults.tokuhashi_single_vertebra_min);
  EXPECT_EQ(from_table.tokuhashi_favourable_min, defaults.tokuhashi_favourable_min);
}

// The shipped code tables in a fresh directory, with `from` replaced by
// `to` in thresholds.json.
std::filesystem::path tables_with(const std::string& from, const std::string& to) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "rule_thresholds_tables";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kTablesDir, dir);
  std::ifstream in(dir / "thresholds.json");
  std::stringstream text;
  text << in.rdbuf();
  std::string json = text.str();
  const auto at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) json.replace(at, from.size(), to);
  std::ofstream(dir / "thresholds.json", std::ios::trunc) << json;
  return dir;
}

TEST(RuleThresholds, ChangingTheCodeTableChangesTheRules) {
  auto c = testing::stable_patient();
  testing::set_sins(c, 7);
  const auto shipped = mappings::CodeTables::load({kTablesDir});
  EXPECT_TRUE(propose(c, with_table_cutoffs(shipped)).fired(9));
  const auto site =
      mappings::CodeTables::load({tables_with(R"("key": "sins.indeterminate-from", "value": 7)",
                                              R"("key": "sins.indeterminate-from", "value": 8)")});
  const RuleThresholds t = with_table_cutoffs(site);
  EXPECT_EQ(t.sins_consult_min, 8);
  EXPECT_FALSE(propose(c, t).fired(9));

  const auto tokuhashi = with_table_cutoffs(mappings::CodeTables::load(
      {tables_with(R"("key": "tokuhashi.six-months-from", "value": 9)",
                   R"("key": "tokuhashi.six-months-from", "value": 10)")}));
  EXPECT_EQ(tokuhashi.tokuhashi_poor_max, 9);
  EXPECT_EQ(tokuhashi.tokuhashi_single_vertebra_min, 10);
}

TEST(RuleThresholds, ARulesFileOverridesTheTableCutoffs) {
  const auto tables = mappings::CodeTables::load({kTablesDir});
  const auto t = thresholds_from_json(R"({"thresholds": {"sins_unstable_min": 12}})",
                                      with_table_cutoffs(tables));
  EXPECT_EQ(t.sins_unstable_min, 12);
  EXPECT_EQ(t.sins_consult_min, 7);
}

TEST(RuleThresholds, AcceptsPlainNumbers) {
  EXPECT_EQ(thresholds_from_json(R"({"thresholds": {"paraplegia_window_hours": 72}})")
                .paraplegia_window_hours,
            72);
}

TEST(RuleThresholds, RejectsBadInputWithAClearMessage) {
  auto message = [](const char* text) {
    try {
      thresholds_from_json(text);
    } catch (const ThresholdsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("{").find("thresholds:"), std::string::npos);
  EXPECT_NE(message("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(message("{}").find("no \"thresholds\""), std::string::npos);
  EXPECT_NE(message(R"({"thresholds": {"sins_max": 3}})").find("unknown threshold \"sins_max\""),
            std::string::npos);
  EXPECT_NE(message(R"({"thresholds": {"sins_consult_min": "7"}})").find("must be a number"),
            std::string::npos);
  EXPECT_NE(message(R"({"thresholds": {"sins_consult_min": 40}})").find("outside [0, 18]"),
            std::string::npos);
  EXPECT_NE(message(R"({"thresholds": {"sins_consult_min": {"value": 14}}})")
                .find("must not exceed sins_unstable_min"),
            std::string::npos);
  EXPECT_NE(
      message(R"({"thresholds": {"sins_consult_min": {"source": "x"}}})").find("no numeric value"),
      std::string::npos);
  EXPECT_THROW(load_thresholds_file("/nonexistent/thresholds.json"), ThresholdsError);
}

}  // namespace
}  // namespace mst::adapter
