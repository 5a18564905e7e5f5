// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/wal_vfs.h"

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/testing/temp_dir.h"
#include "store/sqlite/connection.h"

namespace carrefour::store::sqlite {
namespace {

class WalGatheringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = carrefour::testing::MakeTempDir("wal-vfs").string();
    path_ = dir_ + "/test.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Connection> Open(Connection::Role role) {
    Result<std::unique_ptr<Connection>> opened = Connection::Open(path_, role);
    EXPECT_TRUE(opened.has_value()) << (opened ? "" : opened.error().message());
    return opened ? std::move(*opened) : nullptr;
  }

  // One integer from `sql` (a query with one row and one column).
  static int64_t Scalar(Connection& connection, const char* sql) {
    Result<Statement*> query = connection.Prepare(sql);
    EXPECT_TRUE(query.has_value());
    if (!query) return -1;
    ScopedReset reset(**query);
    Result<bool> row = (*query)->Step();
    EXPECT_TRUE(row.has_value() && *row) << sql;
    return row && *row ? (*query)->ColumnInt(0) : -1;
  }

  std::string dir_;
  std::string path_;
};

// The VFS holds a commit's frames until its sync: a writer that did not
// sync every commit (synchronous = NORMAL) would let other connections see
// frames not yet written (wal_vfs.h).
TEST_F(WalGatheringTest, WritersSyncEveryCommit) {
  std::unique_ptr<Connection> writer = Open(Connection::Role::kWriter);
  ASSERT_NE(writer, nullptr);
  EXPECT_GE(Scalar(*writer, "PRAGMA synchronous"), 2) << "FULL (2) or EXTRA (3) is required";
}

// A commit of a few hundred pages reaches the WAL in a handful of writes,
// and a reader (another connection, outside the VFS) sees all of it.
TEST_F(WalGatheringTest, ACommitLeavesInAFewWritesAndReadersSeeIt) {
  ASSERT_NE(WalGatheringVfs(), nullptr);
  std::unique_ptr<Connection> writer = Open(Connection::Role::kWriter);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL);").ok());
  const WalWriteCounts before = WalGatheringCounts();
  ASSERT_TRUE(writer
                  ->Exec("BEGIN IMMEDIATE;"
                         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
                         " INSERT INTO t SELECT i, randomblob(500) FROM n;"
                         "COMMIT;")
                  .ok());
  const WalWriteCounts after = WalGatheringCounts();
  const uint64_t gathered = after.gathered - before.gathered;
  const uint64_t sent = after.sent - before.sent;
  // About 250 pages of 4 KiB, each a frame header and a page: 500 writes
  // from SQLite; about 1 MiB, so some 17 writes of 64 KiB.
  EXPECT_GE(gathered, 400u);
  EXPECT_LE(sent, gathered / 10);
  std::unique_ptr<Connection> reader = Open(Connection::Role::kReader);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(Scalar(*reader, "SELECT count(*) FROM t"), 2000);
  EXPECT_EQ(Scalar(*reader, "SELECT sum(length(v)) FROM t"), 2000 * 500);
}

// A transaction larger than what is gathered at once, through a page cache
// so small that SQLite spills pages to the WAL and reads them back before
// the commit: everything read back is what was written, and it all stays
// after the connection closes.
TEST_F(WalGatheringTest, SpilledAndLargeTransactionsReadBackWhatTheyWrote) {
  {
    std::unique_ptr<Connection> writer = Open(Connection::Role::kWriter);
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Exec("PRAGMA cache_size = 20;"
                             "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL, n INTEGER);")
                    .ok());
    ASSERT_TRUE(writer
                    ->Exec("BEGIN IMMEDIATE;"
                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)"
                           " INSERT INTO t SELECT i, zeroblob(1000), i FROM n;"
                           "UPDATE t SET n = n * 2;"
                           "COMMIT;")
                    .ok());
    EXPECT_EQ(Scalar(*writer, "SELECT sum(n) FROM t"), 12000 * 12001);
    EXPECT_EQ(Scalar(*writer, "SELECT count(*) FROM t WHERE length(v) = 1000"), 12000);
  }
  std::unique_ptr<Connection> reopened = Open(Connection::Role::kWriter);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(Scalar(*reopened, "SELECT sum(n) FROM t"), 12000 * 12001);
  Result<Statement*> check = reopened->Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.has_value());
  ScopedReset reset(**check);
  Result<bool> row = (*check)->Step();
  ASSERT_TRUE(row.has_value() && *row);
  EXPECT_EQ((*check)->ColumnText(0), "ok");
}

}  // namespace
}  // namespace carrefour::store::sqlite
