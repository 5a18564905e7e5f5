// SPDX-License-Identifier: EUPL-1.2
#include "bench/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace carrefour::bench {
namespace {

using std::chrono::nanoseconds;

TEST(LatencyHistogram, EveryValueFallsInABucketThatEndsWithinOnePercentAboveIt) {
  const std::vector<uint64_t> values = {0,       1,          255,         256,        257,
                                        511,     512,        1000,        123456,     1000000,
                                        2000000, 1234567891, uint64_t{1} << 40, (uint64_t{1} << 63) + 12345,
                                        UINT64_MAX};
  for (uint64_t value : values) {
    SCOPED_TRACE(value);
    const size_t bucket = LatencyHistogram::BucketOf(value);
    const uint64_t end = LatencyHistogram::BucketUpperEnd(bucket);
    EXPECT_GE(end, value);
    // Within 1/128 of the value (exact below 256).
    EXPECT_LE(static_cast<double>(end - value), static_cast<double>(value) / 128.0);
    if (bucket > 0) {
      EXPECT_LT(LatencyHistogram::BucketUpperEnd(bucket - 1), value);
    }
  }
}

TEST(LatencyHistogram, BucketsAreContiguousAndIncreasing) {
  // Walk every bucket boundary up to 2^40 ns: each bucket starts right after
  // the previous one ends.
  uint64_t previous_end = LatencyHistogram::BucketUpperEnd(0);
  for (size_t bucket = 1; previous_end < (uint64_t{1} << 40); ++bucket) {
    const uint64_t end = LatencyHistogram::BucketUpperEnd(bucket);
    ASSERT_GT(end, previous_end) << bucket;
    ASSERT_EQ(LatencyHistogram::BucketOf(previous_end + 1), bucket);
    ASSERT_EQ(LatencyHistogram::BucketOf(end), bucket);
    previous_end = end;
  }
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.Percentile(99), nanoseconds(0));
  EXPECT_EQ(histogram.max(), nanoseconds(0));
  EXPECT_EQ(histogram.mean(), nanoseconds(0));
}

TEST(LatencyHistogram, PercentilesOfAUniformRun) {
  // 1..10000 microseconds, once each.
  LatencyHistogram histogram;
  for (int us = 1; us <= 10000; ++us) histogram.Record(std::chrono::microseconds(us));
  struct Row {
    double percent;
    int64_t expected_us;
  };
  const std::vector<Row> rows = {
      {0, 1}, {50, 5000}, {90, 9000}, {99, 9900}, {99.9, 9990}, {100, 10000}, {150, 10000},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.percent);
    const double got = static_cast<double>(histogram.Percentile(row.percent).count());
    const double expected = static_cast<double>(row.expected_us) * 1000;
    EXPECT_GE(got, expected);  // never flattering
    EXPECT_LE(got, expected * (1 + 1.0 / 128));
  }
  EXPECT_EQ(histogram.count(), 10000u);
  EXPECT_EQ(histogram.max(), std::chrono::microseconds(10000));
  EXPECT_EQ(histogram.mean(), nanoseconds(5000500));
}

TEST(LatencyHistogram, PercentileNeverExceedsTheExactMaximum) {
  LatencyHistogram histogram;
  histogram.Record(nanoseconds(1000001));
  EXPECT_EQ(histogram.Percentile(50), nanoseconds(1000001));
  EXPECT_EQ(histogram.Percentile(100), nanoseconds(1000001));
}

TEST(LatencyHistogram, NegativeDurationsCountAsZero) {
  LatencyHistogram histogram;
  histogram.Record(nanoseconds(-5));
  EXPECT_EQ(histogram.count(), 1u);
  EXPECT_EQ(histogram.Percentile(50), nanoseconds(0));
}

TEST(LatencyHistogram, ConcurrentRecordersLoseNothing) {
  LatencyHistogram histogram;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&histogram, t] {
      for (int i = 0; i < 100000; ++i) histogram.Record(nanoseconds(1000 * (t + 1)));
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(histogram.count(), 400000u);
  EXPECT_EQ(histogram.max(), nanoseconds(4000));
  EXPECT_GE(histogram.Percentile(25), nanoseconds(1000));
  EXPECT_LT(histogram.Percentile(25), nanoseconds(1010));
  EXPECT_EQ(histogram.Percentile(100), nanoseconds(4000));
}

}  // namespace
}  // namespace carrefour::bench
