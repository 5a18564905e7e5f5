// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include "audit/storage.h"
#include "store/postgres/pool.h"

namespace carrefour::store::postgres {

// Writes `records` and `checkpoint` in the caller's transaction
// (AppendAudit's, or a batch of mutations' own). Throws as pqxx does.
void WriteAudit(pqxx::work& transaction, std::span<const audit::Record> records,
                const audit::Checkpoint& checkpoint);

// The audit log's storage on PostgreSQL (tables audit_record,
// audit_checkpoint). Each hub process appends to its own chain (node), so
// hubs sharing the database never contend on a chain head.
class PostgresAuditStore final : public audit::AuditStorage {
 public:
  explicit PostgresAuditStore(Pool& pool) : pool_(pool) {}

  // audit::AuditStorage
  Status AppendAudit(std::span<const audit::Record> records,
                     const audit::Checkpoint& checkpoint) override;
  Result<std::vector<audit::Checkpoint>> AuditCheckpoints() override;
  Result<std::vector<audit::Checkpoint>> AuditCheckpointHistory(std::string_view node) override;
  Result<std::vector<audit::Checkpoint>> LegacyAuditCheckpoints() override;
  Result<std::vector<std::string>> AuditNodes() override;
  Result<audit::NodeKey> PublishAuditKey(const audit::NodeKey& key) override;
  Result<std::vector<audit::NodeKey>> AuditKeys() override;
  Result<std::string> PersonIndexKey(std::string_view candidate) override;
  Result<std::vector<audit::Record>> ReadAudit(std::string_view node, int64_t from_seq,
                                               size_t limit) override;
  Result<std::vector<audit::Record>> QueryAudit(const audit::Query& query) override;

 private:
  Pool& pool_;
};

}  // namespace carrefour::store::postgres
