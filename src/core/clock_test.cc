// SPDX-License-Identifier: EUPL-1.2
#include "core/clock.h"

#include <gtest/gtest.h>

namespace carrefour {
namespace {

TEST(ManualClock, TodayFollowsTheSetDayAndAdvances) {
  ManualClock clock(*Date::Parse("2024-02-28"));
  EXPECT_EQ(clock.Today().ToString(), "2024-02-28");
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(clock.Today().ToString(), "2024-02-29");
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(clock.Today().ToString(), "2024-03-01");
}

TEST(SystemClock, TodayIsAPlausibleDate) {
  Date today = SystemClock().Today();
  EXPECT_GE(today.year(), 2024);
  EXPECT_LE(today.year(), 2200);
}

}  // namespace
}  // namespace carrefour
