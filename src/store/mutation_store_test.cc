// SPDX-License-Identifier: EUPL-1.2
// The mutations' storage, against both engines (store/testing/).

#include <fstream>
#include <iterator>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/internal/migration.h"
#include "store/postgres/migrations.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::store {
namespace {

using testing::StoreTest;

constexpr char kPerson[] = "85073003328";
constexpr char kNewNumber[] = "90010100123";

Date D(std::string_view text) { return *Date::Parse(text); }

// A feed read as the mutation service makes it: the acknowledgement up to
// `after` (a transaction of its own here), then the deliveries after it.
std::vector<Delivery> AcknowledgeAndRead(MutationStore& store, std::string_view subscriber,
                                         int64_t after, size_t limit) {
  if (after > 0) {
    const FeedAck ack[] = {{std::string(subscriber), after}};
    Result<std::vector<bool>> acknowledged = store.AcceptMutations({}, 1000, nullptr, ack);
    EXPECT_TRUE(acknowledged.has_value()) << acknowledged.error().ToString();
  }
  Result<std::vector<Delivery>> feed = store.DeliveriesAfter(subscriber, after, limit);
  EXPECT_TRUE(feed.has_value()) << feed.error().ToString();
  return feed.value_or(std::vector<Delivery>{});
}

NewMutation Move(std::string id, std::vector<std::string> subscribers,
                 std::string source = "nr") {
  NewMutation mutation;
  mutation.source = std::move(source);
  mutation.id = std::move(id);
  mutation.data_type = "person.address";
  mutation.niss = kPerson;
  mutation.effective = D("2024-05-01");
  mutation.data = fmt::format(R"({{"street":"{}"}})", mutation.id);
  for (std::string& subscriber : subscribers) {
    mutation.copies.push_back(MutationCopy{std::move(subscriber), std::nullopt});
  }
  return mutation;
}

class MutationStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = OpenTestStore();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    StoreTest::TearDown();
  }

  MutationStore& mutations() { return store_->mutations(); }

  std::vector<bool> Accept(std::vector<NewMutation> batch, int64_t now_us = 1000) {
    Result<std::vector<bool>> accepted = mutations().AcceptMutations(batch, now_us);
    EXPECT_TRUE(accepted.has_value()) << accepted.error().ToString();
    return accepted.value_or(std::vector<bool>{});
  }

  std::vector<Delivery> Feed(std::string_view subscriber, int64_t after, size_t limit = 100) {
    return AcknowledgeAndRead(mutations(), subscriber, after, limit);
  }

  static std::vector<std::string> Ids(const std::vector<Delivery>& feed) {
    std::vector<std::string> ids;
    for (const Delivery& delivery : feed) ids.push_back(delivery.id);
    return ids;
  }

  std::unique_ptr<Store> store_;
};

TEST_P(MutationStoreTest, DeliversEachCopyToItsSubscriberInAcceptanceOrder) {
  EXPECT_EQ(Accept({Move("m1", {"mut-100", "cpas"}), Move("m2", {"mut-100"})}),
            (std::vector<bool>{true, true}));
  EXPECT_EQ(Accept({Move("m3", {"cpas", "mut-100"})}), (std::vector<bool>{true}));

  std::vector<Delivery> mutuality = Feed("mut-100", 0);
  EXPECT_EQ(Ids(mutuality), (std::vector<std::string>{"m1", "m2", "m3"}));
  ASSERT_EQ(mutuality.size(), 3u);
  EXPECT_LT(mutuality[0].cursor, mutuality[1].cursor);
  EXPECT_LT(mutuality[1].cursor, mutuality[2].cursor);
  EXPECT_EQ(mutuality[0].source, "nr");
  EXPECT_EQ(mutuality[0].data_type, "person.address");
  EXPECT_EQ(mutuality[0].niss, kPerson);
  EXPECT_EQ(mutuality[0].effective, D("2024-05-01"));
  EXPECT_EQ(mutuality[0].data, R"({"street":"m1"})");
  EXPECT_EQ(Ids(Feed("cpas", 0)), (std::vector<std::string>{"m1", "m3"}));
  EXPECT_TRUE(Feed("nobody", 0).empty());
}

