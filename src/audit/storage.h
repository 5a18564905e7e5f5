// SPDX-License-Identifier: EUPL-1.2
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

// A node's signed tree head (docs/api.md 6.1): its first `seq` records are the
// leaves of a Merkle tree with root `root`, signed in `note` (a C2SP
// checkpoint) by the node's key. Saved in the same transaction as the
// records it covers, never changed nor removed (the store refuses updates
// and deletes), so a node's checkpoints are a history: the last one covers
// every record of the node.
struct Checkpoint {
  std::string node;
  int64_t seq = 0;   // the tree size: the records 1..seq
  std::string hash;  // the chain hash of record `seq` (64 zeros when 0)
  std::string mac;   // before signed checkpoints: HMAC of "node:seq:hash"; now empty
  std::string root;  // hex Merkle root of the first `seq` records
  std::string note;  // the signed checkpoint text
  int64_t time_us = 0;
  // The signed note committing the node's person index at `seq`
  // (PersonIndexText); empty before there was one.
  std::string index_note;

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// A node's published note verifier key ("<name>+<hex id>+<base64 key>").
struct NodeKey {
  std::string node;
  std::string verifier_key;
  int64_t time_us = 0;

  friend bool operator==(const NodeKey&, const NodeKey&) = default;
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

  // Durably appends `records` (consecutive seqs of one node's chain, maybe
  // none) and that node's checkpoint covering them, in one transaction: all
  // or nothing. A checkpoint without a signed note (a commit between two
  // signed checkpoints) is not saved. A record whose (node, seq) already
  // exists, or a checkpoint whose (node, seq) does, fails the whole call.
  virtual Status AppendAudit(std::span<const Record> records, const Checkpoint& checkpoint) = 0;

  // The latest signed checkpoint of every node that has one.
  virtual Result<std::vector<Checkpoint>> AuditCheckpoints() = 0;
  // Every signed checkpoint of `node`, oldest (smallest) first.
  virtual Result<std::vector<Checkpoint>> AuditCheckpointHistory(std::string_view node) = 0;
  // The heads kept before signed checkpoints (HMAC'd, one per node, no
  // longer written): what migrated stores still hold.
  virtual Result<std::vector<Checkpoint>> LegacyAuditCheckpoints() = 0;
  // Every node that has records.
  virtual Result<std::vector<std::string>> AuditNodes() = 0;

  // Publishes `key` as `key.node`'s verifier key unless the node has one
  // already; either way returns the node's published key (never replaced).
  virtual Result<NodeKey> PublishAuditKey(const NodeKey& key) = 0;
  virtual Result<std::vector<NodeKey>> AuditKeys() = 0;

  // The store's person index key (audit/person_index.h), 64 hex digits,
  // shared by every node of the store: `candidate` is kept unless the store
  // holds a key already; either way the stored key is returned (never
  // replaced). An empty `candidate` only reads (empty: no key yet).
  virtual Result<std::string> PersonIndexKey(std::string_view candidate) = 0;

  // Records of `node` with seq >= from_seq, in seq order, at most `limit`.
  virtual Result<std::vector<Record>> ReadAudit(std::string_view node, int64_t from_seq,
                                                size_t limit) = 0;

  // Records matching `query` over every chain, newest first.
  virtual Result<std::vector<Record>> QueryAudit(const Query& query) = 0;
};

}  // namespace carrefour::audit
