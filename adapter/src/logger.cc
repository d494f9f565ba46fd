#include "mst/adapter/logger.h"

#include <chrono>

#include "mst/fhir/datetime.h"
#include "mst/fhir/json_value.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Text values with spaces or quotes are quoted so a line stays parseable.
void append_text_value(std::string& line, const std::string& v) {
  const bool plain = !v.empty() && v.find_first_of(" \"=\n\r\t") == std::string::npos;
  if (plain) {
    line += v;
    return;
  }
  line += fhir::JsonValue(v).dump();
}

}  // namespace

Logger::Logger(std::ostream& out, LogLevel min_level, LogFormat format,
               std::function<std::int64_t()> now_ms)
    : out_(out), min_level_(min_level), format_(format), now_ms_(std::move(now_ms)) {
  if (!now_ms_) {
    now_ms_ = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  const std::string ts = fhir::DateTime::from_epoch_ms(now_ms_()).to_string();
  std::string line;
  if (format_ == LogFormat::kJson) {
    auto obj = fhir::JsonValue::object(
        {{"ts", ts}, {"level", level_name(level)}, {"event", fhir::printable(event)}});
    for (const auto& f : fields) obj.set(f.key, fhir::printable(f.value));
    line = obj.dump();
  } else {
    // A value may carry text from a server; an escape sequence in it must
    // not reach a terminal, nor a line break split the line.
    line = ts + " " + level_name(level) + " " + fhir::printable(event);
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      append_text_value(line, fhir::printable(f.value));
    }
  }
  line += '\n';
  std::lock_guard lock(mu_);
  out_ << line;
  out_.flush();
}

bool parse_log_level(std::string_view text, LogLevel& out) {
  if (text == "debug") {
    out = LogLevel::kDebug;
  } else if (text == "info") {
    out = LogLevel::kInfo;
  } else if (text == "warn" || text == "warning") {
    out = LogLevel::kWarn;
  } else if (text == "error") {
    out = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

}  // namespace mst::adapter
