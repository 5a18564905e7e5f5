// SPDX-License-Identifier: EUPL-1.2
#include "audit/audit_log.h"
#include "core/bounded_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace carrefour::audit {
namespace {

// Known answers for the chain hash: the persistent format of every audit
// log written so far (docs: "carrefour-audit-v1", each field as
// "<length>:<bytes>;"). The expected digests were computed outside this code
// (Python's hashlib over that encoding). Should this test fail, existing
// logs no longer verify: change the format only with a new version tag, and
// this vector deliberately.
TEST(ChainHash, KnownAnswersPinTheFormat) {
  Record first;
  first.node = "hub-1";
  first.seq = 1;
  first.prev_hash = GenesisHash();
  first.time_us = 1733500000123456;
  first.kind = Kind::kConsultation;
  first.request_id = "0123456789abcdef0123456789abcdef";
  first.requester = "mut-100";
  first.niss = "85073003328";
  first.data_type = "person.address";
  first.capacity = "insured";
  first.legal_basis = "ISC/24/001";
  first.outcome = StatusCode::kOk;
  first.reason = "ok";
  first.providers = "nr:ok";
  first.latency_us = 1234;
  first.answer_sha256 = Sha256Hex(R"({"status":"ok"})");
  ASSERT_EQ(first.answer_sha256, "a29ee2b15c494311c52521766e44af56a3ad2248e7a8ab465e5206463c13d288");
  EXPECT_EQ(ChainHash(first), "5dcf35b49db5cb47afe964544dff4f38f2eb564e205780f6406ef1dbd9ae9d82");

  Record second;
  second.node = "hub-1";
  second.seq = 2;
  second.prev_hash = "5dcf35b49db5cb47afe964544dff4f38f2eb564e205780f6406ef1dbd9ae9d82";
  second.time_us = 1733500000999999;
  second.kind = Kind::kMutation;
  second.request_id = "req-2";
  second.requester = "nr";
  second.niss = "85073003328";
  second.data_type = "person.address";
  second.outcome = StatusCode::kNotASource;
  second.reason = "the source is not an authentic source";
  second.detail = "mutation-id=m1 subscribers=0";
  EXPECT_EQ(ChainHash(second), "8382c28d801b902bfa6a0bbbd281676de0bbc96370ee82bc24ec7af01f8ff401");
  // The hash field itself is not covered.
  second.hash = "anything";
  EXPECT_EQ(ChainHash(second), "8382c28d801b902bfa6a0bbbd281676de0bbc96370ee82bc24ec7af01f8ff401");
}

// Keeps records in memory, with the same contract as the store engines
// (which run their own copy of these checks against SQLite and PostgreSQL).
class MemoryStorage : public AuditStorage {
 public:
  // AuditStorage
  Status AppendAudit(std::span<const Record> records, const Checkpoint& checkpoint) override {
    if (gate_) gate_();
    std::lock_guard lock(mu_);
    if (fail_next_) {
      fail_next_ = false;
      return Internal("disk full");
    }
    auto& chain = chains_[checkpoint.node];
    for (const Record& record : records) {
      if (chain.count(record.seq)) return Internal("duplicate seq");
    }
    auto& history = checkpoints_[checkpoint.node];
    if (!checkpoint.note.empty() && history.count(checkpoint.seq)) return Internal("duplicate checkpoint");
    for (const Record& record : records) chain[record.seq] = record;
    if (!checkpoint.note.empty()) history[checkpoint.seq] = checkpoint;
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
    for (auto& [node, history] : checkpoints_) {
      if (!history.empty()) out.push_back(history.rbegin()->second);
    }
    return out;
  }
  Result<std::vector<Checkpoint>> AuditCheckpointHistory(std::string_view node) override {
    std::lock_guard lock(mu_);
    std::vector<Checkpoint> out;
    for (auto& [seq, checkpoint] : checkpoints_[std::string(node)]) out.push_back(checkpoint);
    return out;
  }
  Result<std::vector<Checkpoint>> LegacyAuditCheckpoints() override { return legacy_; }
  Result<std::vector<std::string>> AuditNodes() override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (auto& [node, chain] : chains_) {
      if (!chain.empty()) out.push_back(node);
    }
    return out;
  }
  Result<NodeKey> PublishAuditKey(const NodeKey& key) override {
    std::lock_guard lock(mu_);
    return keys_.emplace(key.node, key).first->second;
  }
  Result<std::string> PersonIndexKey(std::string_view candidate) override {
    std::lock_guard lock(mu_);
    if (index_key_.empty()) index_key_ = std::string(candidate);
    return index_key_;
  }
  Result<std::vector<NodeKey>> AuditKeys() override {
    std::lock_guard lock(mu_);
    std::vector<NodeKey> out;
    for (auto& [node, key] : keys_) out.push_back(key);
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

  // Direct access, as someone who bypasses the store's triggers would have.
  std::map<int64_t, Record>& chain(const std::string& node) { return chains_[node]; }
  std::map<int64_t, Checkpoint>& checkpoints(const std::string& node) { return checkpoints_[node]; }
  std::map<std::string, NodeKey>& keys() { return keys_; }
  std::vector<Checkpoint>& legacy() { return legacy_; }
  void FailNextAppend() { fail_next_ = true; }
  // The next append commits, but its caller is told it failed (a connection
  // lost during COMMIT).
  void LoseNextCommit() { lost_commit_ = true; }
  int appends() const { return appends_; }
  // Runs at the start of every append (outside the storage's lock): a test
  // holds the writer there.
  void SetGate(std::function<void()> gate) { gate_ = std::move(gate); }

 private:
  std::function<void()> gate_;
  std::mutex mu_;
  std::map<std::string, std::map<int64_t, Record>> chains_;
  std::map<std::string, std::map<int64_t, Checkpoint>> checkpoints_;
  std::map<std::string, NodeKey> keys_;
  std::string index_key_;
  std::vector<Checkpoint> legacy_;
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
  std::shared_ptr<const NoteSigner> Signer(const std::string& node) {
    auto& signer = signers_[node];
    if (!signer) signer = *NoteSigner::Generate(CheckpointOrigin(node));
    return signer;
  }
  // Writes `count` records on `node` (its key kept across calls); returns
  // the node's last checkpoint.
  std::string Write(int count, const std::string& node = "hub-1", MemoryStorage* storage = nullptr) {
    auto log = AuditLog::Open(storage ? *storage : storage_, {.node = node, .signer = Signer(node)},
                              clock_);
    EXPECT_TRUE(log) << log.error().ToString();
    if (!log) return {};
    for (int i = 0; i < count; ++i) {
      EXPECT_TRUE((*log)->AppendAndWait(Consultation("mut-100", std::to_string(i))).ok());
    }
    return (*log)->checkpoint().note;
  }

  // hub-1's log, one record per commit, signing under a load at most every
  // `interval`.
  // A signing log of node hub-1 that, under load, signs once per `interval`.
  Result<std::unique_ptr<AuditLog>> OpenSigningEvery(std::chrono::milliseconds interval) {
    return AuditLog::Open(
        storage_, {.node = "hub-1", .signer = Signer("hub-1"), .checkpoint_interval = interval},
        clock_);
  }

  Result<std::unique_ptr<AuditLog>> OpenOneRecordPerCommit(std::chrono::milliseconds interval) {
    return AuditLog::Open(
        storage_, {.node = "hub-1", .signer = Signer("hub-1"), .max_batch = 1, .checkpoint_interval = interval},
        clock_);
  }

  MemoryStorage storage_;
  ManualClock clock_{*Date::Parse("2024-06-01")};
  std::map<std::string, std::shared_ptr<const NoteSigner>> signers_;
};

TEST_F(AuditLogTest, ReasonAndDetailAreBoundedWhateverTheCallerQuotes) {
  auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
  ASSERT_TRUE(log) << log.error().ToString();
  Record record = Consultation("mut-100", "1");
  record.outcome = StatusCode::kInvalidRequest;
  record.reason = "data type 'x' has no fields " + std::string(4 << 20, 'f');
  record.detail = std::string(1 << 20, 'd');
  ASSERT_TRUE((*log)->AppendAndWait(record).ok());
  const Record& kept = storage_.chain("hub-1").at(1);
  EXPECT_LE(kept.reason.size(), kMaxMessageBytes);
  EXPECT_TRUE(kept.reason.starts_with("data type 'x' has no fields fff")) << kept.reason.substr(0, 100);
  EXPECT_LE(kept.detail.size(), kMaxMessageBytes);
}

// A reason quoting a path that is not UTF-8 (found by api_bodies_fuzz) is
// kept with U+FFFD in its place: PostgreSQL would refuse the record.
TEST_F(AuditLogTest, ReasonAndDetailAreKeptAsUtf8WhateverTheCallerQuotes) {
  auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
  ASSERT_TRUE(log) << log.error().ToString();
  Record record = Consultation("mut-100", "1");
  record.outcome = StatusCode::kNotFound;
  record.reason = "no endpoint PUT /v1/bis/90.\x91";
  record.detail = "\xff";
  ASSERT_TRUE((*log)->AppendAndWait(record).ok());
  const Record& kept = storage_.chain("hub-1").at(1);
  EXPECT_EQ(kept.reason, "no endpoint PUT /v1/bis/90.\xEF\xBF\xBD");
  EXPECT_EQ(kept.detail, "\xEF\xBF\xBD");
}

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
  EXPECT_EQ(report->verdict, Verdict::kIntact);
  EXPECT_EQ(report->records, 5);
  EXPECT_EQ(report->chains.at(0).head, chain[5].hash);
}

