// SPDX-License-Identifier: EUPL-1.2
#include "core/timestamp.h"

#include <gtest/gtest.h>

#include <chrono>

namespace carrefour {
namespace {

constexpr int64_t kMayDay = 1714564800123456;  // 2024-05-01T12:00:00.123456Z

TEST(FormatRfc3339, WritesUtcWithTheAskedDigitsTruncated) {
  EXPECT_EQ(FormatRfc3339(kMayDay), "2024-05-01T12:00:00.123456Z");
  EXPECT_EQ(FormatRfc3339(kMayDay, 6), "2024-05-01T12:00:00.123456Z");
  EXPECT_EQ(FormatRfc3339(kMayDay, 3), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(FormatRfc3339(kMayDay, 0), "2024-05-01T12:00:00Z");
  // Truncated, not rounded: .999999 stays in its second.
  EXPECT_EQ(FormatRfc3339(1714564799999999, 3), "2024-05-01T11:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(1714564799999999, 0), "2024-05-01T11:59:59Z");
}

TEST(FormatRfc3339, PadsEveryFieldAndKnowsTheCalendar) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatRfc3339(5), "1970-01-01T00:00:00.000005Z");
  // A leap day, and the last microsecond of a year.
  EXPECT_EQ(FormatRfc3339(951782400000000, 0), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1735689599999999), "2024-12-31T23:59:59.999999Z");
}

TEST(FormatRfc3339, TimesBeforeTheEpochCountFromTheSecondBefore) {
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatRfc3339(-1000000), "1969-12-31T23:59:59.000000Z");
}

TEST(NowMicros, IsTheClocksTimeInMicroseconds) {
  ManualClock clock{Clock::TimePoint(std::chrono::microseconds(kMayDay))};
  EXPECT_EQ(NowMicros(clock), kMayDay);
  clock.Advance(std::chrono::nanoseconds(1999));  // truncated to 1 µs
  EXPECT_EQ(NowMicros(clock), kMayDay + 1);
  EXPECT_EQ(MicrosSinceEpoch(Clock::TimePoint(std::chrono::seconds(2))), 2000000);
}

}  // namespace
}  // namespace carrefour
