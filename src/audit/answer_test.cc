// SPDX-License-Identifier: EUPL-1.2
#include "audit/answer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace carrefour::audit {
namespace {

// Keeps appended records; refuses appends while `failing`.
class Storage : public AuditStorage {
 public:
  Status AppendAudit(std::span<const Record> records, const Checkpoint&) override {
    std::lock_guard lock(mu_);
    if (failing) return Internal("disk full");
    kept_.insert(kept_.end(), records.begin(), records.end());
    return OkStatus();
  }
  Result<std::vector<Checkpoint>> AuditCheckpoints() override { return std::vector<Checkpoint>(); }
  Result<std::vector<Checkpoint>> AuditCheckpointHistory(std::string_view) override {
    return std::vector<Checkpoint>();
  }
  Result<std::vector<Checkpoint>> LegacyAuditCheckpoints() override {
    return std::vector<Checkpoint>();
  }
  Result<std::vector<std::string>> AuditNodes() override { return std::vector<std::string>(); }
  Result<NodeKey> PublishAuditKey(const NodeKey& key) override { return key; }
  Result<std::vector<NodeKey>> AuditKeys() override { return std::vector<NodeKey>(); }
  Result<std::string> PersonIndexKey(std::string_view candidate) override { return std::string(candidate); }
  Result<std::vector<Record>> ReadAudit(std::string_view, int64_t, size_t) override {
    return std::vector<Record>();
  }
  Result<std::vector<Record>> QueryAudit(const Query&) override { return std::vector<Record>(); }

  std::vector<Record> kept() {
    std::lock_guard lock(mu_);
    return kept_;
  }
  std::atomic<bool> failing = false;

 private:
  std::mutex mu_;
  std::vector<Record> kept_;
};

struct Reply {
  int status = 200;
  std::string body;
};

Reply Unavailable503() { return Reply{503, "unavailable"}; }

Record AdminRead() {
  Record record;
  record.kind = Kind::kAdmin;
  record.request_id = "req-1";
  record.requester = "admin";
  return record;
}

class AuditThenAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(storage_, {.node = "hub-1"}, clock_);
    ASSERT_TRUE(log) << log.error().ToString();
    log_ = std::move(*log);
  }
  // What done was given (it is called on the writer's thread).
  Reply Answer(Reply reply) {
    std::promise<Reply> given;
    AuditThenAnswer(*log_, AdminRead(), std::move(reply), Unavailable503,
                    [&given](Reply answer) { given.set_value(std::move(answer)); });
    return given.get_future().get();
  }

  Storage storage_;
  ManualClock clock_{*Date::Parse("2024-06-01")};
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditThenAnswerTest, TheAnswerLeavesWithItsHashOnceTheRecordIsWritten) {
  Reply answer = Answer(Reply{200, R"({"ok":true})"});
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, R"({"ok":true})");
  std::vector<Record> kept = storage_.kept();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].request_id, "req-1");
  EXPECT_EQ(kept[0].answer_sha256, Sha256Hex(R"({"ok":true})"));
}

TEST_F(AuditThenAnswerTest, AnUntracedAnswerNeverLeaves) {
  storage_.failing = true;
  Reply answer = Answer(Reply{200, "the data"});
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(answer.body, "unavailable");
  EXPECT_TRUE(storage_.kept().empty());
}

TEST_F(AuditThenAnswerTest, TheWaitingFormFollowsTheSameRule) {
  Reply answer = AuditThenAnswerAndWait(*log_, AdminRead(), Reply{200, "read"}, Unavailable503);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "read");
  ASSERT_EQ(storage_.kept().size(), 1u);
  EXPECT_EQ(storage_.kept()[0].answer_sha256, Sha256Hex("read"));

  storage_.failing = true;
  answer = AuditThenAnswerAndWait(*log_, AdminRead(), Reply{200, "read again"}, Unavailable503);
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(storage_.kept().size(), 1u);
}

// A typed answer whose bytes were written apart (as the consultation
// pipeline's): those bytes are hashed, and the failure reaches `unavailable`.
TEST_F(AuditThenAnswerTest, ATypedAnswerIsHashedByItsBytesAndToldWhyItCouldNotLeave) {
  struct Typed {
    int value = 0;
    std::string bytes;
  };
  auto answer = [&](Typed typed) {
    std::promise<Typed> given;
    std::string_view body = typed.bytes;
    AuditThenAnswer(
        *log_, AdminRead(), body, std::move(typed),
        [](const Status& written) { return Typed{-1, written.message()}; },
        [&given](Typed out) { given.set_value(std::move(out)); });
    return given.get_future().get();
  };
  // Short (kept inside the string) and long (on the heap): both hashed
  // before the answer moves.
  for (std::string bytes : {std::string("{}"), std::string(100, 'x')}) {
    SCOPED_TRACE(bytes.size());
    const size_t before = storage_.kept().size();
    Typed out = answer(Typed{7, bytes});
    EXPECT_EQ(out.value, 7);
    ASSERT_EQ(storage_.kept().size(), before + 1);
    EXPECT_EQ(storage_.kept().back().answer_sha256, Sha256Hex(bytes));
  }
  storage_.failing = true;
  Typed out = answer(Typed{7, "{}"});
  EXPECT_EQ(out.value, -1);
  EXPECT_NE(out.bytes.find("disk full"), std::string::npos) << out.bytes;
}

}  // namespace
}  // namespace carrefour::audit
