// SPDX-License-Identifier: EUPL-1.2
// The mutation service over a real store (both engines) and audit log.

#include "mutations/mutations.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network/loader.h"
#include "replica/directory_replica.h"
#include "store/store.h"
#include "mutations/testing.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::mutations {
namespace {
namespace json = boost::json;

using ::testing::HasSubstr;

constexpr char kPerson[] = "85073003328";

constexpr char kNetwork[] = R"(
[[institution_type]]
id = "national-register"
capacities = []

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution]]
id = "nr"
type = "national-register"
name = "National register"
endpoint = "https://127.0.0.1:9100"

[[institution]]
id = "mut-100"
type = "mutuality"
name = "Mutuality 100"
endpoint = "https://127.0.0.1:9101"

[[institution]]
id = "mut-200"
type = "mutuality"
name = "Mutuality 200"
endpoint = "https://127.0.0.1:9102"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["street", "postal_code"]
legal_basis = "ISC/24/001"
from = 2020-01-01

[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "insured"
)";

class MutationServiceTest : public mutations::testing::ServiceFixture {
 protected:
  MutationServiceTest() : ServiceFixture(kNetwork, *Date::Parse("2024-06-01")) {}

  void SetUp() override {
    ServiceFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    service_ = std::make_unique<MutationService>([this] { return engine_; }, *store_, *audit_,
                                                 clock_);
    directory::Entry insured{kPerson, "mut-100", "insured", Period{*Date::Parse("2020-01-01"), {}}};
    ASSERT_TRUE(store_->directory()
                    .ApplyEntryChanges(std::vector<directory::EntryChange>{
                        {directory::EntryAction::kAdd, insured}})
                    .has_value());
  }
  void TearDown() override {
    service_.reset();
    ServiceFixture::TearDown();
  }

  Reply Publish(std::string_view caller, std::string body) {
    std::promise<Reply> promise;
    service_->Publish(caller, body, [&](Reply reply) { promise.set_value(std::move(reply)); });
    return promise.get_future().get();
  }

  Reply Read(std::string_view caller, std::string_view after, std::string_view limit) {
    std::promise<Reply> promise;
    service_->ReadFeed(caller, after, limit, std::nullopt,
                       [&](Reply reply) { promise.set_value(std::move(reply)); });
    return promise.get_future().get();
  }

