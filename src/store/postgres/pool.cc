#include "store/postgres/pool.h"

#include <fmt/format.h>

namespace carrefour::store::postgres {
namespace {

// SQLSTATE classes that say "try again later" rather than "this is wrong":
// 08 connection exception, 53 insufficient resources, 57 operator
// intervention (shutdown), 40 transaction rollback (deadlock, serialization).
bool IsTransient(const std::string& sqlstate) {
  std::string_view cls = std::string_view(sqlstate).substr(0, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "40";
}

// pqxx messages end with a newline.
std::string Trimmed(const char* message) {
  std::string text(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Result<std::unique_ptr<Pool>> Pool::Open(std::string url,
                                         std::vector<PreparedStatement> statements) {
  std::unique_ptr<Pool> pool(new Pool(std::move(url), std::move(statements)));
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> first, pool->Connect());
  pool->open_ = 1;
  pool->idle_.push_back(std::move(first));
  return pool;
}

Result<std::unique_ptr<pqxx::connection>> Pool::Connect() const {
  try {
    auto connection = std::make_unique<pqxx::connection>(url_);
    // Both survive pqxx's transparent reconnection (set_variable is replayed).
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

Result<std::unique_ptr<pqxx::connection>> Pool::Acquire() {
  {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return !idle_.empty() || open_ < kMaxConnections; });
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;  // reserve the slot; connect outside the lock
  }
  Result<std::unique_ptr<pqxx::connection>> connection = Connect();
  if (!connection) Release(nullptr);
  return connection;
}

void Pool::Release(std::unique_ptr<pqxx::connection> connection) {
  {
    std::lock_guard lock(mutex_);
    if (connection && connection->is_open()) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;  // dropped: a broken connection is not worth keeping
    }
  }
  released_.notify_one();
}

Status Pool::Run(std::string_view what, const std::function<Status(pqxx::connection&)>& body) {
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> connection, Acquire());
  Status status;
  try {
    status = body(*connection);
  } catch (const pqxx::broken_connection& e) {
    status = Unavailable(fmt::format("postgresql: connection lost while {}: {}", what,
                                     Trimmed(e.what())));
    connection.reset();
  } catch (const pqxx::in_doubt_error& e) {
    status = Unavailable(fmt::format(
        "postgresql: connection lost while committing ({}); the outcome is unknown: {}", what,
        Trimmed(e.what())));
    connection.reset();
  } catch (const pqxx::transaction_rollback& e) {
    status = Unavailable(
        fmt::format("postgresql: {} was rolled back, try again: {}", what, Trimmed(e.what())));
  } catch (const pqxx::sql_error& e) {
    std::string message = fmt::format("postgresql: {}: {}", what, Trimmed(e.what()));
    status = IsTransient(e.sqlstate()) ? Unavailable(std::move(message))
                                       : Internal(std::move(message));
  } catch (const std::exception& e) {
    status = Internal(fmt::format("postgresql: {}: {}", what, Trimmed(e.what())));
  }
  Release(std::move(connection));
  return status;
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
