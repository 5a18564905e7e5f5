// SPDX-License-Identifier: EUPL-1.2
// The person directory's storage, against both engines (store/testing/).

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::store {
namespace {

using directory::Entry;
using directory::EntryAction;
using directory::EntryChange;
using directory::EntryResult;
using testing::StoreTest;
using ::testing::HasSubstr;

constexpr char kPerson[] = "85073003328";
constexpr char kOtherPerson[] = "90010100123";
constexpr char kBornIn2000[] = "00010100501";  // leading zeros survive storage

Date D(std::string_view text) { return *Date::Parse(text); }

Entry MakeEntry(std::string niss, std::string institution, std::string capacity,
                std::string_view from, std::optional<std::string_view> to = std::nullopt) {
  Entry entry{std::move(niss), std::move(institution), std::move(capacity), Period{D(from), {}}};
  if (to) entry.period.to = D(*to);
  return entry;
}

EntryChange Add(Entry entry) { return {EntryAction::kAdd, std::move(entry)}; }
EntryChange Close(Entry entry, std::string_view to) {
  entry.period.to = D(to);
  return {EntryAction::kClose, std::move(entry)};
}
EntryChange Remove(Entry entry) { return {EntryAction::kRemove, std::move(entry)}; }

const Entry kInsured = MakeEntry(kPerson, "mut-100", "insured", "2020-01-01");
const Entry kEmployee = MakeEntry(kPerson, "onss", "employee", "2019-03-01", "2021-06-30");
const Entry kChild = MakeEntry(kPerson, "fam-200", "child-beneficiary", "2021-01-01", "2022-12-31");
const Entry kOtherInsured = MakeEntry(kOtherPerson, "mut-100", "insured", "2018-01-01");

class DirectoryStoreTest : public StoreTest {
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

  DirectoryStore& directory() { return store_->directory(); }

  // Applies `changes`, expecting the batch itself to succeed; the statuses.
  std::vector<Status> Apply(std::vector<EntryChange> changes) {
    Result<std::vector<EntryResult>> results = directory().ApplyEntryChanges(changes);
    EXPECT_TRUE(results.has_value()) << results.error().ToString();
    std::vector<Status> statuses;
    if (!results) return statuses;
    EXPECT_EQ(results->size(), changes.size());
    for (size_t i = 0; i < results->size(); ++i) {
      EXPECT_EQ((*results)[i].index, i);
      statuses.push_back((*results)[i].status);
    }
    return statuses;
  }

  std::vector<Entry> Person(std::string_view niss, std::optional<Period> overlapping = {}) {
    Result<std::vector<Entry>> entries = directory().EntriesOfPerson(niss, overlapping);
    EXPECT_TRUE(entries.has_value()) << entries.error().ToString();
    return entries.value_or(std::vector<Entry>{});
  }

  std::unique_ptr<Store> store_;
};

std::vector<StatusCode> Codes(const std::vector<Status>& statuses) {
  std::vector<StatusCode> codes;
  for (const Status& status : statuses) codes.push_back(status.code());
  return codes;
}

TEST_P(DirectoryStoreTest, AddStoresTheEntry) {
  EXPECT_THAT(Codes(Apply({Add(kInsured), Add(kEmployee)})),
              ::testing::ElementsAre(StatusCode::kOk, StatusCode::kOk));
  // Ordered by (institution, capacity, from).
  EXPECT_EQ(Person(kPerson), (std::vector<Entry>{kInsured, kEmployee}));
  EXPECT_TRUE(Person(kOtherPerson).empty());
}

TEST_P(DirectoryStoreTest, AddIsIdempotent) {
  EXPECT_THAT(Codes(Apply({Add(kInsured), Add(kEmployee)})),
              ::testing::Each(StatusCode::kOk));
  // The identical entries again, in another batch and twice in one batch.
  EXPECT_THAT(Codes(Apply({Add(kInsured), Add(kEmployee), Add(kEmployee)})),
              ::testing::Each(StatusCode::kOk));
  EXPECT_EQ(Person(kPerson), (std::vector<Entry>{kInsured, kEmployee}));
}

TEST_P(DirectoryStoreTest, AddWithAnotherEndIsRejected) {
  ASSERT_THAT(Codes(Apply({Add(kInsured), Add(kEmployee)})), ::testing::Each(StatusCode::kOk));
  Entry insured_closed = kInsured;
  insured_closed.period.to = D("2024-12-31");
  Entry employee_open = kEmployee;
  employee_open.period.to.reset();
  Entry employee_longer = kEmployee;
  employee_longer.period.to = D("2022-06-30");

  std::vector<Status> statuses = Apply({Add(insured_closed), Add(employee_open), Add(employee_longer)});
  ASSERT_EQ(statuses.size(), 3u);
  for (const Status& status : statuses) EXPECT_EQ(status.code(), StatusCode::kInvalidRequest);
  EXPECT_THAT(statuses[0].message(), HasSubstr("already exists with no end"));
  EXPECT_THAT(statuses[0].message(), HasSubstr("close it"));
  EXPECT_THAT(statuses[1].message(), HasSubstr("already exists until 2021-06-30"));
  EXPECT_THAT(statuses[2].message(), HasSubstr("already exists until 2021-06-30"));
  // Nothing changed.
  EXPECT_EQ(Person(kPerson), (std::vector<Entry>{kInsured, kEmployee}));
}

TEST_P(DirectoryStoreTest, CloseSetsTheEnd) {
  ASSERT_THAT(Codes(Apply({Add(kInsured)})), ::testing::Each(StatusCode::kOk));
  EXPECT_THAT(Codes(Apply({Close(kInsured, "2024-06-30")})), ::testing::Each(StatusCode::kOk));
  Entry closed = kInsured;
  closed.period.to = D("2024-06-30");
  EXPECT_EQ(Person(kPerson), std::vector<Entry>{closed});

  // Closing again moves the end (either way), and the closed entry is now
  // what an idempotent add must repeat.
  EXPECT_THAT(Codes(Apply({Close(kInsured, "2024-12-31")})), ::testing::Each(StatusCode::kOk));
  closed.period.to = D("2024-12-31");
  EXPECT_EQ(Person(kPerson), std::vector<Entry>{closed});
  EXPECT_THAT(Codes(Apply({Add(closed)})), ::testing::Each(StatusCode::kOk));
}

TEST_P(DirectoryStoreTest, CloseOnTheStartDayIsAllowed) {
  ASSERT_THAT(Codes(Apply({Add(kInsured)})), ::testing::Each(StatusCode::kOk));
  EXPECT_THAT(Codes(Apply({Close(kInsured, "2020-01-01")})), ::testing::Each(StatusCode::kOk));
  EXPECT_EQ(Person(kPerson)[0].period, Period::Day(D("2020-01-01")));
}

TEST_P(DirectoryStoreTest, CloseWithoutEntryIsNotFound) {
  ASSERT_THAT(Codes(Apply({Add(kInsured)})), ::testing::Each(StatusCode::kOk));
  Entry other_start = kInsured;
  other_start.period.from = D("2020-01-02");
  Entry other_capacity = kInsured;
  other_capacity.capacity = "dependent";
  Entry other_institution = kInsured;  // another institution cannot close mut-100's file
  other_institution.institution = "mut-200";
  Entry other_person = kInsured;
  other_person.niss = kOtherPerson;

  std::vector<Status> statuses = Apply({Close(other_start, "2024-01-01"),
                                        Close(other_capacity, "2024-01-01"),
                                        Close(other_institution, "2024-01-01"),
                                        Close(other_person, "2024-01-01")});
  for (size_t i = 0; i < statuses.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(statuses[i].code(), StatusCode::kNotFound);
  }
  EXPECT_THAT(statuses[2].message(), HasSubstr("mut-200 has no entry"));
  EXPECT_EQ(Person(kPerson), std::vector<Entry>{kInsured});
}

TEST_P(DirectoryStoreTest, CloseBeforeStartIsInvalidPeriod) {
  ASSERT_THAT(Codes(Apply({Add(kInsured)})), ::testing::Each(StatusCode::kOk));
  std::vector<Status> statuses = Apply({Close(kInsured, "2019-12-31")});
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].code(), StatusCode::kInvalidPeriod);
  EXPECT_EQ(Person(kPerson), std::vector<Entry>{kInsured});
}

