// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A GoogleTest fixture for tests that run against both engines:
//
//   class MyTest : public carrefour::store::testing::StoreTest {};
//   TEST_P(MyTest, Works) { auto store = OpenStore(); ... }
//   INSTANTIATE_TEST_SUITE_P(Engines, MyTest, carrefour::store::testing::AllEngines(),
//                            carrefour::store::testing::EngineTestName);
//
// PostgreSQL needs $CARREFOUR_TEST_POSTGRES. Without it the PostgreSQL cases
// are skipped with a message, except in CI ($CI set), where they fail: a
// CI run must never pass by silently testing one engine only.

#include <stdlib.h>

#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/store.h"
#include "store/testing/test_database.h"

namespace carrefour::store::testing {

// "postgresql" rather than "4-byte object <01-00 00-00>" in failure messages.
inline void PrintTo(Engine engine, std::ostream* os) { *os << EngineName(engine); }

inline auto AllEngines() { return ::testing::Values(Engine::kSqlite, Engine::kPostgres); }

inline std::string EngineTestName(const ::testing::TestParamInfo<Engine>& info) {
  return std::string(EngineName(info.param));
}

inline bool InCi() {
  const char* ci = getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string_view(ci) != "false" &&
         std::string_view(ci) != "0";
}

// A PostgreSQL test database for a test that needs one (several hub
// processes on one database), into *database. Without one, *database stays
// null and the test is skipped, except in CI where it fails; the caller
// returns:
//   std::unique_ptr<TestDatabase> database;
//   PostgresDatabaseOrSkip(&database);
//   if (database == nullptr) return;
inline void PostgresDatabaseOrSkip(std::unique_ptr<TestDatabase>* database) {
  Result<std::unique_ptr<TestDatabase>> created = TestDatabase::Create(Engine::kPostgres);
  if (created) {
    *database = std::move(*created);
    return;
  }
  if (!InCi()) GTEST_SKIP() << created.error().message();
  FAIL() << created.error().ToString();  // CI must test both engines
}

class StoreTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<TestDatabase>> database = TestDatabase::Create(GetParam());
    if (!database) {
      const char* postgres = getenv(kPostgresEnv);
      bool unset = postgres == nullptr || *postgres == '\0';
      if (GetParam() == Engine::kPostgres && unset && !InCi()) {
        GTEST_SKIP() << database.error().message();
      }
      FAIL() << "no " << EngineName(GetParam()) << " test database"
             << (InCi() ? " (in CI the PostgreSQL tests must run)" : "") << ": "
             << database.error().ToString();
    }
    database_ = std::move(*database);
  }

  // Stores first, then the database they use.
  void TearDown() override { database_.reset(); }

  TestDatabase& database() { return *database_; }

  // A store on this test's database; fails the test when it cannot open.
  std::unique_ptr<Store> OpenTestStore(const Clock& clock = SystemClock()) {
    Result<std::unique_ptr<Store>> store = OpenStore(database_->url(), clock);
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    return store ? std::move(*store) : nullptr;
  }

 private:
  std::unique_ptr<TestDatabase> database_;
};

}  // namespace carrefour::store::testing
