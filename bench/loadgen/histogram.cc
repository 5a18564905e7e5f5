// SPDX-License-Identifier: EUPL-1.2
#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace carrefour::bench {

// Values below kSubBuckets have a bucket each. Above, a value whose highest
// set bit is bit p is shifted right by p + 1 - kSubBucketBits, which leaves
// it in [kHalf, kSubBuckets): kHalf linear sub-buckets per power of two.
size_t LatencyHistogram::BucketOf(uint64_t value) {
  if (value < kSubBuckets) return static_cast<size_t>(value);
  const int shift = std::bit_width(value) - kSubBucketBits;
  return static_cast<size_t>(kSubBuckets + (static_cast<uint64_t>(shift) - 1) * kHalf +
                             ((value >> shift) - kHalf));
}

uint64_t LatencyHistogram::BucketUpperEnd(size_t bucket) {
  if (bucket < kSubBuckets) return bucket;
  const uint64_t above = bucket - kSubBuckets;
  const int shift = static_cast<int>(above / kHalf) + 1;
  const uint64_t sub = above % kHalf + kHalf;
  // The top bucket's end does not fit in 64 bits: saturate.
  if (shift + kSubBucketBits >= 64 && sub + 1 == kSubBuckets) return UINT64_MAX;
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(std::chrono::nanoseconds latency) {
  const uint64_t value = latency.count() < 0 ? 0 : static_cast<uint64_t>(latency.count());
  counts_[BucketOf(value)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

std::chrono::nanoseconds LatencyHistogram::max() const {
  return std::chrono::nanoseconds(max_.load(std::memory_order_relaxed));
}

std::chrono::nanoseconds LatencyHistogram::mean() const {
  const uint64_t n = count();
  return std::chrono::nanoseconds(n == 0 ? 0 : sum_.load(std::memory_order_relaxed) / n);
}

std::chrono::nanoseconds LatencyHistogram::Percentile(double percent) const {
  const uint64_t n = count();
  if (n == 0) return std::chrono::nanoseconds(0);
  percent = std::clamp(percent, 0.0, 100.0);
  // The rank of the sample that answers: at least the first one.
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(n))));
  uint64_t seen = 0;
  for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
    seen += counts_[bucket].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const uint64_t end = std::min(BucketUpperEnd(bucket), max_.load(std::memory_order_relaxed));
      return std::chrono::nanoseconds(static_cast<int64_t>(end));
    }
  }
  return max();
}

}  // namespace carrefour::bench