  // Publishes m1, reads it, and leaves mut-100 waiting (30 s) after it: the
  // read acknowledges m1 and has nothing yet.
  void WaitAfterAFirstMutation(std::future<Reply>* answered) {
    ASSERT_EQ(Publish("nr", Batch(Item("m1"))).status, 202);
    Reply first = Read("mut-100", "0", "10");
    ASSERT_EQ(first.status, 200) << first.body;
    const std::string next = std::string(json::parse(first.body).at("next").as_string());
    // Shared with the callback: should the test fail, the service answers
    // the read later (at shutdown), after this frame is gone.
    auto feed = std::make_shared<std::promise<Reply>>();
    *answered = feed->get_future();
    service_->ReadFeed("mut-100", next, std::nullopt, "30",
                       [feed](Reply r) { feed->set_value(std::move(r)); });
    ASSERT_EQ(answered->wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
        << "answered with nothing new";
  }

  static std::string Batch(std::string items) {
    return fmt::format(R"({{"mutations": [{}]}})", items);
  }
  static std::string Item(std::string id, std::string data = R"({"street": "Rue Neuve 1"})",
                          std::string data_type = "person.address") {
    return fmt::format(
        R"({{"id": "{}", "data_type": "{}", "niss": "{}", "effective": "2024-05-01", "data": {}}})",
        id, data_type, kPerson, data);
  }

  std::unique_ptr<MutationService> service_;
};

json::object Result0(const Reply& reply) {
  return json::parse(reply.body).as_object().at("results").as_array().at(0).as_object();
}

TEST_P(MutationServiceTest, ItemsAreAcceptedDuplicateOrRejected) {
  struct Case {
    std::string name;
    std::string item;
    std::string status;
    std::string code;  // of a rejection
  };
  const Case cases[] = {
      {"accepted", Item("m1"), "accepted", ""},
      {"duplicate", Item("m1"), "duplicate", ""},
      {"unknown data type", Item("m2", "{}", "person.shoe-size"), "rejected", "unknown-data-type"},
      {"unknown field", Item("m3", R"({"street": "x", "colour": "red"})"), "rejected",
       "invalid-request"},
      {"empty id", Item(""), "rejected", "invalid-request"},
      // Ids end up in subscribers' logs: no line of its own to forge.
      {"id with a newline", Item("m5\\nERROR forged line"), "rejected", "invalid-request"},
      {"id with a space", Item("m 6"), "rejected", "invalid-request"},
      {"id with separators", Item("outbox:2024/05-01_a.b"), "accepted", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Reply reply = Publish("nr", Batch(c.item));
    ASSERT_EQ(reply.status, 202) << reply.body;
    json::object result = Result0(reply);
    EXPECT_EQ(result.at("status").as_string(), c.status) << reply.body;
    if (!c.code.empty()) {
      EXPECT_EQ(result.at("error").at("code").as_string(), c.code) << reply.body;
    }
  }
  Reply not_source = Publish("mut-200", Batch(Item("m4")));
  EXPECT_EQ(Result0(not_source).at("error").at("code").as_string(), "not-a-source");
}

// The answer of a mixed batch, whole: every item in order with its index,
// compact JSON (the audit records hold its digest).
TEST_P(MutationServiceTest, TheAnswerListsEveryItemInOrder) {
  ASSERT_EQ(Publish("nr", Batch(Item("m0"))).status, 202);
  Reply reply = Publish("nr", Batch(Item("m1") + "," + Item("m0") + "," +
                                    Item("m2", "{}", "person.shoe-size") + "," + Item("m3")));
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.body,
            R"({"results":[{"index":0,"status":"accepted","subscribers":1},)"
            R"({"index":1,"status":"duplicate"},)"
            R"({"index":2,"status":"rejected","error":{"code":"unknown-data-type",)"
            R"("message":"'person.shoe-size' is not a data type of the network"}},)"
            R"({"index":3,"status":"accepted","subscribers":1}]})");
  EXPECT_EQ(json::serialize(json::parse(reply.body)), reply.body);
}

// One durable write per batch: the mutations and their audit records are
// one transaction of the audit chain, the records say what happened to
// each item and carry the answer's digest.
TEST_P(MutationServiceTest, ABatchAndItsAuditRecordsAreOneWrite) {
  const uint64_t commits = audit_->commits();
  Reply reply = Publish("nr", Batch(Item("m1") + "," + Item("m1") + "," +
                                    Item("m2", "{}", "person.shoe-size") + "," + Item("m3")));
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(audit_->commits(), commits + 1);
  EXPECT_EQ(audit_->last_seq(), 4);
  Result<std::vector<audit::Record>> records =
      store_->audit().QueryAudit(audit::Query{.requester = "nr", .kind = audit::Kind::kMutation});
  ASSERT_TRUE(records.has_value()) << records.error().ToString();
  ASSERT_EQ(records->size(), 4u);
  std::map<int64_t, audit::Record> by_seq;
  for (const audit::Record& record : *records) by_seq[record.seq] = record;
  EXPECT_EQ(by_seq[1].reason, "accepted");
  EXPECT_EQ(by_seq[1].detail, "id=m1 subscribers=1");
  EXPECT_EQ(by_seq[1].providers, "mut-100:ISC/24/001");
  EXPECT_EQ(by_seq[2].reason, "duplicate");
  EXPECT_EQ(by_seq[3].outcome, StatusCode::kUnknownDataType);
  EXPECT_EQ(by_seq[4].detail, "id=m3 subscribers=1");
  for (const auto& [seq, record] : by_seq) {
    EXPECT_EQ(record.answer_sha256, audit::Sha256Hex(reply.body));
    EXPECT_EQ(record.request_id, by_seq[1].request_id);
  }
  Result<audit::VerifyReport> report = audit::Verify(store_->audit());
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok) << report->first_bad;
}

