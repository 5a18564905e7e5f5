// SPDX-License-Identifier: EUPL-1.2
#include "store/postgres/audit_store.h"

#include <string>
#include <string_view>
#include <vector>

namespace carrefour::store::postgres {
namespace {

#define CARREFOUR_AUDIT_COLUMNS                                                           \
  "node, seq, time_us, kind, request_id, requester, niss, data_type, capacity, legal_basis, " \
  "outcome, reason, providers, latency_us, answer_sha256, detail, prev_hash, hash"

constexpr const char kCheckpoint[] =
    "INSERT INTO audit_tree_head (node, tree_size, hash, root, note, time_us, index_note) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)";
#define CARREFOUR_HEAD_COLUMNS "node, tree_size, hash, root, note, time_us, index_note"
constexpr const char kLatestCheckpoints[] =
    "SELECT DISTINCT ON (node) " CARREFOUR_HEAD_COLUMNS " FROM audit_tree_head "
    "ORDER BY node, tree_size DESC";
constexpr const char kCheckpointHistory[] =
    "SELECT " CARREFOUR_HEAD_COLUMNS " FROM audit_tree_head WHERE node = $1 ORDER BY tree_size";
#undef CARREFOUR_HEAD_COLUMNS
// One index descent per node, however many records each has.
constexpr const char kNodes[] =
    "WITH RECURSIVE n(node) AS (SELECT min(node) FROM audit_record UNION ALL "
    "SELECT (SELECT min(node) FROM audit_record WHERE node > n.node) FROM n WHERE n.node IS NOT NULL) "
    "SELECT node FROM n WHERE node IS NOT NULL";
constexpr const char kRead[] =
    "SELECT " CARREFOUR_AUDIT_COLUMNS " FROM audit_record WHERE node = $1 AND seq >= $2 "
    "ORDER BY seq LIMIT $3";
constexpr const char kQuery[] =
    "SELECT " CARREFOUR_AUDIT_COLUMNS " FROM audit_record WHERE ($1 = '' OR niss = $1) "
    "AND ($2 = '' OR requester = $2) AND ($3 < 0 OR kind = $3) "
    "ORDER BY time_us DESC, node, seq DESC LIMIT $4";
constexpr std::string_view kColumns = CARREFOUR_AUDIT_COLUMNS;

#undef CARREFOUR_AUDIT_COLUMNS

// The columns COPY writes, in the order of the statements' list.
const std::vector<std::string>& CopyColumns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> out;
    for (std::string_view rest = kColumns; !rest.empty();) {
      const size_t comma = rest.find(", ");
      out.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    return out;
  }();
  return columns;
}

std::vector<audit::Checkpoint> ToCheckpoints(const pqxx::result& rows) {
  std::vector<audit::Checkpoint> out;
  out.reserve(rows.size());
  for (const pqxx::row& row : rows) {
    audit::Checkpoint& checkpoint = out.emplace_back();
    checkpoint.node = row[0].as<std::string>();
    checkpoint.seq = row[1].as<int64_t>();
    checkpoint.hash = row[2].as<std::string>();
    checkpoint.root = row[3].as<std::string>();
    checkpoint.note = row[4].as<std::string>();
    checkpoint.time_us = row[5].as<int64_t>();
    checkpoint.index_note = row[6].as<std::string>();
  }
  return out;
}

std::vector<audit::Record> ToRecords(const pqxx::result& rows) {
  std::vector<audit::Record> out;
  out.reserve(rows.size());
  for (const pqxx::row& row : rows) {
    audit::Record& record = out.emplace_back();
    record.node = row[0].as<std::string>();
    record.seq = row[1].as<int64_t>();
    record.time_us = row[2].as<int64_t>();
    record.kind = static_cast<audit::Kind>(row[3].as<int>());
    record.request_id = row[4].as<std::string>();
    record.requester = row[5].as<std::string>();
    record.niss = row[6].as<std::string>();
    record.data_type = row[7].as<std::string>();
    record.capacity = row[8].as<std::string>();
    record.legal_basis = row[9].as<std::string>();
    record.outcome = static_cast<StatusCode>(row[10].as<int>());
    record.reason = row[11].as<std::string>();
    record.providers = row[12].as<std::string>();
    record.latency_us = row[13].as<int64_t>();
    record.answer_sha256 = row[14].as<std::string>();
    record.detail = row[15].as<std::string>();
    record.prev_hash = row[16].as<std::string>();
    record.hash = row[17].as<std::string>();
  }
  return out;
}

}  // namespace

void WriteAudit(pqxx::work& transaction, std::span<const audit::Record> records,
                const audit::Checkpoint& checkpoint) {
  // By COPY: a third of the server's time of an INSERT from arrays (one
  // text array per column to parse), the largest part of a batch of
  // mutations' transaction (docs/mutations.md, "Run 10").
  if (!records.empty()) {
    pqxx::stream_to copy(transaction, "audit_record", CopyColumns());
    for (const audit::Record& r : records) {
      copy << std::make_tuple(r.node, r.seq, r.time_us, static_cast<int>(r.kind), r.request_id,
                              r.requester, r.niss, r.data_type, r.capacity, r.legal_basis,
                              static_cast<int>(r.outcome), r.reason, r.providers, r.latency_us,
                              r.answer_sha256, r.detail, r.prev_hash, r.hash);
    }
    copy.complete();
  }
  // A commit between two signed checkpoints saves none (audit::AuditLog).
  if (checkpoint.note.empty()) return;
  transaction.exec_params(kCheckpoint, checkpoint.node, checkpoint.seq, checkpoint.hash,
                          checkpoint.root, checkpoint.note, checkpoint.time_us, checkpoint.index_note);
}

Status PostgresAuditStore::AppendAudit(std::span<const audit::Record> records,
                                       const audit::Checkpoint& checkpoint) {
  return pool_.Run("appending to the audit log", [&](pqxx::connection& c) -> Status {
    pqxx::work transaction(c);
    WriteAudit(transaction, records, checkpoint);
    transaction.commit();
    return OkStatus();
  });
}

Result<std::vector<audit::Checkpoint>> PostgresAuditStore::AuditCheckpoints() {
  std::vector<audit::Checkpoint> out;
  Status status = pool_.Run("reading audit checkpoints", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    out = ToCheckpoints(transaction.exec(kLatestCheckpoints));
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::Checkpoint>> PostgresAuditStore::AuditCheckpointHistory(
    std::string_view node) {
  std::vector<audit::Checkpoint> out;
  Status status = pool_.Run("reading audit checkpoints", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    out = ToCheckpoints(transaction.exec_params(kCheckpointHistory, std::string(node)));
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::Checkpoint>> PostgresAuditStore::LegacyAuditCheckpoints() {
  std::vector<audit::Checkpoint> out;
  Status status = pool_.Run("reading audit checkpoints", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    for (const pqxx::row& row :
         transaction.exec("SELECT node, seq, hash, mac FROM audit_checkpoint ORDER BY node")) {
      audit::Checkpoint& checkpoint = out.emplace_back();
      checkpoint.node = row[0].as<std::string>();
      checkpoint.seq = row[1].as<int64_t>();
      checkpoint.hash = row[2].as<std::string>();
      checkpoint.mac = row[3].as<std::string>();
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<std::string>> PostgresAuditStore::AuditNodes() {
  std::vector<std::string> out;
  Status status = pool_.Run("reading the audit log", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    for (const pqxx::row& row : transaction.exec(kNodes)) out.push_back(row[0].as<std::string>());
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<audit::NodeKey> PostgresAuditStore::PublishAuditKey(const audit::NodeKey& key) {
  audit::NodeKey out;
  Status status = pool_.Run("publishing an audit key", [&](pqxx::connection& c) -> Status {
    pqxx::work transaction(c);
    transaction.exec_params(
        "INSERT INTO audit_node_key (node, verifier_key, time_us) VALUES ($1, $2, $3) "
        "ON CONFLICT (node) DO NOTHING",
        key.node, key.verifier_key, key.time_us);
    pqxx::row row = transaction.exec_params1(
        "SELECT node, verifier_key, time_us FROM audit_node_key WHERE node = $1", key.node);
    out = audit::NodeKey{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int64_t>()};
    transaction.commit();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::NodeKey>> PostgresAuditStore::AuditKeys() {
  std::vector<audit::NodeKey> out;
  Status status = pool_.Run("reading audit keys", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    for (const pqxx::row& row :
         transaction.exec("SELECT node, verifier_key, time_us FROM audit_node_key ORDER BY node")) {
      out.push_back(audit::NodeKey{row[0].as<std::string>(), row[1].as<std::string>(),
                                   row[2].as<int64_t>()});
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::string> PostgresAuditStore::PersonIndexKey(std::string_view candidate) {
  std::string out;
  Status status = pool_.Run("reading the person index key", [&](pqxx::connection& c) -> Status {
    pqxx::work transaction(c);
    if (!candidate.empty()) {
      transaction.exec_params(
          "INSERT INTO audit_index_key (id, key, time_us) VALUES (1, $1, "
          "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint) ON CONFLICT (id) DO NOTHING",
          std::string(candidate));
    }
    pqxx::result rows = transaction.exec("SELECT key FROM audit_index_key WHERE id = 1");
    if (!rows.empty()) out = rows[0][0].as<std::string>();
    transaction.commit();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::Record>> PostgresAuditStore::ReadAudit(std::string_view node,
                                                                 int64_t from_seq, size_t limit) {
  std::vector<audit::Record> out;
  Status status = pool_.Run("reading the audit log", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    out = ToRecords(transaction.exec_params(kRead, std::string(node), from_seq,
                                            static_cast<int64_t>(limit)));
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<audit::Record>> PostgresAuditStore::QueryAudit(const audit::Query& query) {
  std::vector<audit::Record> out;
  Status status = pool_.Run("searching the audit log", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    out = ToRecords(transaction.exec_params(
        kQuery, query.niss, query.requester,
        query.kind ? static_cast<int>(*query.kind) : -1, static_cast<int64_t>(query.limit)));
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

}  // namespace carrefour::store::postgres
