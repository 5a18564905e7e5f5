// SPDX-License-Identifier: EUPL-1.2
// The directory in memory against the store it copies, on both engines: it
// holds what the store holds, declines to answer when it may be behind,
// follows writes made through another Store on the same database (another
// hub, a directory import), and is rebuilt for a reloaded definition.

#include "replica/directory_replica.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "network/loader.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::replica {
namespace {

using directory::Entry;
using directory::EntryAction;
using directory::EntryChange;
using namespace std::chrono_literals;

constexpr char kNetwork[] = R"(
[[institution_type]]
id = "register"

[[institution_type]]
id = "mutuality"
capacities = ["insured", "holder"]

[[institution]]
id = "nr"
type = "register"
endpoint = "https://127.0.0.1:9101"

[[institution]]
id = "mut-100"
type = "mutuality"
endpoint = "https://127.0.0.1:9104"

[[institution]]
id = "mut-200"
type = "mutuality"
endpoint = "https://127.0.0.1:9105"

[[data_type]]
id = "person.address"
fields = ["street"]

[[availability]]
data_type = "person.address"
provider_type = "register"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
legal_basis = "ISC/24/001"
from = 2020-01-01
)";

// The n-th person's number: 11 digits whose check digits the store does
// not look at (the directory module validates them before the store).
std::string Person(int n) { return fmt::format("{:011d}", 85000000000LL + n * 97); }

Entry File(const std::string& niss, std::string institution, std::string capacity = "insured",
           std::optional<Date> to = std::nullopt, int32_t later = 0) {
  Entry entry;
  entry.niss = niss;
  entry.institution = std::move(institution);
  entry.capacity = std::move(capacity);
  entry.period.from = Date::Parse("2021-03-01")->AddDays(later);
  entry.period.to = to;
  return entry;
}

std::shared_ptr<const directory::DecisionEngine> MakeEngine() {
  Result<network::Definition> definition = network::ParseDefinition(kNetwork, "test.toml");
  EXPECT_TRUE(definition.has_value()) << definition.error().ToString();
  return std::make_shared<directory::DecisionEngine>(
      std::make_shared<const network::Definition>(std::move(*definition)));
}

class DirectoryReplicaTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = OpenTestStore();
    ASSERT_NE(store_, nullptr);
    engine_ = MakeEngine();
  }
  void TearDown() override {
    store_.reset();
    StoreTest::TearDown();
  }

  void Apply(store::Store& store, std::vector<EntryChange> changes) {
    Result<std::vector<directory::EntryResult>> results = store.directory().ApplyEntryChanges(changes);
    ASSERT_TRUE(results.has_value()) << results.error().ToString();
    for (const directory::EntryResult& result : *results) {
      ASSERT_TRUE(result.status.ok()) << result.status.ToString();
    }
  }

  DirectoryReplica::Options SmallPages() {
    DirectoryReplica::Options options;
    options.page = 3;  // several pages and several log reads with few persons
    return options;
  }

  // What the copy holds for `niss`, or nullopt when it declines.
  std::optional<std::vector<Entry>> InMemory(DirectoryReplica& replica, const std::string& niss) {
    DirectoryReplica::View view = replica.Read(*engine_);
    if (!view) return std::nullopt;
    return view->EntriesOf(directory::NissNumber(niss));
  }

  std::vector<Entry> InStore(store::Store& store, const std::string& niss) {
    Result<std::vector<Entry>> entries = store.directory().EntriesOfPerson(niss);
    EXPECT_TRUE(entries.has_value()) << entries.error().ToString();
    return entries ? *entries : std::vector<Entry>{};
  }

  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const directory::DecisionEngine> engine_;
};