// Batches published at once share transactions (group commit): every item
// is answered, written once, and the chain verifies.
TEST_P(MutationServiceTest, ConcurrentBatchesAreAllAcceptedOnce) {
  constexpr int kThreads = 4, kBatches = 10;
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        // Each id twice across threads: one is accepted, the other a duplicate.
        Reply reply = Publish("nr", Batch(Item(fmt::format("m{}-{}", t / 2, b))));
        if (reply.status == 202 && Result0(reply).at("status").as_string() == "accepted") ++accepted;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), kThreads / 2 * kBatches);
  Result<std::vector<store::Delivery>> feed = store_->mutations().DeliveriesAfter("mut-100", 0, 1000);
  ASSERT_TRUE(feed.has_value());
  EXPECT_EQ(feed->size(), size_t{kThreads / 2 * kBatches});
  EXPECT_EQ(audit_->last_seq(), kThreads * kBatches);
  Result<audit::VerifyReport> report = audit::Verify(store_->audit());
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok) << report->first_bad;
}

TEST_P(MutationServiceTest, ABatchOverTheLimitIsRefusedWhole) {
  std::string items;
  for (size_t i = 0; i <= kMaxMutationsPerBatch; ++i) {
    if (i > 0) items += ",";
    items += Item(fmt::format("m{}", i));
  }
  Reply reply = Publish("nr", Batch(items));
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("invalid-request"));
}

TEST_P(MutationServiceTest, SubscribersGetOnlyTheirAuthorizedFields) {
  Reply reply = Publish(
      "nr", Batch(Item("m1", R"({"street": "Rue Neuve 1", "municipality": "Namur"})")));
  EXPECT_EQ(Result0(reply).at("subscribers").as_int64(), 1);
  std::promise<Reply> feed;
  service_->ReadFeed("mut-100", "0", std::nullopt, std::nullopt,
                     [&](Reply r) { feed.set_value(std::move(r)); });
  Reply read = feed.get_future().get();
  ASSERT_EQ(read.status, 200) << read.body;
  json::object body = json::parse(read.body).as_object();
  ASSERT_EQ(body.at("mutations").as_array().size(), 1u);
  EXPECT_EQ(json::serialize(body.at("mutations").at(0).at("data")), R"({"street":"Rue Neuve 1"})");
}

// The subscribers of a batch are resolved per person, on the entries active
// today, with the directory read once for the whole batch.
TEST_P(MutationServiceTest, EachPersonOfABatchHasItsOwnSubscribers) {
  constexpr char kOther[] = "17073003384";  // mut-200 now; mut-100 until 2023
  constexpr char kNobody[] = "90010100123";  // no entry at all
  ASSERT_TRUE(store_->directory()
                  .ApplyEntryChanges(std::vector<directory::EntryChange>{
                      {directory::EntryAction::kAdd,
                       {kOther, "mut-200", "insured", Period{*Date::Parse("2020-01-01"), {}}}},
                      {directory::EntryAction::kAdd,
                       {kOther, "mut-100", "insured",
                        Period{*Date::Parse("2020-01-01"), *Date::Parse("2023-12-31")}}}})
                  .has_value());
  auto item = [](const std::string& id, const char* niss) {
    return fmt::format(R"({{"id": "{}", "data_type": "person.address", "niss": "{}", )"
                       R"("effective": "2024-05-01", "data": {{"street": "Rue Neuve 1"}}}})",
                       id, niss);
  };
  Reply reply = Publish("nr", Batch(item("o1", kOther) + "," + item("p1", kPerson) + "," +
                                    item("n1", kNobody) + "," + item("o2", kOther)));
  ASSERT_EQ(reply.status, 202) << reply.body;
  const json::value answer = json::parse(reply.body);
  const json::array& results = answer.at("results").as_array();
  ASSERT_EQ(results.size(), 4u);
  for (size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(results[i].at("status").as_string(), "accepted") << reply.body;
    EXPECT_EQ(results[i].at("subscribers").as_int64(), i == 2 ? 0 : 1) << reply.body;
  }
  auto ids = [&](const char* subscriber) {
    std::promise<Reply> feed;
    service_->ReadFeed(subscriber, "0", std::nullopt, std::nullopt,
                       [&](Reply r) { feed.set_value(std::move(r)); });
    const json::value read = json::parse(feed.get_future().get().body);
    std::vector<std::string> out;
    for (const json::value& delivery : read.at("mutations").as_array()) {
      out.emplace_back(delivery.at("id").as_string());
    }
    return out;
  };
  EXPECT_THAT(ids("mut-100"), ::testing::ElementsAre("p1"));
  EXPECT_THAT(ids("mut-200"), ::testing::ElementsAre("o1", "o2"));
}

