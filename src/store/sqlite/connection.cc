// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include "store/sqlite/wal_vfs.h"

namespace carrefour::store::sqlite {
namespace {

// How long a connection waits for another process's write lock before giving
// up with kUnavailable. Writers of this process never wait on each other
// here: the Database serializes them before they reach SQLite.
constexpr int kBusyTimeoutMs = 10'000;

// Page cache per connection (negative = KiB), 8 MiB each; the operating
// system's cache holds the rest. A bigger writer cache was slower: when a
// transaction splits B-tree pages, SQLite swaps sibling page numbers
// through a spare number past 1 GiB (the lock-byte page), and each commit
// then scans the connection's whole page hash to drop pages past the end of
// the file. With 64 MiB that scan cost up to a tenth of the mutation
// writer's time (docs/store.md, "Threads and connections").
// secure_delete: what a delete or an update removes (an acknowledged
// mutation's payload, personal data) is overwritten with zeros in the file,
// not left in a free page or a page's free space (docs/mutations.md).
constexpr const char* kWriterPragmas =
    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192;"
    " PRAGMA secure_delete = ON;";
constexpr const char* kReaderPragmas =
    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192;"
    " PRAGMA query_only = ON;";

}  // namespace

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void Statement::Bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void Statement::BindUnowned(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void Statement::Bind(int index, std::optional<int64_t> value) {
  int rc = value ? sqlite3_bind_int64(stmt_, index, *value) : sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

Result<bool> Statement::Step() {
  if (bind_error_ != 0) {
    return Error(Internal(fmt::format("sqlite: binding a parameter of '{}': {}",
                                      sqlite3_sql(stmt_), sqlite3_errstr(bind_error_))));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  int code = rc & 0xff;
  std::string message = fmt::format("sqlite: {} (in '{}')", sqlite3_errmsg(db_), sqlite3_sql(stmt_));
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
      code == SQLITE_CANTOPEN || code == SQLITE_FULL) {
    return Error(Unavailable(std::move(message)));
  }
  return Error(Internal(std::move(message)));
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string_view Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::Changes() const { return sqlite3_changes64(db_); }

int64_t Statement::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Role role) {
  // Before SQLite's first use in the process: no memory statistics, which
  // carrefour never reads and which take a global mutex on every one of
  // SQLite's allocations (2-3 % of mutation intake, docs/mutations.md).
  // Refused harmlessly when something else initialized SQLite first.
  static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)configured;
  // NOMUTEX: the Database guarantees one thread per connection at a time, so
  // SQLite's per-call mutex would be pure cost.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (role == Role::kWriter) flags |= SQLITE_OPEN_CREATE;
  // A writer's commits reach the WAL in one write each (wal_vfs.h; it syncs
  // every commit, as the VFS requires). Readers never write the WAL.
  const char* vfs = role == Role::kWriter ? WalGatheringVfs() : nullptr;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs);
  // sqlite3_open_v2 allocates a handle even on failure; the Connection owns it
  // from here so that every path closes it.
  std::unique_ptr<Connection> connection(new Connection(db, path));
  if (rc != SQLITE_OK) {
    return Error(Unavailable(fmt::format("sqlite: cannot open {}: {}", path,
                                         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc))));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (role == Role::kWriter) {
    // Persistent in the file: readers never block the writer, nor the reverse.
    CARREFOUR_RETURN_IF_ERROR(connection->Exec("PRAGMA journal_mode = WAL;"));
  }
  CARREFOUR_RETURN_IF_ERROR(
      connection->Exec(role == Role::kWriter ? kWriterPragmas : kReaderPragmas));
  return connection;
}

Connection::~Connection() {
  statements_.clear();  // finalize before closing
  sqlite3_close_v2(db_);
}

Status Connection::Exec(const char* sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return OkStatus();
  std::string message = error ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return ErrorStatus(rc, message);
}

Result<Statement*> Connection::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second.get();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(ErrorStatus(rc, fmt::format("preparing '{}': {}", sql, sqlite3_errmsg(db_))));
  }
  auto [inserted, _] = statements_.emplace(sql, std::make_unique<Statement>(db_, stmt));
  return inserted->second.get();
}

Status Connection::ErrorStatus(int rc, std::string_view what) const {
  std::string message = fmt::format("sqlite: {}: {}", path_, what);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
      return Unavailable(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

Transaction::~Transaction() {
  if (!open_) return;
  // Nothing useful can be done with a failed rollback: SQLite rolls back by
  // itself when it cannot, and the next Begin() reports a broken connection.
  (void)connection_.Exec("ROLLBACK");
}

Status Transaction::Begin() {
  CARREFOUR_ASSIGN_OR_RETURN(Statement * begin, connection_.Prepare("BEGIN IMMEDIATE"));
  ScopedReset reset(*begin);
  CARREFOUR_ASSIGN_OR_RETURN(bool row, begin->Step());
  (void)row;
  open_ = true;
  return OkStatus();
}

Status Transaction::Commit() {
  CARREFOUR_ASSIGN_OR_RETURN(Statement * commit, connection_.Prepare("COMMIT"));
  ScopedReset reset(*commit);
  CARREFOUR_ASSIGN_OR_RETURN(bool row, commit->Step());
  (void)row;
  open_ = false;
  return OkStatus();
}

}  // namespace carrefour::store::sqlite
