// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <atomic>
#include <chrono>

#include "core/date.h"

namespace carrefour {

// Where "now" and "today" come from. Injected wherever time matters (validity
// of authorizations, retention, audit timestamps) so that tests control it.
// Implementations are thread-safe.
class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // The civil date of Now() in the process's local time zone (TZ), which is
  // the calendar that legal validity periods are written in.
  Date Today() const;
};

// The real clock; one per process, never destroyed.
Clock& SystemClock();

// A clock that moves only when told to. For tests.
class ManualClock : public Clock {
 public:
  explicit ManualClock(TimePoint now) : now_(now) {}
  // Noon (local time) of `day`.
  explicit ManualClock(Date day);

  // Clock
  TimePoint Now() const override { return now_.load(); }

  void Set(TimePoint now) { now_.store(now); }
  void Advance(std::chrono::nanoseconds by) { now_.store(now_.load() + by); }

 private:
  std::atomic<TimePoint> now_;
};

}  // namespace carrefour