TEST_P(DirectoryReplicaTest, HoldsWhatTheStoreHoldsAcrossPages) {
  std::vector<EntryChange> changes;
  for (int n = 0; n < 20; ++n) {
    changes.push_back({EntryAction::kAdd, File(Person(n), "mut-100")});
    if (n % 3 == 0) changes.push_back({EntryAction::kAdd, File(Person(n), "mut-200", "holder")});
    if (n % 4 == 0) changes.push_back({EntryAction::kAdd, File(Person(n), "nr", "insured", *Date::Parse("2024-01-31"))});
  }
  Apply(*store_, changes);
  DirectoryReplica replica(store_->directory(), [this] { return engine_; }, SmallPages());
  EXPECT_FALSE(replica.Read(*engine_)) << "nothing to hand out before the first load";
  ASSERT_TRUE(replica.Refresh().ok());
  EXPECT_EQ(replica.stats().persons, 20u);
  EXPECT_EQ(replica.stats().entries, changes.size());
  for (int n = 0; n < 20; ++n) {
    std::optional<std::vector<Entry>> copy = InMemory(replica, Person(n));
    ASSERT_TRUE(copy.has_value());
    EXPECT_EQ(*copy, InStore(*store_, Person(n))) << Person(n);
  }
  EXPECT_EQ(InMemory(replica, Person(21)), std::vector<Entry>{});
}

TEST_P(DirectoryReplicaTest, DeclinesAfterAWriteOfThisProcessUntilItCaughtUp) {
  const std::string anna = Person(1);
  Apply(*store_, {{EntryAction::kAdd, File(anna, "mut-100")}});
  DirectoryReplica replica(store_->directory(), [this] { return engine_; });
  ASSERT_TRUE(replica.Refresh().ok());
  ASSERT_EQ(InMemory(replica, anna)->size(), 1u);

  // The file closed through this store: the very next read declines (the
  // caller reads the store), whatever the freshness.
  Apply(*store_, {{EntryAction::kClose, File(anna, "mut-100", "insured", *Date::Parse("2022-12-31"))}});
  EXPECT_FALSE(replica.Read(*engine_));
  const uint64_t declined = replica.stats().store_reads;
  EXPECT_GE(declined, 1u);

  ASSERT_TRUE(replica.Refresh().ok());
  std::optional<std::vector<Entry>> copy = InMemory(replica, anna);
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(*copy, InStore(*store_, anna));
  EXPECT_EQ((*copy)[0].period.to, *Date::Parse("2022-12-31"));

  // Removed: the person goes.
  Apply(*store_, {{EntryAction::kRemove, File(anna, "mut-100")}});
  ASSERT_TRUE(replica.Refresh().ok());
  EXPECT_EQ(InMemory(replica, anna), std::vector<Entry>{});
  EXPECT_EQ(replica.stats().persons, 0u);
}

TEST_P(DirectoryReplicaTest, AnotherHubsWriteIsSeenOrTheCopyGoesStale) {
  const std::string anna = Person(2);
  Apply(*store_, {{EntryAction::kAdd, File(anna, "mut-100")}});
  std::unique_ptr<store::Store> other = OpenTestStore();  // another hub on the same database
  ASSERT_NE(other, nullptr);
  DirectoryReplica::Options options;
  options.freshness = 200ms;
  DirectoryReplica replica(store_->directory(), [this] { return engine_; }, options);
  ASSERT_TRUE(replica.Refresh().ok());

  Apply(*other, {{EntryAction::kClose, File(anna, "mut-100", "insured", *Date::Parse("2022-12-31"))}});
  // This process cannot know of it: the copy may still answer, but not for
  // longer than its freshness.
  std::this_thread::sleep_for(options.freshness + 50ms);
  EXPECT_FALSE(replica.Read(*engine_)) << "a copy older than its freshness must decline";
  ASSERT_TRUE(replica.Refresh().ok());
  std::optional<std::vector<Entry>> copy = InMemory(replica, anna);
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(*copy, InStore(*other, anna));
}