// docs/api.md 6.1: every commit saves a checkpoint signed by the node's key,
// over the Merkle tree whose leaves are the node's records in seq order.
TEST_F(AuditLogTest, EveryCommitSavesASignedCheckpointOverTheTree) {
  std::string note = Write(3);
  auto& history = storage_.checkpoints("hub-1");
  ASSERT_EQ(history.size(), 4u);  // the empty tree at the first start, then one per record
  MerkleTree tree;
  // The person index over the same records, with the store's key.
  auto key_hex = storage_.PersonIndexKey("");
  ASSERT_TRUE(key_hex);
  auto key = HashFromHex(*key_hex);
  ASSERT_TRUE(key);
  PersonIndex index(std::string(reinterpret_cast<const char*>(key->data()), 32));
  for (auto& [seq, record] : storage_.chain("hub-1")) {
    index.Add(record, tree.size(), LeafHash(record));
    tree.Append(LeafHash(record));
    const Checkpoint& checkpoint = history.at(seq);
    EXPECT_EQ(checkpoint.root, ToHex(tree.Root()));
    EXPECT_EQ(checkpoint.hash, record.hash);
  }
  EXPECT_EQ(index.persons(), 3u);  // Write consults three people
  auto verifier = NoteVerifier::Parse(storage_.keys().at("hub-1").verifier_key);
  ASSERT_TRUE(verifier);
  auto text = verifier->Open(note);
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_EQ(*text, "carrefour/hub-1\n3\n" + ToBase64(tree.Root()) + "\n");
  // Beside it, the person index's root in a note signed by the same key.
  auto index_text = verifier->Open(history.at(3).index_note);
  ASSERT_TRUE(index_text) << index_text.error().ToString();
  EXPECT_EQ(*index_text, "carrefour/hub-1/person-index\n3\n" + ToBase64(index.Root()) + "\n");
  EXPECT_EQ(note, history.at(3).note);
}