TEST_P(DirectoryStoreTest, CloseWithoutEndIsInvalidRequest) {
  ASSERT_THAT(Codes(Apply({Add(kInsured)})), ::testing::Each(StatusCode::kOk));
  std::vector<Status> statuses = Apply({EntryChange{EntryAction::kClose, kInsured}});
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].code(), StatusCode::kInvalidRequest);
}

TEST_P(DirectoryStoreTest, RemoveDeletesTheEntry) {
  ASSERT_THAT(Codes(Apply({Add(kInsured), Add(kEmployee)})), ::testing::Each(StatusCode::kOk));
  // The end does not take part in the identity: remove ignores it.
  Entry employee_any_end = kEmployee;
  employee_any_end.period.to.reset();
  EXPECT_THAT(Codes(Apply({Remove(employee_any_end)})), ::testing::Each(StatusCode::kOk));
  EXPECT_EQ(Person(kPerson), std::vector<Entry>{kInsured});
}

TEST_P(DirectoryStoreTest, RemoveWithoutEntryIsNotFound) {
  ASSERT_THAT(Codes(Apply({Add(kInsured)})), ::testing::Each(StatusCode::kOk));
  Entry other_institution = kInsured;
  other_institution.institution = "mut-200";
  EXPECT_THAT(Codes(Apply({Remove(kEmployee), Remove(other_institution)})),
              ::testing::Each(StatusCode::kNotFound));
  EXPECT_EQ(Person(kPerson), std::vector<Entry>{kInsured});
}