TEST_P(DirectoryReplicaTest, ReadAtHandsTheCopyOutOnlyWhenItHoldsThatPositionOfTheLog) {
  const std::string anna = Person(3);
  Apply(*store_, {{EntryAction::kAdd, File(anna, "mut-100")}});
  std::unique_ptr<store::Store> other = OpenTestStore();  // another hub on the same database
  ASSERT_NE(other, nullptr);
  DirectoryReplica replica(store_->directory(), [this] { return engine_; });
  Result<uint64_t> end = store_->directory().LastChange();
  ASSERT_TRUE(end.has_value()) << end.error().ToString();
  EXPECT_FALSE(replica.ReadAt(*engine_, *end)) << "nothing to hand out before the first load";
  ASSERT_TRUE(replica.Refresh().ok());
  ASSERT_TRUE(replica.ReadAt(*engine_, *end));

  // Written elsewhere a moment ago: Read() may still hand the copy out (it
  // is fresh), ReadAt() at the log's new end may not, until it caught up.
  Apply(*other, {{EntryAction::kAdd, File(anna, "mut-200", "holder")}});
  end = store_->directory().LastChange();
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(replica.Read(*engine_));
  EXPECT_FALSE(replica.ReadAt(*engine_, *end));
  ASSERT_TRUE(replica.Refresh().ok());
  {
    DirectoryReplica::View view = replica.ReadAt(*engine_, *end);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->EntriesOf(directory::NissNumber(anna)), InStore(*other, anna));
  }

  // Another definition (a reload): declined whatever the position.
  std::shared_ptr<const directory::DecisionEngine> reloaded = MakeEngine();
  EXPECT_FALSE(replica.ReadAt(*reloaded, 0));
}

TEST_P(DirectoryReplicaTest, ItsThreadFollowsAnotherHub) {
  const std::string anna = Person(3);
  Apply(*store_, {{EntryAction::kAdd, File(anna, "mut-100")}});
  std::unique_ptr<store::Store> other = OpenTestStore();
  ASSERT_NE(other, nullptr);
  DirectoryReplica::Options options;
  options.poll_interval = 20ms;
  DirectoryReplica replica(store_->directory(), [this] { return engine_; }, options);
  replica.Start();
  auto wait_for = [&](auto done) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return InMemory(replica, anna).has_value(); })) << "never loaded";

  Apply(*other, {{EntryAction::kAdd, File(anna, "mut-200", "holder")},
                 {EntryAction::kAdd, File(Person(4), "mut-100")}});
  EXPECT_TRUE(wait_for([&] {
    std::optional<std::vector<Entry>> copy = InMemory(replica, anna);
    return copy && copy->size() == 2 && InMemory(replica, Person(4))->size() == 1;
  })) << "the other hub's adds never reached the copy";
  // Every answer the copy gave was the store's at some moment: never a mix.
  EXPECT_EQ(*InMemory(replica, anna), InStore(*store_, anna));
}

TEST_P(DirectoryReplicaTest, AnIdentityReplacementMovesTheCopyToo) {
  const std::string old_niss = Person(5);
  const std::string new_niss = Person(6);
  Apply(*store_, {{EntryAction::kAdd, File(old_niss, "mut-100")}});
  DirectoryReplica replica(store_->directory(), [this] { return engine_; });
  ASSERT_TRUE(replica.Refresh().ok());

  store::NewMutation replacement;
  replacement.source = "nr";
  replacement.id = "r1";
  replacement.data_type = "person.niss-replaced";
  replacement.niss = old_niss;
  replacement.effective = *Date::Parse("2024-05-01");
  replacement.data = "{}";
  replacement.replaced_by = new_niss;
  Result<std::vector<bool>> accepted = store_->mutations().AcceptMutations({&replacement, 1}, 1);
  ASSERT_TRUE(accepted.has_value()) << accepted.error().ToString();
  EXPECT_FALSE(replica.Read(*engine_)) << "a replacement is a write to the directory";
  ASSERT_TRUE(replica.Refresh().ok());
  EXPECT_EQ(InMemory(replica, old_niss), std::vector<Entry>{});
  EXPECT_EQ(*InMemory(replica, new_niss), InStore(*store_, new_niss));
  EXPECT_EQ(InMemory(replica, new_niss)->size(), 1u);
}

