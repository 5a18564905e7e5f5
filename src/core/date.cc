// SPDX-License-Identifier: EUPL-1.2
#include "core/date.h"

#include <chrono>

#include <fmt/format.h>

namespace carrefour {
namespace {

namespace chr = std::chrono;

bool ParseDigits(std::string_view text, int* out) {
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

chr::year_month_day Civil(int32_t days) {
  return chr::year_month_day(chr::sys_days(chr::days(days)));
}

}  // namespace

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

std::optional<Date> Date::FromCivil(int year, int month, int day) {
  if (year < 1 || year > 9999) return std::nullopt;
  if (day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  chr::year_month_day ymd{chr::year(year), chr::month(static_cast<unsigned>(month)),
                          chr::day(static_cast<unsigned>(day))};
  return FromDays(static_cast<int32_t>(chr::sys_days(ymd).time_since_epoch().count()));
}

Result<Date> Date::Parse(std::string_view text) {
  int year = 0, month = 0, day = 0;
  bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                ParseDigits(text.substr(0, 4), &year) &&
                ParseDigits(text.substr(5, 2), &month) &&
                ParseDigits(text.substr(8, 2), &day);
  if (!shaped) {
    return Error(InvalidRequest(fmt::format("'{}' is not a date (expected YYYY-MM-DD)", text)));
  }
  std::optional<Date> date = FromCivil(year, month, day);
  if (!date) return Error(InvalidRequest(fmt::format("'{}' is not a day of the calendar", text)));
  return *date;
}

Date Date::Min() { return *FromCivil(1, 1, 1); }
Date Date::Max() { return *FromCivil(9999, 12, 31); }

int Date::year() const { return static_cast<int>(Civil(days_).year()); }
int Date::month() const { return static_cast<int>(static_cast<unsigned>(Civil(days_).month())); }
int Date::day() const { return static_cast<int>(static_cast<unsigned>(Civil(days_).day())); }

std::string Date::ToString() const {
  chr::year_month_day ymd = Civil(days_);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

Result<Period> Period::Make(Date from, std::optional<Date> to) {
  if (to && *to < from) {
    return Error(InvalidPeriod(fmt::format("the period ends ({}) before it starts ({})",
                                           to->ToString(), from.ToString())));
  }
  return Period{from, to};
}

bool Period::Overlaps(const Period& other) const {
  return (!to || other.from <= *to) && (!other.to || from <= *other.to);
}

bool Period::Touches(const Period& other) const {
  return (!to || other.from <= to->AddDays(1)) && (!other.to || from <= other.to->AddDays(1));
}

std::optional<Period> Period::Intersect(const Period& other) const {
  if (!Overlaps(other)) return std::nullopt;
  Period out{std::max(from, other.from), std::nullopt};
  if (to && other.to) {
    out.to = std::min(*to, *other.to);
  } else if (to) {
    out.to = to;
  } else {
    out.to = other.to;
  }
  return out;
}

std::string Period::ToString() const {
  return from.ToString() + ".." + (to ? to->ToString() : std::string());
}

}  // namespace carrefour
