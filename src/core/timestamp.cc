// SPDX-License-Identifier: EUPL-1.2
#include "core/timestamp.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace carrefour {

int64_t MicrosSinceEpoch(Clock::TimePoint time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

int64_t NowMicros(const Clock& clock) { return MicrosSinceEpoch(clock.Now()); }

std::string FormatRfc3339(int64_t time_us, int fraction_digits) {
  // Floor division: -1 µs is 1969-12-31T23:59:59.999999Z.
  int64_t seconds = time_us / 1000000;
  int64_t micros = time_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    seconds -= 1;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", utc.tm_year + 1900,
                                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  if (fraction_digits >= 6) {
    out += fmt::format(".{:06}", micros);
  } else if (fraction_digits >= 3) {
    out += fmt::format(".{:03}", micros / 1000);
  }
  out += 'Z';
  return out;
}

}  // namespace carrefour
