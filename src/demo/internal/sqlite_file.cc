// SPDX-License-Identifier: EUPL-1.2
#include "demo/internal/sqlite_file.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace carrefour::demo::internal {
namespace {

Status SqlError(sqlite3* db, std::string_view what) {
  const int code = sqlite3_errcode(db);
  std::string message = fmt::format("{}: {}", what, sqlite3_errmsg(db));
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Unavailable(std::move(message));
  if (code == SQLITE_CONSTRAINT) return InvalidRequest(std::move(message));
  return Internal(std::move(message));
}

Result<sqlite3*> OpenHandle(const std::filesystem::path& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return tl::unexpected(Internal(fmt::format("{}: {}", path.string(), message)));
  }
  sqlite3_busy_timeout(db, 10'000);
  return db;
}

}  // namespace

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::Run(std::span<const Value> values) {
  Result<bool> done = Fetch(values);
  return done ? OkStatus() : done.error();
}

Result<bool> Statement::Fetch(std::span<const Value> values) {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);  // a parameter not in `values` is NULL
  int index = 0;
  for (const Value& value : values) {
    ++index;
    int rc = SQLITE_OK;
    if (const auto* i = std::get_if<int64_t>(&value)) {
      rc = sqlite3_bind_int64(stmt_, index, *i);
    } else if (const auto* d = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(stmt_, index, *d);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      // SQLITE_STATIC: `values` outlive the step below, so SQLite need not copy.
      rc = sqlite3_bind_text64(stmt_, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else {
      rc = sqlite3_bind_null(stmt_, index);
    }
    if (rc != SQLITE_OK) return tl::unexpected(SqlError(db_, "binding a value"));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    return tl::unexpected(SqlError(db_, fmt::format("running \"{}\"", sqlite3_sql(stmt_))));
  }
  const bool row = rc == SQLITE_ROW;
  sqlite3_reset(stmt_);  // releases the read lock a pending row would keep
  return row;
}

Result<std::unique_ptr<SqliteFile>> SqliteFile::Create(const std::filesystem::path& path) {
  CARREFOUR_ASSIGN_OR_RETURN(sqlite3 * db,
                             OpenHandle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  std::unique_ptr<SqliteFile> file(new SqliteFile(db));
  // The file is built under a temporary name and renamed once complete, so
  // the journal buys nothing here. A large page cache keeps the tables keyed
  // by number (inserted in household order, not number order) in memory
  // until the commit writes them once.
  CARREFOUR_RETURN_IF_ERROR(
      file->Exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;"
                 " PRAGMA temp_store = MEMORY;"));
  return file;
}

Result<std::unique_ptr<SqliteFile>> SqliteFile::Open(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return tl::unexpected(NotFound(fmt::format("{}: no such database", path.string())));
  }
  CARREFOUR_ASSIGN_OR_RETURN(sqlite3 * db, OpenHandle(path, SQLITE_OPEN_READWRITE));
  std::unique_ptr<SqliteFile> file(new SqliteFile(db));
  // The connector may be reading or writing the same file: WAL, as it uses.
  CARREFOUR_RETURN_IF_ERROR(file->Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"));
  return file;
}

SqliteFile::~SqliteFile() { sqlite3_close_v2(db_); }

Status SqliteFile::Exec(std::string_view sql) {
  const std::string text(sql);
  char* error = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    sqlite3_free(error);
    return SqlError(db_, "running statements");
  }
  return OkStatus();
}

Result<Statement> SqliteFile::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(stmt);
    return tl::unexpected(SqlError(db_, fmt::format("preparing \"{}\"", sql)));
  }
  return Statement(db_, stmt);
}

int64_t SqliteFile::changes() const { return sqlite3_changes64(db_); }

Status SqliteFile::Close() {
  if (db_ == nullptr) return OkStatus();
  const int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) return SqlError(db_, "closing the database");
  db_ = nullptr;
  return OkStatus();
}

}  // namespace carrefour::demo::internal
