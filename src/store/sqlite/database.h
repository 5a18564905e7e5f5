// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/internal/migration.h"
#include "store/sqlite/connection.h"

namespace carrefour::store::sqlite {

// One SQLite database file and the connections of this process to it:
// one writer, used under a mutex (SQLite allows a single writer at a time
// anyway; queuing here rather than in SQLite's busy loop keeps writers fair
// and fast), and a pool of readers that run concurrently with each other and
// with the writer, thanks to WAL. Thread-safe. Other processes may open the
// same file: they wait for the write lock up to the busy timeout.
class Database {
 public:
  // Opens `path` (created if missing) and applies `migrations` (see
  // docs/store.md), stamping them with `clock`.
  static Result<std::unique_ptr<Database>> Open(std::string path,
                                                std::span<const internal::Migration> migrations,
                                                const Clock& clock);

  // Runs `body` inside a write transaction on the writer connection; commits
  // when it returns ok, rolls back otherwise (and returns its error).
  Status Write(const std::function<Status(Connection&)>& body);

  // Runs `body` on a reader connection (each statement sees a consistent
  // snapshot; use a transaction inside for several).
  Status Read(const std::function<Status(Connection&)>& body);

  const std::string& path() const { return path_; }

  ~Database();  // stops the checkpointer

 private:
  // At most this many reader connections; further readers wait for one.
  static constexpr size_t kMaxReaders = 8;

  Database(std::string path, std::unique_ptr<Connection> writer,
           std::unique_ptr<Connection> checkpointer);
  void CheckpointLoop();

  Result<std::unique_ptr<Connection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<Connection> reader);

  const std::string path_;

  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;  // guarded by writer_mutex_

  // WAL checkpoints (copying committed pages into the file, and its fsync)
  // run on their own connection and thread, off the committing writer's
  // path; the writer checkpoints itself only if the WAL grows far (the
  // checkpointer stalled). Commits stay durable in the WAL (synchronous =
  // FULL) either way.
  std::unique_ptr<Connection> checkpointer_;  // the checkpoint thread's
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  uint64_t writes_ = 0;          // commits so far; guarded by checkpoint_mutex_
  bool stopping_ = false;        // guarded by checkpoint_mutex_
  std::thread checkpoint_thread_;

  std::mutex readers_mutex_;
  std::condition_variable reader_released_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_
  size_t open_readers_ = 0;                                // guarded by readers_mutex_
};

// Applies the migrations `connection` lacks, one transaction each; refuses a
// database whose schema is newer than `migrations` knows. Exposed for tests.
Status Migrate(Connection& connection, std::span<const internal::Migration> migrations,
               const Clock& clock);

}  // namespace carrefour::store::sqlite
