#include "audit/audit_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

namespace carrefour::audit {
namespace {

// Keeps records in memory, with the same contract as the store engines
// (which run their own copy of these checks against SQLite and PostgreSQL).
class MemoryStorage : public AuditStorage {
 public:
  // AuditStorage
  Status AppendAudit(std::span<const Record> records, const Checkpoint& checkpoint) override {
    std::lock_guard lock(mu_);
    if (fail_next_) {
      fail_next_ = false;
      return Internal("disk full");
    }
    auto& chain = chains_[checkpoint.node];
    for (const Record& record : records) {
      if (chain.count(record.seq)) return Internal("duplicate seq");
    }
    for (const Record& record : records) chain[record.seq] = record;
    checkpoints_[checkpoint.node] = checkpoint;
    ++appends_;
    if (lost_commit_) {
      lost_commit_ = false;
      return Unavailable("connection lost while committing; the outcome is unknown");
    }
    return OkStatus();
  }
  Result<std::vector<Checkpoint>> AuditCheckpoints() override {
    std::lock_guard lock(mu_);
    std::vector<Checkpoint> out;
    for (auto& [node, checkpoint] : checkpoints_) out.push_back(checkpoint);
    return out;
  }
  Result<std::vector<Record>> ReadAudit(std::string_view node, int64_t from_seq,
                                        size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<Record> out;
    auto& chain = chains_[std::string(node)];
    for (auto it = chain.lower_bound(from_seq); it != chain.end() && out.size() < limit; ++it) {
      out.push_back(it->second);
    }
    return out;
  }
  Result<std::vector<Record>> QueryAudit(const Query&) override { return std::vector<Record>(); }

  std::map<int64_t, Record>& chain(const std::string& node) { return chains_[node]; }
  std::map<std::string, Checkpoint>& checkpoints() { return checkpoints_; }
  void FailNextAppend() { fail_next_ = true; }
  // The next append commits, but its caller is told it failed (a connection
  // lost during COMMIT).
  void LoseNextCommit() { lost_commit_ = true; }
  int appends() const { return appends_; }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<int64_t, Record>> chains_;
  std::map<std::string, Checkpoint> checkpoints_;
  bool fail_next_ = false;
  bool lost_commit_ = false;
  int appends_ = 0;
};

Record Consultation(std::string requester, std::string niss) {
  Record record;
  record.kind = Kind::kConsultation;
  record.request_id = "req-" + niss;
  record.requester = std::move(requester);
  record.niss = std::move(niss);
  record.data_type = "person.address";
  record.capacity = "insured";
  record.legal_basis = "ISC/24/001";
  record.providers = "nr:ok";
  record.answer_sha256 = Sha256Hex("{}");
  return record;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void Write(int count, const std::string& node = "hub-1", std::string key = "") {
    auto log = AuditLog::Open(storage_, {.node = node, .checkpoint_key = std::move(key)}, clock_);
    ASSERT_TRUE(log) << log.error().ToString();
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE((*log)->AppendAndWait(Consultation("mut-100", std::to_string(i))).ok());
    }
  }

  MemoryStorage storage_;
  ManualClock clock_{*Date::Parse("2024-06-01")};
};

TEST_F(AuditLogTest, ChainsRecordsFromGenesisAndContinuesAfterReopen) {
  Write(3);
  Write(2);
  auto& chain = storage_.chain("hub-1");
  ASSERT_EQ(chain.size(), 5u);
  EXPECT_EQ(chain[1].prev_hash, GenesisHash());
  for (int64_t seq = 2; seq <= 5; ++seq) {
    SCOPED_TRACE(seq);
    EXPECT_EQ(chain[seq].prev_hash, chain[seq - 1].hash);
    EXPECT_EQ(chain[seq].hash, ChainHash(chain[seq]));
    EXPECT_GT(chain[seq].time_us, 0);
  }
  auto report = Verify(storage_);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok) << report->first_bad;
  EXPECT_EQ(report->records, 5);
  EXPECT_EQ(report->chains.at(0).head, chain[5].hash);
}

TEST_F(AuditLogTest, VerifyNamesTheFirstBadRecord) {
  struct Row {
    std::string name;
    std::function<void(MemoryStorage&)> tamper;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {"modified", [](MemoryStorage& s) { s.chain("hub-1")[3].requester = "mut-200"; },
       "node hub-1, record 3: its hash does not match its content"},
      {"removed", [](MemoryStorage& s) { s.chain("hub-1").erase(2); },
       "node hub-1, record 2: missing"},
      {"reordered",
       [](MemoryStorage& s) {
         auto& chain = s.chain("hub-1");
         std::swap(chain[2], chain[3]);
         std::swap(chain[2].seq, chain[3].seq);
       },
       "node hub-1, record 2: does not follow the previous record"},
      {"tail removed", [](MemoryStorage& s) { s.chain("hub-1").erase(5); },
       "node hub-1, record 5: the chain ends at record 4 but its checkpoint says 5"},
      {"tail removed and checkpoint rewritten",
       [](MemoryStorage& s) {
         auto& chain = s.chain("hub-1");
         chain.erase(5);
         s.checkpoints()["hub-1"].seq = 4;
         s.checkpoints()["hub-1"].hash = chain[4].hash;
       },
       "node hub-1, record 4: the checkpoint's MAC is wrong"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    MemoryStorage storage;
    {
      auto log = AuditLog::Open(storage, {.node = "hub-1", .checkpoint_key = "secret"}, clock_);
      ASSERT_TRUE(log);
      for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE((*log)->AppendAndWait(Consultation("mut-100", std::to_string(i))).ok());
      }
    }
    ASSERT_TRUE(Verify(storage, "secret")->ok);
    row.tamper(storage);
    auto report = Verify(storage, "secret");
    ASSERT_TRUE(report);
    EXPECT_FALSE(report->ok);
    EXPECT_EQ(report->first_bad.rfind(row.expected, 0), 0u) << report->first_bad;
  }
}

