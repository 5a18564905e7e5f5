#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/record.h"
#include "core/result.h"

namespace carrefour::audit {

// The last record of a node's chain, saved in the same transaction as the
// records themselves. Removing records at the end of a chain therefore also
// needs the checkpoint rewritten, and with a key the checkpoint carries an
// HMAC that cannot be rewritten without it.
struct Checkpoint {
  std::string node;
  int64_t seq = 0;
  std::string hash;
  std::string mac;  // hex HMAC-SHA-256 of "node:seq:hash"; empty without a key

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// Which records to list, newest first.
struct Query {
  std::string niss;       // empty = any
  std::string requester;  // empty = any
  std::optional<Kind> kind;
  size_t limit = 100;
};

// Where audit records are kept: implemented by the store engines (SQLite,
// PostgreSQL). Implementations are thread-safe.
class AuditStorage {
 public:
  virtual ~AuditStorage() = default;

  // Durably appends `records` (consecutive seqs of one node's chain) and sets
  // that node's checkpoint, in one transaction: all or nothing. A record whose
  // (node, seq) already exists fails the whole call.
  virtual Status AppendAudit(std::span<const Record> records, const Checkpoint& checkpoint) = 0;

  // One checkpoint per node that has written records.
  virtual Result<std::vector<Checkpoint>> AuditCheckpoints() = 0;

  // Records of `node` with seq >= from_seq, in seq order, at most `limit`.
  virtual Result<std::vector<Record>> ReadAudit(std::string_view node, int64_t from_seq,
                                                size_t limit) = 0;

  // Records matching `query` over every chain, newest first.
  virtual Result<std::vector<Record>> QueryAudit(const Query& query) = 0;
};

}  // namespace carrefour::audit
