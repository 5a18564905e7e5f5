// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/sqlite_store.h"

#include "store/sqlite/audit_store.h"
#include "store/sqlite/bis_store.h"
#include "store/sqlite/database.h"
#include "store/sqlite/directory_store.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/mutation_store.h"

namespace carrefour::store::sqlite {
namespace {

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Database> database)
      : database_(std::move(database)), directory_(*database_), audit_(*database_), mutations_(*database_, directory_),
        bis_(*database_) {}

  // Store
  std::string_view engine() const override { return "sqlite"; }
  DirectoryStore& directory() override { return directory_; }
  audit::AuditStorage& audit() override { return audit_; }
  MutationStore& mutations() override { return mutations_; }
  BisStore& bis() override { return bis_; }

 private:
  std::unique_ptr<Database> database_;  // before the sections that use it
  SqliteDirectoryStore directory_;
  SqliteAuditStore audit_;
  SqliteMutationStore mutations_;
  SqliteBisStore bis_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock) {
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Database> database,
                             Database::Open(path, Migrations(), clock));
  return std::unique_ptr<Store>(new SqliteStore(std::move(database)));
}

}  // namespace carrefour::store::sqlite
