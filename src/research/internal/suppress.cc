// SPDX-License-Identifier: EUPL-1.2
#include "research/internal/suppress.h"

#include <algorithm>
#include <map>
#include <string>

namespace carrefour::research::internal {
namespace {

struct Line {
  size_t margin = SIZE_MAX;     // index of the margin cell
  std::vector<size_t> members;  // the value cells it totals
};

}  // namespace

void SuppressCells(std::vector<AggregateCell>& cells, size_t dimensions, int64_t k, size_t* primary,
                   size_t* complementary) {
  *primary = 0;
  *complementary = 0;
  for (AggregateCell& cell : cells) {
    if (cell.persons > 0 && static_cast<int64_t>(cell.persons) < k) {
      cell.suppressed = true;
      cell.primary = true;
      ++*primary;
    }
  }

  // Every line, by its margin's key (dimension j at kTotal) and j.
  std::map<std::pair<size_t, std::vector<std::string>>, Line> lines;
  for (size_t i = 0; i < cells.size(); ++i) {
    for (size_t j = 0; j < dimensions; ++j) {
      std::vector<std::string> key = cells[i].key;
      if (key[j] == AggregateTable::kTotal) {
        lines[{j, key}].margin = i;
      } else {
        key[j] = std::string(AggregateTable::kTotal);
        lines[{j, std::move(key)}].members.push_back(i);
      }
    }
  }

  bool changed = true;
  while (changed) {
    changed = false;
    for (auto& [id, line] : lines) {
      size_t suppressed = 0;
      for (size_t member : line.members) suppressed += cells[member].suppressed;
      bool margin_suppressed = line.margin != SIZE_MAX && cells[line.margin].suppressed;
      if (suppressed + margin_suppressed != 1) continue;
      // The smallest published value cell hides the most with the least
      // loss; ties go to the first in key order (cells are sorted).
      size_t pick = SIZE_MAX;
      for (size_t member : line.members) {
        if (cells[member].suppressed) continue;
        if (pick == SIZE_MAX || cells[member].persons < cells[pick].persons) pick = member;
      }
      if (pick == SIZE_MAX) pick = line.margin;
      if (pick == SIZE_MAX || cells[pick].suppressed) continue;
      cells[pick].suppressed = true;
      ++*complementary;
      changed = true;
    }
  }
}

}  // namespace carrefour::research::internal
