// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace carrefour {

bool IsLeapYear(int year);
// Days in `month` (1-12) of `year`; 0 for a month outside 1-12.
int DaysInMonth(int year, int month);

// A civil date (proleptic Gregorian), stored as days since 1970-01-01 so that
// comparisons and arithmetic are integer operations. Value type; trivially
// copyable.
class Date {
 public:
  constexpr Date() = default;  // 1970-01-01

  static constexpr Date FromDays(int32_t days_since_epoch) {
    Date date;
    date.days_ = days_since_epoch;
    return date;
  }
  // nullopt unless month is 1-12 and day exists in that month.
  static std::optional<Date> FromCivil(int year, int month, int day);
  // Exactly "YYYY-MM-DD"; otherwise invalid-request naming the input.
  static Result<Date> Parse(std::string_view text);

  // The first and last days carrefour represents (years 0001 and 9999).
  static Date Min();
  static Date Max();

  int32_t days_since_epoch() const { return days_; }
  int year() const;
  int month() const;
  int day() const;

  Date AddDays(int32_t days) const { return FromDays(days_ + days); }
  // "YYYY-MM-DD"
  std::string ToString() const;

  friend constexpr auto operator<=>(Date, Date) = default;

 private:
  int32_t days_ = 0;
};

// A period of days, both ends inclusive; an absent `to` is open-ended
// (docs/api.md section 4: `{"from": d, "to": d|null}`).
struct Period {
  Date from;
  std::optional<Date> to;

  // The one-day period [day, day].
  static Period Day(Date day) { return Period{day, day}; }
  // invalid-period unless from <= to.
  static Result<Period> Make(Date from, std::optional<Date> to);

  bool IsOpen() const { return !to.has_value(); }
  bool Contains(Date day) const { return from <= day && (!to || day <= *to); }
  bool Overlaps(const Period& other) const;
  // Overlapping or adjacent (this ends the day before the other starts, or
  // the reverse): such periods merge into one stretch.
  bool Touches(const Period& other) const;
  // The days both periods share; nullopt when they do not overlap.
  std::optional<Period> Intersect(const Period& other) const;

  // "2024-01-01..2024-12-31", or "2024-01-01.." when open-ended.
  std::string ToString() const;

  friend bool operator==(const Period&, const Period&) = default;
};

}  // namespace carrefour
