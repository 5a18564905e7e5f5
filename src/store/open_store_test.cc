// SPDX-License-Identifier: EUPL-1.2
// OpenStore: URLs, migrations at open, several stores on one database.

#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/internal/migration.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/database.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::store {
namespace {

using directory::Entry;
using directory::EntryAction;
using directory::EntryChange;
using ::testing::HasSubstr;

// A temporary folder, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "carrefour-open-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(OpenStore, RefusesUrlsOfNoKnownEngine) {
  struct Case {
    std::string url;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "no known engine"},
      {"mysql://user:secret@host/db", "scheme 'mysql'"},
      {"/var/lib/hub.db", "no known engine"},
      {"sqlite:", "names no file"},
      {"sqlite://", "names no file"},
      {"sqlite::memory:", "needs a file path"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    Result<std::unique_ptr<Store>> store = OpenStore(c.url);
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error().code(), StatusCode::kInvalidRequest);
    EXPECT_THAT(store.error().message(), HasSubstr(c.message));
    EXPECT_THAT(store.error().message(), ::testing::Not(HasSubstr("secret")));
  }
}

TEST(OpenStore, SqliteCreatesTheFileAndItsFolders) {
  TempDir dir;
  for (std::string prefix : {"sqlite:", "sqlite://"}) {
    SCOPED_TRACE(prefix);
    std::filesystem::path file = dir.path() / prefix.substr(0, 7) / "deep" / "er" / "hub.db";
    Result<std::unique_ptr<Store>> store = OpenStore(prefix + file.string());
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    EXPECT_EQ((*store)->engine(), "sqlite");
    EXPECT_TRUE(std::filesystem::exists(file));
  }
}

TEST(OpenStore, SqliteUnusableFileIsReported) {
  TempDir dir;
  // A folder where the file should be.
  std::filesystem::create_directories(dir.path() / "hub.db");
  Result<std::unique_ptr<Store>> store = OpenStore("sqlite:" + (dir.path() / "hub.db").string());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kUnavailable);

  // A file that is not a database.
  std::filesystem::path junk = dir.path() / "junk.db";
  FILE* file = fopen(junk.c_str(), "w");
  ASSERT_NE(file, nullptr);
  fputs("this is not a database, not even close; just some text long enough\n", file);
  fclose(file);
  store = OpenStore("sqlite:" + junk.string());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kInternal);
  EXPECT_THAT(store.error().message(), HasSubstr("not a database"));
}

TEST(OpenStore, PostgresUnreachableIsUnavailable) {
  // Port 1 on loopback: refused at once, no server there.
  Result<std::unique_ptr<Store>> store =
      OpenStore("postgresql://carrefour:secret@127.0.0.1:1/carrefour?connect_timeout=5");
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(store.error().message(), HasSubstr("cannot connect"));
  EXPECT_THAT(store.error().message(), ::testing::Not(HasSubstr("secret")));
}

TEST(OpenStore, SqliteFailedMigrationLeavesThePreviousVersion) {
  TempDir dir;
  std::string path = (dir.path() / "hub.db").string();
  const internal::Migration migrations[] = {
      {1, "first", "CREATE TABLE one (x INTEGER);"},
      {2, "broken", "CREATE TABLE two (x INTEGER); THIS IS NOT SQL;"},
  };
  Result<std::unique_ptr<sqlite::Connection>> connection =
      sqlite::Connection::Open(path, sqlite::Connection::Role::kWriter);
  ASSERT_TRUE(connection.has_value()) << connection.error().ToString();
  Status status = sqlite::Migrate(**connection, migrations, SystemClock());
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("migration 2"));

  // Version 1 is there; nothing of version 2 is.
  status = sqlite::Migrate(**connection, std::span(migrations, 1), SystemClock());
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE((*connection)->Exec("SELECT * FROM one").ok());
  EXPECT_FALSE((*connection)->Exec("SELECT * FROM two").ok());
}

// The same on both engines.
class OpenStoreTest : public testing::StoreTest {};

TEST_P(OpenStoreTest, MigratesOnceAndStampsWithTheClock) {
  ManualClock clock(*Date::FromCivil(2024, 5, 1));
  std::unique_ptr<Store> store = OpenTestStore(clock);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->engine(), testing::EngineName(GetParam()));
  store.reset();
  store = OpenTestStore(clock);  // again: nothing to do
  ASSERT_NE(store, nullptr);

  Result<std::string> count = database().QueryText("SELECT count(*) FROM schema_version");
  ASSERT_TRUE(count.has_value()) << count.error().ToString();
  Result<std::string> latest = database().QueryText("SELECT max(version) FROM schema_version");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(*count, *latest);  // each version once, from 1 up
  EXPECT_NE(*latest, "0");
  Result<std::string> applied_at =
      database().QueryText("SELECT applied_at FROM schema_version WHERE version = 1");
  ASSERT_TRUE(applied_at.has_value());
  EXPECT_EQ(*applied_at,
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                               clock.Now().time_since_epoch())
                               .count()));
}