TEST_F(AuditLogTest, EachNodeHasItsOwnChain) {
  Write(2, "hub-1");
  Write(3, "hub-2");
  auto report = Verify(storage_);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->records, 5);
  EXPECT_EQ(report->chains.size(), 2u);
  EXPECT_EQ(storage_.chain("hub-2")[1].prev_hash, GenesisHash());
}

TEST_F(AuditLogTest, AFailedCommitReportsTheErrorAndLeavesNoGap) {
  auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
  ASSERT_TRUE(log);
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("a", "1")).ok());
  storage_.FailNextAppend();
  Status failed = (*log)->AppendAndWait(Consultation("a", "2"));
  EXPECT_EQ(failed.code(), StatusCode::kInternal);
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("a", "3")).ok());
  EXPECT_EQ((*log)->last_seq(), 2);
  EXPECT_EQ(storage_.chain("hub-1")[2].niss, "3");
  EXPECT_TRUE(Verify(storage_)->ok);
}

TEST_F(AuditLogTest, ACommitReportedFailedButDoneIsContinuedNotRewritten) {
  auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
  ASSERT_TRUE(log);
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("a", "1")).ok());
  storage_.LoseNextCommit();
  EXPECT_FALSE((*log)->AppendAndWait(Consultation("a", "2")).ok());
  // The writer re-reads its head: record 2 is there, the next one is 3
  // (reusing 2 would fail for ever on the duplicate).
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("a", "3")).ok());
  EXPECT_EQ((*log)->last_seq(), 3);
  EXPECT_EQ(storage_.chain("hub-1")[3].niss, "3");
  EXPECT_FALSE((*log)->failing());
  EXPECT_TRUE(Verify(storage_)->ok);
}

TEST_F(AuditLogTest, AFailingLogRecoversByItselfWhenIdle) {
  auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
  ASSERT_TRUE(log);
  storage_.FailNextAppend();
  EXPECT_FALSE((*log)->AppendAndWait(Consultation("a", "1")).ok());
  EXPECT_TRUE((*log)->failing());
  EXPECT_EQ((*log)->last_error(), "disk full");
  // No traffic: the writer itself writes a record saying it works again.
  for (int i = 0; i < 100 && (*log)->failing(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE((*log)->failing());
  ASSERT_EQ(storage_.chain("hub-1").size(), 1u);
  EXPECT_EQ(storage_.chain("hub-1")[1].kind, Kind::kAdmin);
  EXPECT_EQ(storage_.chain("hub-1")[1].detail, "disk full");
  EXPECT_TRUE(Verify(storage_)->ok);
}

TEST_F(AuditLogTest, ConcurrentAppendsAreGroupCommitted) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  {
    auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
    ASSERT_TRUE(log);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kPerThread; ++i) {
          EXPECT_TRUE((*log)->AppendAndWait(Consultation("t" + std::to_string(t), "x")).ok());
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  EXPECT_EQ(storage_.chain("hub-1").size(), size_t{kThreads * kPerThread});
  // Not a timing assertion: with 8 writers waiting, some commits must have
  // carried more than one record.
  EXPECT_LT(storage_.appends(), kThreads * kPerThread);
  EXPECT_TRUE(Verify(storage_)->ok);
}

TEST_F(AuditLogTest, DestructionWritesWhatIsQueued) {
  int done = 0;
  {
    auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
    ASSERT_TRUE(log);
    for (int i = 0; i < 100; ++i) {
      (*log)->Append(Consultation("a", std::to_string(i)), [&done](const Status& s) {
        if (s.ok()) ++done;
      });
    }
  }
  EXPECT_EQ(done, 100);
  EXPECT_EQ(storage_.chain("hub-1").size(), 100u);
}

TEST(ChainHash, CoversEveryFieldUnambiguously) {
  Record a = Consultation("ab", "c");
  Record b = Consultation("a", "bc");
  EXPECT_NE(ChainHash(a), ChainHash(b));
  Record c = a;
  c.latency_us = 1;
  EXPECT_NE(ChainHash(a), ChainHash(c));
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace carrefour::audit
