// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Instants as the project keeps and writes them: microseconds since the Unix
// epoch (audit records, deliveries, the stores), and their RFC 3339 text in
// UTC (answers, the console, logs). The one place that formats a time.

#include <cstdint>
#include <string>

#include "core/clock.h"

namespace carrefour {

// `time` as microseconds since 1970-01-01T00:00:00Z (truncated).
int64_t MicrosSinceEpoch(Clock::TimePoint time);
// clock.Now() as microseconds since the epoch.
int64_t NowMicros(const Clock& clock);

// RFC 3339 in UTC with `fraction_digits` digits of the second (0, 3 or 6;
// truncated, never rounded up into the next second):
//   FormatRfc3339(1714564800123456)    == "2024-05-01T12:00:00.123456Z"
//   FormatRfc3339(1714564800123456, 3) == "2024-05-01T12:00:00.123Z"
//   FormatRfc3339(1714564800123456, 0) == "2024-05-01T12:00:00Z"
// Times before 1970 are written as the calendar says (the fraction counts
// forward from the whole second before).
std::string FormatRfc3339(int64_t time_us, int fraction_digits = 6);

}  // namespace carrefour
