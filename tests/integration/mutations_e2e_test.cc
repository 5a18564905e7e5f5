// SPDX-License-Identifier: EUPL-1.2
// End to end: mutations (docs/api.md section 4.3) through real `carrefour hub`
// processes over real mutual TLS; with PostgreSQL, two hubs on one database.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "store/testing/store_test_fixture.h"
#include "store/testing/test_database.h"
#include "tests/integration/hub_fixture.h"

namespace carrefour {
namespace {

namespace json = boost::json;

using testing::Feed;
using testing::kAnna;
using testing::kAnnaNew;

// Who is entitled to Anna's move (the network of hub_fixture.h): mut-100 only
// (a file, subscribed, authorized). mut-200 has no file, mut-300's file is
// closed, cpas is not subscribed, fund's authorization has expired, nr is the
// source.
class MutationsE2E : public testing::HubFixture {
 protected:
  void IntegrateEveryone() {
    Integrate("mut-100", "insured");
    Integrate("mut-300", "insured", R"("2021-01-01")");
    Integrate("cpas", "beneficiary");
    Integrate("fund", "child-beneficiary");
  }
  void RetentionScenario(store::testing::Engine engine);
};

TEST_F(MutationsE2E, AMoveReachesExactlyTheEntitledInstitutionsWithTheirFields) {
  StartHub(0);
  IntegrateEveryone();
  auto [status, body] = Post("nr", "/v1/mutations", Batch({Move("move-1")}));
  ASSERT_EQ(status, 202) << body;
  EXPECT_EQ(body.at("results").at(0).at("status"), "accepted") << body;
  EXPECT_EQ(body.at("results").at(0).at("subscribers"), 1) << body;

  Feed mutuality = Read("mut-100", "after=0");
  ASSERT_EQ(mutuality.status, 200) << mutuality.body;
  ASSERT_EQ(mutuality.mutations.size(), 1u) << mutuality.body;
  const json::object& move = mutuality.mutations[0];
  EXPECT_EQ(move.at("id"), "move-1");
  EXPECT_EQ(move.at("source"), "nr");
  EXPECT_EQ(move.at("data_type"), "person.address");
  EXPECT_EQ(move.at("niss"), kAnna);
  EXPECT_EQ(move.at("effective"), "2024-05-01");
  EXPECT_EQ(json::serialize(move.at("data")),
            R"({"street":"Rue Neuve 1","postal_code":"5000","municipality":"Namur"})");
  EXPECT_TRUE(move.at("cursor").is_string());
  EXPECT_EQ(mutuality.next, std::string(move.at("cursor").as_string()));

  for (const char* other : {"mut-200", "mut-300", "cpas", "fund", "nr"}) {
    SCOPED_TRACE(other);
    Feed feed = Read(other, "after=0");
    EXPECT_EQ(feed.status, 200) << feed.body;
    EXPECT_TRUE(feed.mutations.empty()) << feed.body;
    EXPECT_EQ(feed.next, "0");
  }
  std::string audit = AdminGet("/v1/admin/audit?requester=nr");
  EXPECT_NE(audit.find("\"mutation\""), std::string::npos) << audit;
  audit = AdminGet("/v1/admin/audit?requester=mut-100");
  EXPECT_NE(audit.find("\"feed-read\""), std::string::npos) << audit;
}

TEST_F(MutationsE2E, RefusalsDuplicatesAndTheBatchLimit) {
  StartHub(0);
  IntegrateEveryone();
  struct Row {
    std::string name;
    std::string as;
    std::string item;
    std::string status;
    std::string code;
  };
  const Row rows[] = {
      {"first", "nr", Move("m1"), "accepted", ""},
      {"same id again", "nr", Move("m1"), "duplicate", ""},
      {"not a source", "mut-100", Move("m2"), "rejected", "not-a-source"},
      {"unknown field", "nr", Move("m3", R"(, "shoe_size": 42)"), "rejected", "invalid-request"},
      {"bad niss", "nr",
       R"({"id": "m4", "data_type": "person.address", "niss": "85073003329", "effective": "2024-05-01", "data": {}})",
       "rejected", "invalid-niss"},
      {"unknown data type", "nr",
       R"({"id": "m5", "data_type": "person.shoe", "niss": "85073003328", "effective": "2024-05-01", "data": {}})",
       "rejected", "unknown-data-type"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    auto [status, body] = Post(row.as, "/v1/mutations", Batch({row.item}));
    ASSERT_EQ(status, 202) << body;
    const json::value& result = body.at("results").at(0);
    EXPECT_EQ(result.at("status"), row.status.c_str()) << body;
    if (!row.code.empty()) {
      EXPECT_EQ(result.at("error").at("code"), row.code.c_str()) << body;
    }
    if (row.name == "unknown field") {
      EXPECT_NE(json::serialize(result).find("shoe_size"), std::string::npos) << body;
    }
  }
  std::vector<std::string> items;
  for (int i = 0; i < 1001; ++i) items.push_back(Move(fmt::format("big-{}", i)));
  auto [status, body] = Post("nr", "/v1/mutations", Batch(items));
  EXPECT_EQ(status, 400) << body;
  EXPECT_EQ(body.at("error").at("code"), "invalid-request") << body;
  EXPECT_EQ(Read("mut-100", "after=0").mutations.size(), 1u);
}

// The read waits up to 30 s. Left unwoken, it would re-read the feed at the
// end of its wait and find the mutation then; so the answer must arrive well
// before: within 10 s of the publication (a third of the wait, ample on a
// loaded machine; a wake-up takes milliseconds).
TEST_F(MutationsE2E, ALongPollIsAnsweredWhenAMutationArrives) {
  StartHub(0);
  IntegrateEveryone();
  std::future<Feed> waiting =
      std::async(std::launch::async, [this] { return Read("mut-100", "after=0&wait=30"); });
  // Publish once the read is waiting (the hub's gauge says so).
  ASSERT_TRUE(WaitForMetric("carrefour_feed_waiting 1")) << "the read never waited";
  auto [status, body] = Post("nr", "/v1/mutations", Batch({Move("m1")}));
  ASSERT_EQ(status, 202) << body;
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the publication did not wake the waiting read";
  Feed feed = waiting.get();
  ASSERT_EQ(feed.status, 200) << feed.body;
  ASSERT_EQ(feed.mutations.size(), 1u) << feed.body;
  EXPECT_EQ(feed.mutations[0].at("id"), "m1");
}

TEST_F(MutationsE2E, UnacknowledgedSurviveARestartAndAcknowledgedAreNotRedelivered) {
  StartHub(0);
  IntegrateEveryone();
  auto [status, body] = Post("nr", "/v1/mutations", Batch({Move("m1"), Move("m2"), Move("m3")}));
  ASSERT_EQ(status, 202) << body;
  Feed first = Read("mut-100", "after=0&limit=2");
  ASSERT_EQ(first.mutations.size(), 2u);
  EXPECT_EQ(Read("mut-100", "after=0&limit=2").mutations.size(), 2u);  // not acknowledged

  StopHub(0);
  StartHub(0);
  Feed again = Read("mut-100", "after=0");
  ASSERT_EQ(again.mutations.size(), 3u) << again.body;
  Feed rest = Read("mut-100", "after=" + first.next);
  ASSERT_EQ(rest.mutations.size(), 1u) << rest.body;
  EXPECT_EQ(rest.mutations[0].at("id"), "m3");
  Feed after_ack = Read("mut-100", "after=0");
  ASSERT_EQ(after_ack.mutations.size(), 1u) << after_ack.body;
  EXPECT_EQ(after_ack.mutations[0].at("id"), "m3");
  std::string metrics = AdminGet("/metrics");
  EXPECT_NE(metrics.find("carrefour_feed_backlog{subscriber=\"mut-100\"} 1"), std::string::npos)
      << metrics;
}

TEST_F(MutationsE2E, AnIdentityReplacementMovesTheFilesAndIsDelivered) {
  StartHub(0);
  IntegrateEveryone();
  auto [status, body] = Post(
      "nr", "/v1/mutations",
      Batch({fmt::format(R"({{"id": "r1", "data_type": "person.niss-replaced", "niss": "{}", )"
                         R"("effective": "2024-05-01", "data": {{"new_niss": "{}"}}}})",
                         kAnna, kAnnaNew)}));
  ASSERT_EQ(status, 202) << body;
  ASSERT_EQ(body.at("results").at(0).at("status"), "accepted") << body;
  Feed feed = Read("mut-100", "after=0");
  ASSERT_EQ(feed.mutations.size(), 1u) << feed.body;
  EXPECT_EQ(feed.mutations[0].at("data").at("new_niss"), kAnnaNew);

  Result<net::ClientResponse> entries = Client("mut-100")->GetSync(
      Api(), fmt::format("/v1/directory/entries?niss={}", kAnnaNew));
  ASSERT_TRUE(entries);
  EXPECT_NE(entries->body.find("insured"), std::string::npos) << entries->body;
  auto [refused, refusal] = Post(
      "mut-100", "/v1/consultations",
      fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
  EXPECT_EQ(refused, 403) << refusal;
  EXPECT_NE(json::serialize(refusal).find(
                fmt::format("this number was replaced by {} on 2024-05-01", kAnnaNew)),
            std::string::npos)
      << refusal;
  // The disclosure is audited...
  std::string audit = AdminGet(fmt::format("/v1/admin/audit?niss={}&requester=mut-100", kAnna));
  EXPECT_NE(audit.find(fmt::format("replaced by {}", kAnnaNew)), std::string::npos) << audit;
  // ...and made only to an institution with a file on either number.
  auto [stranger, unexplained] = Post(
      "mut-200", "/v1/consultations",
      fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
  EXPECT_EQ(stranger, 403) << unexplained;
  EXPECT_EQ(unexplained.at("error").at("code"), "not-integrated") << unexplained;
  EXPECT_EQ(json::serialize(unexplained).find(kAnnaNew), std::string::npos) << unexplained;
}

// Retention inside a running hub (docs/mutations.md, "Retention"), checked
// in the store itself: a copy acknowledged by a feed read is deleted at once;
// then the hub, restarted with a retention of one second, purges on its own
// (no read, no call) the unacknowledged copies, their payloads, and the
// identities of the mutations, so that an id may be used again.
void MutationsE2E::RetentionScenario(store::testing::Engine engine) {
  Result<std::unique_ptr<store::testing::TestDatabase>> database =
      store::testing::TestDatabase::Create(engine);
  if (!database) {
    if (engine == store::testing::Engine::kPostgres && !store::testing::InCi()) {
      GTEST_SKIP() << database.error().message();
    }
    FAIL() << database.error().ToString();  // CI must test both engines
  }
  auto count = [&](const std::string& sql) {
    Result<std::string> value = (*database)->QueryText(sql);
    EXPECT_TRUE(value) << value.error().ToString();
    return value ? std::stoi(*value) : -1;
  };
  const std::string url = (*database)->url();
  StartHub(0, url);  // production retention: 30 days
  IntegrateEveryone();
  auto [status, body] =
      Post("nr", "/v1/mutations", Batch({Move("m1"), Move("m2"), Move("m3")}));
  ASSERT_EQ(status, 202) << body;
  Feed first = Read("mut-100", "after=0&limit=1");
  ASSERT_EQ(first.mutations.size(), 1u) << first.body;
  ASSERT_EQ(first.mutations[0].at("id"), "m1");
  Feed second = Read("mut-100", "after=" + first.next + "&limit=1");  // acknowledges m1
  ASSERT_EQ(second.mutations.size(), 1u) << second.body;
  // Copies waiting in the feeds' blocks; m1's copy and payload gone.
  EXPECT_EQ(count("SELECT coalesce(sum(last_cursor - acked), 0) FROM mutation_block"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM mutation WHERE id = 'm1' "
                  "AND (pending > 0 OR data IS NOT NULL)"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM mutation WHERE data IS NOT NULL"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM mutation"), 3);  // identities stay for duplicates

  StopHub(0);
  StartHub(0, url, {"--retention", "1s", "--purge-interval", "1s"});
  // The purge runs on the hub's own clock: wait for its counter (the guard
  // only keeps a broken hub from hanging the test).
  const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string metrics;
  while ((metrics = AdminGet("/metrics")).find("carrefour_mutations_expired_total 2\n") ==
             std::string::npos &&
         std::chrono::steady_clock::now() < guard) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(metrics.find("carrefour_mutations_expired_total 2\n"), std::string::npos) << metrics;
  EXPECT_EQ(count("SELECT count(*) FROM mutation_block"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM mutation"), 0);
  EXPECT_TRUE(Read("mut-100", "after=0").mutations.empty());
  auto [again, answer] = Post("nr", "/v1/mutations", Batch({Move("m1")}));
  ASSERT_EQ(again, 202) << answer;
  EXPECT_EQ(answer.at("results").at(0).at("status"), "accepted") << answer;
  StopHub(0);  // before the database goes
}

TEST_F(MutationsE2E, TheRunningHubPurgesAcknowledgedAndExpiredCopiesOnSqlite) {
  RetentionScenario(store::testing::Engine::kSqlite);
}

TEST_F(MutationsE2E, TheRunningHubPurgesAcknowledgedAndExpiredCopiesOnPostgresql) {
  RetentionScenario(store::testing::Engine::kPostgres);
}

// Durations need their unit and stay within bounds: usage errors (exit 2).
TEST_F(MutationsE2E, RetentionFlagsAreChecked) {
  for (const char* flags : {"--retention 30", "--retention 0s", "--retention 2w",
                            "--retention 3d --retention-days 3", "--purge-interval 0s"}) {
    SCOPED_TRACE(flags);
    auto [code, output] = testing::RunCommand(fmt::format(
        "{} hub --network {} --data {} --listen 127.0.0.1:0 --admin '' {} 2>&1",
        testing::Env("CARREFOUR_BINARY"), (dir_ / "network.toml").string(),
        (dir_ / "data").string(), flags));
    EXPECT_EQ(code, 2) << output;
  }
}

// Two hub processes on one PostgreSQL database: sources publish through
// both, a subscriber reads through one of them; every accepted mutation is
// delivered once, in cursor order.
TEST_F(MutationsE2E, TwoHubsOnPostgresqlLoseAndDuplicateNothing) {
  std::unique_ptr<store::testing::TestDatabase> database;
  store::testing::PostgresDatabaseOrSkip(&database);
  if (database == nullptr) return;
  StartHub(0, database->url());
  StartHub(1, database->url());
  IntegrateEveryone();

  // A reader waiting on hub 1 is woken by a publication through hub 0
  // (through the database, which hub 1 polls every 250 ms), well before its
  // 30 s wait would end.
  std::future<Feed> waiting =
      std::async(std::launch::async, [this] { return Read("mut-100", "after=0&wait=30", 1); });
  ASSERT_TRUE(WaitForMetric("carrefour_feed_waiting 1", 1)) << "the read never waited";
  ASSERT_EQ(Post("nr", "/v1/mutations", Batch({Move("first")}), 0).first, 202);
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "a publication through hub 0 did not wake the read waiting on hub 1";
  Feed woken = waiting.get();
  ASSERT_EQ(woken.mutations.size(), 1u) << woken.body;

  constexpr int kBatches = 10;
  constexpr int kPerBatch = 50;
  // The guard only keeps a hub that keeps refusing, or a feed that never
  // drains, from hanging the test.
  const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::atomic<int> finished{0};
  auto publish = [&](size_t hub) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<std::string> items;
      for (int i = 0; i < kPerBatch; ++i) items.push_back(Move(fmt::format("h{}-{}-{}", hub, b, i)));
      for (;;) {  // a 503 (contention) is retried, as a source would
        auto [status, body] = Post("nr", "/v1/mutations", Batch(items), hub);
        if (status == 503 && std::chrono::steady_clock::now() < guard) continue;
        ASSERT_EQ(status, 202) << body;
        break;
      }
    }
    ++finished;
  };
  std::thread a(publish, 0), b(publish, 1);
  std::set<std::string> ids{"first"};
  std::string after = woken.next;
  int64_t last_cursor = std::stoll(after);
  const size_t expected = 1 + 2 * kBatches * kPerBatch;
  while (ids.size() < expected) {
    if (std::chrono::steady_clock::now() >= guard) {
      ADD_FAILURE() << "after 120 s, " << ids.size() << " of " << expected << " delivered";
      break;  // the publishers are joined below
    }
    const bool all_published = finished == 2;
    Feed feed = Read("mut-100", fmt::format("after={}&limit=100&wait={}", after, all_published ? 0 : 10), 1);
    if (feed.status != 200) {
      ADD_FAILURE() << feed.status << " " << feed.body;
      break;  // the publishers are joined below
    }
    for (const json::object& item : feed.mutations) {
      int64_t cursor = std::stoll(std::string(item.at("cursor").as_string()));
      EXPECT_GT(cursor, last_cursor);
      last_cursor = cursor;
      EXPECT_TRUE(ids.insert(std::string(item.at("id").as_string())).second)
          << "delivered twice: " << item.at("id");
    }
    after = feed.next;
    // Everything published and an empty read: whatever is missing is lost.
    if (feed.mutations.empty() && all_published) break;
  }
  a.join();
  b.join();
  EXPECT_EQ(ids.size(), expected);
  EXPECT_TRUE(Read("mut-100", "after=" + after, 0).mutations.empty());
  hubs_.clear();  // the hubs close their connections before the database is dropped
}

}  // namespace
}  // namespace carrefour
