#include "mst/adapter/logger.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mst::adapter {
namespace {

std::int64_t fixed_clock() { return 1'795'000'000'000; }

TEST(Logger, TextLinesQuoteValuesThatNeedIt) {
  std::ostringstream out;
  Logger log(out, LogLevel::kInfo, LogFormat::kText, fixed_clock);
  log.info("plan.written", {{"patient", "mst-p01"}, {"reason", "inputs changed"}});
  log.debug("hidden", {});
  EXPECT_EQ(
      out.str(),
      "2026-11-18T11:06:40.000Z info plan.written patient=mst-p01 reason=\"inputs changed\"\n");
}

TEST(Logger, JsonLinesAreOneObjectEach) {
  std::ostringstream out;
  Logger log(out, LogLevel::kDebug, LogFormat::kJson, fixed_clock);
  log.warn("retry", {{"status", "503"}});
  EXPECT_EQ(out.str(),
            R"({"ts":"2026-11-18T11:06:40.000Z","level":"warn","event":"retry","status":"503"})"
            "\n");
}

TEST(Logger, ParsesLevels) {
  LogLevel l;
  EXPECT_TRUE(parse_log_level("warn", l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(parse_log_level("loud", l));
}

}  // namespace
}  // namespace mst::adapter
