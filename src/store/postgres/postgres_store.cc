// SPDX-License-Identifier: EUPL-1.2
#include "store/postgres/postgres_store.h"

#include <chrono>

#include <fmt/format.h>

#include "store/postgres/audit_store.h"
#include "store/postgres/bis_store.h"
#include "store/postgres/directory_store.h"
#include "store/postgres/migrations.h"
#include "store/postgres/mutation_store.h"
#include "store/postgres/pool.h"

namespace carrefour::store::postgres {
namespace {

// Serializes the migrations of hub processes that start together on one
// database (a transaction-scoped advisory lock: released at commit or
// rollback). Any constant works; this one spells "carr".
constexpr int64_t kMigrationLock = 0x63617272;

Status Migrate(Pool& pool, const Clock& clock) {
  std::span<const internal::Migration> migrations = Migrations();
  const int latest = static_cast<int>(migrations.size());
  return pool.Run("migrating the schema", [&](pqxx::connection& c) -> Status {
    // One transaction per step: a failing migration leaves the database at
    // the previous version, never half-way (PostgreSQL's DDL is
    // transactional).
    while (true) {
      pqxx::work transaction(c);
      transaction.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      transaction.exec(
          "CREATE TABLE IF NOT EXISTS schema_version ("
          " version integer PRIMARY KEY,"
          " description text NOT NULL,"
          " applied_at bigint NOT NULL"  // seconds since 1970-01-01 UTC
          ")");
      int version =
          transaction.exec1("SELECT coalesce(max(version), 0) FROM schema_version")[0].as<int>();
      if (version > latest) {
        return Internal(fmt::format(
            "postgresql: the database's schema is at version {}, newer than this carrefour "
            "knows (version {}); use a newer carrefour",
            version, latest));
      }
      if (version == latest) {
        transaction.commit();
        return OkStatus();
      }
      const internal::Migration& migration = migrations[static_cast<size_t>(version)];
      transaction.exec(migration.sql);
      transaction.exec_params(
          "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
          migration.version, std::string(migration.description),
          int64_t{std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch())
                      .count()});
      transaction.commit();
    }
  });
}

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(std::unique_ptr<Pool> pool)
      : pool_(std::move(pool)), directory_(*pool_), audit_(*pool_), mutations_(*pool_, directory_), bis_(*pool_) {}

  // Store
  std::string_view engine() const override { return "postgresql"; }
  DirectoryStore& directory() override { return directory_; }
  audit::AuditStorage& audit() override { return audit_; }
  MutationStore& mutations() override { return mutations_; }
  BisStore& bis() override { return bis_; }
  Status Ping() override { return pool_->Ping(); }
  uint64_t retries() const override { return pool_->retries(); }

 private:
  std::unique_ptr<Pool> pool_;  // before the sections that use it
  PostgresDirectoryStore directory_;
  PostgresAuditStore audit_;
  PostgresMutationStore mutations_;
  PostgresBisStore bis_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url, const Clock& clock) {
  std::vector<PreparedStatement> statements = PostgresDirectoryStore::Statements();
  for (PreparedStatement& statement : PostgresBisStore::Statements()) statements.push_back(statement);
  for (PreparedStatement& statement : PostgresMutationStore::Statements()) {
    statements.push_back(statement);
  }
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Pool> pool, Pool::Open(url, std::move(statements)));
  CARREFOUR_RETURN_IF_ERROR(Migrate(*pool, clock));
  return std::unique_ptr<Store>(new PostgresStore(std::move(pool)));
}

}  // namespace carrefour::store::postgres