TEST_P(DirectoryReplicaTest, IsRebuiltForAReloadedDefinition) {
  Apply(*store_, {{EntryAction::kAdd, File(Person(7), "mut-100")}});
  std::shared_ptr<const directory::DecisionEngine> current = engine_;
  DirectoryReplica replica(store_->directory(), [&] { return current; });
  ASSERT_TRUE(replica.Refresh().ok());
  ASSERT_TRUE(replica.Read(*engine_));

  current = MakeEngine();  // the reload: another definition
  EXPECT_FALSE(replica.Read(*current)) << "a copy built on the old definition must not decide";
  ASSERT_TRUE(replica.Refresh().ok());
  DirectoryReplica::View view = replica.Read(*current);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->definition(), current->definition());
  EXPECT_EQ(view->EntriesOf(directory::NissNumber(Person(7))).size(), 1u);
  EXPECT_EQ(replica.stats().loads, 2u);
}

TEST_P(DirectoryReplicaTest, ConcurrentWritersThroughTwoStoresEndInTheSameCopy) {
  std::unique_ptr<store::Store> other = OpenTestStore();
  ASSERT_NE(other, nullptr);
  DirectoryReplica::Options options;
  options.poll_interval = 5ms;
  options.page = 7;
  DirectoryReplica replica(store_->directory(), [this] { return engine_; }, options);
  replica.Start();
  auto writer = [&](store::Store& store, int first) {
    for (int n = first; n < first + 40; ++n) {
      const Entry entry = File(Person(n % 13), n % 2 ? "mut-100" : "mut-200",
                               n % 3 ? "insured" : "holder", std::nullopt, n);
      Apply(store, {{EntryAction::kAdd, entry}});
      if (n % 5 == 0) Apply(store, {{EntryAction::kRemove, entry}});
    }
  };
  std::thread a([&] { writer(*store_, 0); });
  std::thread b([&] { writer(*other, 1000); });
  a.join();
  b.join();
  replica.Stop();
  ASSERT_TRUE(replica.Refresh().ok());
  ASSERT_EQ(replica.stats().loads, 1u) << "followed by the log, not loaded again";
  for (int n = 0; n < 13; ++n) {
    std::optional<std::vector<Entry>> copy = InMemory(replica, Person(n));
    ASSERT_TRUE(copy.has_value());
    EXPECT_EQ(*copy, InStore(*store_, Person(n))) << Person(n);
  }
}

TEST_P(DirectoryReplicaTest, TheLogIsPrunedAndPositionsNeverGoBack) {
  Apply(*store_, {{EntryAction::kAdd, File(Person(8), "mut-100")}});
  Result<uint64_t> first = store_->directory().LastChange();
  ASSERT_TRUE(first.has_value());
  EXPECT_GT(*first, 0u);
  Apply(*store_, {{EntryAction::kAdd, File(Person(9), "mut-100")}});
  Result<store::DirectoryStore::Changes> changes = store_->directory().ChangesAfter(0, 100);
  ASSERT_TRUE(changes.has_value());
  EXPECT_EQ(changes->persons, (std::vector<uint64_t>{directory::NissNumber(Person(8)),
                                                     directory::NissNumber(Person(9))}));
  const uint64_t second = changes->last;
  EXPECT_GT(second, *first);

  ASSERT_TRUE(store_->directory().ForgetChangesUpTo(*first).ok());
  changes = store_->directory().ChangesAfter(0, 100);
  ASSERT_TRUE(changes.has_value());
  EXPECT_EQ(changes->persons, std::vector<uint64_t>{directory::NissNumber(Person(9))});

  // Pruned to nothing (or to its last change): the next position is still
  // past every position given before.
  ASSERT_TRUE(store_->directory().ForgetChangesUpTo(UINT64_MAX).ok());
  Apply(*store_, {{EntryAction::kAdd, File(Person(10), "mut-100")}});
  changes = store_->directory().ChangesAfter(second, 100);
  ASSERT_TRUE(changes.has_value());
  EXPECT_EQ(changes->persons, std::vector<uint64_t>{directory::NissNumber(Person(10))});
  EXPECT_GT(changes->last, second) << "a pruned log must not give a position twice";
}

INSTANTIATE_TEST_SUITE_P(Engines, DirectoryReplicaTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::replica
