// SPDX-License-Identifier: EUPL-1.2
// The console's live figures: per-second counts, latency quantiles, flows,
// and the audit tap that feeds them. The clock is injected.

#include "hub/live_stats.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carrefour::hub {
namespace {


// Whole second S plus half a second: the snapshot's last point is S - 1.
constexpr int64_t kNowSecond = 1'750'000'000;

int64_t Us(int64_t second, int64_t micros = 0) { return second * 1'000'000 + micros; }

class LiveStatsTest : public ::testing::Test {
 protected:
  LiveStatsTest()
      : clock_(Clock::TimePoint(std::chrono::microseconds(Us(kNowSecond, 500'000)))),
        stats_(clock_, [](std::string_view type) { return type.starts_with("person."); }, 10) {}

  static audit::Record Record(audit::Kind kind, std::string data_type, int64_t time_us,
                              StatusCode outcome = StatusCode::kOk) {
    audit::Record record;
    record.kind = kind;
    record.data_type = std::move(data_type);
    record.time_us = time_us;
    record.outcome = outcome;
    record.requester = "mut-100";
    return record;
  }

  static const LiveStats::Series* Find(const LiveStats::Window& window, audit::Kind kind,
                                       std::string_view data_type, StatusCode outcome) {
    for (const LiveStats::Series& series : window.series) {
      if (series.key.kind == kind && series.key.data_type == data_type && series.key.outcome == outcome) {
        return &series;
      }
    }
    return nullptr;
  }

  static const LiveStats::Flow* FindFlow(const std::vector<LiveStats::Flow>& flows, audit::Kind kind,
                                         std::string_view from, std::string_view to) {
    for (const LiveStats::Flow& flow : flows) {
      if (flow.kind == kind && flow.from == from && flow.to == to) return &flow;
    }
    return nullptr;
  }

  ManualClock clock_;
  LiveStats stats_;
};

TEST_F(LiveStatsTest, CountsEachSecondByKindDataTypeAndOutcome) {
  using audit::Kind;
  stats_.Observe(Record(Kind::kConsultation, "person.address", Us(kNowSecond - 3, 10)));
  stats_.Observe(Record(Kind::kConsultation, "person.address", Us(kNowSecond - 3, 999'999)));
  stats_.Observe(
      Record(Kind::kConsultation, "person.address", Us(kNowSecond - 2), StatusCode::kNotAuthorized));
  stats_.Observe(Record(Kind::kMutation, "person.death", Us(kNowSecond - 1)));
  // The current second is not complete yet: counted, but not in the window.
  stats_.Observe(Record(Kind::kConsultation, "person.address", Us(kNowSecond)));

  LiveStats::Window window = stats_.Snapshot(5);
  EXPECT_EQ(window.end_second, kNowSecond - 1);
  EXPECT_EQ(window.seconds, 5);
  const LiveStats::Series* ok = Find(window, Kind::kConsultation, "person.address", StatusCode::kOk);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->per_second, (std::vector<uint32_t>{0, 0, 2, 0, 0}));
  EXPECT_EQ(ok->total, 3u);
  const LiveStats::Series* refused =
      Find(window, Kind::kConsultation, "person.address", StatusCode::kNotAuthorized);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->per_second, (std::vector<uint32_t>{0, 0, 0, 1, 0}));
  const LiveStats::Series* mutation = Find(window, Kind::kMutation, "person.death", StatusCode::kOk);
  ASSERT_NE(mutation, nullptr);
  EXPECT_EQ(mutation->per_second, (std::vector<uint32_t>{0, 0, 0, 0, 1}));
  EXPECT_EQ(window.totals.size(), 3u);
}

TEST_F(LiveStatsTest, DataTypesOutsideTheDefinitionAreCountedAsOther) {
  stats_.Observe(Record(audit::Kind::kConsultation, "invented.type", Us(kNowSecond - 1),
                        StatusCode::kUnknownDataType));
  stats_.Observe(Record(audit::Kind::kConsultation, "another.invention", Us(kNowSecond - 1),
                        StatusCode::kUnknownDataType));
  LiveStats::Window window = stats_.Snapshot(1);
  ASSERT_EQ(window.series.size(), 1u);
  EXPECT_EQ(window.series[0].key.data_type, "other");
  EXPECT_EQ(window.series[0].per_second, (std::vector<uint32_t>{2}));
}

TEST_F(LiveStatsTest, SecondsOutsideTheWindowStayOnlyInTheTotals) {
  using audit::Kind;
  // The window is 10 s: second S-11 shares its slot with S-1.
  stats_.Observe(Record(Kind::kIntegration, "", Us(kNowSecond - 11)));
  stats_.Observe(Record(Kind::kIntegration, "", Us(kNowSecond - 30)));
  LiveStats::Window window = stats_.Snapshot(10);
  EXPECT_TRUE(window.series.empty());
  ASSERT_EQ(window.totals.size(), 1u);
  EXPECT_EQ(window.totals[0].second, 2u);

  stats_.Observe(Record(Kind::kIntegration, "", Us(kNowSecond - 1)));
  // An older record arriving late for a reused slot does not pollute it.
  stats_.Observe(Record(Kind::kIntegration, "", Us(kNowSecond - 11)));
  window = stats_.Snapshot(100);  // clamped to the window
  EXPECT_EQ(window.seconds, 10);
  ASSERT_EQ(window.series.size(), 1u);
  EXPECT_EQ(window.series[0].per_second.back(), 1u);
  EXPECT_EQ(window.series[0].total, 4u);
}

TEST_F(LiveStatsTest, LatencyQuantilesPerSecondAndOverTheWindow) {
  for (int ms = 1; ms <= 100; ++ms) {
    audit::Record record = Record(audit::Kind::kConsultation, "person.address", Us(kNowSecond - 2));
    record.latency_us = ms * 1000;
    stats_.Observe(record);
  }
  audit::Record feed = Record(audit::Kind::kFeedRead, "", Us(kNowSecond - 2));
  feed.latency_us = 30'000'000;  // a long poll: not a latency worth charting
  stats_.Observe(feed);

  LiveStats::Window window = stats_.Snapshot(3);
  ASSERT_FALSE(window.latency.empty());
  const LiveStats::Latency& consultations = window.latency[0];
  EXPECT_EQ(consultations.kind, audit::Kind::kConsultation);
  ASSERT_EQ(consultations.p50_ms.size(), 3u);
  EXPECT_FALSE(consultations.p50_ms[0].has_value());
  ASSERT_TRUE(consultations.p50_ms[1].has_value());
  ASSERT_TRUE(consultations.p99_ms[1].has_value());
  // Buckets are 15% wide; the reported value is the bucket's middle.
  EXPECT_NEAR(*consultations.p50_ms[1], 50.0, 50.0 * 0.08);
  EXPECT_NEAR(*consultations.p99_ms[1], 99.0, 99.0 * 0.08);
  EXPECT_EQ(consultations.window_samples, 100u);
  EXPECT_NEAR(*consultations.window_p99_ms, 99.0, 99.0 * 0.08);
  for (const LiveStats::Latency& latency : window.latency) {
    EXPECT_NE(latency.kind, audit::Kind::kFeedRead);
  }
}

TEST_F(LiveStatsTest, FlowsGoFromRequesterToProvidersAndFromSourceToSubscribers) {
  using audit::Kind;
  audit::Record asked = Record(Kind::kConsultation, "person.address", Us(kNowSecond - 1));
  asked.providers = "nr:ok,mut-300:error";
  stats_.Observe(asked);
  stats_.Observe(asked);
  stats_.Observe(
      Record(Kind::kConsultation, "person.address", Us(kNowSecond - 1), StatusCode::kNotIntegrated));

  audit::Record accepted = Record(Kind::kMutation, "person.address", Us(kNowSecond - 1));
  accepted.requester = "nr";
  accepted.reason = "accepted";
  accepted.providers = "mut-100:ISC/24/001,famiwal:ISC/19/083";
  stats_.Observe(accepted);
  audit::Record duplicate = accepted;
  duplicate.reason = "duplicate";
  stats_.Observe(duplicate);

  stats_.Observe(Record(Kind::kFeedRead, "", Us(kNowSecond - 1)));
  stats_.Observe(Record(Kind::kIntegration, "", Us(kNowSecond - 1)));
  audit::Record reload = Record(Kind::kAdmin, "", Us(kNowSecond - 1));
  reload.requester.clear();
  stats_.Observe(reload);

  std::vector<LiveStats::Flow> flows = stats_.Flows();
  const LiveStats::Flow* to_nr = FindFlow(flows, Kind::kConsultation, "mut-100", "nr");
  ASSERT_NE(to_nr, nullptr);
  EXPECT_EQ(to_nr->messages, 2u);
  EXPECT_EQ(to_nr->failed, 0u);
  EXPECT_EQ(to_nr->last_us, Us(kNowSecond - 1));
  const LiveStats::Flow* to_300 = FindFlow(flows, Kind::kConsultation, "mut-100", "mut-300");
  ASSERT_NE(to_300, nullptr);
  EXPECT_EQ(to_300->failed, 2u);
  const LiveStats::Flow* refused = FindFlow(flows, Kind::kConsultation, "mut-100", kHubNode);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->refused, 1u);

  const LiveStats::Flow* pushed = FindFlow(flows, Kind::kMutation, "nr", "famiwal");
  ASSERT_NE(pushed, nullptr);
  EXPECT_EQ(pushed->messages, 1u);
  ASSERT_NE(FindFlow(flows, Kind::kMutation, "nr", "mut-100"), nullptr);
  const LiveStats::Flow* kept = FindFlow(flows, Kind::kMutation, "nr", kHubNode);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->messages, 1u);  // the duplicate reached nobody

  ASSERT_NE(FindFlow(flows, Kind::kFeedRead, kHubNode, "mut-100"), nullptr);
  ASSERT_NE(FindFlow(flows, Kind::kIntegration, "mut-100", kHubNode), nullptr);
  EXPECT_EQ(flows.size(), 8u);  // the reload involves no institution
}

// An AuditStorage whose appends succeed or fail on demand.
class ScriptedStorage : public audit::AuditStorage {
 public:
  // audit::AuditStorage
  Status AppendAudit(std::span<const audit::Record>, const audit::Checkpoint&) override {
    return next_;
  }
  Result<std::vector<audit::Checkpoint>> AuditCheckpoints() override {
    return std::vector<audit::Checkpoint>{};
  }
  Result<std::vector<audit::Checkpoint>> AuditCheckpointHistory(std::string_view) override {
    return std::vector<audit::Checkpoint>{};
  }
  Result<std::vector<audit::Checkpoint>> LegacyAuditCheckpoints() override {
    return std::vector<audit::Checkpoint>{};
  }
  Result<std::vector<std::string>> AuditNodes() override { return std::vector<std::string>{}; }
  Result<audit::NodeKey> PublishAuditKey(const audit::NodeKey& key) override { return key; }
  Result<std::string> PersonIndexKey(std::string_view candidate) override { return std::string(candidate); }
  Result<std::vector<audit::NodeKey>> AuditKeys() override {
    return std::vector<audit::NodeKey>{};
  }
  Result<std::vector<audit::Record>> ReadAudit(std::string_view, int64_t, size_t) override {
    return std::vector<audit::Record>{};
  }
  Result<std::vector<audit::Record>> QueryAudit(const audit::Query&) override {
    return std::vector<audit::Record>{};
  }

  Status next_;
};

TEST_F(LiveStatsTest, TheAuditTapCountsOnlyCommittedRecords) {
  ScriptedStorage storage;
  ObservedAuditStorage tap(storage, stats_);
  std::vector<audit::Record> batch = {
      Record(audit::Kind::kConsultation, "person.address", Us(kNowSecond - 1)),
      Record(audit::Kind::kConsultation, "person.address", Us(kNowSecond - 1))};
  storage.next_ = Unavailable("disk full");
  EXPECT_FALSE(tap.AppendAudit(batch, audit::Checkpoint{}).ok());
  EXPECT_TRUE(stats_.Snapshot(1).totals.empty());

  storage.next_ = OkStatus();
  EXPECT_TRUE(tap.AppendAudit(batch, audit::Checkpoint{}).ok());
  LiveStats::Window window = stats_.Snapshot(1);
  ASSERT_EQ(window.series.size(), 1u);
  EXPECT_EQ(window.series[0].per_second, (std::vector<uint32_t>{2}));
}

}  // namespace
}  // namespace carrefour::hub
