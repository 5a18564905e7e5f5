// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include "audit/storage.h"
#include "store/sqlite/database.h"
#include "store/sqlite/person_runs.h"

namespace carrefour::store::sqlite {

// Writes `records` and `checkpoint` on `connection`, inside the caller's
// write transaction (AppendAudit's, or a batch of mutations' own), with
// the records' entries in the person index.
Status WriteAudit(Connection& connection, std::span<const audit::Record> records,
                  const audit::Checkpoint& checkpoint, const PersonRunShape& shape = {});

// WriteAudit's rows of audit_record alone, without their person index
// entries (bench/audit_person_bench.cc compares indexes with it).
Status InsertAuditRecords(Connection& connection, std::span<const audit::Record> records);

// The audit log's storage on SQLite (tables audit_record, audit_tree_head
// and the person index's, person_runs.h). `shape` is the person index's;
// tests make it small.
class SqliteAuditStore final : public audit::AuditStorage {
 public:
  explicit SqliteAuditStore(Database& database, PersonRunShape shape = {})
      : database_(database), shape_(shape) {}

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
  Database& database_;
  const PersonRunShape shape_;
};

}  // namespace carrefour::store::sqlite
