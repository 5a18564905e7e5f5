// SPDX-License-Identifier: EUPL-1.2
// The connector's SQLite engine: one sqlite3 handle per Session, statements
// prepared once and kept per SQL text, a progress handler for timeouts.

#include <sqlite3.h>

#include <filesystem>
#include <unordered_map>

#include <fmt/format.h>

#include "connector/database.h"

namespace carrefour::connector {
namespace {

// Another session (or the institution's own application) may hold the write
// lock for a while; waiting is better than failing a provide call.
constexpr int kBusyTimeoutMs = 10'000;

Status SqlError(sqlite3* db, std::string_view what) {
  int code = sqlite3_errcode(db);
  if (code == SQLITE_INTERRUPT) {
    return Status(StatusCode::kTimeout, fmt::format("{}: statement interrupted (timeout)", what));
  }
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return Status(StatusCode::kUnavailable, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
  }
  return Status(StatusCode::kInternal, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
}

class SqliteSession final : public Session {
 public:
  explicit SqliteSession(sqlite3* db) : db_(db) {
    sqlite3_progress_handler(db_, 1000, &SqliteSession::Progress, this);
  }
  ~SqliteSession() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Result<SqlRows> Execute(std::string_view sql, const SqlParams& params,
                          std::chrono::milliseconds timeout) override {
    CARREFOUR_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    struct Reset {
      sqlite3_stmt* stmt;
      ~Reset() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
      }
    } reset{stmt};

    int count = sqlite3_bind_parameter_count(stmt);
    for (int index = 1; index <= count; ++index) {
      const char* raw = sqlite3_bind_parameter_name(stmt, index);
      if (raw == nullptr) {
        return tl::unexpected(Status(StatusCode::kInvalidRequest,
                                     "statement uses a '?' parameter: use named ones (:niss)"));
      }
      std::string_view name(raw + 1);  // without the ':' (or '@', '$')
      const SqlValue* value = nullptr;
      for (const auto& [key, given] : params) {
        if (key == name) value = &given;
      }
      int rc = value == nullptr ? sqlite3_bind_null(stmt, index) : Bind(stmt, index, *value);
      if (rc != SQLITE_OK) return tl::unexpected(SqlError(db_, "binding parameters"));
    }

    deadline_ = timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout
                                    : std::chrono::steady_clock::time_point::max();
    SqlRows out;
    int columns = sqlite3_column_count(stmt);
    for (int i = 0; i < columns; ++i) out.columns.emplace_back(sqlite3_column_name(stmt, i));
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return tl::unexpected(SqlError(db_, "statement failed"));
      std::vector<SqlValue>& row = out.rows.emplace_back();
      row.reserve(static_cast<size_t>(columns));
      for (int i = 0; i < columns; ++i) row.push_back(Column(stmt, i));
    }
    return out;
  }

  Status Check(std::string_view sql) override {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) return Status(StatusCode::kInvalidRequest, sqlite3_errmsg(db_));
    if (stmt == nullptr) return Status(StatusCode::kInvalidRequest, "empty statement");
    if (tail != nullptr && std::string_view(tail).find_first_not_of(" \t\r\n;") !=
                               std::string_view::npos) {
      return Status(StatusCode::kInvalidRequest, "one statement only (text after the first ';')");
    }
    return OkStatus();
  }

  Status Begin() override { return Exec("BEGIN IMMEDIATE"); }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override {
    if (!sqlite3_get_autocommit(db_)) (void)Exec("ROLLBACK");
  }
  Status Savepoint(std::string_view name) override {
    return Exec(fmt::format("SAVEPOINT {}", name));
  }
  Status RollbackTo(std::string_view name) override {
    return Exec(fmt::format("ROLLBACK TO {}", name));
  }
  Status Release(std::string_view name) override { return Exec(fmt::format("RELEASE {}", name)); }

 private:
  static int Progress(void* self) {
    return std::chrono::steady_clock::now() > static_cast<SqliteSession*>(self)->deadline_ ? 1 : 0;
  }

  Status Exec(const std::string& sql) {
    deadline_ = std::chrono::steady_clock::time_point::max();
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return SqlError(db_, sql);
    }
    return OkStatus();
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto found = statements_.find(std::string(sql));
    if (found != statements_.end()) return found->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return tl::unexpected(SqlError(db_, "preparing statement"));
    }
    statements_.emplace(std::string(sql), stmt);
    return stmt;
  }

  static int Bind(sqlite3_stmt* stmt, int index, const SqlValue& value) {
    struct Visitor {
      sqlite3_stmt* stmt;
      int index;
      int operator()(std::monostate) const { return sqlite3_bind_null(stmt, index); }
      int operator()(bool b) const { return sqlite3_bind_int(stmt, index, b ? 1 : 0); }
      int operator()(int64_t i) const { return sqlite3_bind_int64(stmt, index, i); }
      int operator()(double d) const { return sqlite3_bind_double(stmt, index, d); }
      int operator()(const std::string& s) const {
        return sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
    };
    return std::visit(Visitor{stmt, index}, value);
  }

  static SqlValue Column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_NULL: return std::monostate{};
      case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
      case SQLITE_FLOAT: return sqlite3_column_double(stmt, i);
      default: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        return std::string(text == nullptr ? "" : text,
                           static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
      }
    }
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(std::string path) : path_(std::move(path)) {}

  std::string_view engine() const override { return "sqlite"; }

  Result<std::unique_ptr<Session>> Connect() override {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      return tl::unexpected(Status(StatusCode::kUnavailable,
                                   fmt::format("database {}: {}", path_, message)));
    }
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    // WAL lets provide calls read while the feed consumer writes; the
    // institution's own application benefits too. Durability stays FULL:
    // a stored feed cursor must survive a power cut.
    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", nullptr, nullptr,
                 nullptr);
    return std::unique_ptr<Session>(new SqliteSession(db));
  }

 private:
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(std::string_view path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) {
    return tl::unexpected(Status(
        StatusCode::kUnavailable,
        fmt::format("database file {} does not exist (the connector never creates it)", path)));
  }
  auto database = std::make_unique<SqliteDatabase>(std::string(path));
  // Opening once now reports an unreadable file at start-up, not at the
  // first request.
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Session> probe, database->Connect());
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace carrefour::connector
