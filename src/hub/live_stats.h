// SPDX-License-Identifier: EUPL-1.2
#pragma once

// What this hub did in the last minutes, second by second, and which
// institutions exchanged how much since it started: the console's live
// dashboard and network map (docs/console.md).
//
// Fed by the audit log: every committed record names the exchange's kind,
// data type, outcome, latency, requester and the institutions on the other
// side, so the request paths report nothing to the console themselves.
// ObservedAuditStorage, put between the audit log and the store, hands each
// committed record to Observe().
//
//   LiveStats stats(clock, known_data_type);
//   ObservedAuditStorage tap(store.audit(), stats);
//   auto log = audit::AuditLog::Open(tap, ...);
//   ... stats.Snapshot(300), stats.Flows() ...
//
// Memory is bounded: a ring of `window_seconds` slots, labels limited to the
// kinds, the data types of the definition ("other" for any other name a
// caller may invent) and the outcome codes; flows to pairs of institutions of
// the definition. Thread-safe; one short critical section per record.

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "audit/record.h"
#include "audit/storage.h"
#include "core/clock.h"
#include "core/status.h"

namespace carrefour::hub {

// The node standing for the hub itself in flows (an exchange with nobody on
// the other side: a directory batch, a refused consultation, a feed read).
inline constexpr std::string_view kHubNode = "hub";

class LiveStats {
 public:
  // Whether a data type may become a label (the current definition has it).
  using KnownDataType = std::function<bool(std::string_view)>;

  LiveStats(const Clock& clock, KnownDataType known_data_type, int window_seconds = 600);

  // One committed audit record.
  void Observe(const audit::Record& record);

  // What is counted: the kind of exchange, its data type ("" for kinds that
  // have none, "other" for names outside the definition) and its outcome.
  struct Key {
    audit::Kind kind = audit::Kind::kConsultation;
    std::string data_type;
    StatusCode outcome = StatusCode::kOk;
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  struct Series {
    Key key;
    uint64_t total = 0;                // since the hub started
    std::vector<uint32_t> per_second;  // the snapshot's seconds, oldest first
  };
  // Latency quantiles of one kind, in milliseconds; nullopt for a second
  // without any record of that kind.
  struct Latency {
    audit::Kind kind = audit::Kind::kConsultation;
    std::vector<std::optional<double>> p50_ms, p99_ms;
    std::optional<double> window_p50_ms, window_p99_ms;
    uint64_t window_samples = 0;
  };
  struct Window {
    int64_t end_second = 0;  // Unix second of the last point (the last complete second)
    int seconds = 0;
    // Keys with something in the window; totals of every key since start.
    std::vector<Series> series;
    std::vector<std::pair<Key, uint64_t>> totals;
    std::vector<Latency> latency;  // consultations, mutations, directory batches
  };
  // The last `seconds` complete seconds (clamped to 1..window_seconds).
  Window Snapshot(int seconds) const;

  // Exchanges between two institutions (or an institution and kHubNode)
  // since the hub started: consultations from the requester to each
  // provider asked, mutations from the source to each subscriber, directory
  // batches to the hub, feed reads from the hub.
  struct Flow {
    audit::Kind kind = audit::Kind::kConsultation;
    std::string from, to;
    uint64_t messages = 0;
    uint64_t refused = 0;  // the hub said no (a 4xx outcome)
    uint64_t failed = 0;   // a provider failed, or the hub could not serve (5xx)
    int64_t last_us = 0;   // time of the latest
  };
  std::vector<Flow> Flows() const;

  int64_t started_us() const { return started_us_; }
  int window_seconds() const { return window_seconds_; }

 private:
  // Log-spaced latency buckets: upper bound of bucket i is 50 us * 1.15^i
  // (about 15% resolution from 50 us to 50 s).
  static constexpr size_t kBuckets = 100;
  using Histogram = std::array<uint32_t, kBuckets>;
  static size_t BucketOf(int64_t latency_us);
  static std::optional<double> Quantile(const Histogram& histogram, double q);

  struct Slot {
    int64_t second = -1;                                // which second it holds
    std::vector<std::pair<size_t, uint32_t>> counts;    // key index, count
    std::vector<std::pair<audit::Kind, Histogram>> latency;
  };
  void CountFlow(audit::Kind kind, std::string_view from, std::string_view to, int64_t time_us,
                 StatusCode outcome, bool provider_failed);
  size_t KeyIndex(Key key);

  const Clock& clock_;
  const KnownDataType known_data_type_;
  const int window_seconds_;
  const int64_t started_us_;

  mutable std::mutex mu_;
  std::vector<Slot> slots_;                 // by second % window; guarded by mu_
  std::vector<std::pair<Key, uint64_t>> keys_;  // with totals; guarded by mu_
  std::map<Key, size_t> key_index_;         // guarded by mu_
  std::map<std::tuple<audit::Kind, std::string, std::string>, Flow> flows_;  // guarded by mu_
};

// An AuditStorage that forwards everything to another and hands every record
// it committed to a LiveStats. Thread-safe as the storage it wraps.
class ObservedAuditStorage final : public audit::AuditStorage {
 public:
  ObservedAuditStorage(audit::AuditStorage& storage, LiveStats& stats)
      : storage_(storage), stats_(stats) {}

  // audit::AuditStorage
  Status AppendAudit(std::span<const audit::Record> records,
                     const audit::Checkpoint& checkpoint) override;
  Result<std::vector<audit::Checkpoint>> AuditCheckpoints() override;
  Result<std::vector<audit::Checkpoint>> AuditCheckpointHistory(std::string_view node) override;
  Result<std::vector<audit::Checkpoint>> LegacyAuditCheckpoints() override;
  Result<std::vector<std::string>> AuditNodes() override;
  Result<audit::NodeKey> PublishAuditKey(const audit::NodeKey& key) override;
  Result<std::string> PersonIndexKey(std::string_view candidate) override;
  Result<std::vector<audit::NodeKey>> AuditKeys() override;
  Result<std::vector<audit::Record>> ReadAudit(std::string_view node, int64_t from_seq,
                                               size_t limit) override;
  Result<std::vector<audit::Record>> QueryAudit(const audit::Query& query) override;

 private:
  audit::AuditStorage& storage_;
  LiveStats& stats_;
};

}  // namespace carrefour::hub
