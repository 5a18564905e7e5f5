// SPDX-License-Identifier: EUPL-1.2
#include "store/testing/test_database.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <pqxx/pqxx>

namespace carrefour::store::testing {
namespace {

std::string RandomSuffix() {
  std::random_device device;
  std::mt19937_64 engine((uint64_t{device()} << 32) ^ device());
  return fmt::format("{:016x}", engine());
}

Status ExecuteSqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  Status status;
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 10'000);
    char* error = nullptr;
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) status = Internal(fmt::format("sqlite: {}", error ? error : "?"));
    sqlite3_free(error);
  } else {
    status = Unavailable(fmt::format("sqlite: cannot open {}", path));
  }
  sqlite3_close_v2(db);
  return status;
}

Status ExecutePostgres(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection connection(url);
    connection.set_variable("client_min_messages", "warning");
    pqxx::nontransaction transaction(connection);
    transaction.exec(sql);
    return OkStatus();
  } catch (const pqxx::broken_connection& e) {
    return Unavailable(fmt::format("postgresql: {}", e.what()));
  } catch (const std::exception& e) {
    return Internal(fmt::format("postgresql: {}", e.what()));
  }
}

Result<std::string> QueryTextSqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  Result<std::string> out = Error(NotFound("no row"));
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    out = Error(Unavailable(fmt::format("sqlite: cannot open {}", path)));
  } else if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    out = Error(Internal(fmt::format("sqlite: {}", sqlite3_errmsg(db))));
  } else if (int rc = sqlite3_step(stmt); rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    out = text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
  } else if (rc != SQLITE_DONE) {
    out = Error(Internal(fmt::format("sqlite: {}", sqlite3_errmsg(db))));
  }
  sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
  return out;
}

Result<std::string> QueryTextPostgres(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection connection(url);
    pqxx::nontransaction transaction(connection);
    pqxx::result rows = transaction.exec(sql);
    if (rows.empty()) return Error(NotFound("no row"));
    return rows[0][0].is_null() ? std::string() : std::string(rows[0][0].c_str());
  } catch (const pqxx::broken_connection& e) {
    return Error(Unavailable(fmt::format("postgresql: {}", e.what())));
  } catch (const std::exception& e) {
    return Error(Internal(fmt::format("postgresql: {}", e.what())));
  }
}

}  // namespace

std::string_view EngineName(Engine engine) {
  return engine == Engine::kSqlite ? "sqlite" : "postgresql";
}

std::string WithDatabaseName(std::string_view url, std::string_view database) {
  size_t authority = url.find("://");
  authority = authority == std::string_view::npos ? 0 : authority + 3;
  size_t slash = url.find_first_of("/?", authority);
  std::string out(url);
  if (slash == std::string_view::npos) return out + "/" + std::string(database);
  if (url[slash] == '?') return out.insert(slash, "/" + std::string(database));
  size_t end = url.find('?', slash);
  if (end == std::string_view::npos) end = url.size();
  return out.replace(slash + 1, end - slash - 1, database);
}

Result<std::unique_ptr<TestDatabase>> TestDatabase::Create(Engine engine) {
  if (engine == Engine::kSqlite) {
    std::error_code error;
    std::filesystem::path base = std::filesystem::temp_directory_path(error);
    if (error) base = "/tmp";
    std::string pattern = (base / "carrefour-store-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Error(Unavailable(fmt::format("cannot create a folder like {}", pattern)));
    }
    std::string file = pattern + "/hub.db";
    return std::unique_ptr<TestDatabase>(
        new TestDatabase(engine, "sqlite:" + file, file, std::string()));
  }

  const char* maintenance = getenv(kPostgresEnv);
  if (maintenance == nullptr || *maintenance == '\0') {
    return Error(Unavailable(fmt::format(
        "{} is not set: no PostgreSQL cluster to test against (scripts/test.sh starts one with "
        "scripts/postgres-test-cluster.sh)",
        kPostgresEnv)));
  }
  std::string name = "carrefour_test_" + RandomSuffix();
  // The name is ours (hex digits), not input: quoting is not needed but costs
  // nothing.
  CARREFOUR_RETURN_IF_ERROR(ExecutePostgres(maintenance, "CREATE DATABASE \"" + name + "\""));
  return std::unique_ptr<TestDatabase>(
      new TestDatabase(engine, WithDatabaseName(maintenance, name), name, maintenance));
}

TestDatabase::~TestDatabase() {
  if (engine_ == Engine::kSqlite) {
    std::error_code error;
    std::filesystem::remove_all(std::filesystem::path(location_).parent_path(), error);
    return;
  }
  // FORCE: a store a failing test did not close must not leak the database.
  Status dropped =
      ExecutePostgres(maintenance_url_, "DROP DATABASE IF EXISTS \"" + location_ + "\" WITH (FORCE)");
  if (!dropped.ok()) fmt::print(stderr, "test database {}: {}\n", location_, dropped.ToString());
}

Status TestDatabase::Execute(const std::string& sql) const {
  if (engine_ == Engine::kSqlite) return ExecuteSqlite(location_, sql);
  return ExecutePostgres(url_, sql);
}

}  // namespace carrefour::store::testing

namespace carrefour::store::testing {

Result<std::string> TestDatabase::QueryText(const std::string& sql) const {
  if (engine_ == Engine::kSqlite) return QueryTextSqlite(location_, sql);
  return QueryTextPostgres(url_, sql);
}

}  // namespace carrefour::store::testing
