// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/database.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <fmt/format.h>

namespace carrefour::store::sqlite {

Status Migrate(Connection& connection, std::span<const internal::Migration> migrations,
               const Clock& clock) {
  const int latest = static_cast<int>(migrations.size());
  // One transaction per step: a failing migration leaves the database at the
  // previous version, never half-way. BEGIN IMMEDIATE also makes a second
  // process opening the same file wait and then find the work done.
  while (true) {
    Transaction transaction(connection);
    CARREFOUR_RETURN_IF_ERROR(transaction.Begin());
    CARREFOUR_RETURN_IF_ERROR(connection.Exec(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY,"
        " description TEXT NOT NULL,"
        " applied_at INTEGER NOT NULL"  // seconds since 1970-01-01 UTC
        ") STRICT;"));
    CARREFOUR_ASSIGN_OR_RETURN(Statement * current,
                               connection.Prepare("SELECT coalesce(max(version), 0) FROM schema_version"));
    int version = 0;
    {
      ScopedReset reset(*current);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, current->Step());
      if (row) version = static_cast<int>(current->ColumnInt(0));
    }
    if (version > latest) {
      return Internal(fmt::format(
          "sqlite: {}: the database's schema is at version {}, newer than this carrefour knows "
          "(version {}); use a newer carrefour",
          connection.path(), version, latest));
    }
    if (version == latest) return transaction.Commit();

    const internal::Migration& migration = migrations[static_cast<size_t>(version)];
    CARREFOUR_RETURN_IF_ERROR(connection.Exec(migration.sql)
                                  .WithContext(fmt::format("migration {}", migration.version)));
    CARREFOUR_ASSIGN_OR_RETURN(
        Statement * record,
        connection.Prepare("INSERT INTO schema_version (version, description, applied_at) "
                           "VALUES (?1, ?2, ?3)"));
    {
      ScopedReset reset(*record);
      record->Bind(1, int64_t{migration.version});
      record->Bind(2, migration.description);
      record->Bind(3, int64_t{std::chrono::duration_cast<std::chrono::seconds>(
                                  clock.Now().time_since_epoch())
                                  .count()});
      CARREFOUR_ASSIGN_OR_RETURN(bool row, record->Step());
      (void)row;
    }
    CARREFOUR_RETURN_IF_ERROR(transaction.Commit());
  }
}

Result<std::unique_ptr<Database>> Database::Open(std::string path,
                                                 std::span<const internal::Migration> migrations,
                                                 const Clock& clock) {
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                             Connection::Open(path, Connection::Role::kWriter));
  CARREFOUR_RETURN_IF_ERROR(Migrate(*writer, migrations, clock));
  // The writer leaves checkpoints to the checkpointer, unless the WAL grows
  // past 64 MiB (16 384 pages of 4 KiB).
  CARREFOUR_RETURN_IF_ERROR(writer->Exec("PRAGMA wal_autocheckpoint = 16384;"));
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpointer,
                             Connection::Open(path, Connection::Role::kWriter));
  CARREFOUR_RETURN_IF_ERROR(checkpointer->Exec("PRAGMA wal_autocheckpoint = 0;"));
  return std::unique_ptr<Database>(
      new Database(std::move(path), std::move(writer), std::move(checkpointer)));
}

Database::Database(std::string path, std::unique_ptr<Connection> writer,
                   std::unique_ptr<Connection> checkpointer)
    : path_(std::move(path)),
      writer_(std::move(writer)),
      checkpointer_(std::move(checkpointer)),
      checkpoint_thread_([this] { CheckpointLoop(); }) {}

Database::~Database() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    stopping_ = true;
  }
  checkpoint_wake_.notify_all();
  checkpoint_thread_.join();
  checkpointer_.reset();  // the writer, closed last, checkpoints what is left
}

void Database::CheckpointLoop() {
  // Below the threads that answer (10 nice steps more than the process):
  // a checkpoint is background work, and on a busy machine it took the CPU
  // from the writer and the I/O threads at the worst moment (the trickle's
  // p99, docs/mutations.md, "Run 11"). Should it fall behind, the writer
  // checkpoints itself past 64 MiB of WAL. Best effort: a refusal changes
  // nothing else.
  errno = 0;
  const int process = getpriority(PRIO_PROCESS, 0);
  if (errno == 0) {
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), std::min(19, process + 10));
  }
  pthread_setname_np(pthread_self(), "sqlite-checkpt");  // named once it is niced
  uint64_t done = 0;
  std::unique_lock lock(checkpoint_mutex_);
  while (true) {
    // A few commits' pages at a time: often enough that the WAL stays
    // small, rarely enough that each checkpoint copies many pages at once.
    checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; });
    if (stopping_) return;
    if (writes_ == done) continue;
    done = writes_;
    lock.unlock();
    // PASSIVE: copies what no reader still needs, never waits for the
    // writer nor the readers. A failure is left to the next round (and to
    // the writer's own checkpoint past 64 MiB).
    (void)checkpointer_->Exec("PRAGMA wal_checkpoint(PASSIVE);");
    lock.lock();
  }
}

Status Database::Write(const std::function<Status(Connection&)>& body) {
  Status status = [&]() -> Status {
    std::lock_guard lock(writer_mutex_);
    Transaction transaction(*writer_);
    CARREFOUR_RETURN_IF_ERROR(transaction.Begin());
    CARREFOUR_RETURN_IF_ERROR(body(*writer_));
    return transaction.Commit();
  }();
  if (status.ok()) {
    std::lock_guard lock(checkpoint_mutex_);
    ++writes_;
  }
  return status;
}

Status Database::Read(const std::function<Status(Connection&)>& body) {
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, AcquireReader());
  Status status = body(*reader);
  ReleaseReader(std::move(reader));
  return status;
}

Result<std::unique_ptr<Connection>> Database::AcquireReader() {
  {
    std::unique_lock lock(readers_mutex_);
    reader_released_.wait(lock,
                          [&] { return !idle_readers_.empty() || open_readers_ < kMaxReaders; });
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
    ++open_readers_;  // reserve the slot; open outside the lock
  }
  Result<std::unique_ptr<Connection>> reader = Connection::Open(path_, Connection::Role::kReader);
  if (!reader) {
    std::lock_guard lock(readers_mutex_);
    --open_readers_;
    reader_released_.notify_one();
  }
  return reader;
}

void Database::ReleaseReader(std::unique_ptr<Connection> reader) {
  {
    std::lock_guard lock(readers_mutex_);
    idle_readers_.push_back(std::move(reader));
  }
  reader_released_.notify_one();
}

}  // namespace carrefour::store::sqlite
