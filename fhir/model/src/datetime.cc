#include "mst/fhir/datetime.h"

#include <cstdio>

namespace mst::fhir {

namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  // Howard Hinnant's public-domain algorithm, restated.
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yy + (m <= 2));
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::int64_t days_from_civil(int year, int month, int day) {
  const int y = year - (month <= 2);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy =
      static_cast<unsigned>((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1);
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<DateTime> DateTime::parse(std::string_view s) {
  int year = 0, month = 1, day = 1;
  if (s.size() < 4 || !digits(s, 0, 4, year)) return std::nullopt;
  if (s.size() == 4) return DateTime(days_from_civil(year, 1, 1) * kMsPerDay, Precision::kYear, 0);
  if (s[4] != '-' || !digits(s, 5, 2, month) || month < 1 || month > 12) return std::nullopt;
  if (s.size() == 7) {
    return DateTime(days_from_civil(year, month, 1) * kMsPerDay, Precision::kMonth, 0);
  }
  if (s.size() < 10 || s[7] != '-' || !digits(s, 8, 2, day) || day < 1 ||
      day > days_in_month(year, month)) {
    return std::nullopt;
  }
  const std::int64_t day_ms = days_from_civil(year, month, day) * kMsPerDay;
  if (s.size() == 10) return DateTime(day_ms, Precision::kDay, 0);

  // FHIR requires seconds and a zone whenever a time is given.
  int hh = 0, mm = 0, ss = 0;
  if (s[10] != 'T' || !digits(s, 11, 2, hh) || s.size() < 19 || s[13] != ':' ||
      !digits(s, 14, 2, mm) || s[16] != ':' || !digits(s, 17, 2, ss) || hh > 23 || mm > 59 ||
      ss > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  int millis = 0;
  Precision p = Precision::kSecond;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    p = Precision::kMillisecond;
  }
  if (pos >= s.size()) return std::nullopt;
  int offset = 0;
  if (s[pos] == 'Z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 14 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t local = day_ms + ((hh * 60LL + mm) * 60 + std::min(ss, 59)) * 1000 + millis;
  return DateTime(local - offset * 60'000LL, p, offset);
}

DateTime DateTime::from_epoch_ms(std::int64_t ms, Precision p) { return DateTime(ms, p, 0); }

DateTime DateTime::from_ymd(int year, int month, int day) {
  return DateTime(days_from_civil(year, month, day) * kMsPerDay, Precision::kDay, 0);
}

std::int64_t DateTime::end_ms() const {
  int y, m, d;
  civil_from_days(floor_div(start_ms_, kMsPerDay), y, m, d);
  switch (precision_) {
    case Precision::kYear:
      return days_from_civil(y + 1, 1, 1) * kMsPerDay;
    case Precision::kMonth:
      return (m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1)) * kMsPerDay;
    case Precision::kDay:
      return start_ms_ + kMsPerDay;
    case Precision::kSecond:
      return start_ms_ + 1000;
    case Precision::kMillisecond:
      return start_ms_ + 1;
  }
  return start_ms_ + 1;
}

std::string DateTime::to_string() const {
  int y, m, d;
  const std::int64_t days = floor_div(start_ms_, kMsPerDay);
  civil_from_days(days, y, m, d);
  char buf[40];
  switch (precision_) {
    case Precision::kYear:
      std::snprintf(buf, sizeof buf, "%04d", y);
      break;
    case Precision::kMonth:
      std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
      break;
    case Precision::kDay:
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
      break;
    case Precision::kSecond:
    case Precision::kMillisecond: {
      const std::int64_t in_day = start_ms_ - days * kMsPerDay;
      const int hh = static_cast<int>(in_day / 3'600'000),
                mm = static_cast<int>(in_day / 60'000 % 60),
                ss = static_cast<int>(in_day / 1000 % 60), ms = static_cast<int>(in_day % 1000);
      if (precision_ == Precision::kSecond) {
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, hh, mm, ss);
      } else {
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, hh, mm, ss,
                      ms);
      }
      break;
    }
  }
  return buf;
}

std::string DateTime::date_string() const {
  int y, m, d;
  civil_from_days(floor_div(start_ms_, kMsPerDay), y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

std::int64_t days_between(const DateTime& from, const DateTime& to) {
  return floor_div(to.start_ms(), kMsPerDay) - floor_div(from.start_ms(), kMsPerDay);
}

}  // namespace mst::fhir