// PostgreSQL: the mutations' pages keep room for the row versions that
// acknowledgements write (migration 10), so that those stay on their page
// and add no index entries (docs/mutations.md, "Run 10").
TEST_P(OpenStoreTest, PostgresMutationPagesKeepRoomForAcknowledgements) {
  if (GetParam() != testing::Engine::kPostgres) GTEST_SKIP() << "PostgreSQL only";
  ASSERT_NE(OpenTestStore(), nullptr);
  Result<std::string> options = database().QueryText(
      "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'mutation'::regclass");
  ASSERT_TRUE(options.has_value()) << options.error().ToString();
  EXPECT_EQ(*options, "fillfactor=50");
}

// The SQLite checkpointer is background work: its thread is named and runs
// below the threads that answer (10 nice steps more than the process).
TEST_P(OpenStoreTest, SqliteCheckpointsBelowTheAnsweringThreads) {
  if (GetParam() != testing::Engine::kSqlite) GTEST_SKIP() << "SQLite only";
  std::unique_ptr<Store> store = OpenTestStore();
  ASSERT_NE(store, nullptr);
  std::string found;
  for (int attempt = 0; attempt < 200 && found.empty(); ++attempt) {  // the thread starting
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name != "sqlite-checkpt") continue;
      std::ifstream stat_file(task.path() / "stat");
      std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
      // Field 19 is the nice value; fields 3 on follow the name's ')'.
      std::istringstream fields(stat.substr(stat.rfind(')') + 2));
      std::string field;
      for (int i = 3; i <= 19 && fields >> field; ++i) {
      }
      found = field;
    }
    if (found.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int process = getpriority(PRIO_PROCESS, 0);
  EXPECT_EQ(found, std::to_string(std::min(19, process + 10))) << "the nice value of sqlite-checkpt";
}

// Retention finds old mutations by a block range index (migration 12): no
// B-tree entry per mutation.
TEST_P(OpenStoreTest, PostgresFindsOldMutationsByRangesOfPages) {
  if (GetParam() != testing::Engine::kPostgres) GTEST_SKIP() << "PostgreSQL only";
  ASSERT_NE(OpenTestStore(), nullptr);
  Result<std::string> method = database().QueryText(
      "SELECT am.amname FROM pg_class i JOIN pg_am am ON am.oid = i.relam "
      "WHERE i.oid = 'mutation_by_time'::regclass");
  ASSERT_TRUE(method.has_value()) << method.error().ToString();
  EXPECT_EQ(*method, "brin");
}

TEST_P(OpenStoreTest, RefusesASchemaNewerThanItKnows) {
  ASSERT_NE(OpenTestStore(), nullptr);
  Status status = database().Execute(
      "INSERT INTO schema_version (version, description, applied_at) "
      "VALUES (1000, 'from a future carrefour', 0)");
  ASSERT_TRUE(status.ok()) << status.ToString();

  Result<std::unique_ptr<Store>> store = OpenStore(database().url());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kInternal);
  EXPECT_THAT(store.error().message(), HasSubstr("schema is at version 1000, newer than"));
  EXPECT_THAT(store.error().message(), HasSubstr("use a newer carrefour"));
}

TEST_P(OpenStoreTest, TwoStoresShareOneDatabase) {
  // Two hub processes on one database: what one writes the other reads.
  std::unique_ptr<Store> first = OpenTestStore();
  std::unique_ptr<Store> second = OpenTestStore();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  Entry entry{"85073003328", "mut-100", "insured", Period{*Date::FromCivil(2020, 1, 1), {}}};
  std::vector<EntryChange> changes = {{EntryAction::kAdd, entry}};
  ASSERT_TRUE(first->directory().ApplyEntryChanges(changes).has_value());
  Result<std::vector<Entry>> seen = second->directory().EntriesOfPerson(entry.niss);
  ASSERT_TRUE(seen.has_value()) << seen.error().ToString();
  EXPECT_EQ(*seen, std::vector<Entry>{entry});

  // And the second one's idempotent add agrees with what the first stored.
  Result<std::vector<directory::EntryResult>> again = second->directory().ApplyEntryChanges(changes);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE((*again)[0].status.ok()) << (*again)[0].status.ToString();
}

INSTANTIATE_TEST_SUITE_P(Engines, OpenStoreTest, testing::AllEngines(), testing::EngineTestName);

}  // namespace
}  // namespace carrefour::store
