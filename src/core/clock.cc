// SPDX-License-Identifier: EUPL-1.2
#include "core/clock.h"

#include <ctime>

namespace carrefour {
namespace {

class RealClock : public Clock {
 public:
  // Clock
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

Date Clock::Today() const {
  std::time_t t = std::chrono::system_clock::to_time_t(Now());
  std::tm local{};
  localtime_r(&t, &local);
  // tm is always a valid civil date.
  return *Date::FromCivil(local.tm_year + 1900, local.tm_mon + 1, local.tm_mday);
}

Clock& SystemClock() {
  static RealClock* clock = new RealClock();
  return *clock;
}

ManualClock::ManualClock(Date day) {
  std::tm local{};
  local.tm_year = day.year() - 1900;
  local.tm_mon = day.month() - 1;
  local.tm_mday = day.day();
  local.tm_hour = 12;
  local.tm_isdst = -1;
  now_.store(std::chrono::system_clock::from_time_t(std::mktime(&local)));
}

}  // namespace carrefour
