#pragma once

// Private to the PostgreSQL engine: the only headers of carrefour that
// include pqxx are here and in the engine's .cc files.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "core/result.h"

namespace carrefour::store::postgres {

// A named SQL statement that every connection of the pool prepares.
struct PreparedStatement {
  const char* name;
  const char* sql;
};

// Connections to one PostgreSQL database, opened on demand up to a maximum
// and reused. Thread-safe. A connection that breaks is dropped; the next use
// opens a fresh one.
class Pool {
 public:
  // Connects once right away so that an unreachable database is reported at
  // open (kUnavailable) rather than at the first request.
  static Result<std::unique_ptr<Pool>> Open(std::string url,
                                            std::vector<PreparedStatement> statements);

  // Runs `body` with a connection of its own. Every exception of pqxx is
  // turned into a Status here, so none leaves the engine: kUnavailable for a
  // lost or unreachable server, a busy one (too many connections), a
  // deadlock or serialization failure (safe to retry); kInternal otherwise,
  // with `what` and PostgreSQL's message.
  Status Run(std::string_view what, const std::function<Status(pqxx::connection&)>& body);

 private:
  // Hub threads beyond this many wait for a connection. Several hub
  // processes share the server's max_connections (100 by default).
  static constexpr size_t kMaxConnections = 16;

  Pool(std::string url, std::vector<PreparedStatement> statements)
      : url_(std::move(url)), statements_(std::move(statements)) {}

  Result<std::unique_ptr<pqxx::connection>> Connect() const;
  Result<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> connection);

  const std::string url_;
  const std::vector<PreparedStatement> statements_;

  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mutex_
  size_t open_ = 0;                                      // guarded by mutex_
};

// The text form of a PostgreSQL array parameter ("{1,2,NULL}",
// {"a","b\"c"}): how a whole batch travels in one statement (unnest).
class ArrayLiteral {
 public:
  ArrayLiteral() : text_(1, '{') {}
  void Add(int64_t value);
  void Add(std::string_view text);
  void AddNull();
  // The literal; the builder is empty afterwards.
  std::string Take();

 private:
  void Separate();
  std::string text_;
  bool empty_ = true;
};

}  // namespace carrefour::store::postgres
