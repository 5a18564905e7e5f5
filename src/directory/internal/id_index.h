// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace carrefour::directory::internal {

// Finds the position of an id among a fixed list of ids (institutions, data
// types), the first thing every decision does, twice. An open-addressing
// table with a hash that reads eight bytes at a time: a few dozen
// instructions where std::unordered_map<std::string, ...> spends a hundred
// and fifty (a byte-wise hash, a division, a node to follow). The keys are
// the definition's own ids; requests only look up, so a hostile key cannot
// lengthen the probe sequences (the table is at most half full).
//
// The views must outlive the index (they point into the Definition). Ids are
// unique (the loader guarantees it; a repeated id keeps its first position).
// Immutable once built; safe to share between threads.
class IdIndex {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;

  IdIndex() = default;
  explicit IdIndex(std::vector<std::string_view> ids);

  // The position of `id` in the list given at construction, or kNotFound.
  uint32_t Find(std::string_view id) const;

 private:
  struct Slot {
    uint32_t hash = 0;      // high half of the hash, to skip most comparisons
    uint32_t position = 0;  // position + 1; 0 = empty
  };

  std::vector<std::string_view> ids_;
  std::vector<Slot> slots_;  // size a power of two
  uint64_t mask_ = 0;
};

// The hash IdIndex uses (exposed for its test).
uint64_t HashId(std::string_view id);

// Whether the `size` bytes at `a` and `b` are equal. Ids are short (an
// institution id, a capacity, a national number: 5 to 20 bytes), and for
// them a few overlapping fixed-size loads, which compile to single
// instructions, beat the call into the library's memcmp.
inline bool SameBytes(const char* a, const char* b, size_t size) {
  auto load8 = [](const char* p) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    return word;
  };
  auto load4 = [](const char* p) {
    uint32_t word;
    std::memcpy(&word, p, 4);
    return word;
  };
  if (size >= 8) {
    for (; size > 8; size -= 8, a += 8, b += 8) {
      if (load8(a) != load8(b)) return false;
    }
    return load8(a + size - 8) == load8(b + size - 8);  // the last 8, overlapping
  }
  if (size >= 4) return load4(a) == load4(b) && load4(a + size - 4) == load4(b + size - 4);
  for (size_t i = 0; i < size; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Equality of ids, which tend to differ only near their end ("inst-123" and
// "inst-124", "cap-1" and "cap-2", two national numbers): the sizes and the
// last bytes are compared first.
inline bool SameId(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         (a.empty() || (a.back() == b.back() && SameBytes(a.data(), b.data(), a.size())));
}

}  // namespace carrefour::directory::internal
