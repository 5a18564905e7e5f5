// SPDX-License-Identifier: EUPL-1.2
#include "store/postgres/pool.h"

#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace carrefour::store::postgres {
namespace {

// SQLSTATE classes that say "try again later" rather than "this is wrong":
// 08 connection exception, 53 insufficient resources, 57 operator
// intervention (shutdown), 40 transaction rollback (deadlock, serialization).
bool IsTransient(const std::string& sqlstate) {
  std::string_view cls = std::string_view(sqlstate).substr(0, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "40";
}

// SQLSTATEs that say the server ended this connection: 08 connection
// exception, 57P01 admin shutdown (pg_ctl stop/restart -m fast), 57P02 crash
// shutdown, 57P03 cannot connect now (starting up or shutting down).
bool IsConnectionGone(const std::string& sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

// A failed COMMIT may have committed: its outcome is unknown.
bool WasCommit(const pqxx::sql_error& e) {
  std::string_view query = e.query();
  while (!query.empty() && (query.back() == ';' || query.back() == ' ')) query.remove_suffix(1);
  return query == "COMMIT";
}

// pqxx messages end with a newline, and libpq's span lines ("...failed:
// Connection refused\n\tIs the server running..."): one line, so that a log
// line holds the whole cause.
std::string Trimmed(const char* message) {
  std::string text;
  for (const char* c = message; *c != '\0'; ++c) {
    if (*c == '\n' || *c == '\t' || *c == '\r') {
      if (!text.empty() && text.back() != ' ') text += ' ';
    } else {
      text += *c;
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

Result<std::unique_ptr<Pool>> Pool::Open(std::string url,
                                         std::vector<PreparedStatement> statements) {
  std::unique_ptr<Pool> pool(new Pool(std::move(url), std::move(statements)));
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> first, pool->Connect());
  pool->open_ = 1;
  pool->idle_.push_back(Slot{std::move(first), 0});
  return pool;
}

Result<std::unique_ptr<pqxx::connection>> Pool::Connect() const {
  try {
    auto connection = std::make_unique<pqxx::connection>(url_);
    // Durable when commit returns, whatever the server's default; and no
    // NOTICE chatter on stderr ("relation already exists, skipping").
    connection->set_variable("synchronous_commit", "on");
    connection->set_variable("client_min_messages", "warning");
    for (const PreparedStatement& statement : statements_) {
      connection->prepare(statement.name, statement.sql);
    }
    return connection;
  } catch (const pqxx::broken_connection& e) {
    // libpq's message names host and port, never the password.
    return Error(Unavailable("postgresql: cannot connect: " + Trimmed(e.what())));
  } catch (const pqxx::sql_error& e) {
    if (IsTransient(e.sqlstate())) {
      return Error(Unavailable("postgresql: cannot connect: " + Trimmed(e.what())));
    }
    return Error(Internal("postgresql: setting up a connection: " + Trimmed(e.what())));
  } catch (const std::exception& e) {
    return Error(Unavailable("postgresql: cannot connect: " + Trimmed(e.what())));
  }
}

Result<Pool::Slot> Pool::Acquire() {
  uint64_t epoch = 0;
  {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return !idle_.empty() || open_ < kMaxConnections; });
    if (!idle_.empty()) {
      Slot slot = std::move(idle_.back());
      idle_.pop_back();
      return slot;
    }
    ++open_;  // reserve the slot; connect outside the lock
    epoch = epoch_;
  }
  Result<std::unique_ptr<pqxx::connection>> connection = Connect();
  if (!connection) {
    Release(Slot{});
    return Error(connection.error());
  }
  return Slot{std::move(*connection), epoch};
}

void Pool::Release(Slot slot) {
  {
    std::lock_guard lock(mutex_);
    // A connection opened before a loss is not kept: it is likely lost too.
    if (slot.connection && slot.connection->is_open() && slot.epoch == epoch_) {
      idle_.push_back(std::move(slot));
    } else {
      --open_;  // dropped
    }
  }
  released_.notify_one();
}

bool Pool::Lost(Slot& slot) {
  std::vector<Slot> stale;
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    --open_;
    if (slot.epoch == epoch_) {
      first = true;
      ++epoch_;
      open_ -= idle_.size();
      stale.swap(idle_);
    }
  }
  slot.connection.reset();
  released_.notify_all();
  return first;  // `stale` closes its connections here, outside the lock
}

Pool::Outcome Pool::RunOnce(std::string_view what,
                            const std::function<Status(pqxx::connection&)>& body, Slot& slot,
                            Status* status) {
  auto lost = [&](std::string message) {
    *status = Unavailable(std::move(message));
    if (Lost(slot)) spdlog::warn("{}; the pool's connections are reopened", status->message());
    return Outcome::kLost;
  };
  try {
    *status = body(*slot.connection);
    return Outcome::kDone;
  } catch (const pqxx::in_doubt_error& e) {
    *status = Unavailable(fmt::format(
        "postgresql: connection lost while committing ({}); the outcome is unknown: {}", what,
        Trimmed(e.what())));
    Lost(slot);
    return Outcome::kFailed;
  } catch (const pqxx::broken_connection& e) {
    return lost(fmt::format("postgresql: connection lost while {}: {}", what, Trimmed(e.what())));
  } catch (const pqxx::statement_completion_unknown& e) {
    // 40003: whether the statement (a COMMIT among them) took effect is
    // unknown: never run again. Caught before sql_error: libpqxx 6 (Debian
    // 12) derives the transaction_rollback family from failure, not
    // sql_error.
    *status = Unavailable(fmt::format("postgresql: the completion of {} is unknown: {}", what,
                                      Trimmed(e.what())));
    if (!slot.connection->is_open()) Lost(slot);
    return Outcome::kFailed;
  } catch (const pqxx::transaction_rollback& e) {
    // 40001 serialization failure, 40P01 deadlock: the server rolled the
    // whole transaction back (at COMMIT too), so running it again is safe.
    if (!slot.connection->is_open()) {
      return lost(fmt::format("postgresql: connection lost while {}: {}", what, Trimmed(e.what())));
    }
    *status = Unavailable(
        fmt::format("postgresql: {} was rolled back, try again: {}", what, Trimmed(e.what())));
    return Outcome::kRolledBack;
  } catch (const pqxx::sql_error& e) {
    const std::string& sqlstate = e.sqlstate();
    const bool gone = IsConnectionGone(sqlstate) || !slot.connection->is_open();
    // 40003: the statement's completion is unknown, like a broken COMMIT.
    if (WasCommit(e) || sqlstate == "40003") {
      *status = Unavailable(fmt::format(
          "postgresql: the commit of {} failed, its outcome is unknown: {}", what, Trimmed(e.what())));
      if (gone) Lost(slot);
      return Outcome::kFailed;
    }
    if (gone) {
      return lost(fmt::format("postgresql: connection lost while {}: {}", what, Trimmed(e.what())));
    }
    if (sqlstate.starts_with("40")) {  // serialization failure, deadlock: rolled back
      *status = Unavailable(
          fmt::format("postgresql: {} was rolled back, try again: {}", what, Trimmed(e.what())));
      return Outcome::kRolledBack;
    }
    std::string message = fmt::format("postgresql: {}: {}", what, Trimmed(e.what()));
    *status = IsTransient(sqlstate) ? Unavailable(std::move(message)) : Internal(std::move(message));
    return Outcome::kFailed;
  } catch (const std::exception& e) {
    if (!slot.connection->is_open()) {
      return lost(fmt::format("postgresql: connection lost while {}: {}", what, Trimmed(e.what())));
    }
    *status = Internal(fmt::format("postgresql: {}: {}", what, Trimmed(e.what())));
    return Outcome::kFailed;
  }
}

Status Pool::Run(std::string_view what, const std::function<Status(pqxx::connection&)>& body) {
  Status status;
  Outcome outcome = Outcome::kFailed;
  for (int attempt = 1;; ++attempt) {
    Result<Slot> slot = Acquire();
    if (!slot) {
      NoteFailure(slot.error());
      return slot.error();
    }
    outcome = RunOnce(what, body, *slot, &status);
    if (slot->connection) Release(std::move(*slot));
    if (outcome == Outcome::kDone) {
      NoteSuccess();
      return status;
    }
    if (outcome == Outcome::kFailed || attempt == kAttempts) break;
    retries_.fetch_add(1, std::memory_order_relaxed);
    // A lost connection is retried at once, on a fresh one; a rolled-back
    // transaction after a short random pause, so that the transactions that
    // collided do not collide again.
    if (outcome == Outcome::kRolledBack) {
      thread_local std::minstd_rand random(std::random_device{}());
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + random() % (5 * attempt)));
    }
  }
  if (outcome == Outcome::kLost) NoteFailure(status);
  return status;
}

