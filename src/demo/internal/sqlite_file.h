// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A small writer for the institutions' SQLite files: statements prepared once
// and run per row with bound values. Private to src/demo.

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/date.h"
#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace carrefour::demo::internal {

// NULL, an integer, a real or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

inline Value Null() { return std::monostate{}; }
inline Value Text(std::string_view text) { return std::string(text); }
inline Value Day(Date date) { return date.ToString(); }
inline Value Day(const std::optional<Date>& date) { return date ? Day(*date) : Null(); }
// Amounts are kept in cents and stored in euros.
inline Value Euros(int64_t cents) { return static_cast<double>(cents) / 100.0; }

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binds `values` to ?1, ?2, ... and runs the statement once.
  Status Run(std::span<const Value> values);
  Status Run(std::initializer_list<Value> values) {
    return Run(std::span(values.begin(), values.size()));
  }
  // The same, for a query: whether it returned a row.
  Result<bool> Fetch(std::span<const Value> values);
  Result<bool> Fetch(std::initializer_list<Value> values) {
    return Fetch(std::span(values.begin(), values.size()));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteFile {
 public:
  // Opens (creating) `path` for a bulk load: no journal and no fsync (the
  // caller builds it under a temporary name and renames it once complete;
  // the demo's files are rebuilt at will).
  static Result<std::unique_ptr<SqliteFile>> Create(const std::filesystem::path& path);
  // Opens an existing database for ordinary, durable writes.
  static Result<std::unique_ptr<SqliteFile>> Open(const std::filesystem::path& path);
  ~SqliteFile();

  // Runs one or more statements without parameters.
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // Rows changed by the last statement.
  int64_t changes() const;
  // Closes the file; errors of the last writes come back here.
  Status Close();

 private:
  explicit SqliteFile(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace carrefour::demo::internal
