#include "mst/adapter/goals/rule_thresholds.h"

#include <gtest/gtest.h>

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
