// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/audit_store.h"

#include <chrono>

#include <fmt/format.h>

namespace carrefour::store::sqlite {
namespace {

#define CARREFOUR_AUDIT_COLUMNS                                                           \
  "node, seq, time_us, kind, request_id, requester, niss, data_type, capacity, legal_basis, " \
  "outcome, reason, providers, latency_us, answer_sha256, detail, prev_hash, hash"

constexpr const char kInsert[] =
    "INSERT INTO audit_record (" CARREFOUR_AUDIT_COLUMNS ") VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";
constexpr const char kCheckpoint[] =
    "INSERT INTO audit_tree_head (node, tree_size, hash, root, note, time_us, index_note) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
#define CARREFOUR_HEAD_COLUMNS "node, tree_size, hash, root, note, time_us, index_note"
constexpr const char kLatestCheckpoints[] =
    "SELECT " CARREFOUR_HEAD_COLUMNS " FROM audit_tree_head h WHERE tree_size = "
    "(SELECT max(tree_size) FROM audit_tree_head WHERE node = h.node) ORDER BY node";
constexpr const char kCheckpointHistory[] =
    "SELECT " CARREFOUR_HEAD_COLUMNS " FROM audit_tree_head WHERE node = ?1 ORDER BY tree_size";
#undef CARREFOUR_HEAD_COLUMNS
constexpr const char kLegacyCheckpoints[] =
    "SELECT node, seq, hash, mac FROM audit_checkpoint ORDER BY node";
// One index descent per node, however many records each has.
constexpr const char kNodes[] =
    "WITH RECURSIVE n(node) AS (SELECT min(node) FROM audit_record UNION ALL "
    "SELECT (SELECT min(node) FROM audit_record WHERE node > n.node) FROM n WHERE n.node IS NOT NULL) "
    "SELECT node FROM n WHERE node IS NOT NULL";
constexpr const char kPublishKey[] =
    "INSERT INTO audit_node_key (node, verifier_key, time_us) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (node) DO NOTHING";
constexpr const char kKeys[] = "SELECT node, verifier_key, time_us FROM audit_node_key ORDER BY node";
constexpr const char kPublishIndexKey[] =
    "INSERT INTO audit_index_key (id, key, time_us) VALUES (1, ?1, ?2) ON CONFLICT (id) DO NOTHING";
constexpr const char kIndexKey[] = "SELECT key FROM audit_index_key WHERE id = 1";
constexpr const char kRead[] =
    "SELECT " CARREFOUR_AUDIT_COLUMNS " FROM audit_record WHERE node = ?1 AND seq >= ?2 "
    "ORDER BY seq LIMIT ?3";
// One statement per way in, so that each uses its index. A person's
// records: one key range per live run of the person index, then each
// record by its key (the order of the joins is forced: CROSS JOIN).
constexpr const char kByNiss[] =
    "SELECT r.node, r.seq, r.time_us, r.kind, r.request_id, r.requester, r.niss, r.data_type, "
    "r.capacity, r.legal_basis, r.outcome, r.reason, r.providers, r.latency_us, r.answer_sha256, "
    "r.detail, r.prev_hash, r.hash "
    "FROM (" CARREFOUR_LIVE_PERSON_RUNS ") k CROSS JOIN audit_person p CROSS JOIN audit_record r "
    "WHERE p.run = k.run AND p.niss = ?1 AND r.node = p.node AND r.seq = p.seq "
    "AND (?2 = '' OR r.requester = ?2) AND (?3 < 0 OR r.kind = ?3) "
    "ORDER BY r.time_us DESC, r.seq DESC LIMIT ?4";
constexpr const char kByRequester[] =
    "SELECT " CARREFOUR_AUDIT_COLUMNS " FROM audit_record WHERE requester = ?2 "
    "AND (?1 = '' OR niss = ?1) AND (?3 < 0 OR kind = ?3) "
    "ORDER BY time_us DESC, seq DESC LIMIT ?4";
constexpr const char kAll[] =
    "SELECT " CARREFOUR_AUDIT_COLUMNS " FROM audit_record WHERE (?1 = '' OR niss = ?1) "
    "AND (?2 = '' OR requester = ?2) AND (?3 < 0 OR kind = ?3) "
    "ORDER BY time_us DESC, seq DESC LIMIT ?4";

#undef CARREFOUR_AUDIT_COLUMNS

Status CollectCheckpoints(Statement& query, std::vector<audit::Checkpoint>* out) {
  while (true) {
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return OkStatus();
    audit::Checkpoint& checkpoint = out->emplace_back();
    checkpoint.node = query.ColumnText(0);
    checkpoint.seq = query.ColumnInt(1);
    checkpoint.hash = query.ColumnText(2);
    checkpoint.root = query.ColumnText(3);
    checkpoint.note = query.ColumnText(4);
    checkpoint.time_us = query.ColumnInt(5);
    checkpoint.index_note = query.ColumnText(6);
  }
}

Status CollectRecords(Statement& query, std::vector<audit::Record>* out) {
  while (true) {
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return OkStatus();
    audit::Record& record = out->emplace_back();
    record.node = query.ColumnText(0);
    record.seq = query.ColumnInt(1);
    record.time_us = query.ColumnInt(2);
    record.kind = static_cast<audit::Kind>(query.ColumnInt(3));
    record.request_id = query.ColumnText(4);
    record.requester = query.ColumnText(5);
    record.niss = query.ColumnText(6);
    record.data_type = query.ColumnText(7);
    record.capacity = query.ColumnText(8);
    record.legal_basis = query.ColumnText(9);
    record.outcome = static_cast<StatusCode>(query.ColumnInt(10));
    record.reason = query.ColumnText(11);
    record.providers = query.ColumnText(12);
    record.latency_us = query.ColumnInt(13);
    record.answer_sha256 = query.ColumnText(14);
    record.detail = query.ColumnText(15);
    record.prev_hash = query.ColumnText(16);
    record.hash = query.ColumnText(17);
  }
}

}  // namespace

Status InsertAuditRecords(Connection& connection, std::span<const audit::Record> records) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement * insert, connection.Prepare(kInsert));
  for (const audit::Record& record : records) {
    // The record outlives its Step: its strings are not copied.
    ScopedReset reset(*insert);
    insert->BindUnowned(1, record.node);
    insert->Bind(2, record.seq);
    insert->Bind(3, record.time_us);
    insert->Bind(4, int64_t{static_cast<int>(record.kind)});
    insert->BindUnowned(5, record.request_id);
    insert->BindUnowned(6, record.requester);
    insert->BindUnowned(7, record.niss);
    insert->BindUnowned(8, record.data_type);
    insert->BindUnowned(9, record.capacity);
    insert->BindUnowned(10, record.legal_basis);
    insert->Bind(11, int64_t{static_cast<int>(record.outcome)});
    insert->BindUnowned(12, record.reason);
    insert->BindUnowned(13, record.providers);
    insert->Bind(14, record.latency_us);
    insert->BindUnowned(15, record.answer_sha256);
    insert->BindUnowned(16, record.detail);
    insert->BindUnowned(17, record.prev_hash);
    insert->BindUnowned(18, record.hash);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, insert->Step());
    (void)row;
  }
  return OkStatus();
}

Status WriteAudit(Connection& connection, std::span<const audit::Record> records,
                  const audit::Checkpoint& checkpoint, const PersonRunShape& shape) {
  CARREFOUR_RETURN_IF_ERROR(InsertAuditRecords(connection, records));
  CARREFOUR_RETURN_IF_ERROR(IndexPersons(connection, records, shape));
  // A commit between two signed checkpoints saves none (audit::AuditLog).
  if (checkpoint.note.empty()) return OkStatus();
  CARREFOUR_ASSIGN_OR_RETURN(Statement * save, connection.Prepare(kCheckpoint));
  ScopedReset reset(*save);
  save->Bind(1, checkpoint.node);
  save->Bind(2, checkpoint.seq);
  save->Bind(3, checkpoint.hash);
  save->Bind(4, checkpoint.root);
  save->Bind(5, checkpoint.note);
  save->Bind(6, checkpoint.time_us);
  save->Bind(7, checkpoint.index_note);
  CARREFOUR_ASSIGN_OR_RETURN(bool row, save->Step());
  (void)row;
  return OkStatus();
}

Status SqliteAuditStore::AppendAudit(std::span<const audit::Record> records,
                                     const audit::Checkpoint& checkpoint) {
  return database_.Write(
      [&](Connection& connection) { return WriteAudit(connection, records, checkpoint, shape_); });
}

