// SPDX-License-Identifier: EUPL-1.2
#include "hub/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace carrefour::hub {

RateLimiter::RateLimiter(Now now) : now_(std::move(now)) {}

std::optional<int64_t> RateLimiter::Acquire(const std::string& institution,
                                            const network::Quota* quota) {
  if (quota == nullptr) return std::nullopt;
  Shard& shard = shards_[std::hash<std::string>{}(institution) % kShards];
  const auto now = now_();
  std::lock_guard lock(shard.mu);
  auto [it, created] = shard.buckets.try_emplace(institution);
  Bucket& bucket = it->second;
  if (created) {
    // A new bucket starts full: a client that just connected may use its
    // burst.
    bucket.tokens = static_cast<double>(quota->burst);
    bucket.rate = quota->requests_per_second;
    bucket.burst = quota->burst;
    bucket.last = now;
  }
  // Refilled for the time since the last request, at the rate in force then.
  double elapsed = std::chrono::duration<double>(now - bucket.last).count();
  if (elapsed > 0) {
    bucket.tokens = std::min(static_cast<double>(bucket.burst),
                             bucket.tokens + elapsed * static_cast<double>(bucket.rate));
    bucket.last = now;
  }
  if (bucket.rate != quota->requests_per_second || bucket.burst != quota->burst) {
    // A reloaded quota applies from now: what is left is kept, within the
    // new burst.
    bucket.rate = quota->requests_per_second;
    bucket.burst = quota->burst;
    bucket.tokens = std::min(bucket.tokens, static_cast<double>(bucket.burst));
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    ++bucket.allowed;
    return std::nullopt;
  }
  ++bucket.limited;
  double wait = (1 - bucket.tokens) / static_cast<double>(bucket.rate);
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)));
}

std::string RateLimiter::Metrics() const {
  // Sorted, so that the output is stable from one scrape to the next.
  std::map<std::string, std::pair<uint64_t, uint64_t>> counts;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [institution, bucket] : shard.buckets) {
      counts[institution] = {bucket.allowed, bucket.limited};
    }
  }
  std::string out =
      "# HELP carrefour_quota_allowed_total Requests within the institution's quota.\n"
      "# TYPE carrefour_quota_allowed_total counter\n";
  for (const auto& [institution, count] : counts) {
    out += fmt::format("carrefour_quota_allowed_total{{institution=\"{}\"}} {}\n", institution,
                       count.first);
  }
  out +=
      "# HELP carrefour_rate_limited_total Requests refused 429 rate-limited (over the quota).\n"
      "# TYPE carrefour_rate_limited_total counter\n";
  for (const auto& [institution, count] : counts) {
    out += fmt::format("carrefour_rate_limited_total{{institution=\"{}\"}} {}\n", institution,
                       count.second);
  }
  return out;
}

}  // namespace carrefour::hub