TEST_P(DirectoryStoreTest, MixedBatchReportsEachEntryAndAppliesOnlyTheAccepted) {
  ASSERT_THAT(Codes(Apply({Add(kEmployee)})), ::testing::Each(StatusCode::kOk));
  Entry employee_conflict = kEmployee;
  employee_conflict.period.to = D("2030-01-01");
  Entry not_a_number = kOtherInsured;
  not_a_number.niss = "8507300332";  // 10 digits
  Entry backwards = MakeEntry(kOtherPerson, "onss", "employee", "2020-01-01");
  backwards.period.to = D("2019-01-01");

  std::vector<EntryChange> batch = {
      Add(kInsured),                    // 0 ok
      Add(employee_conflict),           // 1 conflicts with the stored entry
      Close(kInsured, "2023-12-31"),    // 2 ok: closes what 0 added
      Remove(kChild),                   // 3 not found
      Add(kChild),                      // 4 ok
      Remove(kChild),                   // 5 ok: removes what 4 added
      Add(not_a_number),                // 6 invalid niss
      Add(backwards),                   // 7 invalid period
      Add(kChild),                      // 8 ok: added again after 5
      Close(kEmployee, "2018-01-01"),   // 9 before its start
      Add(kOtherInsured),               // 10 ok
      Close(kOtherInsured, "2025-01-01"),  // 11 ok
      Remove(kOtherInsured),            // 12 ok
      Remove(kOtherInsured),            // 13 not found any more
  };
  EXPECT_THAT(Codes(Apply(batch)),
              ::testing::ElementsAre(StatusCode::kOk, StatusCode::kInvalidRequest,
                                     StatusCode::kOk, StatusCode::kNotFound, StatusCode::kOk,
                                     StatusCode::kOk, StatusCode::kInvalidNiss,
                                     StatusCode::kInvalidPeriod, StatusCode::kOk,
                                     StatusCode::kInvalidPeriod, StatusCode::kOk,
                                     StatusCode::kOk, StatusCode::kOk, StatusCode::kNotFound));
  Entry insured_closed = kInsured;
  insured_closed.period.to = D("2023-12-31");
  EXPECT_EQ(Person(kPerson), (std::vector<Entry>{kChild, insured_closed, kEmployee}));
  EXPECT_TRUE(Person(kOtherPerson).empty());
}