// The person index (docs/transparency.md, Completeness): the checkpoint
// commits it, so a checkpoint whose index leaves a record out is found by
// verification and refused at start.
TEST_F(AuditLogTest, ACheckpointWhosePersonIndexLeavesARecordOutIsFound) {
  Write(3);
  auto key_hex = storage_.PersonIndexKey("");
  ASSERT_TRUE(key_hex);
  auto key = HashFromHex(*key_hex);
  ASSERT_TRUE(key);
  // The checkpoint at 3 signed again by the node's own key, over the right
  // tree but an index without record 2.
  CompactRange tree;
  PersonIndex index(std::string(reinterpret_cast<const char*>(key->data()), 32));
  for (auto& [seq, record] : storage_.chain("hub-1")) {
    if (seq != 2) index.Add(record, tree.size(), LeafHash(record));
    tree.Append(LeafHash(record));
  }
  storage_.checkpoints("hub-1")[3] =
      SignCheckpoint(*Signer("hub-1"), "hub-1", storage_.chain("hub-1").at(3).hash, tree, 1, &index);
  auto report = Verify(storage_);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->verdict, Verdict::kBroken);
  EXPECT_NE(report->first_bad.find("node hub-1, record 3: the person index"), std::string::npos)
      << report->first_bad;
  auto log = AuditLog::Open(storage_, {.node = "hub-1", .signer = Signer("hub-1")}, clock_);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message().find("person index"), std::string::npos) << log.error().ToString();
}

// A store whose checkpoints predate the person index: the node commits it
// at its next start, over every earlier record.
TEST_F(AuditLogTest, AStoreFromBeforeThePersonIndexGetsItAtTheNextStart) {
  Write(2);
  CompactRange tree;
  for (auto& [seq, record] : storage_.chain("hub-1")) tree.Append(LeafHash(record));
  storage_.checkpoints("hub-1")[2] =
      SignCheckpoint(*Signer("hub-1"), "hub-1", storage_.chain("hub-1").at(2).hash, tree, 1, nullptr);
  ASSERT_EQ(storage_.checkpoints("hub-1")[2].index_note, "");
  auto log = AuditLog::Open(storage_, {.node = "hub-1", .signer = Signer("hub-1")}, clock_);
  ASSERT_TRUE(log) << log.error().ToString();
  EXPECT_EQ((*log)->last_seq(), 3);  // the record that commits the index
  EXPECT_EQ(storage_.chain("hub-1").at(3).kind, Kind::kAdmin);
  EXPECT_NE((*log)->checkpoint().index_note.find("carrefour/hub-1/person-index\n3\n"), std::string::npos);
  log->reset();
  auto report = Verify(storage_);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok) << report->first_bad;
}

// Benchmarks only (`carrefour hub --bench-unverifiable-audit`): the records
// are chained and durable as ever, no checkpoint covers them after the one
// signed at start, and verification says so.
TEST_F(AuditLogTest, AnUnverifiableLogStillChainsEveryRecordDurably) {
  {
    auto log = AuditLog::Open(storage_, {.node = "hub-1", .signer = Signer("hub-1"), .verifiable = false}, clock_);
    ASSERT_TRUE(log) << log.error().ToString();
    for (int i = 0; i < 3; ++i) EXPECT_TRUE((*log)->AppendAndWait(Consultation("mut-100", std::to_string(i))).ok());
    EXPECT_EQ((*log)->last_seq(), 3);
    EXPECT_EQ((*log)->checkpoint().seq, 0);
    EXPECT_TRUE((*log)->Integrate().ok());  // nothing to sign in such a log
    EXPECT_EQ((*log)->checkpoint().seq, 0);
  }
  ASSERT_EQ(storage_.chain("hub-1").size(), 3u);
  EXPECT_EQ(storage_.chain("hub-1").at(3).prev_hash, storage_.chain("hub-1").at(2).hash);
  ASSERT_EQ(storage_.checkpoints("hub-1").size(), 1u);
  EXPECT_EQ(storage_.checkpoints("hub-1").begin()->first, 0);
  auto report = Verify(storage_, {.checkpoint_wait = std::chrono::milliseconds(0)});
  ASSERT_TRUE(report);
  ASSERT_EQ(report->unsigned_tails.size(), 1u);
  EXPECT_TRUE(report->unsigned_tails[0].starts_with("node hub-1: records 1..3 follow its last checkpoint (at 0)"))
      << report->unsigned_tails[0];
}