// The payload is stored once; each copy carries only its own fields.
TEST_P(MutationStoreTest, EachCopyCarriesOnlyItsFields) {
  NewMutation mutation = Move("m1", {});
  mutation.data = R"({"street":"Rue Neuve 1","postal_code":"5000","municipality":"Namur"})";
  mutation.copies = {
      MutationCopy{"mut-100", std::nullopt},
      MutationCopy{"cpas", std::vector<std::string>{"postal_code"}},
      MutationCopy{"onem", std::vector<std::string>{"municipality", "street"}},
  };
  NewMutation second = Move("m2", {"cpas"});
  second.copies[0].fields = std::vector<std::string>{"street"};
  EXPECT_EQ(Accept({mutation, second}), (std::vector<bool>{true, true}));
  std::vector<Delivery> all = Feed("mut-100", 0);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].data, mutation.data);
  std::vector<Delivery> cpas = Feed("cpas", 0);
  ASSERT_EQ(cpas.size(), 2u);
  EXPECT_EQ(cpas[0].data, R"({"postal_code":"5000"})");
  EXPECT_EQ(cpas[1].data, R"({"street":"m2"})");
  std::vector<Delivery> onem = Feed("onem", 0);
  ASSERT_EQ(onem.size(), 1u);
  EXPECT_EQ(onem[0].data, R"({"municipality":"Namur","street":"Rue Neuve 1"})");
}

// Acknowledged by every subscriber, a payload is gone from the store, and
// on SQLite from the bytes of the file too (secure_delete): personal data
// must not stay in a free page. Until then the others still get it.
// Feeds' acknowledgements written in a publication's transaction (the
// service's group commit) release exactly what a read's own would, and a late
// or repeated one releases nothing twice.
TEST_P(MutationStoreTest, AcknowledgementsRideInAPublicationsTransaction) {
  Accept({Move("m1", {"mut-100", "cpas"}), Move("m2", {"mut-100", "cpas"}),
          Move("m3", {"mut-100"})});
  auto payloads = [&] {
    return database().QueryText("SELECT count(*) FROM mutation WHERE data IS NOT NULL").value_or("?");
  };
  EXPECT_EQ(payloads(), "3");
  const FeedAck acks[] = {{"cpas", 1}, {"mut-100", 2}};
  NewMutation next = Move("m4", {"cpas"});
  Result<std::vector<bool>> stored =
      mutations().AcceptMutations({&next, 1}, 2000, nullptr, acks);
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  EXPECT_EQ(payloads(), "3");  // m1 gone (both copies acknowledged); m2, m3, m4 wait
  EXPECT_EQ(database().QueryText("SELECT count(*) FROM mutation WHERE id = 'm1' AND data IS NULL").value_or("?"), "1");
  // Late and repeated acknowledgements release nothing more.
  const FeedAck again[] = {{"cpas", 1}, {"mut-100", 1}};
  ASSERT_TRUE(mutations().AcceptMutations({}, 3000, nullptr, again).has_value());
  EXPECT_EQ(payloads(), "3");
  std::vector<Delivery> mutuality = Feed("mut-100", 2);
  ASSERT_EQ(mutuality.size(), 1u);
  EXPECT_EQ(mutuality[0].id, "m3");
  std::vector<Delivery> cpas = Feed("cpas", 1);
  ASSERT_EQ(cpas.size(), 2u);
  EXPECT_EQ(cpas[0].id, "m2");
  EXPECT_EQ(cpas[1].id, "m4");
  const FeedAck all[] = {{"cpas", cpas[1].cursor}, {"mut-100", mutuality[0].cursor}};
  ASSERT_TRUE(mutations().AcceptMutations({}, 4000, nullptr, all).has_value());
  EXPECT_EQ(payloads(), "0");
  EXPECT_TRUE(Feed("cpas", cpas[1].cursor).empty());
}

