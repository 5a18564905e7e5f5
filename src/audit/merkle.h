// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace carrefour::audit {

// RFC 6962 Merkle trees (SHA-256), as docs/api.md 6.1 uses them: a leaf is
// SHA-256(0x00 || bytes), an inner node SHA-256(0x01 || left || right), the
// tree over n leaves splits at the largest power of two below n.
using Hash = std::array<uint8_t, 32>;

Hash HashLeaf(std::string_view bytes);
Hash HashChildren(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of nothing.
Hash EmptyRoot();

std::string ToHex(const Hash& hash);
std::optional<Hash> HashFromHex(std::string_view hex);
std::string ToBase64(std::string_view bytes);
std::string ToBase64(const Hash& hash);
// Standard alphabet with padding; nullopt when not base64.
std::optional<std::string> FromBase64(std::string_view text);

// An append-only tree kept whole in memory (every complete subtree's hash:
// 64 bytes per leaf). Answers roots and proofs for any size up to its own,
// so a proof can be given against any published checkpoint. Not
// thread-safe: the owner locks.
class MerkleTree {
 public:
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  void Append(const Hash& leaf);
  // Drops the leaves from `size` on (a batch that was not committed).
  void Truncate(uint64_t size);
  const Hash& Leaf(uint64_t index) const { return levels_[0][index]; }

  // The root of the first `size` leaves (size <= this->size()).
  Hash Root(uint64_t size) const;
  Hash Root() const { return Root(size()); }
  // RFC 6962 2.1.1 PATH(index, D[0:size]); needs index < size <= this->size().
  Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) const;
  // RFC 6962 2.1.2 PROOF(from, D[0:to]); needs 0 < from <= to <= this->size().
  Result<std::vector<Hash>> ConsistencyProof(uint64_t from, uint64_t to) const;

 private:
  // MTH(D[begin:end]), with begin aligned as RFC 6962's recursion leaves it.
  Hash RangeHash(uint64_t begin, uint64_t end) const;
  void Path(uint64_t index, uint64_t begin, uint64_t end, std::vector<Hash>* out) const;
  void SubProof(uint64_t from, uint64_t begin, uint64_t end, bool whole,
                std::vector<Hash>* out) const;

  // levels_[k][i]: the hash of leaves [i * 2^k, (i + 1) * 2^k), complete
  // subtrees only.
  std::vector<std::vector<Hash>> levels_;
};

// The right edge of a tree: the roots of its complete subtrees, largest
// first (log2 n hashes). Enough to append and to give the root, which is all
// a writer needs; proofs need a MerkleTree.
class CompactRange {
 public:
  uint64_t size() const { return size_; }
  void Append(const Hash& leaf);
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> peaks_;
};

// RFC 9162 2.1.3.2: does `proof` show `leaf` at `index` in the tree of
// `size` leaves whose root is `root`?
bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf,
                     const std::vector<Hash>& proof, const Hash& root);
// RFC 9162 2.1.4.2: is the tree (`to`, `new_root`) an extension of
// (`from`, `old_root`)?
bool VerifyConsistency(uint64_t from, uint64_t to, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof);

}  // namespace carrefour::audit
