// One line per event on a stream (stderr in the CLI), as text or JSON.
// Callers pass resource ids and counts only: no names, birth dates, clinical
// values or tokens above debug level (docs/operations.md).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

namespace mst::adapter {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

struct LogField {
  std::string_view key;
  std::string value;
};

class Logger {
 public:
  // `now_ms` supplies UTC epoch milliseconds; injected so tests are stable.
  Logger(std::ostream& out, LogLevel min_level, LogFormat format,
         std::function<std::int64_t()> now_ms = nullptr);

  bool enabled(LogLevel level) const { return level >= min_level_; }
  // Writes one line atomically with respect to other threads.
  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

  void debug(std::string_view e, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kDebug, e, f);
  }
  void info(std::string_view e, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kInfo, e, f);
  }
  void warn(std::string_view e, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kWarn, e, f);
  }
  void error(std::string_view e, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kError, e, f);
  }

 private:
  std::ostream& out_;
  LogLevel min_level_;
  LogFormat format_;
  std::function<std::int64_t()> now_ms_;
  std::mutex mu_;
};

// Parses "debug" | "info" | "warn" | "error"; nullopt-like false on failure.
bool parse_log_level(std::string_view text, LogLevel& out);

}  // namespace mst::adapter