TEST_F(AuditLogTest, AnotherKeyForTheSameNodeIsRefused) {
  Write(1);
  auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);  // a fresh key
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message().find("signed by the key"), std::string::npos);
  EXPECT_FALSE(AuditLog::Open(storage_, {.node = "hub 1"}, clock_));
}

// A store written before signed checkpoints: the node signs its records
// when it starts, and the log verifies from then on.
TEST_F(AuditLogTest, AStoreFromBeforeSignedCheckpointsMigrates) {
  Write(4);
  storage_.checkpoints("hub-1").clear();
  storage_.keys().clear();
  Record last = storage_.chain("hub-1").rbegin()->second;
  storage_.legacy().push_back(Checkpoint{"hub-1", 4, last.hash, "mac", "", "", 0});
  auto before = Verify(storage_);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->verdict, Verdict::kNotVerifiable);
  ASSERT_EQ(before->not_verified.size(), 1u);
  EXPECT_NE(before->not_verified[0].find("from before signed checkpoints"), std::string::npos);

  signers_.clear();
  Write(1);
  auto after = Verify(storage_);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->ok) << after->first_bad;
  EXPECT_EQ(after->records, 5);
  EXPECT_EQ(storage_.checkpoints("hub-1").begin()->first, 4);
}

TEST_F(AuditLogTest, VerifyNamesTheFirstBadRecord) {
  struct Row {
    std::string name;
    std::function<void(MemoryStorage&)> tamper;
    std::string expected;
    std::vector<std::string> expected_nodes = {};
  };
  // What the test's other key signs, as a forger would.
  auto forger = *NoteSigner::Generate("carrefour/hub-1");
  const std::vector<Row> rows = {
      {"modified", [](MemoryStorage& s) { s.chain("hub-1")[3].requester = "mut-200"; },
       "node hub-1, record 3: its hash does not match its content"},
      {"modified and rehashed",
       [](MemoryStorage& s) {
         auto& chain = s.chain("hub-1");
         chain[5].requester = "mut-200";
         chain[5].hash = ChainHash(chain[5]);
       },
       "node hub-1, record 5: the records 1..5 do not have the Merkle root of its checkpoint at 5"},
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
       "node hub-1, record 5: the log ends at record 4 but its checkpoint covers 5"},
      {"record added behind the log's back, not following the chain",
       [](MemoryStorage& s) {
         Record extra = s.chain("hub-1")[5];
         extra.seq = 6;
         extra.hash = ChainHash(extra);  // its prev_hash is record 4's
         s.chain("hub-1")[6] = extra;
       },
       "node hub-1, record 6: not covered by any checkpoint, and does not follow the previous record"},
      {"record added with a checkpoint signed by another key",
       [&forger](MemoryStorage& s) {
         Record extra = s.chain("hub-1")[5];
         extra.seq = 6;
         extra.prev_hash = extra.hash;
         extra.hash = ChainHash(extra);
         s.chain("hub-1")[6] = extra;
         CompactRange tree;
         for (auto& [seq, record] : s.chain("hub-1")) tree.Append(LeafHash(record));
         s.checkpoints("hub-1")[6] = SignCheckpoint(*forger, "hub-1", extra.hash, tree, 1);
       },
       "node hub-1, record 6: its last checkpoint's signature is wrong"},
      {"checkpoint root rewritten",
       [](MemoryStorage& s) { s.checkpoints("hub-1")[3].root = ToHex(HashLeaf("x")); },
       "node hub-1, record 3: the records 1..3 do not have the Merkle root of its checkpoint at 3"},
      {"forged records on a node without checkpoints",
       [](MemoryStorage& s) {
         Record forged = s.chain("hub-1")[1];
         forged.node = "hub-9";
         forged.hash = ChainHash(forged);
         s.chain("hub-9")[1] = forged;
       },
       "node hub-9, record 1: not covered by any checkpoint"},
      {"a node's whole log removed",
       [](MemoryStorage& s) {
         s.chain("hub-1").clear();
         s.checkpoints("hub-1").clear();
       },
       "node hub-1: its key is published but it has no checkpoint"},
      {"an expected node missing", [](MemoryStorage&) {},
       "node hub-7: expected, but the store holds no log of it", {"hub-1", "hub-7"}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    MemoryStorage storage;
    signers_.clear();
    Write(5, "hub-1", &storage);
    ASSERT_TRUE(Verify(storage)->ok);
    row.tamper(storage);
    auto report =
        Verify(storage, {.expected_nodes = row.expected_nodes, .checkpoint_wait = std::chrono::milliseconds(0)});
    ASSERT_TRUE(report);
    EXPECT_FALSE(report->ok);
    EXPECT_EQ(report->verdict, Verdict::kBroken);
    EXPECT_EQ(report->first_bad.rfind(row.expected, 0), 0u) << report->first_bad;
  }
}