TEST_P(DirectoryStoreTest, EmptyBatchIsFine) {
  EXPECT_TRUE(Apply({}).empty());
}

TEST_P(DirectoryStoreTest, LargeBatchIsAppliedWhole) {
  // Larger than the API's limit: the bulk import's batches.
  std::vector<EntryChange> batch;
  for (int i = 0; i < 25'000; ++i) {
    batch.push_back(Add(MakeEntry(fmt::format("{:011}", 10'000'000'000 + i), "mut-100", "insured",
                                  "2020-01-01")));
  }
  batch.push_back(Add(kInsured));
  batch.push_back(Add(kInsured));  // the same identity again in one batch: still idempotent
  std::vector<Status> statuses = Apply(batch);
  EXPECT_THAT(Codes(statuses), ::testing::Each(StatusCode::kOk));
  EXPECT_EQ(Person("10000012345").size(), 1u);
  EXPECT_EQ(Person(kPerson), std::vector<Entry>{kInsured});
}

TEST_P(DirectoryStoreTest, LeadingZerosOfTheNumberSurvive) {
  Entry entry = MakeEntry(kBornIn2000, "mut-100", "insured", "2000-01-01");
  ASSERT_THAT(Codes(Apply({Add(entry)})), ::testing::Each(StatusCode::kOk));
  std::vector<Entry> entries = Person(kBornIn2000);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].niss, kBornIn2000);
}

TEST_P(DirectoryStoreTest, EntriesOfPersonOverlappingAPeriod) {
  // kInsured 2020-01-01.., kEmployee 2019-03-01..2021-06-30,
  // kChild 2021-01-01..2022-12-31.
  ASSERT_THAT(Codes(Apply({Add(kInsured), Add(kEmployee), Add(kChild), Add(kOtherInsured)})),
              ::testing::Each(StatusCode::kOk));
  struct Case {
    std::string name;
    std::optional<Period> period;
    std::vector<Entry> expected;
  };
  const std::vector<Case> cases = {
      {"no filter", std::nullopt, {kChild, kInsured, kEmployee}},
      {"day before everything", Period::Day(D("2019-02-28")), {}},
      {"first day of the employee", Period::Day(D("2019-03-01")), {kEmployee}},
      {"day all three overlap", Period::Day(D("2021-03-15")), {kChild, kInsured, kEmployee}},
      {"last day of the employee", Period::Day(D("2021-06-30")), {kChild, kInsured, kEmployee}},
      {"day after the employee", Period::Day(D("2021-07-01")), {kChild, kInsured}},
      {"far future", Period::Day(D("2099-01-01")), {kInsured}},
      {"range touching the child's start", Period{D("2020-06-01"), D("2021-01-01")},
       {kChild, kInsured, kEmployee}},
      {"range before the child", Period{D("2019-01-01"), D("2020-12-31")}, {kInsured, kEmployee}},
      {"open range from 2022", Period{D("2022-01-01"), std::nullopt}, {kChild, kInsured}},
      {"open range from 2000", Period{D("2000-01-01"), std::nullopt},
       {kChild, kInsured, kEmployee}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Person(kPerson, c.period), c.expected);
  }
}

TEST_P(DirectoryStoreTest, EntriesOfReturnsOnlyThatInstitutionsEntries) {
  Entry insured_again = MakeEntry(kPerson, "mut-100", "insured", "2010-01-01", "2012-12-31");
  Entry dependent = MakeEntry(kPerson, "mut-100", "dependent", "2001-01-01", "2009-12-31");
  ASSERT_THAT(Codes(Apply({Add(kInsured), Add(kEmployee), Add(insured_again), Add(dependent),
                           Add(kOtherInsured)})),
              ::testing::Each(StatusCode::kOk));
  Result<std::vector<Entry>> entries = directory().EntriesOf("mut-100", kPerson);
  ASSERT_TRUE(entries.has_value()) << entries.error().ToString();
  EXPECT_EQ(*entries, (std::vector<Entry>{dependent, insured_again, kInsured}));

  entries = directory().EntriesOf("fam-200", kPerson);
  ASSERT_TRUE(entries.has_value());
  EXPECT_TRUE(entries->empty());
}

