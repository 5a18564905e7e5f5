// SPDX-License-Identifier: EUPL-1.2
// Crash: a real `carrefour hub` is killed with SIGKILL while the national
// register publishes 100 000 mutations and five institutions read their
// feeds; it is restarted on the same data (SQLite file or PostgreSQL
// database). The source sends again every batch whose answer it did not get,
// the readers go on from the cursor they last received. Nothing the hub
// answered "accepted" (or, on a resend, "duplicate") may be lost for an
// entitled subscriber, and nothing may reach an institution not entitled.
// Afterwards a look-up of each person's audit records finds exactly the
// records the log holds about them (on SQLite the person index's runs were
// sealed and merged while the hub ran, and when it died).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "audit/storage.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"
#include "store/testing/test_database.h"
#include "tests/integration/hub_fixture.h"

namespace carrefour {
namespace {

namespace json = boost::json;
using store::testing::Engine;
using store::testing::TestDatabase;
using testing::kAnna;
using testing::kBruno;

constexpr int kBatches = 100;
constexpr int kPerBatch = 1000;
constexpr int kTotal = kBatches * kPerBatch;
// The hub is killed once this many batches were answered.
constexpr int kKillAfter = kBatches / 2;

// Mutation i concerns Anna when i is even, Bruno when odd.
std::string IdOf(int i) { return fmt::format("m-{}", i); }
const char* PersonOf(int i) { return i % 2 == 0 ? kAnna : kBruno; }

// The entries declared before publishing: mut-100 insures both, mut-300
// Anna, mut-200 Bruno; cpas (beneficiary: authorized, not subscribed) and
// fund (child-beneficiary: subscribed, authorization ended) hold files too.
bool Entitled(const std::string& institution, const char* niss) {
  if (institution == "mut-100") return true;
  if (institution == "mut-300") return niss == kAnna;
  if (institution == "mut-200") return niss == kBruno;
  return false;
}
const std::vector<std::string> kReaders = {"mut-100", "mut-200", "mut-300", "cpas", "fund"};

// Where the hub answers now; bumped at each (re)start so that a client whose
// call failed waits for the next hub rather than for the dead one.
class CurrentHub {
 public:
  void Set(uint16_t port) {
    {
      std::lock_guard lock(mu_);
      port_ = port;
      ++generation_;
    }
    changed_.notify_all();
  }
  std::pair<uint16_t, int> Get() {
    std::lock_guard lock(mu_);
    return {port_, generation_};
  }
  // Waits for a hub newer than `generation`; false after the guard (a broken
  // test must not hang).
  bool WaitNewer(int generation) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(120),
                             [&] { return generation_ > generation; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  uint16_t port_ = 0;
  int generation_ = 0;
};

class MutationsCrash : public testing::HubFixture,
                       public ::testing::WithParamInterface<Engine> {
 protected:
  // Failures seen by the worker threads (gtest's ASSERT only leaves a lambda).
  void Fail(const std::string& what) {
    std::lock_guard lock(failures_mu_);
    if (failures_.size() < 20) failures_.push_back(what);
  }

  // One publisher: takes batches until none is left; each is sent until the
  // hub answers 202 (a lost answer, a dead hub or a 503 mean: send it again).
  void Publish() {
    std::unique_ptr<net::Client> client = Client("nr", std::chrono::seconds(60));
    for (int b = next_batch_++; b < kBatches; b = next_batch_++) {
      std::vector<std::string> items;
      for (int i = b * kPerBatch; i < (b + 1) * kPerBatch; ++i) {
        items.push_back(Move(IdOf(i), "", PersonOf(i)));
      }
      const std::string body = Batch(items);
      for (int attempt = 1;; ++attempt) {
        auto [port, generation] = hub_.Get();
        Result<net::ClientResponse> response =
            client->PostSync(ApiAt(port), "/v1/mutations", body);
        if (!response) {  // the hub died under the call, or before it
          ++resent_;
          if (!hub_.WaitNewer(generation)) return Fail("no hub came back after a failed publish");
          continue;
        }
        if (response->status == 503) {
          ++resent_;
          if (PastGuard()) return Fail(fmt::format("batch {}: still 503 after 5 minutes", b));
          continue;
        }
        if (response->status != 202) {
          return Fail(fmt::format("batch {}: {} {}", b, response->status, response->body));
        }
        json::value answer = json::parse(response->body);
        const json::array& results = answer.at("results").as_array();
        if (results.size() != kPerBatch) return Fail("batch " + std::to_string(b) + ": short answer");
        std::lock_guard lock(confirmed_mu_);
        for (int k = 0; k < kPerBatch; ++k) {
          const json::value& result = results[k];
          const std::string_view status = result.at("status").as_string();
          // A duplicate is a durable mutation only when this is a resend
          // (its first send was accepted, the answer lost in the crash).
          if (status == "accepted" || (status == "duplicate" && attempt > 1)) {
            confirmed_.insert(b * kPerBatch + k);
            if (status == "duplicate") ++duplicates_;
            if (status == "accepted" && result.at("subscribers") != 2) {
              Fail(fmt::format("{}: {}", IdOf(b * kPerBatch + k), json::serialize(result)));
            }
          } else {
            Fail(fmt::format("{} (attempt {}): {}", IdOf(b * kPerBatch + k), attempt,
                             json::serialize(result)));
          }
        }
        break;
      }
      {
        std::lock_guard lock(answered_mu_);
        ++answered_;
      }
      answered_changed_.notify_all();
    }
  }

  // One reader: long polls its feed from the cursor it last received (the
  // next read acknowledges it) until everything is published and its feed
  // is empty.
  void Read(const std::string& reader, std::set<int>* received) {
    std::unique_ptr<net::Client> client = Client(reader, std::chrono::seconds(60));
    std::string after = "0";
    for (;;) {
      // Read before the call: an empty answer after every batch was
      // answered 202 means the feed is drained.
      const bool all_published = publishers_done_;
      auto [port, generation] = hub_.Get();
      Result<net::ClientResponse> response = client->GetSync(
          ApiAt(port), fmt::format("/v1/mutations/feed?after={}&limit=1000&wait={}", after,
                                   all_published ? 0 : 2));
      if (!response) {
        if (!hub_.WaitNewer(generation)) return Fail(reader + ": no hub came back after a failed read");
        continue;
      }
      if (response->status == 503 && !PastGuard()) continue;
      testing::Feed feed;
      if (!testing::ParseFeed(response->status, response->body, &feed) || feed.status != 200) {
        return Fail(fmt::format("{}: {} {}", reader, response->status, response->body));
      }
      int64_t last = std::stoll(after);
      for (const json::object& item : feed.mutations) {
        const int64_t cursor = std::stoll(std::string(item.at("cursor").as_string()));
        if (cursor <= last) Fail(fmt::format("{}: cursor {} after {}", reader, cursor, last));
        last = cursor;
        const std::string id(item.at("id").as_string());
        const int i = std::stoi(id.substr(2));
        // Only the fields its authorization grants, for the right person.
        if (item.at("niss") != PersonOf(i) ||
            json::serialize(item.at("data")) !=
                R"({"street":"Rue Neuve 1","postal_code":"5000","municipality":"Namur"})") {
          Fail(fmt::format("{}: {}", reader, json::serialize(item)));
        }
        received->insert(i);
      }
      after = feed.next;
      if (feed.mutations.empty() && all_published) return;
      if (PastGuard()) return Fail(reader + ": its feed was not drained after 5 minutes");
    }
  }

  // The retries and the readers' loops end with a failure after this guard
  // (it only keeps a broken hub from hanging the test; a run takes seconds).
  bool PastGuard() const { return std::chrono::steady_clock::now() >= guard_; }

  const std::chrono::steady_clock::time_point guard_ =
      std::chrono::steady_clock::now() + std::chrono::minutes(5);
  CurrentHub hub_;
  std::atomic<int> next_batch_{0};
  std::atomic<int> resent_{0};
  std::atomic<bool> publishers_done_{false};
  std::mutex answered_mu_;
  std::condition_variable answered_changed_;
  int answered_ = 0;  // guarded by answered_mu_
  std::mutex confirmed_mu_;
  std::set<int> confirmed_;  // guarded by confirmed_mu_
  int duplicates_ = 0;       // guarded by confirmed_mu_
  std::mutex failures_mu_;
  std::vector<std::string> failures_;  // guarded by failures_mu_
};

TEST_P(MutationsCrash, NothingAcceptedIsLostAndNothingReachesTheUnentitled) {
  std::unique_ptr<TestDatabase> database;
  std::string store_url;  // SQLite: the default, DATA/hub.db
  if (GetParam() == Engine::kPostgres) {
    Result<std::unique_ptr<TestDatabase>> created = TestDatabase::Create(Engine::kPostgres);
    if (!created) {
      if (!store::testing::InCi()) GTEST_SKIP() << created.error().message();
      FAIL() << created.error().ToString();  // CI must test both engines
    }
    database = std::move(*created);
    store_url = database->url();
  }
  hub_.Set(StartHub(0, store_url));
  ASSERT_FALSE(HasFailure());
  Integrate("mut-100", "insured", "null", kAnna);
  Integrate("mut-100", "insured", "null", kBruno);
  Integrate("mut-300", "insured", "null", kAnna);
  Integrate("mut-200", "insured", "null", kBruno);
  for (const char* niss : {kAnna, kBruno}) {
    Integrate("cpas", "beneficiary", "null", niss);
    Integrate("fund", "child-beneficiary", "null", niss);
  }

  std::vector<std::set<int>> received(kReaders.size());
  std::vector<std::thread> readers;
  for (size_t r = 0; r < kReaders.size(); ++r) {
    readers.emplace_back([this, r, &received] { Read(kReaders[r], &received[r]); });
  }
  std::vector<std::thread> publishers;
  for (int p = 0; p < 2; ++p) publishers.emplace_back([this] { Publish(); });

  // The crash: both publishers have a batch in flight most of the time, the
  // readers a long poll.
  int answered_at_kill;
  {
    std::unique_lock lock(answered_mu_);
    // The guard only keeps a broken test from hanging.
    EXPECT_TRUE(answered_changed_.wait_for(lock, std::chrono::minutes(10),
                                           [&] { return answered_ >= kKillAfter; }));
    answered_at_kill = answered_;
  }
  KillHub(0);
  hub_.Set(StartHub(0, store_url));

  for (std::thread& publisher : publishers) publisher.join();
  publishers_done_ = true;
  for (std::thread& reader : readers) reader.join();
  for (const std::string& failure : failures_) ADD_FAILURE() << failure;

  // Every batch was answered in the end: every mutation is confirmed.
  EXPECT_EQ(confirmed_.size(), static_cast<size_t>(kTotal));
  for (size_t r = 0; r < kReaders.size(); ++r) {
    SCOPED_TRACE(kReaders[r]);
    int missing = 0, unentitled = 0;
    for (int i : confirmed_) {
      if (Entitled(kReaders[r], PersonOf(i)) && received[r].count(i) == 0) ++missing;
    }
    for (int i : received[r]) {
      if (!Entitled(kReaders[r], PersonOf(i))) ++unentitled;
    }
    EXPECT_EQ(missing, 0) << "accepted mutations never delivered";
    EXPECT_EQ(unentitled, 0) << "mutations delivered to an institution not entitled to them";
  }
  EXPECT_EQ(received[0].size(), static_cast<size_t>(kTotal));  // mut-100 holds both persons
  EXPECT_TRUE(received[3].empty());                            // cpas
  EXPECT_TRUE(received[4].empty());                            // fund
  // The restarted hub's audit chain is intact.
  std::string verify = AdminGet("/v1/admin/audit/verify");
  EXPECT_NE(verify.find("\"ok\":true"), std::string::npos) << verify;
  RecordProperty("answered_at_kill", answered_at_kill);
  RecordProperty("resent", resent_.load());
  RecordProperty("duplicates_on_resend", duplicates_);
  std::printf("killed after %d batches answered; %d sends repeated; %d duplicates on resend\n",
              answered_at_kill, resent_.load(), duplicates_);
  StopHub(0);  // a clean stop, before the database goes

  // A person's look-up finds every record about the person, once.
  Result<std::unique_ptr<store::Store>> opened = store::OpenStore(
      store_url.empty() ? "sqlite:" + (dir_ / "data-0" / "hub.db").string() : store_url);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  audit::AuditStorage& audit = (*opened)->audit();
  Result<std::vector<std::string>> nodes = audit.AuditNodes();
  ASSERT_TRUE(nodes.has_value()) << nodes.error().ToString();
  std::map<std::string, size_t> about;  // records per person, read in chain order
  for (const std::string& node : *nodes) {
    for (int64_t from = 1;;) {
      Result<std::vector<audit::Record>> page = audit.ReadAudit(node, from, 10'000);
      ASSERT_TRUE(page.has_value()) << page.error().ToString();
      if (page->empty()) break;
      for (const audit::Record& record : *page) {
        if (!record.niss.empty()) ++about[record.niss];
      }
      from = page->back().seq + 1;
    }
  }
  EXPECT_GE(about[kAnna], static_cast<size_t>(kTotal / 2));
  EXPECT_GE(about[kBruno], static_cast<size_t>(kTotal / 2));
  for (const auto& [niss, count] : about) {
    audit::Query query;
    query.niss = niss;
    query.limit = count + 10;
    Result<std::vector<audit::Record>> found = audit.QueryAudit(query);
    ASSERT_TRUE(found.has_value()) << found.error().ToString();
    EXPECT_EQ(found->size(), count) << niss;
    std::set<std::pair<std::string, int64_t>> keys;
    for (const audit::Record& record : *found) {
      EXPECT_EQ(record.niss, niss);
      keys.emplace(record.node, record.seq);
    }
    EXPECT_EQ(keys.size(), found->size()) << niss << ": a record listed twice";
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, MutationsCrash, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour
