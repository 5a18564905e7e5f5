// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/merkle.h"
#include "audit/record.h"

namespace carrefour::audit {

// The person index: a verifiable map, committed under each node's signed
// checkpoints, from a keyed commitment of a national number to a digest of
// every record of the node listed about that person (docs/transparency.md,
// "Completeness"). With it a citizen portal checks that a transparency
// answer left nothing out, not only that what it lists is in the log.
//
//   key   k = HMAC-SHA-256(index key, "<11 digits>")
//   value be64(count) || acc, acc_0 = 32 zero bytes,
//         acc_i = SHA-256(acc_{i-1} || be64(index_i) || leaf_hash_i)
//         over the person's records of kinds consultation and research, in
//         log order (index = seq - 1, leaf_hash = the record's RFC 6962 leaf)
//   map   a sparse Merkle tree over the 256 bits of k (most significant
//         first), compressed: a subtree holding one entry hashes as that
//         entry's leaf SHA-256(0x00 || k || value), an empty one as 32 zero
//         bytes, any other as SHA-256(0x01 || left || right).
//
// The number never appears in a proof; without the index key a k cannot be
// tested against a guessed number.

// What a person's key maps to: how many of their records the node holds,
// and the running hash over them.
struct PersonValue {
  uint64_t count = 0;
  Hash accumulator{};

  // be64(count) || accumulator: 40 bytes.
  std::string Bytes() const;
  friend bool operator==(const PersonValue&, const PersonValue&) = default;
};

// `value` with the record at `index` whose leaf hash is `leaf` folded in.
PersonValue Fold(const PersonValue& value, uint64_t index, const Hash& leaf);

// Whether `record` counts in its person's entry: a consultation or a research
// use, with a number.
bool IndexedByPerson(const Record& record);

// k for `niss` under `index_key` (the store's, raw bytes).
Hash PersonKey(std::string_view index_key, std::string_view niss);

// Where the path of a key through the map ends, and the hashes beside it.
struct PersonIndexProof {
  std::vector<Hash> path;  // the sibling at each depth, from the root down
  struct Leaf {
    Hash key{};
    PersonValue value;
  };
  // The entry the path ends at (the key's own, or another sharing the path's
  // bits: the key is absent); none when it ends at an empty subtree.
  std::optional<Leaf> leaf;
};

// Does `proof` show that `key` maps to `value` (count 0: that it is absent)
// in the map whose root is `root`?
bool VerifyPersonIndex(const Hash& root, const Hash& key, const PersonValue& value,
                       const PersonIndexProof& proof);

// One node's map, in memory (about 200 bytes per person). Changes since the
// last Commit() can be rolled back (a transaction that did not commit). Not
// thread-safe: the owner locks.
class PersonIndex {
 public:
  // `index_key`: raw bytes (empty: the map stays empty, nothing is indexed).
  PersonIndex();
  explicit PersonIndex(std::string index_key);
  ~PersonIndex();
  PersonIndex(PersonIndex&&) noexcept;
  PersonIndex& operator=(PersonIndex&&) noexcept;

  const std::string& index_key() const { return index_key_; }
  // PersonKey(index_key(), niss); the index key must not be empty.
  Hash KeyOf(std::string_view niss) const;
  size_t persons() const { return persons_; }

  // Folds `record` (leaf `index` of its node, hash `leaf`) into its person's
  // entry when IndexedByPerson(record).
  void Add(const Record& record, uint64_t index, const Hash& leaf);
  // The entry of `key` (count 0 when absent).
  PersonValue Get(const Hash& key) const;
  // Forgets the changes since the last Commit() / keeps them.
  void Rollback();
  void Commit() { undo_.clear(); }

  // The map's root (32 zero bytes when empty); hashes what changed.
  Hash Root();
  PersonIndexProof Prove(const Hash& key);

  struct Node;  // of the tree (person_index.cc)

 private:
  struct Keyer;  // HMAC-SHA-256 under index_key_, its key schedule done once
  // The leaf of `key`, created (count 0) when absent; the path to it is
  // marked for rehashing.
  Node& Leaf(const Hash& key);
  void Set(const Hash& key, const PersonValue& value);
  void Erase(const Hash& key);

  std::string index_key_;
  std::unique_ptr<Keyer> keyer_;
  std::unique_ptr<Node> root_;
  size_t persons_ = 0;
  std::vector<std::pair<Hash, PersonValue>> undo_;  // (key, previous value; count 0: absent)
};

}  // namespace carrefour::audit