TEST_P(DirectoryStoreTest, QueriesRefuseAMalformedNumber) {
  for (std::string_view niss : {"", "8507300332", "85.07.30-033.28", "8507300332x"}) {
    SCOPED_TRACE(niss);
    Result<std::vector<Entry>> entries = directory().EntriesOfPerson(niss);
    ASSERT_FALSE(entries.has_value());
    EXPECT_EQ(entries.error().code(), StatusCode::kInvalidNiss);
    entries = directory().EntriesOf("mut-100", niss);
    ASSERT_FALSE(entries.has_value());
    EXPECT_EQ(entries.error().code(), StatusCode::kInvalidNiss);
  }
}

TEST_P(DirectoryStoreTest, SurvivesCloseAndReopen) {
  ASSERT_THAT(Codes(Apply({Add(kInsured), Add(kEmployee), Close(kInsured, "2030-01-01")})),
              ::testing::Each(StatusCode::kOk));
  store_.reset();
  store_ = OpenTestStore();
  ASSERT_NE(store_, nullptr);
  Entry insured_closed = kInsured;
  insured_closed.period.to = D("2030-01-01");
  EXPECT_EQ(Person(kPerson), (std::vector<Entry>{insured_closed, kEmployee}));
}

TEST_P(DirectoryStoreTest, StringsWithQuotesAndCommasAreStoredVerbatim) {
  // The directory module validates ids; the store must still never confuse
  // a value with syntax (PostgreSQL's arrays quote, SQLite binds).
  Entry odd = MakeEntry(kPerson, "a\"b,c\\d{e}", "NULL", "2020-01-01");
  ASSERT_THAT(Codes(Apply({Add(odd), Add(odd)})), ::testing::Each(StatusCode::kOk));
  EXPECT_EQ(Person(kPerson), std::vector<Entry>{odd});
  EXPECT_THAT(Codes(Apply({Close(odd, "2021-01-01"), Remove(odd)})),
              ::testing::Each(StatusCode::kOk));
  EXPECT_TRUE(Person(kPerson).empty());
}

TEST_P(DirectoryStoreTest, ConcurrentWritersAndReaders) {
  // Several threads apply batches while others read: every batch succeeds,
  // every read sees whole batches only, and nothing is lost.
  constexpr int kWriters = 4;
  constexpr int kBatchesPerWriter = 25;
  constexpr int kEntriesPerBatch = 20;
  std::atomic<bool> writers_done{false};
  std::atomic<int> failures{0};

  auto person = [](int writer, int batch) {
    return fmt::format("{:011}", 20'000'000'000 + writer * 1000 + batch);
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatchesPerWriter; ++b) {
        std::vector<EntryChange> batch;
        for (int e = 0; e < kEntriesPerBatch; ++e) {
          batch.push_back(Add(MakeEntry(person(w, b), fmt::format("inst-{:02}", e), "insured",
                                        "2020-01-01")));
        }
        Result<std::vector<EntryResult>> results = directory().ApplyEntryChanges(batch);
        if (!results) {
          ++failures;
          continue;
        }
        for (const EntryResult& result : *results) {
          if (!result.status.ok()) ++failures;
        }
      }
    });
  }
  std::atomic<int> torn_reads{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      int b = 0;
      while (!writers_done.load()) {
        Result<std::vector<Entry>> entries =
            directory().EntriesOfPerson(person(r, b++ % kBatchesPerWriter));
        if (!entries) {
          ++failures;
          continue;
        }
        // A batch is one transaction: a reader sees all of it or none of it.
        if (!entries->empty() && entries->size() != kEntriesPerBatch) ++torn_reads;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[static_cast<size_t>(w)].join();
  writers_done = true;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(torn_reads.load(), 0);
  for (int w = 0; w < kWriters; ++w) {
    for (int b = 0; b < kBatchesPerWriter; ++b) {
      EXPECT_EQ(Person(person(w, b)).size(), size_t{kEntriesPerBatch});
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, DirectoryStoreTest, testing::AllEngines(),
                         testing::EngineTestName);

}  // namespace
}  // namespace carrefour::store
