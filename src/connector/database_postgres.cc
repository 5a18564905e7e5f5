// SPDX-License-Identifier: EUPL-1.2
// The connector's PostgreSQL engine, on libpq directly: PQexecParams takes
// a run-time list of text parameters (NULL included), which is what
// statements written in a configuration file need.

#include <libpq-fe.h>

#include <cstdlib>
#include <unordered_map>

#include <fmt/format.h>

#include "connector/database.h"

namespace carrefour::connector {
namespace {

// Type OIDs (pg_type.h) of the values turned into JSON numbers or booleans.
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresSession final : public Session {
 public:
  explicit PostgresSession(PGconn* conn) : conn_(conn) {}
  ~PostgresSession() override { PQfinish(conn_); }

  Result<SqlRows> Execute(std::string_view sql, const SqlParams& params,
                          std::chrono::milliseconds timeout) override {
    if (timeout != timeout_) {
      CARREFOUR_RETURN_IF_ERROR(Exec(fmt::format("SET statement_timeout = {}", timeout.count())));
      timeout_ = timeout;
    }
    const Positional& positional = Translate(sql);
    std::vector<std::string> texts(positional.names.size());
    std::vector<const char*> values(positional.names.size(), nullptr);
    for (size_t i = 0; i < positional.names.size(); ++i) {
      for (const auto& [key, value] : params) {
        if (key != positional.names[i]) continue;
        if (std::holds_alternative<std::monostate>(value)) break;
        texts[i] = ToText(value);
        values[i] = texts[i].c_str();
      }
    }
    PgResult result(PQexecParams(conn_, positional.sql.c_str(), static_cast<int>(values.size()),
                                 nullptr, values.data(), nullptr, nullptr, 0));
    CARREFOUR_RETURN_IF_ERROR(Check(result.get(), "statement failed"));
    SqlRows out;
    int columns = PQnfields(result.get());
    int rows = PQntuples(result.get());
    for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(result.get(), c));
    out.rows.reserve(static_cast<size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      std::vector<SqlValue>& row = out.rows.emplace_back();
      for (int c = 0; c < columns; ++c) row.push_back(Value(result.get(), r, c));
    }
    return out;
  }

  Status Check(std::string_view sql) override {
    const Positional& positional = Translate(sql);
    // Preparing an unnamed statement parses and plans it: unknown tables and
    // columns are reported without running anything.
    PgResult result(PQprepare(conn_, "", positional.sql.c_str(), 0, nullptr));
    Status status = Check(result.get(), "");
    if (!status.ok()) return Status(StatusCode::kInvalidRequest, status.message());
    return OkStatus();
  }

  Status Begin() override { return Exec("BEGIN"); }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) (void)Exec("ROLLBACK");
  }
  Status Savepoint(std::string_view name) override {
    return Exec(fmt::format("SAVEPOINT {}", name));
  }
  Status RollbackTo(std::string_view name) override {
    return Exec(fmt::format("ROLLBACK TO SAVEPOINT {}", name));
  }
  Status Release(std::string_view name) override {
    return Exec(fmt::format("RELEASE SAVEPOINT {}", name));
  }

 private:
  struct Positional {
    std::string sql;
    std::vector<std::string> names;
  };

  const Positional& Translate(std::string_view sql) {
    auto found = translated_.find(std::string(sql));
    if (found != translated_.end()) return found->second;
    auto [text, names] = ToPositional(sql);
    return translated_.emplace(std::string(sql), Positional{std::move(text), std::move(names)})
        .first->second;
  }

  // `message` without its DETAIL lines.
  static std::string WithoutDetail(std::string_view message) {
    std::string out;
    while (!message.empty()) {
      size_t end = message.find('\n');
      std::string_view line = message.substr(0, end);
      if (!line.starts_with("DETAIL:")) {
        out += line;
        out += '\n';
      }
      if (end == std::string_view::npos) break;
      message.remove_prefix(end + 1);
    }
    return out;
  }

  Status Exec(const std::string& sql) {
    PgResult result(PQexec(conn_, sql.c_str()));
    return Check(result.get(), sql);
  }

  Status Check(PGresult* result, std::string_view what) {
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return OkStatus();
    // Only the primary message: PostgreSQL's DETAIL (and the rest of the
    // error) may quote the row's values, national numbers among them, and
    // this message goes to the connector's log and to carrefour_unapplied.
    const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = primary != nullptr ? std::string("ERROR:  ") + primary : WithoutDetail(PQerrorMessage(conn_));
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    if (!what.empty()) message = fmt::format("{}: {}", what, message);
    if (PQstatus(conn_) == CONNECTION_BAD) {
      PQreset(conn_);  // the next call gets a fresh connection
      return Status(StatusCode::kUnavailable, message);
    }
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    if (state != nullptr && std::string_view(state) == "57014") {
      return Status(StatusCode::kTimeout, message);
    }
    return Status(StatusCode::kInternal, message);
  }

  static std::string ToText(const SqlValue& value) {
    struct Visitor {
      std::string operator()(std::monostate) const { return ""; }
      std::string operator()(bool b) const { return b ? "true" : "false"; }
      std::string operator()(int64_t i) const { return std::to_string(i); }
      std::string operator()(double d) const { return fmt::format("{}", d); }
      std::string operator()(const std::string& s) const { return s; }
    };
    return std::visit(Visitor{}, value);
  }

  static SqlValue Value(PGresult* result, int row, int column) {
    if (PQgetisnull(result, row, column)) return std::monostate{};
    const char* text = PQgetvalue(result, row, column);
    switch (PQftype(result, column)) {
      case kBoolOid: return text[0] == 't';
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid: return static_cast<int64_t>(std::strtoll(text, nullptr, 10));
      case kFloat4Oid:
      case kFloat8Oid:
      case kNumericOid: return std::strtod(text, nullptr);
      default: return std::string(text, static_cast<size_t>(PQgetlength(result, row, column)));
    }
  }

  PGconn* conn_;
  std::chrono::milliseconds timeout_{0};
  std::unordered_map<std::string, Positional> translated_;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(std::string url) : url_(std::move(url)) {}

  std::string_view engine() const override { return "postgresql"; }

  Result<std::unique_ptr<Session>> Connect() override {
    PGconn* conn = PQconnectdb(url_.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = conn ? PQerrorMessage(conn) : "out of memory";
      PQfinish(conn);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return tl::unexpected(Status(StatusCode::kUnavailable, fmt::format("database: {}", message)));
    }
    return std::unique_ptr<Session>(new PostgresSession(conn));
  }

 private:
  std::string url_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgresDatabase(std::string_view url) {
  auto database = std::make_unique<PostgresDatabase>(std::string(url));
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Session> probe, database->Connect());
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace carrefour::connector