TEST_P(MutationStoreTest, APayloadIsForgottenWithItsLastCopy) {
  constexpr char kMarker[] = "Chauss\u00e9e-Secr\u00e8te-8317";
  constexpr char kMarkerBytes[] = "Secr";
  NewMutation mutation = Move("m1", {"mut-100", "cpas"});
  mutation.data = fmt::format(R"({{"street":"{}"}})", kMarker);
  NewMutation other = Move("m2", {"mut-100"});
  Accept({mutation, other});
  auto payloads = [&] {
    Result<std::string> count =
        database().QueryText("SELECT count(*) FROM mutation WHERE data IS NOT NULL");
    EXPECT_TRUE(count.has_value()) << count.error().ToString();
    return count.value_or("?");
  };
  EXPECT_EQ(payloads(), "2");
  Feed("mut-100", Feed("mut-100", 0).back().cursor);  // mut-100 acknowledges both
  EXPECT_EQ(payloads(), "1");                          // cpas has not yet
  std::vector<Delivery> cpas = Feed("cpas", 0);
  ASSERT_EQ(cpas.size(), 1u);
  EXPECT_EQ(cpas[0].data, mutation.data);
  Feed("cpas", cpas[0].cursor);
  EXPECT_EQ(payloads(), "0");
  EXPECT_EQ(database().QueryText("SELECT count(*) FROM mutation").value_or("?"), "2");

  if (GetParam() != testing::Engine::kSqlite) return;
  store_.reset();  // the last connection checkpoints the WAL into the file
  const std::string path = database().url().substr(std::string_view("sqlite:").size());
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file) << path;
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 0u);
  EXPECT_EQ(bytes.find(kMarkerBytes), std::string::npos) << "the payload is still in " << path;
  EXPECT_NE(bytes.find("m1"), std::string::npos);  // the identity stays (duplicates)
}

// Acknowledgements release copies run by run of consecutive mutations
// released alike: a mutation between two runs (no copy of its own here) or
// released differently is counted as it should be.
TEST_P(MutationStoreTest, AcknowledgementsReleaseEachMutationsOwnCopies) {
  Accept({Move("m1", {"mut-100", "cpas"}), Move("m2", {}), Move("m3", {"mut-100", "cpas"}),
          Move("m4", {"mut-100"}), Move("m5", {"mut-100", "cpas"})});
  auto pendings = [&] {
    const std::string each =
        "(SELECT pending || (CASE WHEN data IS NULL THEN '' ELSE '+' END) AS p FROM mutation "
        "ORDER BY mid) AS t";
    Result<std::string> text = database().QueryText(
        (GetParam() == testing::Engine::kSqlite ? "SELECT group_concat(p, ',') FROM "
                                                : "SELECT string_agg(p, ',') FROM ") + each);
    EXPECT_TRUE(text.has_value()) << text.error().ToString();
    return text.value_or("?");
  };
  EXPECT_EQ(pendings(), "2+,0,2+,1+,2+");  // copies waiting, + while a payload is kept
  const FeedAck first[] = {{"mut-100", 4}};
  ASSERT_TRUE(mutations().AcceptMutations({}, 2000, nullptr, first).has_value());
  EXPECT_EQ(pendings(), "1+,0,1+,0,1+");
  const FeedAck both[] = {{"cpas", 3}, {"mut-100", 4}};  // mut-100's again: nothing more
  ASSERT_TRUE(mutations().AcceptMutations({}, 3000, nullptr, both).has_value());
  EXPECT_EQ(pendings(), "0,0,0,0,0");
}

