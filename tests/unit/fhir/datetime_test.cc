#include "mst/fhir/datetime.h"

#include <gtest/gtest.h>

namespace mst::fhir {
namespace {

TEST(DateTime, ParsesEveryFhirPrecision) {
  auto y = DateTime::parse("2024");
  auto m = DateTime::parse("2024-03");
  auto d = DateTime::parse("2024-03-05");
  auto s = DateTime::parse("2024-03-05T10:00:00+01:00");
  auto ms = DateTime::parse("2024-03-05T09:00:00.25Z");
  ASSERT_TRUE(y && m && d && s && ms);
  EXPECT_EQ(y->precision(), Precision::kYear);
  EXPECT_EQ(m->precision(), Precision::kMonth);
  EXPECT_EQ(d->precision(), Precision::kDay);
  EXPECT_EQ(s->precision(), Precision::kSecond);
  EXPECT_EQ(ms->precision(), Precision::kMillisecond);
  EXPECT_EQ(y->to_string(), "2024");
  EXPECT_EQ(m->to_string(), "2024-03");
  EXPECT_EQ(d->to_string(), "2024-03-05");
  EXPECT_EQ(s->to_string(), "2024-03-05T09:00:00Z");  // normalised to UTC
  EXPECT_EQ(s->offset_minutes(), 60);
  EXPECT_EQ(ms->to_string(), "2024-03-05T09:00:00.250Z");
}

TEST(DateTime, PartialValuesAreIntervals) {
  auto m = *DateTime::parse("2024-02");
  EXPECT_EQ(m.start_ms(), DateTime::from_ymd(2024, 2, 1).start_ms());
  EXPECT_EQ(m.end_ms(), DateTime::from_ymd(2024, 3, 1).start_ms());  // leap year
  auto y = *DateTime::parse("2023");
  EXPECT_EQ(y.end_ms(), DateTime::from_ymd(2024, 1, 1).start_ms());
  auto dec = *DateTime::parse("2023-12");
  EXPECT_EQ(dec.end_ms(), DateTime::from_ymd(2024, 1, 1).start_ms());
}

TEST(DateTime, OrdersAcrossZonesAndPrecisions) {
  auto a = *DateTime::parse("2024-03-05T23:30:00-02:00");  // 01:30Z on the 6th
  auto b = *DateTime::parse("2024-03-06T01:00:00Z");
  EXPECT_TRUE(b < a);
  EXPECT_EQ(a.date_string(), "2024-03-06");
  auto day = *DateTime::parse("2024-03-06");
  EXPECT_TRUE(day < b);
  EXPECT_EQ(days_between(*DateTime::parse("2024-01-01"), *DateTime::parse("2024-03-01")), 60);
}

TEST(DateTime, RejectsInvalidText) {
  for (const char* bad : {"", "24", "2024-13", "2024-02-30", "2023-02-29", "2024-03-05T10:00",
                          "2024-03-05T10:00:00", "2024-03-05T25:00:00Z", "2024-03-05 10:00:00Z",
                          "2024-03-05T10:00:00+1:00", "2024-03-05T10:00:00Zjunk", "abcd"}) {
    EXPECT_FALSE(DateTime::parse(bad).has_value()) << bad;
  }
  EXPECT_TRUE(DateTime::parse("2024-02-29").has_value());
}

TEST(DateTime, HandlesDatesBeforeTheEpoch) {
  auto d = *DateTime::parse("1950-06-15");
  EXPECT_EQ(d.to_string(), "1950-06-15");
  EXPECT_LT(d.start_ms(), 0);
}

}  // namespace
}  // namespace mst::fhir
