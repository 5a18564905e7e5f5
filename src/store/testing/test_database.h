// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Throw-away databases for the tests and benchmarks of everything that
// touches the store: every such test runs against both engines.

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace carrefour::store::testing {

enum class Engine { kSqlite, kPostgres };

// "sqlite" or "postgresql" (usable in test names).
std::string_view EngineName(Engine engine);

// The environment variable holding the maintenance URL of a PostgreSQL
// cluster the tests may create databases in (scripts/test.sh sets it).
inline constexpr const char kPostgresEnv[] = "CARREFOUR_TEST_POSTGRES";

// A fresh, empty database, deleted when the object is destroyed (close every
// Store opened on it first). SQLite: a file in a new temporary folder.
// PostgreSQL: CREATE DATABASE carrefour_test_<random> in the cluster named by
// $CARREFOUR_TEST_POSTGRES, dropped with FORCE afterwards. Not thread-safe.
class TestDatabase {
 public:
  // kUnavailable when the engine cannot be used here: for PostgreSQL, when
  // $CARREFOUR_TEST_POSTGRES is unset (the message says so) or the cluster
  // does not answer.
  static Result<std::unique_ptr<TestDatabase>> Create(Engine engine);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Engine engine() const { return engine_; }
  // The store URL to give OpenStore.
  const std::string& url() const { return url_; }

  // Runs fixed SQL on the database directly, bypassing the store: for tests
  // that tamper with it (a schema from the future, a corrupted row).
  Status Execute(const std::string& sql) const;
  // The first column of the first row of `sql`, as text ("" for NULL);
  // not-found when there is no row.
  Result<std::string> QueryText(const std::string& sql) const;

 private:
  TestDatabase(Engine engine, std::string url, std::string location, std::string maintenance_url)
      : engine_(engine),
        url_(std::move(url)),
        location_(std::move(location)),
        maintenance_url_(std::move(maintenance_url)) {}

  Engine engine_;
  std::string url_;
  std::string location_;         // SQLite: the file; PostgreSQL: the database name
  std::string maintenance_url_;  // PostgreSQL only
};

// `url` (a libpq URL) with its database name replaced by `database`.
std::string WithDatabaseName(std::string_view url, std::string_view database);

}  // namespace carrefour::store::testing