// The feeds acknowledge a payload's copies in any order, part of a block at
// a time, alone or in one transaction: each still reads what it has not
// acknowledged, in full, and the payload goes with the last copy.
TEST_P(MutationStoreTest, APayloadStaysUntilItsLastCopyIsAcknowledged) {
  Accept({Move("m1", {"mut-100", "cpas"}), Move("m2", {"mut-100", "cpas"}),
          Move("m3", {"mut-100", "cpas"})}, 1000);
  Accept({Move("m4", {"cpas", "mut-100"}), Move("m5", {"cpas", "mut-100", "inami"})}, 2000);
  auto kept = [&] {
    Result<std::string> text = database().QueryText(
        std::string(GetParam() == testing::Engine::kSqlite ? "SELECT group_concat(id, ',') "
                                                           : "SELECT string_agg(id, ',') ") +
        "FROM (SELECT id FROM mutation WHERE data IS NOT NULL ORDER BY mid) AS t");
    EXPECT_TRUE(text.has_value()) << text.error().ToString();
    return text.value_or("?");
  };
  auto data_of = [](const std::vector<Delivery>& feed) {
    std::vector<std::string> out;
    for (const Delivery& delivery : feed) out.push_back(delivery.id + "=" + delivery.data);
    return out;
  };
  EXPECT_EQ(kept(), "m1,m2,m3,m4,m5");
  // mut-100: m1 m2 m3 (cursors 1-3), m4 m5 (4-5); cpas the same; inami: m5.
  ASSERT_EQ(Ids(Feed("mut-100", 2)), (std::vector<std::string>{"m3", "m4", "m5"}));
  EXPECT_EQ(kept(), "m1,m2,m3,m4,m5");  // cpas has read none of them
  EXPECT_EQ(data_of(Feed("cpas", 1)),
            (std::vector<std::string>{R"(m2={"street":"m2"})", R"(m3={"street":"m3"})",
                                      R"(m4={"street":"m4"})", R"(m5={"street":"m5"})"}));
  EXPECT_EQ(kept(), "m2,m3,m4,m5");  // m1: both copies acknowledged
  // Both feeds in one transaction, into the second block.
  const FeedAck together[] = {{"mut-100", 4}, {"cpas", 5}};
  ASSERT_TRUE(mutations().AcceptMutations({}, 3000, nullptr, together).has_value());
  EXPECT_EQ(kept(), "m5");  // mut-100 and inami still hold m5
  EXPECT_EQ(data_of(Feed("inami", 0)), (std::vector<std::string>{R"(m5={"street":"m5"})"}));
  EXPECT_EQ(data_of(Feed("mut-100", 4)), (std::vector<std::string>{R"(m5={"street":"m5"})"}));
  EXPECT_EQ(Ids(Feed("mut-100", 5)), (std::vector<std::string>{}));
  EXPECT_EQ(kept(), "m5");  // inami's copy
  EXPECT_TRUE(Feed("inami", 1).empty());
  EXPECT_EQ(kept(), "");
  EXPECT_EQ(database().QueryText("SELECT count(*) FROM mutation_block").value_or("?"), "0");
}

TEST_P(MutationStoreTest, DuplicatesAreRefusedWithinAndAcrossBatches) {
  EXPECT_EQ(Accept({Move("m1", {"mut-100"}), Move("m1", {"mut-100"})}),
            (std::vector<bool>{true, false}));
  EXPECT_EQ(Accept({Move("m1", {"mut-100"}), Move("m2", {"mut-100"})}),
            (std::vector<bool>{false, true}));
  // Ids are per source.
  EXPECT_EQ(Accept({Move("m1", {"mut-100"}, "other-source")}), (std::vector<bool>{true}));
  EXPECT_EQ(Feed("mut-100", 0).size(), 3u);
  // Still a duplicate once delivered and acknowledged.
  std::vector<Delivery> feed = Feed("mut-100", 0);
  Feed("mut-100", feed.back().cursor);
  EXPECT_EQ(Accept({Move("m2", {"mut-100"})}), (std::vector<bool>{false}));
}

TEST_P(MutationStoreTest, ReadingAfterACursorAcknowledgesUpToIt) {
  Accept({Move("m1", {"mut-100"}), Move("m2", {"mut-100"}), Move("m3", {"mut-100"})});
  std::vector<Delivery> first = Feed("mut-100", 0, 2);
  ASSERT_EQ(Ids(first), (std::vector<std::string>{"m1", "m2"}));
  // Not acknowledged yet: asked again from the start, the same come back.
  EXPECT_EQ(Ids(Feed("mut-100", 0, 2)), Ids(first));
  EXPECT_EQ(Ids(Feed("mut-100", first.back().cursor)), (std::vector<std::string>{"m3"}));
  // Acknowledged: gone even for a reader that starts over.
  EXPECT_EQ(Ids(Feed("mut-100", 0)), (std::vector<std::string>{"m3"}));
  Result<std::vector<FeedBacklog>> backlog = mutations().Backlog();
  ASSERT_TRUE(backlog.has_value()) << backlog.error().ToString();
  ASSERT_EQ(backlog->size(), 1u);
  EXPECT_EQ((*backlog)[0].subscriber, "mut-100");
  EXPECT_EQ((*backlog)[0].pending, 1);
  EXPECT_EQ((*backlog)[0].oldest_accepted_us, 1000);

  Result<bool> more = mutations().HasDeliveriesAfter("mut-100", first.back().cursor);
  ASSERT_TRUE(more.has_value());
  EXPECT_TRUE(*more);
  more = mutations().HasDeliveriesAfter("mut-100", first.back().cursor + 1);
  ASSERT_TRUE(more.has_value());
  EXPECT_FALSE(*more);
}