// The waiting read is answered by the publication, not by the end of its
// wait. A reader left unwoken re-reads the feed when its 30 s expire and
// would find the mutation then, so the answer must come well before: within
// 10 s (a third of the wait, ample on a loaded machine; a wake-up takes
// milliseconds).
TEST_P(MutationServiceTest, ALongPollIsAnsweredWhenAMutationArrives) {
  // Shared with the callback: should the test fail, the service answers
  // the read later (at shutdown), after this frame is gone.
  auto feed = std::make_shared<std::promise<Reply>>();
  std::future<Reply> answered = feed->get_future();
  service_->ReadFeed("mut-100", "0", std::nullopt, "30",
                     [feed](Reply r) { feed->set_value(std::move(r)); });
  ASSERT_EQ(answered.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "answered before anything was published";
  Publish("nr", Batch(Item("m1")));
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the publication did not wake the waiting read";
  Reply read = answered.get();
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body).at("mutations").as_array().size(), 1u);
}

// A feed read that acknowledges: its acknowledgement and its audit record
// are one transaction (docs/mutations.md, "Feeds"): one audit commit, the
// record traces the answer, and what it acknowledged is gone when the answer
// arrives. (That they are not two commits shows in the next test: an
// acknowledgement written first would be gone before the answer.)
TEST_P(MutationServiceTest, AReadsAcknowledgementAndItsRecordAreOneWrite) {
  ASSERT_EQ(Publish("nr", Batch(Item("m1") + "," + Item("m2") + "," + Item("m3"))).status, 202);
  Reply first = Read("mut-100", "0", "1");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string next = std::string(json::parse(first.body).at("next").as_string());
  const uint64_t commits = audit_->commits();
  Reply second = Read("mut-100", next, "1");
  ASSERT_EQ(second.status, 200) << second.body;
  json::array got = json::parse(second.body).at("mutations").as_array();
  ASSERT_EQ(got.size(), 1u) << second.body;
  EXPECT_EQ(got[0].at("id").as_string(), "m2");
  EXPECT_EQ(audit_->commits(), commits + 1);
  // m1 acknowledged: a reader starting over begins at m2.
  Result<std::vector<store::Delivery>> left = store_->mutations().DeliveriesAfter("mut-100", 0, 10);
  ASSERT_TRUE(left.has_value()) << left.error().ToString();
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].id, "m2");
  Result<std::vector<audit::Record>> records = store_->audit().QueryAudit(
      audit::Query{.requester = "mut-100", .kind = audit::Kind::kFeedRead});
  ASSERT_TRUE(records.has_value()) << records.error().ToString();
  ASSERT_EQ(records->size(), 2u);
  const audit::Record& record =
      (*records)[0].seq > (*records)[1].seq ? (*records)[0] : (*records)[1];
  EXPECT_EQ(record.detail, fmt::format("after={} returned=1 next={}", next, got[0].at("cursor").as_string()));
  EXPECT_EQ(record.answer_sha256, audit::Sha256Hex(second.body));
  Result<audit::VerifyReport> report = audit::Verify(store_->audit());
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok) << report->first_bad;
}