// Records that follow the chain after its last checkpoint: a running node
// signs them within its interval (verification waits for it); if none ever
// covers them (the node stopped before signing, or they were added behind
// its back and chained with care) the chain is intact and they are named as
// not signed yet, until the node signs them at its next start.
TEST_F(AuditLogTest, ChainedRecordsThatNoCheckpointCoversAreNamedNotSignedYet) {
  Write(5);
  Record extra = storage_.chain("hub-1")[5];
  extra.seq = 6;
  extra.prev_hash = extra.hash;
  extra.hash = ChainHash(extra);
  storage_.chain("hub-1")[6] = extra;
  auto report = Verify(storage_, {.checkpoint_wait = std::chrono::milliseconds(100)});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok) << report->first_bad;
  EXPECT_EQ(report->verdict, Verdict::kIntact);
  ASSERT_EQ(report->unsigned_tails.size(), 1u);
  EXPECT_TRUE(report->unsigned_tails[0].starts_with(
      "node hub-1: records 6..6 follow its last checkpoint (at 5) but no signed checkpoint covers them"))
      << report->unsigned_tails[0];
  // The node's next start signs them.
  Write(0);
  report = Verify(storage_, {.checkpoint_wait = std::chrono::milliseconds(0)});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok) << report->first_bad;
  EXPECT_TRUE(report->unsigned_tails.empty());
  EXPECT_EQ(storage_.checkpoints("hub-1").rbegin()->first, 6);
}

// Holds the writer in its next append until Release(): records queue behind
// it meanwhile.
class WriterGate {
 public:
  explicit WriterGate(MemoryStorage& storage) : storage_(storage) {}
  ~WriterGate() { storage_.SetGate(nullptr); }
  // From now on.
  void Close() {
    storage_.SetGate([this] {
      std::unique_lock lock(mu_);
      ++arrived_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return released_ > 0; });
      --released_;
    });
  }
  void WaitArrived(int count) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return arrived_ >= count; });
  }
  void Release(int count = 1) {
    std::lock_guard lock(mu_);
    released_ += count;
    changed_.notify_all();
  }

 private:
  MemoryStorage& storage_;
  std::mutex mu_;
  std::condition_variable changed_;
  int arrived_ = 0;
  int released_ = 0;
};

// Appends `count` records: the first alone in a commit the gate holds (it
// came to an idle writer), the others queued behind it. Their outcomes.
std::vector<std::future<Status>> AppendBehindAHeldCommit(AuditLog& log, WriterGate& gate, int count) {
  std::vector<std::future<Status>> outcomes;
  for (int i = 0; i < count; ++i) {
    auto written = std::make_shared<std::promise<Status>>();
    outcomes.push_back(written->get_future());
    log.Append(Consultation("mut-100", std::to_string(i)),
               [written](const Status& status) { written->set_value(status); });
    if (i == 0) gate.WaitArrived(1);
  }
  return outcomes;
}

// A record that comes to an idle writer is signed with its commit. Records
// that come while a commit is written (a continuous load) save no
// checkpoint until the interval ends (here: never), a reader asks, or the
// log closes.
TEST_F(AuditLogTest, RecordsThatComeDuringACommitAreSignedOncePerInterval) {
  WriterGate gate(storage_);  // outlives the log: its writer may append at close
  auto log = OpenOneRecordPerCommit(std::chrono::hours(1));
  ASSERT_TRUE(log) << log.error().ToString();
  gate.Close();
  std::vector<std::future<Status>> written = AppendBehindAHeldCommit(**log, gate, 4);
  gate.Release(5);  // the four commits and one checkpoint
  for (auto& outcome : written) EXPECT_TRUE(outcome.get().ok());
  auto sizes = [this] {
    std::vector<int64_t> out;
    for (const auto& [seq, checkpoint] : storage_.checkpoints("hub-1")) out.push_back(seq);
    return out;
  };
  // Record 1 came to an idle writer: signed; 2 to 4 came during commits.
  EXPECT_EQ(sizes(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ((*log)->last_seq(), 4);
  EXPECT_EQ((*log)->checkpoint().seq, 1);
  ASSERT_TRUE((*log)->Integrate().ok());
  EXPECT_EQ(sizes(), (std::vector<int64_t>{0, 1, 4}));
  EXPECT_EQ((*log)->checkpoint().seq, 4);
  auto report = Verify(storage_);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok) << report->first_bad;
}

// With Options::deliver, a commit's answers leave the writer as one task
// (the hub runs it on its API event loop); AppendAndWait is answered by the
// writer itself, whatever becomes of the tasks (its caller may be the loop).
TEST_F(AuditLogTest, ACommitsAnswersAreHandedOnAsOneTask) {
  WriterGate gate(storage_);  // outlives the log: its writer may append at close
  std::mutex mu;
  std::condition_variable handed;
  std::vector<std::function<void()>> tasks;
  auto log = AuditLog::Open(storage_,
                            {.node = "hub-1",
                             .signer = Signer("hub-1"),
                             .deliver =
                                 [&](std::function<void()> task) {
                                   std::lock_guard lock(mu);
                                   tasks.push_back(std::move(task));
                                   handed.notify_all();
                                 }},
                            clock_);
  ASSERT_TRUE(log) << log.error().ToString();
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("mut-100", "0")).ok());
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(tasks.empty());
  }

  gate.Close();
  std::atomic<int> answered{0};
  auto count = [&answered](const Status& status) {
    EXPECT_TRUE(status.ok()) << status.ToString();
    ++answered;
  };
  (*log)->Append(Consultation("mut-100", "1"), count);
  gate.WaitArrived(1);  // record 1's commit is held; 2 to 4 queue behind it
  for (int i = 2; i <= 4; ++i) (*log)->Append(Consultation("mut-100", std::to_string(i)), count);
  gate.Release(10);
  {
    std::unique_lock lock(mu);
    handed.wait(lock, [&] { return tasks.size() == 2; });
  }
  EXPECT_EQ(answered.load(), 0);  // nothing answered on the writer
  tasks[0]();
  EXPECT_EQ(answered.load(), 1);
  tasks[1]();
  EXPECT_EQ(answered.load(), 4);  // records 2 to 4: one commit, one task
  EXPECT_EQ((*log)->last_seq(), 5);
}

