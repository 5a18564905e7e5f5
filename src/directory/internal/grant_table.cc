// SPDX-License-Identifier: EUPL-1.2
#include "directory/internal/grant_table.h"

#include <algorithm>

#include "directory/internal/huge_pages.h"

namespace carrefour::directory::internal {

GrantTable::GrantTable(std::vector<Placed> rows, size_t institution_count)
    : institution_count_(institution_count) {
  // Grouped by pair; stable, so that each pair keeps definition order.
  std::stable_sort(rows.begin(), rows.end(), [](const Placed& a, const Placed& b) {
    return a.data_type != b.data_type ? a.data_type < b.data_type : a.institution < b.institution;
  });
  size_t pairs = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i == 0 || rows[i].data_type != rows[i - 1].data_type ||
        rows[i].institution != rows[i - 1].institution) {
      ++pairs;
    }
  }
  size_t size = 8;
  shift_ = 64 - 3;
  while (size < 2 * pairs) {
    size *= 2;
    --shift_;
  }
  AssignOnHugePages(&cells_, size, Cell{});
  const size_t mask = size - 1;
  for (size_t first = 0; first < rows.size();) {
    size_t end = first + 1;
    while (end < rows.size() && rows[end].data_type == rows[first].data_type &&
           rows[end].institution == rows[first].institution) {
      ++end;
    }
    const uint64_t key = Key(rows[first].data_type, rows[first].institution);
    size_t at = Home(key);
    while (cells_[at].key != 0) at = (at + 1) & mask;
    Cell& cell = cells_[at];
    cell.key = key;
    cell.count = static_cast<uint32_t>(end - first);
    if (cell.count <= kInline) {
      for (size_t i = first; i < end; ++i) cell.rows[i - first] = rows[i].row;
    } else {
      cell.offset = static_cast<uint32_t>(overflow_.size());
      for (size_t i = first; i < end; ++i) overflow_.push_back(rows[i].row);
    }
    first = end;
  }
}

std::span<const GrantRow> GrantTable::Rows(uint32_t data_type, uint32_t institution) const {
  const uint64_t key = Key(data_type, institution);
  const size_t mask = cells_.size() - 1;
  for (size_t at = Home(key);; at = (at + 1) & mask) {
    const Cell& cell = cells_[at];
    if (cell.key == key) {
      if (cell.count <= kInline) return std::span<const GrantRow>(cell.rows, cell.count);
      return std::span<const GrantRow>(overflow_).subspan(cell.offset, cell.count);
    }
    if (cell.key == 0) return {};
  }
}

}  // namespace carrefour::directory::internal