// A long poll's acknowledgement is written with its answer: what it
// acknowledged waits meanwhile, and is gone once the answer arrives.
TEST_P(MutationServiceTest, AWaitingReadAcknowledgesWithItsAnswer) {
  std::future<Reply> answered;
  ASSERT_NO_FATAL_FAILURE(WaitAfterAFirstMutation(&answered));
  Result<std::vector<store::Delivery>> waiting =
      store_->mutations().DeliveriesAfter("mut-100", 0, 10);
  ASSERT_TRUE(waiting.has_value()) << waiting.error().ToString();
  EXPECT_EQ(waiting->size(), 1u) << "acknowledged before the answer";
  ASSERT_EQ(Publish("nr", Batch(Item("m2"))).status, 202);
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the publication did not wake the waiting read";
  Reply read = answered.get();
  ASSERT_EQ(read.status, 200) << read.body;
  Result<std::vector<store::Delivery>> left = store_->mutations().DeliveriesAfter("mut-100", 0, 10);
  ASSERT_TRUE(left.has_value()) << left.error().ToString();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, "m2");
}

// A waiting read woken by a publication is answered from inside the
// publication's transaction: one commit holds the mutation, the read's
// acknowledgement and both audit records, and the answer leaves with the 202.
TEST_P(MutationServiceTest, AWokenReadIsAnsweredInThePublicationsCommit) {
  std::future<Reply> answered;
  ASSERT_NO_FATAL_FAILURE(WaitAfterAFirstMutation(&answered));
  const uint64_t commits = audit_->commits();
  const int64_t seq = audit_->last_seq();
  ASSERT_EQ(Publish("nr", Batch(Item("m2"))).status, 202);
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Reply read = answered.get();
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(audit_->commits(), commits + 1);
  EXPECT_EQ(audit_->last_seq(), seq + 2);
  Result<std::vector<audit::Record>> records = store_->audit().QueryAudit(
      audit::Query{.requester = "mut-100", .kind = audit::Kind::kFeedRead});
  ASSERT_TRUE(records.has_value()) << records.error().ToString();
  bool traced = false;
  for (const audit::Record& record : *records) {
    if (record.seq != seq + 2) continue;
    traced = true;
    EXPECT_EQ(record.answer_sha256, audit::Sha256Hex(read.body));
    EXPECT_EQ(record.niss, kPerson);
  }
  EXPECT_TRUE(traced) << "the read's record is not the one after the publication's";
  Result<std::vector<store::Delivery>> left = store_->mutations().DeliveriesAfter("mut-100", 0, 10);
  ASSERT_TRUE(left.has_value()) << left.error().ToString();
  ASSERT_EQ(left->size(), 1u);  // m1 acknowledged in the same commit
  EXPECT_EQ((*left)[0].id, "m2");
  Result<audit::VerifyReport> report = audit::Verify(store_->audit());
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok) << report->first_bad;
}

TEST_P(MutationServiceTest, ShutdownAnswersWaitingReads) {
  std::promise<Reply> feed;
  service_->ReadFeed("mut-100", "0", std::nullopt, "60",
                     [&](Reply r) { feed.set_value(std::move(r)); });
  service_->Shutdown();
  Reply read = feed.get_future().get();
  EXPECT_EQ(read.status, 200) << read.body;
}

TEST(ParseFeedQuery, RefusesBadParameters) {
  Options options;
  struct Case {
    std::optional<std::string_view> after, limit, wait;
    bool ok;
  };
  const Case cases[] = {
      {std::nullopt, std::nullopt, std::nullopt, true},
      {"12", "10", "5", true},
      {"-1", std::nullopt, std::nullopt, false},
      {"abc", std::nullopt, std::nullopt, false},
      {std::nullopt, "0", std::nullopt, false},
      {std::nullopt, "100000", std::nullopt, false},
      {std::nullopt, std::nullopt, "x", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("{} {} {}", c.after.value_or("-"), c.limit.value_or("-"),
                             c.wait.value_or("-")));
    EXPECT_EQ(ParseFeedQuery(c.after, c.limit, c.wait, options).has_value(), c.ok);
  }
  Result<FeedQuery> capped = ParseFeedQuery(std::nullopt, std::nullopt, "3600", options);
  ASSERT_TRUE(capped.has_value());
  EXPECT_EQ(capped->wait, options.max_wait);
}

