// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Private to the PostgreSQL engine: the only headers of carrefour that
// include pqxx are here and in the engine's .cc files.

#include <atomic>
#include <condition_variable>
#include <cstdint>
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
// and reused. Thread-safe.
//
// Faults (docs/scale-out.md): a connection that is found lost (server
// restarted, network cut) is discarded, and so is every connection opened
// before it (they share its fate: they are only found out one request at a
// time otherwise); the operation then runs again on a fresh connection. An
// operation whose transaction was rolled back by a serialization failure or
// a deadlock runs again too. Never retried: a commit whose outcome is
// unknown (the connection broke during COMMIT). The first failure of an
// episode is logged once with its cause, the recovery once.
class Pool {
 public:
  // Connects once right away so that an unreachable database is reported at
  // open (kUnavailable) rather than at the first request.
  static Result<std::unique_ptr<Pool>> Open(std::string url,
                                            std::vector<PreparedStatement> statements);

  // Runs `body` with a connection of its own. `body` may run more than once
  // (see above): it must set its outputs afresh at each run, and nothing it
  // did in a run that threw is committed. Every exception of pqxx is turned
  // into a Status here, so none leaves the engine: kUnavailable for a lost
  // or unreachable server, a busy one (too many connections), a deadlock or
  // serialization failure still failing after the retries, a commit of
  // unknown outcome; kInternal otherwise, with `what` and PostgreSQL's
  // message.
  Status Run(std::string_view what, const std::function<Status(pqxx::connection&)>& body);

  // One round trip ("SELECT 1"): whether the database can be used now.
  Status Ping();

  // Operations run again after a lost connection or a rolled-back
  // transaction, since the pool was opened.
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  // Hub threads beyond this many wait for a connection. Several hub
  // processes share the server's max_connections (100 by default).
  static constexpr size_t kMaxConnections = 16;
  // Runs of one operation at most (the first and the retries).
  static constexpr int kAttempts = 4;

  // A connection and the epoch it was opened in.
  struct Slot {
    std::unique_ptr<pqxx::connection> connection;
    uint64_t epoch = 0;
  };
  // How one run of a body ended.
  // kLost: the connection was lost (run again at once, on a fresh one);
  // kRolledBack: serialization failure or deadlock (run again after a pause).
  enum class Outcome { kDone, kLost, kRolledBack, kFailed };

  Pool(std::string url, std::vector<PreparedStatement> statements)
      : url_(std::move(url)), statements_(std::move(statements)) {}

  Result<std::unique_ptr<pqxx::connection>> Connect() const;
  Result<Slot> Acquire();
  void Release(Slot slot);
  // `slot`'s connection was lost: it and every connection of its epoch or
  // before are discarded. True for the first loss of its epoch.
  bool Lost(Slot& slot);
  Outcome RunOnce(std::string_view what, const std::function<Status(pqxx::connection&)>& body,
                  Slot& slot, Status* status);
  // Logs the first failure of an episode and the end of the episode.
  void NoteFailure(const Status& status);
  void NoteSuccess();

  const std::string url_;
  const std::vector<PreparedStatement> statements_;

  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<Slot> idle_;  // guarded by mutex_
  size_t open_ = 0;         // guarded by mutex_
  uint64_t epoch_ = 0;      // guarded by mutex_; bumped at each loss
  std::atomic<uint64_t> retries_{0};
  std::atomic<bool> failing_{false};
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
