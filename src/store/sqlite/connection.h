// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Thin RAII over the SQLite C API, private to the SQLite engine.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace carrefour::store::sqlite {

// A prepared statement owned by its Connection. Bind, Step until false, and
// let a ScopedReset put it back for the next use.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1, as in SQL (?1).
  void Bind(int index, int64_t value);
  void Bind(int index, std::string_view text);  // copied by SQLite
  // Not copied: `text` must stay valid until the statement is reset (a
  // ScopedReset's scope; Reset clears the bindings). For the hot inserts,
  // where a record's strings outlive its Step: a malloc and a copy less
  // per column.
  void BindUnowned(int index, std::string_view text);
  void Bind(int index, std::optional<int64_t> value);  // nullopt = NULL

  // true when a row is available, false when the statement is done.
  Result<bool> Step();

  int64_t ColumnInt(int column) const;
  std::string_view ColumnText(int column) const;
  bool ColumnIsNull(int column) const;

  // Rows inserted, updated or deleted by the last completed Step().
  int64_t Changes() const;
  // The rowid of the connection's last successful INSERT.
  int64_t LastInsertRowid() const;

  void Reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
};

// Resets a statement when leaving the scope, whatever the path out.
class ScopedReset {
 public:
  explicit ScopedReset(Statement& statement) : statement_(statement) {}
  ~ScopedReset() { statement_.Reset(); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  Statement& statement_;
};

// One sqlite3 handle. Not thread-safe: the Database hands each connection to
// one thread at a time (it is opened without SQLite's own mutex).
class Connection {
 public:
  enum class Role { kWriter, kReader };

  // Opens (creating when `role` is kWriter) and configures the connection:
  // WAL, synchronous=FULL, a busy timeout; readers are query-only.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Role role);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs fixed SQL (one or more statements, no parameters).
  Status Exec(const char* sql);

  // The statement for `sql`, compiled on first use and kept for the life of
  // the connection. `sql` must be a constant with static storage: the cache is
  // keyed by its address.
  Result<Statement*> Prepare(const char* sql);

  // The Status for SQLite result code `rc` (kUnavailable for busy/locked/
  // cannot-open/I/O, kInternal otherwise), with SQLite's message.
  Status ErrorStatus(int rc, std::string_view what) const;

  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> statements_;
};

// A write transaction on a connection: Begin() takes the database's write
// lock (BEGIN IMMEDIATE, waiting up to the busy timeout); destroying the
// object without a successful Commit() rolls back.
class Transaction {
 public:
  explicit Transaction(Connection& connection) : connection_(connection) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin();
  Status Commit();

 private:
  Connection& connection_;
  bool open_ = false;
};

}  // namespace carrefour::store::sqlite
