// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Per-institution request allowances (docs/api.md sections 3 and 4: [[quota]],
// 429 rate-limited with Retry-After). A token bucket per institution,
// refilled continuously at the quota's rate up to its burst; one request
// takes one token. The hub asks before doing any work for a request.
//
// Thread safety: every method may be called from any thread. The buckets are
// spread over independently locked shards, so institutions do not contend
// with each other.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "network/model.h"

namespace carrefour::hub {

class RateLimiter {
 public:
  using Now = std::function<std::chrono::steady_clock::time_point()>;
  explicit RateLimiter(Now now = [] { return std::chrono::steady_clock::now(); });

  // nullopt: go ahead (a token was taken, or `quota` is null: unlimited).
  // Otherwise the whole seconds after which a token will be there (at
  // least 1), for Retry-After. A bucket follows its quota: when a reload
  // changes the quota, the bucket takes the new rate and burst at once.
  std::optional<int64_t> Acquire(const std::string& institution, const network::Quota* quota);

  // Prometheus lines: requests let through and refused, per institution
  // that ever had a quota (institutions come from the definition: the
  // label set is bounded).
  std::string Metrics() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
    int64_t rate = 0;
    int64_t burst = 0;
    uint64_t allowed = 0;
    uint64_t limited = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr size_t kShards = 16;

  Now now_;
  std::array<Shard, kShards> shards_;
};

}  // namespace carrefour::hub