// With the directory's copy in memory, a batch's subscribers are exactly
// the store's: a file added or closed through another hub a moment ago
// (another Store on the same database, which this process cannot see
// coming) counts at once; the copy is used again once it caught up.
TEST_P(MutationServiceTest, SubscribersResolvedOnTheDirectorysCopyAreTheStoresOwn) {
  replica::DirectoryReplica replica(store_->directory(), [this] { return engine_; });
  ASSERT_TRUE(replica.Refresh().ok());  // no thread: it catches up when told here
  service_.reset();
  service_ = std::make_unique<MutationService>([this] { return engine_; }, *store_, *audit_,
                                               clock_, Options{}, &replica);
  auto subscribers = [](const Reply& reply) { return Result0(reply).at("subscribers").as_int64(); };
  auto ids = [&](const char* subscriber) {
    const json::value read = json::parse(Read(subscriber, "0", "100").body);
    std::vector<std::string> out;
    for (const json::value& delivery : read.at("mutations").as_array()) {
      out.emplace_back(delivery.at("id").as_string());
    }
    return out;
  };

  Reply first = Publish("nr", Batch(Item("m1")));
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(subscribers(first), 1);
  EXPECT_EQ(replica.stats().memory_reads, 1u) << "resolved on the copy";

  std::unique_ptr<store::Store> other = OpenTestStore(clock_);  // another hub
  ASSERT_NE(other, nullptr);
  const Date since = *Date::Parse("2020-01-01");
  ASSERT_TRUE(other->directory()
                  .ApplyEntryChanges(std::vector<directory::EntryChange>{
                      {directory::EntryAction::kAdd, {kPerson, "mut-200", "insured", Period{since, {}}}},
                      {directory::EntryAction::kClose,
                       {kPerson, "mut-100", "insured", Period{since, *Date::Parse("2024-05-31")}}}})
                  .has_value());
  Reply second = Publish("nr", Batch(Item("m2")));
  ASSERT_EQ(second.status, 202) << second.body;
  EXPECT_EQ(subscribers(second), 1);
  EXPECT_EQ(replica.stats().store_reads, 1u) << "the copy was behind the log: the store decided";

  ASSERT_TRUE(replica.Refresh().ok());
  Reply third = Publish("nr", Batch(Item("m3")));
  ASSERT_EQ(third.status, 202) << third.body;
  EXPECT_EQ(subscribers(third), 1);
  EXPECT_EQ(replica.stats().memory_reads, 2u) << "caught up: the copy again";

  EXPECT_THAT(ids("mut-100"), ::testing::ElementsAre("m1"));
  EXPECT_THAT(ids("mut-200"), ::testing::ElementsAre("m2", "m3"));
  service_.reset();  // before the replica it reads
}

// With Options::deliver, a written group's answers are handed over, all at
// once, instead of being called on the writer thread (the hub runs them on
// its event loop: the writer does no I/O).
TEST_P(MutationServiceTest, AWrittenGroupsAnswersLeaveThroughDeliver) {
  std::mutex mu;
  std::condition_variable handed_over;
  std::vector<std::function<void()>> handed;
  Options options;
  options.deliver = [&](std::function<void()> answers) {
    std::lock_guard lock(mu);
    handed.push_back(std::move(answers));
    handed_over.notify_all();
  };
  service_.reset();
  service_ = std::make_unique<MutationService>([this] { return engine_; }, *store_, *audit_, clock_,
                                               options);
  std::promise<Reply> published;
  std::future<Reply> answer = published.get_future();
  service_->Publish("nr", Batch(Item("m1")), [&](Reply reply) { published.set_value(std::move(reply)); });
  std::function<void()> answers;
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(handed_over.wait_for(lock, std::chrono::seconds(10), [&] { return !handed.empty(); }));
    answers = std::move(handed.front());
  }
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "answered on the writer thread";
  answers();  // here, as the hub's loop would
  ASSERT_EQ(answer.wait_for(std::chrono::milliseconds(0)), std::future_status::ready);
  EXPECT_EQ(answer.get().status, 202);
  service_.reset();
}

INSTANTIATE_TEST_SUITE_P(Engines, MutationServiceTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::mutations
