// SPDX-License-Identifier: EUPL-1.2
#include "hub/rate_limiter.h"

#include <gtest/gtest.h>

namespace carrefour::hub {
namespace {

using std::chrono::milliseconds;

class RateLimiterTest : public ::testing::Test {
 protected:
  RateLimiter limiter_{[this] { return now_; }};
  std::chrono::steady_clock::time_point now_{};
  network::Quota quota_{.institution = "mut-100", .requests_per_second = 2, .burst = 3};
};

TEST_F(RateLimiterTest, BurstThenTheRate) {
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter_.Acquire("mut-100", &quota_)) << i;
  std::optional<int64_t> refused = limiter_.Acquire("mut-100", &quota_);
  ASSERT_TRUE(refused);
  EXPECT_EQ(*refused, 1);
  now_ += milliseconds(500);  // one token at 2 per second
  EXPECT_FALSE(limiter_.Acquire("mut-100", &quota_));
  EXPECT_TRUE(limiter_.Acquire("mut-100", &quota_));
  now_ += std::chrono::seconds(60);  // refilled up to the burst only
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter_.Acquire("mut-100", &quota_)) << i;
  EXPECT_TRUE(limiter_.Acquire("mut-100", &quota_));
}

TEST_F(RateLimiterTest, EachInstitutionHasItsOwnAllowance) {
  network::Quota type_wide{.institution_type = "mutuality", .requests_per_second = 1, .burst = 1};
  EXPECT_FALSE(limiter_.Acquire("mut-100", &type_wide));
  EXPECT_TRUE(limiter_.Acquire("mut-100", &type_wide));
  EXPECT_FALSE(limiter_.Acquire("mut-200", &type_wide));
  EXPECT_FALSE(limiter_.Acquire("nr", nullptr)) << "no quota: unlimited";
}

TEST_F(RateLimiterTest, RetryAfterCoversASlowRate) {
  network::Quota slow{.institution = "mut-100", .requests_per_second = 1, .burst = 1};
  EXPECT_FALSE(limiter_.Acquire("mut-100", &slow));
  now_ += milliseconds(100);
  EXPECT_EQ(limiter_.Acquire("mut-100", &slow), 1);
}

TEST_F(RateLimiterTest, AReloadedQuotaAppliesAtOnce) {
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter_.Acquire("mut-100", &quota_));
  EXPECT_TRUE(limiter_.Acquire("mut-100", &quota_));
  network::Quota bigger{.institution = "mut-100", .requests_per_second = 1000, .burst = 1000};
  EXPECT_TRUE(limiter_.Acquire("mut-100", &bigger)) << "nothing left yet";
  now_ += milliseconds(10);  // 10 tokens at the new rate
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(limiter_.Acquire("mut-100", &bigger)) << i;
  EXPECT_TRUE(limiter_.Acquire("mut-100", &bigger));
  network::Quota smaller{.institution = "mut-100", .requests_per_second = 1, .burst = 2};
  now_ += std::chrono::seconds(5);  // full at 1000, then cut to the new burst
  EXPECT_FALSE(limiter_.Acquire("mut-100", &smaller));
  EXPECT_FALSE(limiter_.Acquire("mut-100", &smaller));
  EXPECT_TRUE(limiter_.Acquire("mut-100", &smaller));
}

TEST_F(RateLimiterTest, MetricsCountPerInstitution) {
  for (int i = 0; i < 5; ++i) (void)limiter_.Acquire("mut-100", &quota_);
  std::string metrics = limiter_.Metrics();
  EXPECT_NE(metrics.find("carrefour_quota_allowed_total{institution=\"mut-100\"} 3"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("carrefour_rate_limited_total{institution=\"mut-100\"} 2"), std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace carrefour::hub
