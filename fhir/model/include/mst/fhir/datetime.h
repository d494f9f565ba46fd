// FHIR date, dateTime and instant values with partial precision ("2024",
// "2024-03", "2024-03-05", "2024-03-05T10:00:00+01:00") as comparable
// intervals on the UTC time line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mst::fhir {

enum class Precision { kYear, kMonth, kDay, kSecond, kMillisecond };

// A point in time as the interval its precision denotes: "2024-03" is all of
// March 2024. Values without a time carry no zone in FHIR; they are read as
// UTC days (documented in docs/fhir-access.md).
class DateTime {
 public:
  // Parses FHIR date/dateTime/instant; nullopt when the text is not valid.
  static std::optional<DateTime> parse(std::string_view text);
  // A UTC instant with millisecond precision.
  static DateTime from_epoch_ms(std::int64_t ms, Precision p = Precision::kMillisecond);
  // A whole UTC day.
  static DateTime from_ymd(int year, int month, int day);

  // First millisecond of the interval (UTC epoch ms).
  std::int64_t start_ms() const { return start_ms_; }
  // First millisecond after the interval.
  std::int64_t end_ms() const;
  Precision precision() const { return precision_; }
  // Offset in minutes of the original text (0 for UTC or date-only values).
  int offset_minutes() const { return offset_min_; }

  // Canonical UTC text at this value's precision: "2024", "2024-03",
  // "2024-03-05", "2024-03-05T09:00:00Z", "2024-03-05T09:00:00.250Z".
  std::string to_string() const;
  // The UTC calendar day of start_ms(), "YYYY-MM-DD".
  std::string date_string() const;

  // Orders by start, then by finer precision last, so sorting is total.
  friend bool operator<(const DateTime& a, const DateTime& b) {
    return a.start_ms_ != b.start_ms_ ? a.start_ms_ < b.start_ms_ : a.precision_ < b.precision_;
  }
  friend bool operator==(const DateTime& a, const DateTime& b) {
    return a.start_ms_ == b.start_ms_ && a.precision_ == b.precision_;
  }

 private:
  DateTime(std::int64_t start_ms, Precision p, int offset_min)
      : start_ms_(start_ms), precision_(p), offset_min_(offset_min) {}
  std::int64_t start_ms_ = 0;
  Precision precision_ = Precision::kDay;
  int offset_min_ = 0;
};

// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(int year, int month, int day);

// Whole days from `from` to `to` (start to start), negative when `to` is earlier.
std::int64_t days_between(const DateTime& from, const DateTime& to);

}  // namespace mst::fhir