// After a load, the records left unsigned are signed one interval later
// without anyone asking.
TEST_F(AuditLogTest, RecordsLeftUnsignedAfterALoadAreSignedOneIntervalLater) {
  WriterGate gate(storage_);
  auto log = OpenSigningEvery(std::chrono::milliseconds(50));
  ASSERT_TRUE(log) << log.error().ToString();
  gate.Close();
  std::promise<Status> first, second;
  (*log)->Append(Consultation("mut-100", "1"), [&](const Status& status) { first.set_value(status); });
  gate.WaitArrived(1);
  (*log)->Append(Consultation("mut-100", "2"), [&](const Status& status) { second.set_value(status); });
  gate.Release(3);
  EXPECT_TRUE(first.get_future().get().ok());
  EXPECT_TRUE(second.get_future().get().ok());
  // Waits for the writer's own checkpoint (the test's bound only).
  for (int i = 0; i < 200 && storage_.checkpoints("hub-1").rbegin()->first < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(storage_.checkpoints("hub-1").rbegin()->first, 2);
  EXPECT_EQ((*log)->checkpoint().seq, 2);
}

// A reader that must see the latest records (the transparency view, the
// admin checkpoint) asks for a checkpoint over them: signed at once, not at
// the end of the interval.
TEST_F(AuditLogTest, IntegrateSignsACheckpointOverEveryRecordWrittenSoFar) {
  WriterGate gate(storage_);  // outlives the log: its writer may append at close
  auto log = OpenOneRecordPerCommit(std::chrono::hours(1));
  ASSERT_TRUE(log) << log.error().ToString();
  gate.Close();
  std::vector<std::future<Status>> written = AppendBehindAHeldCommit(**log, gate, 3);
  gate.Release(2);  // records 1 (signed) and 2 (unsigned: 3 is queued)
  EXPECT_TRUE(written[0].get().ok());
  EXPECT_TRUE(written[1].get().ok());
  gate.WaitArrived(3);  // the writer holds record 3's commit
  EXPECT_EQ((*log)->last_seq(), 2);
  EXPECT_EQ((*log)->checkpoint().seq, 1);
  std::thread reader([&] { EXPECT_TRUE((*log)->Integrate().ok()); });
  gate.Release(2);  // record 3's commit (it signs: a reader waits), then nothing more is needed
  reader.join();
  EXPECT_TRUE(written[2].get().ok());
  EXPECT_GE((*log)->checkpoint().seq, 2);
  EXPECT_TRUE((*log)->Integrate().ok());
  EXPECT_EQ((*log)->checkpoint().seq, 3);
}

// Cutting the tail together with its checkpoints leaves an older, valid
// state: only a checkpoint seen before (kept by the node, or a witness)
// shows it.
TEST_F(AuditLogTest, ACutTailWithItsCheckpointsIsFoundByARememberedCheckpoint) {
  std::string seen = Write(5);
  storage_.chain("hub-1").erase(5);
  storage_.chain("hub-1").erase(4);
  storage_.checkpoints("hub-1").erase(5);
  storage_.checkpoints("hub-1").erase(4);
  EXPECT_TRUE(Verify(storage_)->ok);  // alone, the store looks whole
  auto report = Verify(storage_, {.remembered = {seen}});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->verdict, Verdict::kBroken);
  EXPECT_EQ(report->first_bad.rfind("node hub-1, record 4: the log ends at record 3 but a checkpoint "
                                    "seen before covers 5", 0),
            0u)
      << report->first_bad;
}

// A live hub keeps committing while a verifier walks its log: what was
// committed after the verifier read the checkpoints is not a forgery.
TEST_F(AuditLogTest, VerifyingWhileRecordsArriveNeverReportsBroken) {
  auto log = AuditLog::Open(storage_, {.node = "hub-1", .signer = Signer("hub-1")}, clock_);
  ASSERT_TRUE(log);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 3000; ++i) EXPECT_TRUE((*log)->AppendAndWait(Consultation("a", std::to_string(i))).ok());
    done = true;
  });
  int runs = 0;
  while (!done || runs == 0) {
    auto report = Verify(storage_, {.expected_nodes = {"hub-1"}});
    ASSERT_TRUE(report);
    ASSERT_EQ(report->verdict, Verdict::kIntact) << report->first_bad;
    ++runs;
  }
  writer.join();
  EXPECT_EQ(Verify(storage_)->records, 3000);
}

// Without a node's key nothing can prove its checkpoints genuine: the log is
// "not verifiable", never "intact" (nor "broken").
TEST_F(AuditLogTest, ANodeWithoutAPublishedKeyIsNotVerifiable) {
  Write(2, "hub-1");
  Write(2, "hub-2");
  storage_.keys().erase("hub-2");
  auto report = Verify(storage_);
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->verdict, Verdict::kNotVerifiable);
  ASSERT_EQ(report->not_verified.size(), 1u);
  EXPECT_EQ(report->not_verified[0].rfind("node hub-2: no published key", 0), 0u);
  EXPECT_EQ(report->records, 4);
}