Status Pool::Ping() {
  return Run("checking the connection", [](pqxx::connection& c) {
    pqxx::nontransaction transaction(c);
    transaction.exec("SELECT 1");
    return OkStatus();
  });
}

void Pool::NoteFailure(const Status& status) {
  if (!failing_.exchange(true)) {
    spdlog::error("{} (the store is unavailable; logged once until it recovers)", status.message());
  }
}

void Pool::NoteSuccess() {
  if (failing_.load(std::memory_order_relaxed) && failing_.exchange(false)) {
    spdlog::info("postgresql: the database answers again");
  }
}

void ArrayLiteral::Separate() {
  if (!empty_) text_ += ',';
  empty_ = false;
}

void ArrayLiteral::Add(int64_t value) {
  Separate();
  fmt::format_to(std::back_inserter(text_), "{}", value);
}

void ArrayLiteral::Add(std::string_view text) {
  Separate();
  // Always quoted, so that no value can be read as NULL or split on a comma;
  // inside quotes only the backslash and the double quote need escaping.
  text_ += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

void ArrayLiteral::AddNull() {
  Separate();
  text_ += "NULL";
}

std::string ArrayLiteral::Take() {
  text_ += '}';
  std::string out = std::move(text_);
  text_ = "{";
  empty_ = true;
  return out;
}

}  // namespace carrefour::store::postgres
