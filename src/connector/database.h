// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The institution's own database, as the connector sees it: a SQLite file or a
// PostgreSQL database, reached only through statements written in the
// connector's configuration with named parameters (`:niss`, `:from`, ...).
// Values are always bound, never spliced into SQL text.
//
//   auto db = connector::Database::Open("sqlite:/var/lib/mut-100/data.db");
//   auto session = (*db)->Connect();
//   auto rows = (*session)->Execute("SELECT street FROM address WHERE niss = :niss",
//                                   {{"niss", std::string("85073003328")}});
//
// No database library leaks through this header.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace carrefour::connector {

// NULL, a boolean, an integer, a real, or text.
using SqlValue = std::variant<std::monostate, bool, int64_t, double, std::string>;

// Named parameters, names without the colon. A statement may use any subset;
// a name it uses that is not given binds NULL.
using SqlParams = std::vector<std::pair<std::string, SqlValue>>;

struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
};

// The parameter names a statement uses, in order of first use, without the
// colon. Quoted strings, quoted identifiers, comments and PostgreSQL `::`
// casts are skipped.
std::vector<std::string> ParameterNames(std::string_view sql);

// `sql` with each `:name` replaced by `$1`, `$2`, ... (one number per
// distinct name, in order of first use) and the names in number order: the
// form PostgreSQL takes.
std::pair<std::string, std::vector<std::string>> ToPositional(std::string_view sql);

// One connection. Not thread-safe: one per thread.
class Session {
 public:
  virtual ~Session() = default;

  // Runs one statement. `timeout` (0 = none) interrupts a statement that runs
  // longer (kTimeout). SQL errors: kInternal with the engine's message.
  virtual Result<SqlRows> Execute(std::string_view sql, const SqlParams& params,
                                  std::chrono::milliseconds timeout = {}) = 0;

  // Checks that `sql` compiles here (tables and columns exist) without
  // running it. kInvalidRequest with the engine's message otherwise.
  virtual Status Check(std::string_view sql) = 0;

  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;  // never fails: an open transaction is dropped
  // Savepoints inside a transaction: one failing statement is undone alone.
  virtual Status Savepoint(std::string_view name) = 0;
  virtual Status RollbackTo(std::string_view name) = 0;
  virtual Status Release(std::string_view name) = 0;
};

class Database {
 public:
  virtual ~Database() = default;

  // "sqlite:PATH" (the file must exist: a connector never creates the
  // institution's database) or "postgresql://..." / "postgres://...".
  // Errors: kInvalidRequest (unknown scheme), kUnavailable (cannot open).
  static Result<std::unique_ptr<Database>> Open(std::string_view url);

  virtual std::string_view engine() const = 0;
  virtual Result<std::unique_ptr<Session>> Connect() = 0;
};

// An SqlValue as JSON-ready text for logs and messages.
std::string DescribeValue(const SqlValue& value);

}  // namespace carrefour::connector
