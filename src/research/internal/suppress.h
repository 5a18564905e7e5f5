// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Small-cell and complementary suppression of an aggregate table with all
// its margins (docs/research.md).
//
// A line of the table is a margin cell (one dimension at "(all)") with the
// cells it totals (that dimension at each of its values, the others equal).
// Primary: every cell of fewer than k persons is suppressed. Complementary:
// while some line has exactly one suppressed cell (a value, or the margin
// itself), the smallest published value cell of that line is suppressed too
// (the margin when no value cell is left), since a lone suppressed cell of a
// line is its margin minus the others. Suppressions only grow, so this ends.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "research/research.h"

namespace carrefour::research::internal {

// Marks `cells` (every combination present, margins included, keys of
// `dimensions` values each, AggregateTable::kTotal for a margin).
void SuppressCells(std::vector<AggregateCell>& cells, size_t dimensions, int64_t k, size_t* primary,
                   size_t* complementary);

}  // namespace carrefour::research::internal