// DeliveriesAfter is a read alone: the same deliveries, nothing
// acknowledged (the mutation service writes the acknowledgement later, with
// the read's audit record).
TEST_P(MutationStoreTest, DeliveriesAfterACursorAcknowledgeNothing) {
  Accept({Move("m1", {"mut-100"}), Move("m2", {"mut-100"}), Move("m3", {"mut-100"})});
  std::vector<Delivery> first = Feed("mut-100", 0, 1);
  ASSERT_EQ(Ids(first), (std::vector<std::string>{"m1"}));
  Result<std::vector<Delivery>> rest = mutations().DeliveriesAfter("mut-100", first[0].cursor, 10);
  ASSERT_TRUE(rest.has_value()) << rest.error().ToString();
  EXPECT_EQ(Ids(*rest), (std::vector<std::string>{"m2", "m3"}));
  Result<std::vector<Delivery>> limited = mutations().DeliveriesAfter("mut-100", first[0].cursor, 1);
  ASSERT_TRUE(limited.has_value()) << limited.error().ToString();
  EXPECT_EQ(Ids(*limited), (std::vector<std::string>{"m2"}));
  EXPECT_EQ((*rest)[0].data, Feed("mut-100", 0)[1].data);
  // m1 is still there for a reader that starts over, its payload kept.
  Result<std::vector<Delivery>> again = mutations().DeliveriesAfter("mut-100", 0, 10);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(Ids(*again), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(database().QueryText("SELECT count(*) FROM mutation WHERE data IS NOT NULL").value_or("?"),
            "3");
}

TEST_P(MutationStoreTest, CursorsKeepGrowingAfterEverythingIsAcknowledged) {
  Accept({Move("m1", {"mut-100"})});
  std::vector<Delivery> first = Feed("mut-100", 0);
  ASSERT_EQ(first.size(), 1u);
  Feed("mut-100", first[0].cursor);
  Accept({Move("m2", {"mut-100"})});
  std::vector<Delivery> second = Feed("mut-100", first[0].cursor);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_GT(second[0].cursor, first[0].cursor);
}

TEST_P(MutationStoreTest, PurgeExpiresOldDeliveriesAndForgetsOldMutations) {
  Accept({Move("old", {"mut-100"}), Move("old-unsubscribed", {})}, /*now_us=*/1000);
  Accept({Move("new", {"mut-100"})}, /*now_us=*/5000);
  Result<PurgeCounts> purged = mutations().Purge(/*cutoff_us=*/2000);
  ASSERT_TRUE(purged.has_value()) << purged.error().ToString();
  EXPECT_EQ(purged->expired_deliveries, 1);
  EXPECT_EQ(purged->forgotten_mutations, 2);
  EXPECT_EQ(Ids(Feed("mut-100", 0)), (std::vector<std::string>{"new"}));
  // Forgotten: past retention, the id may be used again.
  EXPECT_EQ(Accept({Move("old", {})}, 6000), (std::vector<bool>{true}));
  EXPECT_EQ(Accept({Move("new", {})}, 6000), (std::vector<bool>{false}));
}

TEST_P(MutationStoreTest, IdentityReplacementMovesTheDirectoryEntries) {
  directory::Entry entry{kPerson, "mut-100", "insured", Period{D("2020-01-01"), {}}};
  ASSERT_TRUE(store_->directory()
                  .ApplyEntryChanges(std::vector<directory::EntryChange>{
                      {directory::EntryAction::kAdd, entry}})
                  .has_value());
  NewMutation replaced = Move("r1", {"mut-100"});
  replaced.data_type = "person.niss-replaced";
  replaced.replaced_by = kNewNumber;
  EXPECT_EQ(Accept({replaced}, 7000), (std::vector<bool>{true}));

  Result<std::vector<directory::Entry>> old_entries = store_->directory().EntriesOfPerson(kPerson);
  ASSERT_TRUE(old_entries.has_value());
  EXPECT_TRUE(old_entries->empty());
  Result<std::vector<directory::Entry>> new_entries =
      store_->directory().EntriesOfPerson(kNewNumber);
  ASSERT_TRUE(new_entries.has_value());
  ASSERT_EQ(new_entries->size(), 1u);
  EXPECT_EQ((*new_entries)[0].institution, "mut-100");

  Result<std::optional<NissReplacement>> replacement = mutations().ReplacementOf(kPerson);
  ASSERT_TRUE(replacement.has_value()) << replacement.error().ToString();
  ASSERT_TRUE(replacement->has_value());
  EXPECT_EQ((*replacement)->new_niss, kNewNumber);
  EXPECT_EQ((*replacement)->effective, D("2024-05-01"));
  EXPECT_EQ((*replacement)->replaced_us, 7000);
  replacement = mutations().ReplacementOf(kNewNumber);
  ASSERT_TRUE(replacement.has_value());
  EXPECT_FALSE(replacement->has_value());
}

TEST_P(MutationStoreTest, PendingDeliveriesOfAPersonAreTheUnacknowledgedOnesOldestFirst) {
  Accept({Move("m1", {"mut-100", "cpas"})}, /*now_us=*/1000);
  NewMutation other = Move("m2", {"mut-100"});
  other.niss = kNewNumber;
  Accept({other}, 2000);
  Accept({Move("m3", {"mut-100"})}, 3000);
  Feed("mut-100", 1);  // mut-100 acknowledges its first delivery (m1)

  Result<std::vector<PendingDelivery>> pending = mutations().PendingDeliveriesOf(kPerson, 10);
  ASSERT_TRUE(pending.has_value()) << pending.error().ToString();
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].subscriber, "cpas");
  EXPECT_EQ((*pending)[0].id, "m1");
  EXPECT_EQ((*pending)[0].source, "nr");
  EXPECT_EQ((*pending)[0].data_type, "person.address");
  EXPECT_EQ((*pending)[0].effective, D("2024-05-01"));
  EXPECT_EQ((*pending)[0].accepted_us, 1000);
  EXPECT_EQ((*pending)[1].subscriber, "mut-100");
  EXPECT_EQ((*pending)[1].id, "m3");
  EXPECT_EQ((*pending)[1].cursor, 3);

  pending = mutations().PendingDeliveriesOf(kPerson, 1);
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->size(), 1u);
  pending = mutations().PendingDeliveriesOf("17073003384", 10);
  ASSERT_TRUE(pending.has_value());
  EXPECT_TRUE(pending->empty());
}

