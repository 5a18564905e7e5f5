// SPDX-License-Identifier: EUPL-1.2
#include "core/date.h"

#include <gtest/gtest.h>

namespace carrefour {
namespace {

Date D(std::string_view text) { return *Date::Parse(text); }

TEST(Date, ParsesAndFormatsRoundTrip) {
  for (std::string_view text : {"1970-01-01", "2000-02-29", "1899-12-31", "2024-12-31", "0001-01-01",
                                "9999-12-31"}) {
    SCOPED_TRACE(text);
    Result<Date> date = Date::Parse(text);
    ASSERT_TRUE(date) << date.error().ToString();
    EXPECT_EQ(date->ToString(), text);
  }
  EXPECT_EQ(D("1970-01-02").days_since_epoch(), 1);
  EXPECT_EQ(D("1969-12-31").days_since_epoch(), -1);
  EXPECT_EQ(D("2024-03-15").year(), 2024);
  EXPECT_EQ(D("2024-03-15").month(), 3);
  EXPECT_EQ(D("2024-03-15").day(), 15);
}

TEST(Date, RefusesMalformedAndImpossibleDates) {
  struct Row {
    std::string_view text;
    std::string_view message_part;
  };
  const Row rows[] = {
      {"", "not a date"},           {"2024-1-01", "not a date"},
      {"2024/01/01", "not a date"}, {"20240101", "not a date"},
      {"2024-01-0x", "not a date"}, {" 2024-01-01", "not a date"},
      {"2023-02-29", "not a day"},  {"2024-13-01", "not a day"},
      {"2024-00-10", "not a day"},  {"2024-04-31", "not a day"},
      {"0000-01-01", "not a day"},  {"1900-02-29", "not a day"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    Result<Date> date = Date::Parse(row.text);
    ASSERT_FALSE(date);
    EXPECT_EQ(date.error().code(), StatusCode::kInvalidRequest);
    EXPECT_NE(date.error().message().find(row.message_part), std::string::npos)
        << date.error().message();
  }
}

TEST(Date, LeapYearsAndMonthLengths) {
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2023, 2), 28);
  EXPECT_EQ(DaysInMonth(2023, 4), 30);
  EXPECT_EQ(DaysInMonth(2023, 13), 0);
}

TEST(Period, MakeRefusesEndBeforeStart) {
  Result<Period> period = Period::Make(D("2024-02-01"), D("2024-01-31"));
  ASSERT_FALSE(period);
  EXPECT_EQ(period.error().code(), StatusCode::kInvalidPeriod);
  EXPECT_TRUE(Period::Make(D("2024-02-01"), D("2024-02-01")));
  EXPECT_TRUE(Period::Make(D("2024-02-01"), std::nullopt));
}

TEST(Period, OverlapTouchAndIntersect) {
  struct Row {
    Period a, b;
    bool overlaps, touches;
    std::optional<Period> intersection;
  };
  const Period jan{D("2024-01-01"), D("2024-01-31")};
  const Period feb{D("2024-02-01"), D("2024-02-29")};
  const Period march_on{D("2024-03-01"), std::nullopt};
  const Period since_jan15{D("2024-01-15"), std::nullopt};
  const Row rows[] = {
      {jan, feb, false, true, std::nullopt},
      {feb, jan, false, true, std::nullopt},
      {jan, march_on, false, false, std::nullopt},
      {jan, since_jan15, true, true, Period{D("2024-01-15"), D("2024-01-31")}},
      {since_jan15, march_on, true, true, march_on},
      {march_on, since_jan15, true, true, march_on},
      {jan, jan, true, true, jan},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.a.ToString() + " / " + row.b.ToString());
    EXPECT_EQ(row.a.Overlaps(row.b), row.overlaps);
    EXPECT_EQ(row.a.Touches(row.b), row.touches);
    EXPECT_EQ(row.a.Intersect(row.b), row.intersection);
  }
}

TEST(Period, ContainsRespectsInclusiveAndOpenEnds) {
  const Period jan{D("2024-01-01"), D("2024-01-31")};
  EXPECT_TRUE(jan.Contains(D("2024-01-01")));
  EXPECT_TRUE(jan.Contains(D("2024-01-31")));
  EXPECT_FALSE(jan.Contains(D("2024-02-01")));
  EXPECT_FALSE(jan.Contains(D("2023-12-31")));
  EXPECT_TRUE((Period{D("2024-01-01"), std::nullopt}).Contains(D("9999-12-31")));
  EXPECT_EQ(jan.ToString(), "2024-01-01..2024-01-31");
  EXPECT_EQ((Period{D("2024-01-01"), std::nullopt}).ToString(), "2024-01-01..");
}

}  // namespace
}  // namespace carrefour