// Proofs from the records in the store, for any node, verify against the
// node's signed checkpoint.
TEST_F(AuditLogTest, ProofsFromTheStoreVerifyAgainstTheCheckpoint) {
  Write(6, "hub-2");
  std::string note = Write(11, "hub-1");
  auto verifier = NoteVerifier::Parse(storage_.keys().at("hub-1").verifier_key);
  auto body = ParseCheckpointText(*verifier->Open(note));
  ASSERT_TRUE(body);
  AuditTrees trees(storage_);
  for (uint64_t index = 0; index < body->size; ++index) {
    auto proof = trees.InclusionProof("hub-1", index, body->size);
    ASSERT_TRUE(proof) << proof.error().ToString();
    EXPECT_EQ(proof->leaf, LeafHash(storage_.chain("hub-1")[static_cast<int64_t>(index) + 1]));
    EXPECT_TRUE(VerifyInclusion(index, body->size, proof->leaf, proof->proof, body->root));
  }
  Checkpoint old = storage_.checkpoints("hub-1").at(4);
  auto consistency = trees.ConsistencyProof("hub-1", 4, body->size);
  ASSERT_TRUE(consistency);
  EXPECT_TRUE(VerifyConsistency(4, body->size, *HashFromHex(old.root), body->root, *consistency));
  EXPECT_FALSE(trees.InclusionProof("hub-1", 0, 12));
  EXPECT_EQ(trees.InclusionProof("hub-8", 0, 1).error().code(), StatusCode::kNotFound);
  Write(2, "hub-1");  // a bigger tree is read when asked for
  EXPECT_TRUE(trees.InclusionProof("hub-1", 12, 13));
}

// Records written after the latest checkpoint and not signed yet (a
// continuous load) do not enter the trees read for that checkpoint: the
// person index still proves at its size.
TEST_F(AuditLogTest, APersonIsProvedAtTheCheckpointWhateverFollowsItUnsigned) {
  auto log = OpenSigningEvery(std::chrono::hours(1));
  ASSERT_TRUE(log) << log.error().ToString();
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("mut-100", "signed")).ok());
  const int64_t signed_size = (*log)->checkpoint().seq;
  ASSERT_EQ(signed_size, 1);
  Status busy = (*log)->AppendWith(
      [&](const AuditLog::Chain& chain) -> Status {
        std::vector<Record> records = {Consultation("nr", "a"), Consultation("nr", "b")};
        Checkpoint checkpoint = chain(records);
        return storage_.AppendAudit(records, checkpoint);
      },
      /*busy=*/true);
  ASSERT_TRUE(busy.ok()) << busy.ToString();
  ASSERT_EQ((*log)->last_seq(), 3);
  ASSERT_EQ((*log)->checkpoint().seq, 1);  // 2 and 3 not signed yet
  AuditTrees trees(storage_);
  auto proof = trees.ProvePerson("hub-1", "signed", static_cast<uint64_t>(signed_size));
  ASSERT_TRUE(proof) << proof.error().ToString();
  ASSERT_TRUE(proof->has_value()) << "the trees went past the checkpoint";
  EXPECT_EQ((*proof)->size, 1u);
  // Once signed, the later checkpoint is proved too.
  ASSERT_TRUE((*log)->Integrate().ok());
  auto later = trees.ProvePerson("hub-1", "signed", 3);
  ASSERT_TRUE(later) << later.error().ToString();
  EXPECT_TRUE(later->has_value());
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

// Issue 20: each node's checkpoints are checked with that node's published
// key, so no node needs another's secret and an intact log is intact from
// everywhere.
TEST_F(AuditLogTest, EveryNodesLogVerifiesWithoutAnySecret) {
  Write(3, "hub-1");
  Write(4, "hub-2");
  Write(1, "hub-1");
  auto report = Verify(storage_, {.expected_nodes = {"hub-1", "hub-2"}});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->verdict, Verdict::kIntact) << report->first_bad;
  EXPECT_EQ(report->records, 8);
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

// A caller's own transaction carries its records (a batch of mutations):
// chained after the head, the head moves only if the write succeeds.
TEST_F(AuditLogTest, AppendWithChainsTheCallersRecordsInItsOwnWrite) {
  Write(2);
  auto log = AuditLog::Open(storage_, {.node = "hub-1", .signer = Signer("hub-1")}, clock_);
  ASSERT_TRUE(log);
  auto batch = [](int n) {
    std::vector<Record> records;
    for (int i = 0; i < n; ++i) records.push_back(Consultation("nr", "b" + std::to_string(i)));
    return records;
  };
  Status failed = (*log)->AppendWith([&](const AuditLog::Chain& chain) -> Status {
    std::vector<Record> records = batch(3);
    Checkpoint checkpoint = chain(records);
    EXPECT_EQ(records.front().seq, 3);
    EXPECT_EQ(checkpoint.seq, 5);
    return Unavailable("the caller's transaction failed");  // nothing written
  });
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ((*log)->last_seq(), 2);
  Status written = (*log)->AppendWith([&](const AuditLog::Chain& chain) -> Status {
    std::vector<Record> records = batch(3);
    chain(records);  // a retried transaction chains again, from the same head
    Checkpoint checkpoint = chain(records = batch(3));
    EXPECT_EQ(checkpoint.seq, 5);
    EXPECT_EQ(checkpoint.hash, records.back().hash);
    EXPECT_FALSE(checkpoint.note.empty());  // signed, over the tree with their leaves
    return storage_.AppendAudit(records, checkpoint);
  });
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ((*log)->last_seq(), 5);
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("mut-100", "after")).ok());
  EXPECT_EQ(storage_.chain("hub-1").size(), 6u);
  EXPECT_EQ(storage_.chain("hub-1")[3].requester, "nr");
  // Every checkpoint's Merkle root, the caller's and the writer's after it,
  // covers the records' leaves.
  auto report = Verify(storage_, {.expected_nodes = {"hub-1"}, .remembered = {(*log)->checkpoint().note}});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok) << report->first_bad;
}

