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

// Server text in a field must not drive the terminal (issue #12, finding 5):
// ESC, C1 CSI and bidi overrides become spaces, in both formats.
TEST(Logger, NoControlCharacterReachesTheOutput) {
  const std::string hostile =
      "a\x1b]0;owned\x07b\xc2\x9b"
      "2Jc\xe2\x80\xae"
      "d\re";
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    std::ostringstream out;
    Logger log(out, LogLevel::kInfo, format, fixed_clock);
    log.error("sync.scan_failed\x1b[2J", {{"error", hostile}, {"x", "\x1b[31m"}});
    const std::string line = out.str();
    for (const char* bad : {"\x1b", "\x07", "\xc2\x9b", "\xe2\x80\xae", "\r"})
      EXPECT_EQ(line.find(bad), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  }
}

TEST(Logger, ParsesLevels) {
  LogLevel l;
  EXPECT_TRUE(parse_log_level("warn", l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(parse_log_level("loud", l));
}

}  // namespace
}  // namespace mst::adapter