// A person's look-up probes each block of 16 384 mutation numbers
// (mutation_by_person, migration 11): mutations numbered blocks apart are
// all found, the oldest first.
TEST_P(MutationStoreTest, PendingDeliveriesOfAPersonAreFoundInEveryBlockOfNumbers) {
  Accept({Move("m1", {"mut-100"})}, /*now_us=*/1000);
  const bool sqlite = GetParam() == testing::Engine::kSqlite;
  for (int64_t next : {40'000, 90'000}) {
    // The next mutation gets number `next`: SQLite numbers after the
    // largest row (kept: another person's, nothing pending), PostgreSQL
    // from its identity sequence.
    Status jumped = database().Execute(
        sqlite ? fmt::format("INSERT INTO mutation (mid, source, id, data_type, niss, effective, "
                             "accepted_us, data, pending) VALUES ({}, 'test', 'jump-{}', "
                             "'person.address', '17073003384', 0, 0, NULL, 0)",
                             next - 1, next)
               : fmt::format("ALTER TABLE mutation ALTER COLUMN mid RESTART WITH {}", next));
    ASSERT_TRUE(jumped.ok()) << jumped.ToString();
    Accept({Move(fmt::format("m{}", next), {"mut-100"})}, /*now_us=*/next);
  }
  Result<std::vector<PendingDelivery>> pending = mutations().PendingDeliveriesOf(kPerson, 10);
  ASSERT_TRUE(pending.has_value()) << pending.error().ToString();
  std::vector<std::string> ids;
  for (const PendingDelivery& delivery : *pending) ids.push_back(delivery.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"m1", "m40000", "m90000"}));
}

