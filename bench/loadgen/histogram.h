// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A latency histogram for load generators, in the spirit of HdrHistogram:
// counts in log-spaced buckets, each power of two split into 128 linear
// sub-buckets, so that any recorded value is reported within 1/128 (< 0.8 %)
// of itself, from 1 ns to centuries, in a fixed 60 KiB. Recording is one
// relaxed atomic increment: callbacks on several client threads record into
// one histogram without a lock, and a million samples cost no memory.
//
// Thread safety: Record may be called from any number of threads at once;
// the readers (count, Percentile, ...) give a consistent answer once the
// writers are done.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace carrefour::bench {

class LatencyHistogram {
 public:
  void Record(std::chrono::nanoseconds latency);

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Exact, not bucketed.
  std::chrono::nanoseconds max() const;
  std::chrono::nanoseconds mean() const;
  // The smallest recorded value (to bucket precision) that at least
  // `percent` % of the samples do not exceed; reported as its bucket's upper
  // end (never above max()), so a percentile is never flattering. 0 when
  // nothing was recorded. `percent` is clamped to [0, 100].
  std::chrono::nanoseconds Percentile(double percent) const;

  // Bucket arithmetic, public for the tests.
  static size_t BucketOf(uint64_t value);
  static uint64_t BucketUpperEnd(size_t bucket);

 private:
  static constexpr int kSubBucketBits = 8;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // linear below this
  static constexpr uint64_t kHalf = kSubBuckets / 2;
  static constexpr size_t kBuckets = kSubBuckets + (64 - kSubBucketBits) * kHalf;

  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace carrefour::bench
