// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/person_runs.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/testing/temp_dir.h"
#include "store/sqlite/audit_store.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"

namespace carrefour::store::sqlite {
namespace {

class PersonRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = carrefour::testing::MakeTempDir("person-runs").string();
    path_ = dir_ + "/store.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Open() {
    Result<std::unique_ptr<Database>> opened = Database::Open(path_, Migrations(), SystemClock());
    ASSERT_TRUE(opened.has_value()) << opened.error().message();
    database_ = std::move(*opened);
  }

  // One integer from `sql` (one row, one column).
  int64_t Scalar(const char* sql) {
    int64_t value = -1;
    Status status = database_->Read([&](Connection& connection) -> Status {
      CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(sql));
      ScopedReset reset(*query);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (row) value = query->ColumnInt(0);
      return OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status.message();
    return value;
  }

  // What a look-up must give: `person`'s records, newest first.
  static std::vector<audit::Record> Expected(const std::vector<audit::Record>& all,
                                             const std::string& person, size_t limit) {
    std::vector<audit::Record> out;
    for (const audit::Record& record : all) {
      if (record.niss == person) out.push_back(record);
    }
    std::sort(out.begin(), out.end(), [](const audit::Record& a, const audit::Record& b) {
      return a.time_us != b.time_us ? a.time_us > b.time_us : a.seq > b.seq;
    });
    if (out.size() > limit) out.resize(limit);
    return out;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<Database> database_;
};

// Records appended in batches of every size, by many persons, some with
// none: after every append each person's look-up gives exactly that
// person's records, newest first, while runs are sealed, merged over four
// levels and deleted; the live runs hold exactly one entry per record with
// a person, and merged-away runs do not stay.
TEST_F(PersonRunsTest, EveryLookUpGivesThePersonsRecordsWhileRunsMerge) {
  Open();
  const PersonRunShape shape{.run_entries = 8, .fanout = 3, .min_slice = 5};
  SqliteAuditStore store(*database_, shape);
  std::mt19937 random(20261207);
  std::vector<std::string> persons;
  for (int p = 0; p < 40; ++p) persons.push_back(fmt::format("{:011}", 85010100000 + p * 37));
  std::vector<audit::Record> all;
  int64_t seq = 0, indexed = 0;
  int64_t most_live = 0;
  for (int batch = 0; batch < 300; ++batch) {
    const size_t size = 1 + random() % (batch % 10 == 0 ? 60 : 6);
    std::vector<audit::Record> records;
    for (size_t i = 0; i < size; ++i) {
      audit::Record& record = records.emplace_back();
      record.node = batch % 7 == 0 ? "hub-b" : "hub-a";
      record.seq = ++seq;
      // Times repeat and go backwards now and then: the order is the
      // look-up's (time, then number), not the append's.
      record.time_us = 1'700'000'000'000'000 + static_cast<int64_t>(random() % 5000);
      record.kind = random() % 4 == 0 ? audit::Kind::kMutation : audit::Kind::kConsultation;
      record.requester = random() % 2 == 0 ? "inst-1" : "inst-2";
      record.niss = random() % 9 == 0 ? "" : persons[random() % persons.size()];
      record.request_id = fmt::format("r{}", seq);
      if (!record.niss.empty()) ++indexed;
    }
    ASSERT_TRUE(store.AppendAudit(records, audit::Checkpoint{}).ok());
    all.insert(all.end(), records.begin(), records.end());

    EXPECT_EQ(Scalar("SELECT count(*) FROM audit_person WHERE run IN (" CARREFOUR_LIVE_PERSON_RUNS ")"),
              indexed)
        << "after batch " << batch;
    most_live = std::max(most_live, Scalar("SELECT count(*) FROM audit_person_run WHERE state <= 2"));
    for (int probe = 0; probe < 3; ++probe) {
      const std::string& person = persons[random() % persons.size()];
      audit::Query query;
      query.niss = person;
      query.limit = probe == 0 ? 5 : 10'000;
      Result<std::vector<audit::Record>> found = store.QueryAudit(query);
      ASSERT_TRUE(found.has_value()) << found.error().message();
      ASSERT_EQ(*found, Expected(all, person, query.limit)) << person << " after batch " << batch;
    }
  }
  // With a requester and a kind too.
  audit::Query query;
  query.niss = persons[3];
  query.requester = "inst-2";
  query.kind = audit::Kind::kMutation;
  query.limit = 10'000;
  Result<std::vector<audit::Record>> found = store.QueryAudit(query);
  ASSERT_TRUE(found.has_value());
  std::vector<audit::Record> expected;
  for (const audit::Record& record : Expected(all, persons[3], 10'000)) {
    if (record.requester == "inst-2" && record.kind == audit::Kind::kMutation) expected.push_back(record);
  }
  EXPECT_EQ(*found, expected);
  EXPECT_FALSE(expected.empty());

  // About 3000 entries in runs of 8, merged 3 at a time: levels 0 to 4 and
  // more (8 × 3^4 = 648 entries a run at level 4).
  EXPECT_GE(Scalar("SELECT max(level) FROM audit_person_run WHERE state <= 2"), 4);
  // A look-up reads a few runs per level, not one per run ever sealed.
  EXPECT_LE(most_live, 3 * 8);
  // Merged-away runs are deleted as writes go on: at most one at a time.
  EXPECT_LE(Scalar("SELECT count(*) FROM audit_person_run WHERE state = 4"), 1);
}

// A store from before migration 13: its records become one run of their
// own, found by the look-up, and new records join them there.
TEST_F(PersonRunsTest, RecordsFromBeforeTheRunsAreFoundAfterTheMigration) {
  {
    Result<std::unique_ptr<Connection>> connection =
        Connection::Open(path_, Connection::Role::kWriter);
    ASSERT_TRUE(connection.has_value());
    std::span<const internal::Migration> migrations = Migrations();
    ASSERT_GE(migrations.size(), 13u);
    ASSERT_TRUE(Migrate(**connection, migrations.subspan(0, 12), SystemClock()).ok());
    for (int i = 1; i <= 50; ++i) {
      const std::string insert = fmt::format(
          "INSERT INTO audit_record (node, seq, time_us, kind, request_id, requester, niss, "
          "data_type, capacity, legal_basis, outcome, reason, providers, latency_us, "
          "answer_sha256, detail, prev_hash, hash) VALUES ('hub', {}, {}, 0, 'r', 'inst', '{}', "
          "'', '', '', 0, '', '', 0, '', '', '', '')",
          i, 1000 + i, i % 5 == 0 ? "" : i % 2 == 0 ? "85010100123" : "85010100246");
      ASSERT_TRUE((*connection)->Exec(insert.c_str()).ok());
    }
  }
  Open();
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_person"), 40);
  EXPECT_EQ(Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'audit_record_by_niss'"), 0);
  SqliteAuditStore store(*database_);
  audit::Record record;
  record.node = "hub";
  record.seq = 51;
  record.time_us = 2000;
  record.niss = "85010100123";
  ASSERT_TRUE(store.AppendAudit(std::span(&record, 1), audit::Checkpoint{}).ok());
  audit::Query query;
  query.niss = "85010100123";
  query.limit = 100;
  Result<std::vector<audit::Record>> found = store.QueryAudit(query);
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->size(), 21u);
  EXPECT_EQ((*found)[0].seq, 51);
  EXPECT_EQ((*found)[1].seq, 48);
  EXPECT_EQ(found->back().seq, 2);
}

}  // namespace
}  // namespace carrefour::store::sqlite
