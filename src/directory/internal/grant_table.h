// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/date.h"

namespace carrefour::directory::internal {

// An authorization as one requester sees it, with everything a decision
// reads about it.
struct GrantRow {
  uint32_t authorization = 0;  // index in Definition::authorizations()
  uint32_t capacity = 0;       // EntryIds number, declared by the requester's type
  Date from;                   // validity
  Date to;                     // Date::Max() when open-ended
  uint32_t fields_offset = 0;  // its fields: DecisionIndexes' field_pool / field_names
  uint32_t fields_count = 0;

  bool ValidOn(Date day) const { return from <= day && day <= to; }
};

// The grant rows of each (data type, requester) pair, in definition order:
// the authorizations that can apply to that requester for that data type.
//
// A decision reads one pair's rows, and beside a large directory that read
// is a cache miss. So a pair's rows live in one 64-byte cell of an
// open-addressing table, inline when there are at most kInline of them (most
// pairs): one miss, at an address known as soon as the pair is, so that it
// can be prefetched. (A dense table of offsets into a row array, its first
// form, cost two misses in a row, the second one unprefetchable; it was also
// sized by data types x institutions, where this one is sized by the pairs
// that have rows.) Immutable once built; safe to share between threads.
class GrantTable {
 public:
  static constexpr size_t kInline = 2;

  struct Placed {
    uint32_t data_type;
    uint32_t institution;
    GrantRow row;
  };

  GrantTable() : GrantTable({}, 0) {}
  // `rows` in definition order; `institution_count` bounds the institutions.
  GrantTable(std::vector<Placed> rows, size_t institution_count);

  // The pair's rows, in definition order; empty when it has none.
  std::span<const GrantRow> Rows(uint32_t data_type, uint32_t institution) const;
  // Asks for the pair's cell ahead of Rows.
  void Prefetch(uint32_t data_type, uint32_t institution) const {
    __builtin_prefetch(&cells_[Home(Key(data_type, institution))]);
  }

 private:
  struct alignas(64) Cell {
    uint64_t key = 0;  // Key(); 0 = empty
    uint32_t count = 0;
    uint32_t offset = 0;  // into overflow_ when count > kInline
    GrantRow rows[kInline];
  };
  static_assert(sizeof(Cell) == 64);

  uint64_t Key(uint32_t data_type, uint32_t institution) const {
    return uint64_t{data_type} * institution_count_ + institution + 1;
  }
  size_t Home(uint64_t key) const {
    return static_cast<size_t>((key * 0x9e3779b97f4a7c15ULL) >> shift_);
  }

  uint64_t institution_count_ = 0;
  std::vector<Cell> cells_;  // a power of two, at most half full
  int shift_ = 64;
  std::vector<GrantRow> overflow_;
};

}  // namespace carrefour::directory::internal
