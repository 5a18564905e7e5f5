// SPDX-License-Identifier: EUPL-1.2
#include "hub/live_stats.h"

#include <algorithm>
#include <cmath>

#include "core/timestamp.h"

namespace carrefour::hub {
namespace {

constexpr double kFirstBoundUs = 50.0;
constexpr double kGrowth = 1.15;
// Flows are pairs of institutions of the definition, so they are few; the
// cap only guards against a definition reloaded over and over with new ids.
constexpr size_t kMaxFlows = 20000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
// The ring slot of a second (also for times before 1970, should a clock say so).
size_t SlotIndex(int64_t second, int window) {
  return static_cast<size_t>(second - FloorDiv(second, window) * window);
}

// The kinds whose latency is worth a chart. Feed reads are left out: a long
// poll lasts as long as the subscriber asked to wait.
bool TimedKind(audit::Kind kind) {
  return kind == audit::Kind::kConsultation || kind == audit::Kind::kMutation ||
         kind == audit::Kind::kIntegration;
}

constexpr audit::Kind kTimedKinds[] = {audit::Kind::kConsultation, audit::Kind::kMutation,
                                       audit::Kind::kIntegration};

// "a:x,b:y" -> calls fn("a", "x"), fn("b", "y"); an item without ':' has an
// empty second part.
template <typename Fn>
void ForEachParty(std::string_view list, Fn fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    size_t colon = item.find(':');
    fn(item.substr(0, colon), colon == std::string_view::npos ? std::string_view() : item.substr(colon + 1));
  }
}

}  // namespace

LiveStats::LiveStats(const Clock& clock, KnownDataType known_data_type, int window_seconds)
    : clock_(clock),
      known_data_type_(std::move(known_data_type)),
      window_seconds_(std::max(window_seconds, 1)),
      started_us_(NowMicros(clock)),
      slots_(static_cast<size_t>(window_seconds_)) {}

size_t LiveStats::BucketOf(int64_t latency_us) {
  if (latency_us <= kFirstBoundUs) return 0;
  double index = std::ceil(std::log(static_cast<double>(latency_us) / kFirstBoundUs) / std::log(kGrowth));
  return std::min(static_cast<size_t>(index), kBuckets - 1);
}

std::optional<double> LiveStats::Quantile(const Histogram& histogram, double q) {
  uint64_t count = 0;
  for (uint32_t n : histogram) count += n;
  if (count == 0) return std::nullopt;
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += histogram[i];
    if (seen >= rank) {
      // The geometric middle of the bucket: within 7.5% of any value in it.
      double upper = kFirstBoundUs * std::pow(kGrowth, static_cast<double>(i));
      return upper / std::sqrt(kGrowth) / 1000.0;
    }
  }
  return std::nullopt;  // unreachable: seen ends at count >= rank
}

size_t LiveStats::KeyIndex(Key key) {
  auto found = key_index_.find(key);
  if (found != key_index_.end()) return found->second;
  size_t index = keys_.size();
  key_index_.emplace(key, index);
  keys_.emplace_back(std::move(key), 0);
  return index;
}

void LiveStats::CountFlow(audit::Kind kind, std::string_view from, std::string_view to,
                          int64_t time_us, StatusCode outcome, bool provider_failed) {
  auto key = std::make_tuple(kind, std::string(from), std::string(to));
  auto found = flows_.find(key);
  if (found == flows_.end()) {
    if (flows_.size() >= kMaxFlows) return;
    found = flows_.emplace(key, Flow{kind, std::string(from), std::string(to)}).first;
  }
  Flow& flow = found->second;
  ++flow.messages;
  if (provider_failed || HttpStatus(outcome) >= 500) {
    ++flow.failed;
  } else if (outcome != StatusCode::kOk) {
    ++flow.refused;
  }
  flow.last_us = std::max(flow.last_us, time_us);
}

void LiveStats::Observe(const audit::Record& record) {
  Key key{record.kind, record.data_type, record.outcome};
  // Outside the lock: it reads the current definition.
  if (!key.data_type.empty() && !known_data_type_(key.data_type)) key.data_type = "other";
  const int64_t second = FloorDiv(record.time_us, 1000000);

  std::lock_guard lock(mu_);
  const size_t index = KeyIndex(std::move(key));
  ++keys_[index].second;

  Slot& slot = slots_[SlotIndex(second, window_seconds_)];
  if (slot.second != second && slot.second < second) {
    slot.second = second;
    slot.counts.clear();
    slot.latency.clear();
  }
  // A record older than what its slot holds (a clock step back) only counts
  // in the totals.
  if (slot.second == second) {
    auto count = std::find_if(slot.counts.begin(), slot.counts.end(),
                              [index](const auto& item) { return item.first == index; });
    if (count == slot.counts.end()) {
      slot.counts.emplace_back(index, 1);
    } else {
      ++count->second;
    }
    if (TimedKind(record.kind)) {
      auto histogram = std::find_if(slot.latency.begin(), slot.latency.end(),
                                    [&](const auto& item) { return item.first == record.kind; });
      if (histogram == slot.latency.end()) {
        slot.latency.emplace_back(record.kind, Histogram{});
        histogram = slot.latency.end() - 1;
      }
      ++histogram->second[BucketOf(record.latency_us)];
    }
  }

  // Flows. `providers` names the other side: "provider:ok|no-data|error" for
  // a consultation (exchange), "subscriber:legal basis" for an accepted
  // mutation (mutations).
  switch (record.kind) {
    case audit::Kind::kConsultation: {
      bool any = false;
      ForEachParty(record.providers, [&](std::string_view provider, std::string_view status) {
        any = true;
        CountFlow(record.kind, record.requester, provider, record.time_us, StatusCode::kOk,
                  status == "error");
      });
      if (!any) CountFlow(record.kind, record.requester, kHubNode, record.time_us, record.outcome, false);
      break;
    }
    case audit::Kind::kMutation: {
      bool any = false;
      if (record.outcome == StatusCode::kOk && record.reason == "accepted") {
        ForEachParty(record.providers, [&](std::string_view subscriber, std::string_view) {
          any = true;
          CountFlow(record.kind, record.requester, subscriber, record.time_us, StatusCode::kOk, false);
        });
      }
      if (!any) CountFlow(record.kind, record.requester, kHubNode, record.time_us, record.outcome, false);
      break;
    }
    case audit::Kind::kFeedRead:
      CountFlow(record.kind, kHubNode, record.requester, record.time_us, record.outcome, false);
      break;
    default:
      if (!record.requester.empty()) {
        CountFlow(record.kind, record.requester, kHubNode, record.time_us, record.outcome, false);
      }
      break;
  }
}

