// SPDX-License-Identifier: EUPL-1.2
#include "audit/merkle.h"

#include <bit>

#include <fmt/format.h>

#include "core/crypto.h"

namespace carrefour::audit {
namespace {

// One state per thread, reused: no allocation per node hashed.
Hash Sha256(std::string_view prefix, std::string_view a, std::string_view b = {}) {
  thread_local crypto::Sha256 sha;
  return sha.Update(prefix).Update(a).Update(b).Final();
}

std::string_view View(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

// The largest power of two strictly below n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

}  // namespace

Hash HashLeaf(std::string_view bytes) { return Sha256(std::string_view("\0", 1), bytes); }

Hash HashChildren(const Hash& left, const Hash& right) {
  return Sha256("\x01", View(left), View(right));
}

Hash EmptyRoot() { return Sha256({}, {}); }

std::string ToHex(const Hash& hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t byte : hash) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

std::optional<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash out{};
  for (size_t i = 0; i < 32; ++i) {
    int high = digit(hex[2 * i]), low = digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return out;
}

std::string ToBase64(std::string_view bytes) { return crypto::Base64Encode(bytes); }

std::string ToBase64(const Hash& hash) { return ToBase64(View(hash)); }

std::optional<std::string> FromBase64(std::string_view text) { return crypto::Base64Decode(text); }

void MerkleTree::Append(const Hash& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf);
  // Close every subtree the new leaf completes.
  for (size_t level = 0; levels_[level].size() % 2 == 0; ++level) {
    const std::vector<Hash>& below = levels_[level];
    Hash parent = HashChildren(below[below.size() - 2], below.back());
    if (levels_.size() == level + 1) levels_.emplace_back();
    levels_[level + 1].push_back(parent);
  }
}

void MerkleTree::Truncate(uint64_t size) {
  for (size_t level = 0; level < levels_.size(); ++level) {
    uint64_t keep = size >> level;
    if (levels_[level].size() > keep) levels_[level].resize(keep);
  }
}

Hash MerkleTree::RangeHash(uint64_t begin, uint64_t end) const {
  uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (std::has_single_bit(n) && begin % n == 0) {
    int level = std::countr_zero(n);
    return levels_[level][begin >> level];
  }
  uint64_t k = SplitPoint(n);
  return HashChildren(RangeHash(begin, begin + k), RangeHash(begin + k, end));
}

Hash MerkleTree::Root(uint64_t size) const { return RangeHash(0, std::min(size, this->size())); }

void MerkleTree::Path(uint64_t index, uint64_t begin, uint64_t end, std::vector<Hash>* out) const {
  uint64_t n = end - begin;
  if (n <= 1) return;
  uint64_t k = SplitPoint(n);
  if (index < begin + k) {
    Path(index, begin, begin + k, out);
    out->push_back(RangeHash(begin + k, end));
  } else {
    Path(index, begin + k, end, out);
    out->push_back(RangeHash(begin, begin + k));
  }
}

void MerkleTree::SubProof(uint64_t from, uint64_t begin, uint64_t end, bool whole,
                          std::vector<Hash>* out) const {
  uint64_t n = end - begin;
  if (from == n) {
    if (!whole) out->push_back(RangeHash(begin, end));
    return;
  }
  uint64_t k = SplitPoint(n);
  if (from <= k) {
    SubProof(from, begin, begin + k, whole, out);
    out->push_back(RangeHash(begin + k, end));
  } else {
    SubProof(from - k, begin + k, end, false, out);
    out->push_back(RangeHash(begin, begin + k));
  }
}

Result<std::vector<Hash>> MerkleTree::InclusionProof(uint64_t index, uint64_t size) const {
  if (size > this->size()) {
    return Error(InvalidRequest(fmt::format("the tree has {} leaves, not {}", this->size(), size)));
  }
  if (index >= size) {
    return Error(InvalidRequest(fmt::format("leaf {} is not in a tree of {} leaves", index, size)));
  }
  std::vector<Hash> proof;
  Path(index, 0, size, &proof);
  return proof;
}

Result<std::vector<Hash>> MerkleTree::ConsistencyProof(uint64_t from, uint64_t to) const {
  if (to > this->size()) {
    return Error(InvalidRequest(fmt::format("the tree has {} leaves, not {}", this->size(), to)));
  }
  if (from == 0 || from > to) {
    return Error(InvalidRequest(
        fmt::format("a consistency proof needs 0 < from <= to (from {}, to {})", from, to)));
  }
  std::vector<Hash> proof;
  if (from < to) SubProof(from, 0, to, true, &proof);
  return proof;
}

void CompactRange::Append(const Hash& leaf) {
  peaks_.push_back(leaf);
  for (uint64_t size = size_; size & 1; size >>= 1) {
    Hash right = peaks_.back();
    peaks_.pop_back();
    peaks_.back() = HashChildren(peaks_.back(), right);
  }
  ++size_;
}

Hash CompactRange::Root() const {
  if (peaks_.empty()) return EmptyRoot();
  Hash root = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) root = HashChildren(peaks_[i], root);
  return root;
}

bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = HashChildren(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t from, uint64_t to, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof) {
  if (from > to || from == 0) return false;
  if (from == to) return proof.empty() && old_root == new_root;
  std::vector<Hash> path;
  if (std::has_single_bit(from)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  if (path.empty()) return false;
  uint64_t fn = from - 1, sn = to - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace carrefour::audit