Result<std::vector<audit::Checkpoint>> SqliteAuditStore::AuditCheckpoints() {
  std::vector<audit::Checkpoint> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kLatestCheckpoints));
    ScopedReset reset(*query);
    return CollectCheckpoints(*query, &out);
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::Checkpoint>> SqliteAuditStore::AuditCheckpointHistory(
    std::string_view node) {
  std::vector<audit::Checkpoint> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kCheckpointHistory));
    ScopedReset reset(*query);
    query->Bind(1, node);
    return CollectCheckpoints(*query, &out);
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::Checkpoint>> SqliteAuditStore::LegacyAuditCheckpoints() {
  std::vector<audit::Checkpoint> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kLegacyCheckpoints));
    ScopedReset reset(*query);
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      audit::Checkpoint& checkpoint = out.emplace_back();
      checkpoint.node = query->ColumnText(0);
      checkpoint.seq = query->ColumnInt(1);
      checkpoint.hash = query->ColumnText(2);
      checkpoint.mac = query->ColumnText(3);
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<std::string>> SqliteAuditStore::AuditNodes() {
  std::vector<std::string> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kNodes));
    ScopedReset reset(*query);
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      out.emplace_back(query->ColumnText(0));
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<audit::NodeKey> SqliteAuditStore::PublishAuditKey(const audit::NodeKey& key) {
  Status status = database_.Write([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * insert, connection.Prepare(kPublishKey));
    ScopedReset reset(*insert);
    insert->Bind(1, key.node);
    insert->Bind(2, key.verifier_key);
    insert->Bind(3, key.time_us);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, insert->Step());
    (void)row;
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<audit::NodeKey> keys, AuditKeys());
  for (audit::NodeKey& published : keys) {
    if (published.node == key.node) return std::move(published);
  }
  return Error(Internal(fmt::format("the key of node {} was not saved", key.node)));
}

Result<std::vector<audit::NodeKey>> SqliteAuditStore::AuditKeys() {
  std::vector<audit::NodeKey> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kKeys));
    ScopedReset reset(*query);
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      out.push_back(audit::NodeKey{std::string(query->ColumnText(0)),
                                   std::string(query->ColumnText(1)), query->ColumnInt(2)});
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::string> SqliteAuditStore::PersonIndexKey(std::string_view candidate) {
  if (!candidate.empty()) {
    Status status = database_.Write([&](Connection& connection) -> Status {
      CARREFOUR_ASSIGN_OR_RETURN(Statement * insert, connection.Prepare(kPublishIndexKey));
      ScopedReset reset(*insert);
      insert->Bind(1, candidate);
      insert->Bind(2, static_cast<int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count()));
      CARREFOUR_ASSIGN_OR_RETURN(bool row, insert->Step());
      (void)row;
      return OkStatus();
    });
    if (!status.ok()) return Error(std::move(status));
  }
  std::string out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kIndexKey));
    ScopedReset reset(*query);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
    if (row) out = std::string(query->ColumnText(0));
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::Record>> SqliteAuditStore::ReadAudit(std::string_view node,
                                                               int64_t from_seq, size_t limit) {
  std::vector<audit::Record> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kRead));
    ScopedReset reset(*query);
    query->Bind(1, node);
    query->Bind(2, from_seq);
    query->Bind(3, static_cast<int64_t>(limit));
    return CollectRecords(*query, &out);
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::Record>> SqliteAuditStore::QueryAudit(const audit::Query& filter) {
  std::vector<audit::Record> out;
  const char* sql = !filter.niss.empty() ? kByNiss : !filter.requester.empty() ? kByRequester : kAll;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(sql));
    ScopedReset reset(*query);
    query->Bind(1, filter.niss);
    query->Bind(2, filter.requester);
    query->Bind(3, filter.kind ? int64_t{static_cast<int>(*filter.kind)} : int64_t{-1});
    query->Bind(4, static_cast<int64_t>(filter.limit));
    return CollectRecords(*query, &out);
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

}  // namespace carrefour::store::sqlite