LiveStats::Window LiveStats::Snapshot(int seconds) const {
  Window window;
  window.seconds = std::clamp(seconds, 1, window_seconds_);
  window.end_second = FloorDiv(NowMicros(clock_), 1000000) - 1;
  const int64_t first = window.end_second - window.seconds + 1;
  const size_t points = static_cast<size_t>(window.seconds);

  std::lock_guard lock(mu_);
  std::vector<std::vector<uint32_t>> per_key(keys_.size());
  std::vector<Latency> latency;
  std::vector<Histogram> whole(std::size(kTimedKinds), Histogram{});
  for (audit::Kind kind : kTimedKinds) {
    Latency& item = latency.emplace_back();
    item.kind = kind;
    item.p50_ms.assign(points, std::nullopt);
    item.p99_ms.assign(points, std::nullopt);
  }
  for (int64_t t = first; t <= window.end_second; ++t) {
    const Slot& slot = slots_[SlotIndex(t, window_seconds_)];
    if (slot.second != t) continue;
    const size_t at = static_cast<size_t>(t - first);
    for (const auto& [index, count] : slot.counts) {
      if (per_key[index].empty()) per_key[index].assign(points, 0);
      per_key[index][at] = count;
    }
    for (const auto& [kind, histogram] : slot.latency) {
      for (size_t k = 0; k < std::size(kTimedKinds); ++k) {
        if (kTimedKinds[k] != kind) continue;
        latency[k].p50_ms[at] = Quantile(histogram, 0.50);
        latency[k].p99_ms[at] = Quantile(histogram, 0.99);
        for (size_t b = 0; b < kBuckets; ++b) whole[k][b] += histogram[b];
      }
    }
  }
  for (size_t k = 0; k < latency.size(); ++k) {
    latency[k].window_p50_ms = Quantile(whole[k], 0.50);
    latency[k].window_p99_ms = Quantile(whole[k], 0.99);
    for (uint32_t n : whole[k]) latency[k].window_samples += n;
  }
  window.latency = std::move(latency);
  for (size_t i = 0; i < keys_.size(); ++i) {
    window.totals.push_back(keys_[i]);
    if (per_key[i].empty()) continue;
    window.series.push_back(Series{keys_[i].first, keys_[i].second, std::move(per_key[i])});
  }
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::sort(window.totals.begin(), window.totals.end(), by_key);
  std::sort(window.series.begin(), window.series.end(),
            [](const Series& a, const Series& b) { return a.key < b.key; });
  return window;
}

std::vector<LiveStats::Flow> LiveStats::Flows() const {
  std::lock_guard lock(mu_);
  std::vector<Flow> out;
  out.reserve(flows_.size());
  for (const auto& [key, flow] : flows_) out.push_back(flow);
  return out;
}

Status ObservedAuditStorage::AppendAudit(std::span<const audit::Record> records,
                                         const audit::Checkpoint& checkpoint) {
  Status status = storage_.AppendAudit(records, checkpoint);
  // Only what is committed is counted: a batch that fails is not written,
  // and its callers answer unavailable.
  if (status.ok()) {
    for (const audit::Record& record : records) stats_.Observe(record);
  }
  return status;
}

Result<std::vector<audit::Checkpoint>> ObservedAuditStorage::AuditCheckpoints() {
  return storage_.AuditCheckpoints();
}

Result<std::vector<audit::Checkpoint>> ObservedAuditStorage::AuditCheckpointHistory(
    std::string_view node) {
  return storage_.AuditCheckpointHistory(node);
}

Result<std::vector<audit::Checkpoint>> ObservedAuditStorage::LegacyAuditCheckpoints() {
  return storage_.LegacyAuditCheckpoints();
}

Result<std::vector<std::string>> ObservedAuditStorage::AuditNodes() {
  return storage_.AuditNodes();
}

Result<std::string> ObservedAuditStorage::PersonIndexKey(std::string_view candidate) {
  return storage_.PersonIndexKey(candidate);
}

Result<audit::NodeKey> ObservedAuditStorage::PublishAuditKey(const audit::NodeKey& key) {
  return storage_.PublishAuditKey(key);
}

Result<std::vector<audit::NodeKey>> ObservedAuditStorage::AuditKeys() {
  return storage_.AuditKeys();
}

Result<std::vector<audit::Record>> ObservedAuditStorage::ReadAudit(std::string_view node,
                                                                   int64_t from_seq,
                                                                   size_t limit) {
  return storage_.ReadAudit(node, from_seq, limit);
}

Result<std::vector<audit::Record>> ObservedAuditStorage::QueryAudit(const audit::Query& query) {
  return storage_.QueryAudit(query);
}

}  // namespace carrefour::hub