// A caller under a continuous load (busy) leaves its commits unsigned
// until the interval ends, and the writer thread signs them one interval
// after the load stops; an idle caller's commit is signed with it.
TEST_F(AuditLogTest, AppendWithUnderALoadIsSignedOncePerInterval) {
  auto log = OpenSigningEvery(std::chrono::hours(1));
  ASSERT_TRUE(log) << log.error().ToString();
  auto write = [&](const std::string& id, bool busy) {
    bool signed_with_it = false;
    Status status = (*log)->AppendWith(
        [&](const AuditLog::Chain& chain) -> Status {
          std::vector<Record> records = {Consultation("nr", id)};
          Checkpoint checkpoint = chain(records);
          signed_with_it = !checkpoint.note.empty();
          return storage_.AppendAudit(records, checkpoint);
        },
        busy);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return signed_with_it;
  };
  EXPECT_TRUE(write("1", /*busy=*/false));  // idle, all signed: signed with its commit
  EXPECT_FALSE(write("2", /*busy=*/true));
  EXPECT_FALSE(write("3", /*busy=*/true));
  EXPECT_FALSE(write("4", /*busy=*/false));  // idle, but 2 and 3 wait for the interval
  EXPECT_EQ((*log)->last_seq(), 4);
  EXPECT_EQ((*log)->checkpoint().seq, 1);
  EXPECT_TRUE((*log)->Integrate().ok());  // a reader need not wait for the interval
  EXPECT_EQ((*log)->checkpoint().seq, 4);
}

TEST_F(AuditLogTest, AppendWithLeftUnsignedIsSignedByTheWriterOneIntervalLater) {
  auto log = OpenSigningEvery(std::chrono::milliseconds(300));
  ASSERT_TRUE(log) << log.error().ToString();
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("mut-100", "first")).ok());
  // The writer thread, everything signed, sleeps until something comes.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  // Still inside the interval (unless the machine stalls 270 ms here, which
  // only makes the next check pass early). Two commits: only the first
  // wakes the writer thread, which then waits for the interval's end.
  for (const char* id : {"busy-1", "busy-2"}) {
    Status status = (*log)->AppendWith(
        [&](const AuditLog::Chain& chain) -> Status {
          std::vector<Record> records = {Consultation("nr", id)};
          Checkpoint checkpoint = chain(records);
          return storage_.AppendAudit(records, checkpoint);
        },
        /*busy=*/true);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  EXPECT_EQ((*log)->last_seq(), 3);
  // Nothing else comes: the writer thread signs them (the test's bound only).
  for (int i = 0; i < 500 && (*log)->checkpoint().seq < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ((*log)->checkpoint().seq, 3);
  EXPECT_EQ(storage_.checkpoints("hub-1").rbegin()->first, 3);
}

// Records appended meanwhile ride along in the caller's transaction or go
// through the writer: either way each is written once, in one chain.
TEST_F(AuditLogTest, AppendWithAndAppendShareOneChain) {
  auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
  ASSERT_TRUE(log);
  std::atomic<int> done{0};
  std::thread appender([&] {
    for (int i = 0; i < 500; ++i) {
      (*log)->Append(Consultation("a", std::to_string(i)), [&done](const Status& s) {
        if (s.ok()) ++done;
      });
    }
  });
  for (int b = 0; b < 50; ++b) {
    Status status = (*log)->AppendWith([&](const AuditLog::Chain& chain) -> Status {
      std::vector<Record> records = {Consultation("nr", "w" + std::to_string(b))};
      Checkpoint checkpoint = chain(records);
      return storage_.AppendAudit(records, checkpoint);
    });
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  appender.join();
  ASSERT_TRUE((*log)->AppendAndWait(Consultation("a", "last")).ok());
  EXPECT_EQ(done.load(), 500);
  EXPECT_EQ(storage_.chain("hub-1").size(), 551u);
  auto report = Verify(storage_);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok) << report->first_bad;
}

TEST(ChainHash, CoversEveryFieldUnambiguously) {
  Record a = Consultation("ab", "c");
  Record b = Consultation("a", "bc");
  EXPECT_NE(ChainHash(a), ChainHash(b));
  Record c = a;
  c.latency_us = 1;
  EXPECT_NE(ChainHash(a), ChainHash(c));
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // The leaf is over the same bytes as the chain hash, with RFC 6962's prefix.
  EXPECT_EQ(LeafHash(a), HashLeaf(RecordBytes(a)));
  EXPECT_EQ(ChainHash(a), Sha256Hex(RecordBytes(a)));
}

}  // namespace
}  // namespace carrefour::audit