// Two stores on one database (two hub processes): concurrent batches for the
// same subscriber never lose, duplicate or reorder a delivery.
TEST_P(MutationStoreTest, ConcurrentWritersGiveEachSubscriberAGaplessOrderedFeed) {
  std::unique_ptr<Store> second = OpenTestStore();
  ASSERT_NE(second, nullptr);
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 10;
  auto publish = [&](Store* store, std::string prefix) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<NewMutation> batch;
      for (int i = 0; i < kPerBatch; ++i) {
        batch.push_back(Move(fmt::format("{}-{}-{}", prefix, b, i), {"mut-100", "cpas"}));
      }
      Result<std::vector<bool>> accepted = store->mutations().AcceptMutations(batch, 1000);
      // PostgreSQL may refuse one under contention (kUnavailable): retry it
      // (a bounded number of times: a store that always refuses fails here).
      for (int retry = 0; retry < 1000 && !accepted && accepted.error().code() == StatusCode::kUnavailable;
           ++retry) {
        accepted = store->mutations().AcceptMutations(batch, 1000);
      }
      ASSERT_TRUE(accepted.has_value()) << accepted.error().ToString();
    }
  };
  std::thread a(publish, store_.get(), "a");
  std::thread b(publish, second.get(), "b");
  a.join();
  b.join();
  for (const char* subscriber : {"mut-100", "cpas"}) {
    SCOPED_TRACE(subscriber);
    std::vector<Delivery> feed = Feed(subscriber, 0, 10000);
    ASSERT_EQ(feed.size(), size_t{2 * kBatches * kPerBatch});
    std::set<std::string> ids;
    for (size_t i = 0; i < feed.size(); ++i) {
      ids.insert(feed[i].id);
      EXPECT_EQ(feed[i].cursor, static_cast<int64_t>(i + 1));
    }
    EXPECT_EQ(ids.size(), feed.size());
  }
}

// Two stores on one database acknowledging the two feeds of the same
// batches at the same moments: each release counts against the other's on
// the same rows, the last one forgets the payload; none is left behind.
TEST_P(MutationStoreTest, ConcurrentAcknowledgementsOfOneBatchForgetEveryPayload) {
  std::unique_ptr<Store> second = OpenTestStore();
  ASSERT_NE(second, nullptr);
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 5;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<NewMutation> batch;
    for (int i = 0; i < kPerBatch; ++i) {
      batch.push_back(Move(fmt::format("m-{}-{}", b, i), {"mut-100", "cpas"}));
    }
    Accept(std::move(batch), 1000 + b);
  }
  auto acknowledge = [&](Store* store, std::string subscriber) {
    for (int b = 1; b <= kBatches; ++b) {
      const FeedAck ack[] = {{subscriber, int64_t{b} * kPerBatch}};
      Result<std::vector<bool>> done = store->mutations().AcceptMutations({}, 5000, nullptr, ack);
      for (int retry = 0; retry < 1000 && !done && done.error().code() == StatusCode::kUnavailable;
           ++retry) {
        done = store->mutations().AcceptMutations({}, 5000, nullptr, ack);
      }
      ASSERT_TRUE(done.has_value()) << done.error().ToString();
    }
  };
  std::thread a(acknowledge, store_.get(), "mut-100");
  std::thread b(acknowledge, second.get(), "cpas");
  a.join();
  b.join();
  EXPECT_EQ(database().QueryText("SELECT count(*) FROM mutation WHERE data IS NOT NULL").value_or("?"),
            "0");
  EXPECT_EQ(database().QueryText("SELECT count(*) FROM mutation").value_or("?"),
            std::to_string(kBatches * kPerBatch));
  EXPECT_EQ(database().QueryText("SELECT count(*) FROM mutation_block").value_or("?"), "0");
}

INSTANTIATE_TEST_SUITE_P(Engines, MutationStoreTest, testing::AllEngines(),
                         testing::EngineTestName);

// A store written by the previous schema (one delivery row per copy, each
// with its own cut payload) opens, migrates, and its feeds go on as they
// were: same cursors, same data, acknowledgements forget the payloads.
class MutationMigrationTest : public StoreTest {};

TEST_P(MutationMigrationTest, DeliveriesOfTheEarlierSchemaAreKept) {
  const bool sqlite = GetParam() == testing::Engine::kSqlite;
  std::span<const internal::Migration> migrations =
      sqlite ? sqlite::Migrations() : postgres::Migrations();
  // The schema main had before feed blocks: migrations 1 to 6 (6: the
  // verifiable audit log); 7 moves its deliveries to blocks.
  ASSERT_GE(migrations.size(), 7u);
  ASSERT_EQ(migrations[6].version, 7);
  if (sqlite) {  // an empty file is an empty database
    std::ofstream(database().url().substr(std::string_view("sqlite:").size()));
  }
  auto run = [&](const std::string& sql) {
    Status status = database().Execute(sql);
    ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << sql;
  };
  run(sqlite ? "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT "
               "NULL, applied_at INTEGER NOT NULL) STRICT"
             : "CREATE TABLE schema_version (version integer PRIMARY KEY, description text NOT "
               "NULL, applied_at bigint NOT NULL)");
  for (size_t v = 0; v < 6; ++v) {
    ASSERT_EQ(migrations[v].version, static_cast<int>(v + 1));
    run(migrations[v].sql);
    run(fmt::format("INSERT INTO schema_version VALUES ({}, 'old', 0)", v + 1));
  }
  const std::string mutation = sqlite ? "INSERT INTO mutation (mid, source, id, data_type, niss, "
                                        "effective, accepted_us) VALUES "
                                      : "INSERT INTO mutation (mid, source, id, data_type, niss, "
                                        "effective, accepted_us) OVERRIDING SYSTEM VALUE VALUES ";
  run(mutation + fmt::format("(1, 'nr', 'm1', 'person.address', '{0}', 19844, 1000), "
                             "(2, 'nr', 'm2', 'person.address', '{0}', 19844, 1000), "
                             "(3, 'nr', 'm3', 'person.address', '{0}', 19844, 1000)",
                             kPerson));
  if (!sqlite) run("SELECT setval(pg_get_serial_sequence('mutation', 'mid'), 3)");
  run("INSERT INTO mutation_feed VALUES ('mut-100', 2), ('cpas', 1)");
  run(R"(INSERT INTO mutation_delivery VALUES )"
      R"(('mut-100', 1, 1, '{"street":"S1","postal_code":"5000"}', 1000), )"
      R"(('cpas', 1, 1, '{"postal_code":"5000"}', 1000), )"
      R"(('mut-100', 2, 2, '{"street":"S2","flag":true,"n":3,"o":{"a":[1,null]}}', 1000))");

  std::unique_ptr<Store> store = OpenTestStore();
  ASSERT_NE(store, nullptr);
  auto feed = [&](std::string_view subscriber, int64_t after) {
    return AcknowledgeAndRead(store->mutations(), subscriber, after, 100);
  };
  auto payloads = [&] { return database().QueryText("SELECT count(*) FROM mutation WHERE data IS NOT NULL").value_or("?"); };
  EXPECT_EQ(payloads(), "2");  // m3 had no copy
  std::vector<Delivery> mutuality = feed("mut-100", 0);
  ASSERT_EQ(mutuality.size(), 2u);
  EXPECT_EQ(mutuality[0].cursor, 1);
  EXPECT_EQ(mutuality[0].id, "m1");
  EXPECT_EQ(mutuality[0].data, R"({"street":"S1","postal_code":"5000"})");
  EXPECT_EQ(mutuality[1].cursor, 2);
  EXPECT_EQ(mutuality[1].id, "m2");
  for (const char* part : {R"("street":"S2")", R"("flag":true)", R"("n":3)", R"("o":{"a":[1,null]})"}) {
    EXPECT_NE(mutuality[1].data.find(part), std::string::npos) << mutuality[1].data;
  }
  std::vector<Delivery> cpas = feed("cpas", 0);
  ASSERT_EQ(cpas.size(), 1u);
  EXPECT_EQ(cpas[0].data, R"({"postal_code":"5000"})");

  // New deliveries follow the old cursors; acknowledgements release payloads.
  NewMutation next = Move("m4", {"mut-100"});
  ASSERT_TRUE(store->mutations().AcceptMutations({&next, 1}, 2000).has_value());
  std::vector<Delivery> rest = feed("mut-100", 2);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].cursor, 3);
  EXPECT_EQ(payloads(), "2");  // m1 waits for cpas, m4 for mut-100
  feed("cpas", 1);
  EXPECT_EQ(payloads(), "1");
}

INSTANTIATE_TEST_SUITE_P(Engines, MutationMigrationTest, testing::AllEngines(),
                         testing::EngineTestName);

}  // namespace
}  // namespace carrefour::store
